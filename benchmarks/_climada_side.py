"""CLIMADA's side of benchmarks/damage_vs_climada.py; runs in benchmarks/.venv-climada.

Not meant to be run by hand. Two commands, each run in a work directory that
holds a ``climada.conf`` pointing CLIMADA's data folders into that directory (so
nothing is written to the home directory and nothing is downloaded: the demo
files ship inside the climada wheel and are copied from it):

    python _climada_side.py export WORKDIR
        Loads CLIMADA's demo hazard (HAZ_DEMO_H5, tropical cyclones over Florida,
        1990-2004, wind speed in m/s) and three impact functions; writes
        WORKDIR/hazard.npz (intensity as CSR arrays, frequency, centroid
        coordinates, the curves' intensity/MDD/PAA points, climada's version).

    python _climada_side.py impact WORKDIR REPEATS
        Reads WORKDIR/hazard.npz and WORKDIR/assets.npz (centroid, value_eur,
        curve index per asset), builds Exposures and an ImpactFuncSet, runs
        ``ImpactCalc(...).impact(save_mat=False, assign_centroids=False)`` once to
        warm up and REPEATS times timed, then once with ``save_mat=True`` (timed
        too); writes WORKDIR/climada_result.npz (at_event, eai_exp, aai_agg, the
        timings in seconds).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def _impact_functions():
    """Three TC impact functions: two Emanuel (2011) curves and one with a PAA ramp."""
    from climada.entity import ImpactFunc, ImpfTropCyclone

    emanuel = ImpfTropCyclone.from_emanuel_usa(impf_id=1)
    weaker = ImpfTropCyclone.from_emanuel_usa(impf_id=2, v_half=60.0, scale=0.8)
    ramp = ImpactFunc(
        haz_type="TC",
        id=3,
        intensity=np.array([0.0, 20.0, 40.0, 40.0, 60.0, 80.0]),
        mdd=np.array([0.0, 0.05, 0.2, 0.25, 0.5, 0.8]),
        paa=np.array([0.0, 0.3, 0.7, 0.7, 1.0, 1.0]),
        intensity_unit="m/s",
        name="ramp with a step at 40 m/s",
    )
    return [emanuel, weaker, ramp]


def export(workdir: Path) -> None:
    import climada
    from climada.hazard import Hazard
    from climada.util.constants import HAZ_DEMO_H5

    hazard = Hazard.from_hdf5(HAZ_DEMO_H5)
    intensity = hazard.intensity.tocsr()
    fraction = hazard.fraction.tocsr()
    if fraction.nnz:
        # cascada has no fraction matrix: check that it is 1 wherever there is intensity.
        same = (fraction != 0) - (intensity != 0)
        if same.nnz or not np.all(fraction.data == 1.0):
            raise SystemExit("demo hazard has a fraction other than 1: not comparable")
    functions = _impact_functions()
    points = {}
    for k, impf in enumerate(functions):
        points[f"curve{k}_intensity"] = np.asarray(impf.intensity, dtype=np.float64)
        points[f"curve{k}_mdd"] = np.asarray(impf.mdd, dtype=np.float64)
        points[f"curve{k}_paa"] = np.asarray(impf.paa, dtype=np.float64)
    np.savez(
        workdir / "hazard.npz",
        data=intensity.data,
        indices=intensity.indices,
        indptr=intensity.indptr,
        shape=np.asarray(intensity.shape),
        frequency=np.asarray(hazard.frequency, dtype=np.float64),
        lat=np.asarray(hazard.centroids.lat, dtype=np.float64),
        lon=np.asarray(hazard.centroids.lon, dtype=np.float64),
        n_curves=len(functions),
        climada_version=climada.__version__ if hasattr(climada, "__version__") else _version(),
        source=str(Path(HAZ_DEMO_H5).name),
        **points,
    )


def _version() -> str:
    from importlib.metadata import version

    return version("climada")


def impact(workdir: Path, repeats: int) -> None:
    import pandas as pd
    from climada.engine import ImpactCalc
    from climada.entity import Exposures, ImpactFuncSet
    from climada.hazard import Hazard
    from climada.util.constants import HAZ_DEMO_H5

    hazard = Hazard.from_hdf5(HAZ_DEMO_H5)
    assets = np.load(workdir / "assets.npz")
    centroid = assets["centroid"].astype(np.int64)
    functions = _impact_functions()
    frame = pd.DataFrame({
        "value": assets["value_eur"].astype(np.float64),
        "impf_TC": np.asarray([f.id for f in functions])[assets["curve"]],
        "centr_TC": centroid,
        "latitude": hazard.centroids.lat[centroid],
        "longitude": hazard.centroids.lon[centroid],
    })
    exposures = Exposures(frame, value_unit="EUR")
    impfset = ImpactFuncSet(functions)

    def run(save_mat: bool):
        start = time.perf_counter()
        result = ImpactCalc(exposures, impfset, hazard).impact(
            save_mat=save_mat, assign_centroids=False)
        return time.perf_counter() - start, result

    warmup_s, _ = run(False)
    timings = []
    result = None
    for _ in range(repeats):
        seconds, result = run(False)
        timings.append(seconds)
    matrix_s, with_matrix = run(True)
    matrix = with_matrix.imp_mat.tocsr()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    np.savez(
        workdir / "climada_result.npz",
        at_event=np.asarray(result.at_event, dtype=np.float64),
        eai_exp=np.asarray(result.eai_exp, dtype=np.float64),
        aai_agg=float(result.aai_agg),
        at_event_with_matrix=np.asarray(with_matrix.at_event, dtype=np.float64),
        matrix_data=matrix.data,
        matrix_indices=matrix.indices,
        matrix_indptr=matrix.indptr,
        timings_s=np.asarray(timings),
        warmup_s=warmup_s,
        n_assets=len(frame),
        matrix_s=matrix_s,
    )


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("export", "impact"):
        print(__doc__, file=sys.stderr)
        return 2
    workdir = Path(argv[1])
    if argv[0] == "export":
        export(workdir)
    else:
        impact(workdir, int(argv[2]) if len(argv) > 2 else 3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
