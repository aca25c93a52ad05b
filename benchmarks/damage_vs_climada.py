"""Damage stage: cascada's intensity → loss kernel against CLIMADA's ``ImpactCalc``.

Same hazard, same assets, same impact functions, one run of this script:

- hazard: CLIMADA's own demo hazard ``HAZ_DEMO_H5`` (tropical cyclones over
  Florida 1990-2004: 216 events × 2,500 centroids, wind speed in m/s, 3 % of
  the entries stored), shipped inside the climada wheel (no download);
- assets: ``--assets`` (default 1,000,000) placed uniformly at random on the
  hazard's centroids, log-normal values around 1 MEUR, each given one of three
  impact functions (two Emanuel 2011 curves and a ramp with a PAA and a step);
- cascada: :func:`cascada.vulnerability.loss.event_loss` in this process;
  one warm-up call of each mode (Numba compile, or loading its cache) is
  timed apart;
- CLIMADA: ``ImpactCalc(exposures, impfset, hazard).impact(save_mat=False,
  assign_centroids=False)`` in the CLIMADA environment
  (``benchmarks/.venv-climada``, made by ``benchmarks/climada_env.sh``), run by
  ``benchmarks/_climada_side.py`` in a subprocess; the workload goes across as
  .npz files in a temporary directory, which also holds the climada.conf that
  keeps CLIMADA's data folders out of the home directory.

Each side: best of ``--repeats`` timed calls after a warm-up, inputs already in
memory (loading and building the exposures are not timed; CLIMADA's own
preparation inside ``impact()`` is). Event-asset pairs = events × assets. The
per-event losses and the total expected annual loss must agree to ``--rtol``
(relative); the script exits 1 when they do not. Run::

    bash benchmarks/climada_env.sh          # once, ~4 min
    python benchmarks/damage_vs_climada.py [--assets 1000000 --repeats 3]

Figures are printed last, one per line (``name: value unit``); the final line
is ``ratio: N``, cascada's pairs per second over CLIMADA's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from scipy import sparse

from cascada.vulnerability.loss import DamageCurves, event_loss

HERE = Path(__file__).resolve().parent
CLIMADA_SIDE = HERE / "_climada_side.py"
DEFAULT_PYTHON = HERE / ".venv-climada" / "bin" / "python"


def climada_python() -> Path | None:
    """The CLIMADA environment's interpreter ($CLIMADA_PYTHON or the default venv)."""
    path = Path(os.environ.get("CLIMADA_PYTHON", DEFAULT_PYTHON))
    return path if path.exists() else None


def run_climada(python: Path, workdir: Path, *args: str) -> None:
    """Run one _climada_side.py command in workdir (its climada.conf applies there)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    completed = subprocess.run(
        [str(python), str(CLIMADA_SIDE), *args], cwd=workdir, env=env,
        capture_output=True, text=True,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"CLIMADA side failed: {' '.join(args)}")


def write_config(workdir: Path) -> None:
    """climada.conf in workdir: data folders inside it, quiet logging."""
    config = {
        "local_data": {
            "system": str(workdir / "climada_data"),
            "demo": str(workdir / "climada_demo"),
            "save_dir": str(workdir / "climada_results"),
        },
        "log_level": "WARNING",
    }
    (workdir / "climada.conf").write_text(json.dumps(config), encoding="utf-8")


def load_hazard(path: Path) -> tuple[sparse.csr_matrix, np.ndarray, DamageCurves, dict]:
    """Intensity (events × centroids, m/s), frequency (1/yr), curves, metadata."""
    npz = np.load(path)
    intensity = sparse.csr_matrix(
        (npz["data"], npz["indices"], npz["indptr"]), shape=tuple(npz["shape"]))
    curves = DamageCurves.from_points([
        (npz[f"curve{k}_intensity"], npz[f"curve{k}_mdd"], npz[f"curve{k}_paa"])
        for k in range(int(npz["n_curves"]))
    ])
    meta = {"climada_version": str(npz["climada_version"]), "source": str(npz["source"])}
    return intensity, npz["frequency"], curves, meta


def build_assets(n_assets: int, n_centroids: int, n_curves: int, seed: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centroid, value_eur, curve) per asset: uniform centroids, log-normal values."""
    rng = np.random.default_rng(seed)
    centroid = rng.integers(0, n_centroids, n_assets, dtype=np.int64)
    value_eur = np.round(rng.lognormal(np.log(1e6), 1.0, n_assets), 2)
    curve = rng.integers(0, n_curves, n_assets, dtype=np.int64)
    return centroid, value_eur, curve


def best_of(repeats: int, function) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls (s) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / |b| over entries; an entry with b = 0 counts |a| / max|b|."""
    scale = np.where(b != 0, np.abs(b), max(float(np.abs(b).max(initial=0.0)), 1e-300))
    return float(np.max(np.abs(a - b) / scale, initial=0.0))


def matrix_difference(ours: sparse.csr_matrix, theirs: dict, n_events: int, n_assets: int
                      ) -> float:
    """max relative difference of two impact matrices (inf if stored entries differ)."""
    other = sparse.csr_matrix(
        (theirs["matrix_data"], theirs["matrix_indices"], theirs["matrix_indptr"]),
        shape=(n_events, n_assets))
    if not (np.array_equal(ours.indptr, other.indptr)
            and np.array_equal(ours.indices, other.indices)):
        return float("inf")
    return relative_difference(ours.data, other.data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--rtol", type=float, default=1e-6)
    args = parser.parse_args(argv)

    python = climada_python()
    if python is None:
        print(
            f"CLIMADA environment not found "
            f"({os.environ.get('CLIMADA_PYTHON', DEFAULT_PYTHON)}).\n"
            "Create it once with:  bash benchmarks/climada_env.sh\n"
            "(needs Debian's libgdal-dev, which the script installs with apt-get; ~4 min),\n"
            "or point CLIMADA_PYTHON at a Python that has climada installed.",
            file=sys.stderr,
        )
        return 2

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cascada-climada-") as tmp:
        workdir = Path(tmp)
        write_config(workdir)
        run_climada(python, workdir, "export", str(workdir))
        intensity, frequency, curves, meta = load_hazard(workdir / "hazard.npz")
        n_events, n_centroids = intensity.shape
        centroid, value_eur, curve = build_assets(
            args.assets, n_centroids, curves.n_curves, args.seed)
        np.savez(workdir / "assets.npz", centroid=centroid, value_eur=value_eur, curve=curve)

        def cascada_run(return_impact: bool = False):
            return event_loss(intensity, centroid, value_eur, curve, curves, frequency,
                              return_impact=return_impact)

        start = time.perf_counter()
        cascada_run()
        cascada_run(True)
        first_call_s = time.perf_counter() - start
        cascada_s, ours = best_of(args.repeats, cascada_run)
        cascada_matrix_s, ours_matrix = best_of(args.repeats, lambda: cascada_run(True))

        run_climada(python, workdir, "impact", str(workdir), str(args.repeats))
        with np.load(workdir / "climada_result.npz") as npz:
            theirs = dict(npz)
        climada_s = float(theirs["timings_s"].min())

    pairs = n_events * args.assets
    stored_pairs = int(ours_matrix.impact_eur.nnz)
    event_diff = relative_difference(ours.event_loss_eur, theirs["at_event"])
    total_ours = ours.average_annual_loss_eur
    total_theirs = float(theirs["aai_agg"])
    total_diff = abs(total_ours - total_theirs) / abs(total_theirs)
    asset_diff = relative_difference(ours.expected_annual_loss_eur, theirs["eai_exp"])
    matrix_diff = matrix_difference(ours_matrix.impact_eur, theirs, n_events, args.assets)
    agree = event_diff <= args.rtol and total_diff <= args.rtol and matrix_diff <= args.rtol

    print(f"hazard: CLIMADA demo {meta['source']} (not synthetic), {n_events} events × "
          f"{n_centroids} centroids, {intensity.nnz} stored intensities; "
          f"climada {meta['climada_version']}")
    print(f"assets: {args.assets} on centroids, {curves.n_curves} impact functions; "
          f"pairs with a nonzero impact: {stored_pairs} of {pairs}")
    print(f"numba threads: {numba.get_num_threads()}; load average before/after: "
          f"{load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"agreement within rtol {args.rtol:g}: {'yes' if agree else 'NO'}")
    print(f"event_asset_pairs: {pairs:.3e} pairs")
    print(f"cascada_first_call_s: {first_call_s:.3f} s")
    print(f"cascada_s: {cascada_s:.4f} s")
    print(f"cascada_with_matrix_s: {cascada_matrix_s:.4f} s")
    print(f"climada_s: {climada_s:.4f} s")
    print(f"climada_with_matrix_s: {float(theirs['matrix_s']):.4f} s")
    print(f"aai_cascada: {total_ours:.6e} EUR/yr")
    print(f"aai_climada: {total_theirs:.6e} EUR/yr")
    print(f"total_eai_rel_diff: {total_diff:.2e}")
    print(f"max_rel_diff_event: {event_diff:.2e}")
    print(f"max_rel_diff_asset_eai: {asset_diff:.2e}")
    print(f"max_rel_diff_impact_matrix: {matrix_diff:.2e}")
    cascada_rate = pairs / cascada_s
    climada_rate = pairs / climada_s
    print(f"cascada_pairs_per_s: {cascada_rate:.3e} pairs/s")
    print(f"climada_pairs_per_s: {climada_rate:.3e} pairs/s")
    print(f"ratio: {cascada_rate / climada_rate:.1f}")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
