"""One scenario through the whole pipeline: hazard → damage → cascade → impact.

``run_scenario`` is a pure function of the scenario, the region and the seed:
the same inputs give the same numbers.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cascada.cascade import compile_graph, propagate, sample_mask
from cascada.datafile import sha256_file
from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet, read_eventset
from cascada.hazards.footprint import footprint_eventset, footprint_polygons
from cascada.hazards.registry import hazard_model
from cascada.impact.assets import asset_outcomes, facility_outcomes
from cascada.impact.criticality import most_critical
from cascada.impact.people import (
    ServiceLinks,
    people_hours_without_service,
    people_without_service,
    summarise_timeseries,
)
from cascada.impact.water import (
    WaterSystem,
    balance_summary,
    balance_table,
    concat_balances,
    ration_people,
    water_balance,
)
from cascada.region.catalogue import load_asset_types
from cascada.region.io import read_region
from cascada.region.model import Region
from cascada.risk.config import Scenario
from cascada.vulnerability import (
    expected_loss_eur,
    load_fragility,
    sample_damage_states,
    sample_repair_hours,
)

SERVICES = ("power", "water", "telecom", "health", "finance", "food")
CRITICAL_FACILITIES = ("health.hospital", "health.clinic")
BLOCK = 64  # samples per uint64 word

Progress = Callable[[str], None]


@dataclass
class ScenarioResult:
    """Everything a scenario run produced, as tidy tables (see the run folder docs)."""

    scenario: Scenario
    region: Region
    eventsets: list[EventSet]
    damage_states: np.ndarray  # uint8 [samples, assets]
    repair_hours: np.ndarray  # float32 [samples, assets]
    assets: gpd.GeoDataFrame
    service_timeseries: pd.DataFrame
    services: pd.DataFrame
    facilities: pd.DataFrame
    people: gpd.GeoDataFrame
    outages: pd.DataFrame
    hazard_footprint: gpd.GeoDataFrame | None = None  # polygons (hazard, intensity), for maps
    summary: dict = field(default_factory=dict)
    water_balance: pd.DataFrame | None = None  # per hour: supply, storage, rationing (m³/h)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _noop(_: str) -> None:
    return None


def run_scenario(
    scenario: Scenario, region: Region | None = None, progress: Progress | None = None
) -> ScenarioResult:
    """Run a scenario: sample damage, cascade over the dependency graph, count impact.

    region: the region to use; read from the scenario's ``region`` path when None.
    progress: optional callback told the name of each step as it starts.
    """
    step = progress or _noop
    settings = scenario.scenario
    region_path = scenario.resolve(settings.region)
    if region is None:
        step("reading region")
        region = read_region(region_path)
    assets = region.assets
    asset_index = region.asset_index()
    catalogue = load_asset_types()
    fragility = load_fragility()

    step("sampling hazards at assets")
    seeds = np.random.SeedSequence(settings.seed).spawn(3 * len(scenario.hazards))
    eventsets = _hazard_eventsets(scenario, assets, seeds[0::3], region.people, region)

    step("sampling damage")
    types = assets["asset_type"].to_numpy()
    damage = [_hazard_damage(es, types, fragility, settings.samples, seed)
              for es, seed in zip(eventsets, seeds[1::3], strict=True)]
    occurs = _occurrence(scenario, damage, region.asset_index())
    states, repair, onset = _combined_damage(
        eventsets, damage, scenario.onset_hours(), types, catalogue, seeds[2::3],
        [h.outage_hours for h in scenario.hazards], occurs,
    )

    step("cascading failures")
    graph = compile_graph(region.dependencies, asset_index)
    links = ServiceLinks.compile(region.service_links, region.people, asset_index,
                                 [s for s in SERVICES
                                  if (region.service_links["service"] == s).any()])
    water = WaterSystem.compile(assets, links.population_total.get("water", 0.0),
                                scenario.water)
    capacity = _capacity_factor(eventsets, types)
    blocks, balances = [], []
    for start in range(0, settings.samples, BLOCK):
        block = propagate(graph, repair[start:start + BLOCK], hours=settings.hours,
                          onset_hours=onset[start:start + BLOCK])
        blocks.append((block.working, block.on_backup, block.n_samples))
        if water is not None:
            balances.append(water_balance(water, block.working, block.n_samples, capacity))
    balance = concat_balances(balances) if balances else None

    step("counting impact")
    per_service: dict[str, list[np.ndarray]] = {s: [] for s in links.services}
    hours_per_point: dict[str, list[np.ndarray]] = {s: [] for s in links.services}
    for working, _, n in blocks:
        for s, m in people_without_service(working, n, links).items():
            per_service[s].append(m)
        for s, m in people_hours_without_service(working, n, links).items():
            hours_per_point[s].append(m)
    people_without = {s: np.concatenate(v, axis=1) for s, v in per_service.items()}
    if balance is not None and "water" in people_without:
        people_without["water"] = ration_people(people_without["water"], balance.rationed_share,
                                                links.population_total["water"])
    timeseries, services = summarise_timeseries(people_without, links.population_total)

    outcomes = asset_outcomes(blocks, states)
    intensity, hazard_of, exposed_m, loss_share = _exposure(assets, eventsets)
    value = assets["value_eur"].to_numpy() * loss_share
    loss = expected_loss_eur(states, value, types, catalogue)
    damage_ratio = catalogue.damage_ratio(types)
    loss_per_sample = (damage_ratio[np.arange(len(assets))[None, :], states]
                       * value[None, :]).sum(axis=1)
    asset_table = gpd.GeoDataFrame(
        {
            "asset_id": assets["asset_id"].to_numpy(),
            "sector": assets["sector"].to_numpy(),
            "asset_type": types,
            "name": assets["name"].to_numpy(),
            "value_eur": assets["value_eur"].to_numpy(),
            "population_served": assets["population_served"].to_numpy(),
            "hazard": hazard_of,
            "intensity": intensity,
            "exposed_length_m": exposed_m,
            **{c: outcomes[c].to_numpy() for c in outcomes.columns},
            "expected_loss_eur": loss,
        },
        geometry=assets.geometry.values,
        crs=assets.crs,
    )

    facilities = facility_outcomes(
        blocks, assets[assets["asset_type"].isin(CRITICAL_FACILITIES)],
        region.dependencies, asset_index,
    )
    people = gpd.GeoDataFrame(
        {"people_id": region.people["people_id"].to_numpy(),
         "population": region.people["population"].to_numpy()},
        geometry=region.people.geometry.values, crs=region.people.crs,
    )
    for s, parts in hours_per_point.items():
        per_sample = np.concatenate(parts, axis=1)  # [points, samples]
        if s == "water" and balance is not None:
            # rationing reaches a point in the hours it still has its own supply
            # (approx.: spread evenly over those hours)
            rationed = balance.rationed_share.sum(axis=0)[None, :]
            per_sample = per_sample + rationed * (1 - per_sample / settings.hours)
        mean_hours = per_sample.mean(axis=1)
        col = np.zeros(len(people))
        col[links.people[s]] = mean_hours
        people[f"hours_without_{s}"] = col
    outages = _outage_table(blocks, states, onset, repair, assets["asset_id"].to_numpy())

    hospitals = facilities[facilities["asset_type"] == "health.hospital"]
    hospitals_affected, hospitals_backup = _hospital_counts(blocks, asset_index, hospitals)
    summary = {
        "scenario": settings.name,
        "description": settings.description,
        "region": region.name,
        "seed": settings.seed,
        "samples": settings.samples,
        "hours": settings.hours,
        "hazards": [
            {"id": hid, "hazard": h.hazard, "unit": HAZARD_UNITS[h.hazard],
             "source": (h.footprint.name if h.footprint else h.event_set.name if h.event_set
                        else f"model {h.hazard}"),
             "outage_hours": h.outage_hours,
             "parameters": es.metadata.get("parameters", {}),
             "trigger": h.trigger or "", "onset_hours": start,
             "events": es.n_events, "synthetic": h.synthetic, "note": h.note,
             "people_exposed": es.metadata.get("people_exposed", {}),
             "probability": float(happens.mean()),
             "condition": ({"asset_id": h.if_damaged, "min_damage_state": h.min_damage_state}
                           if h.if_damaged else {}),
             "assets_exposed": int((es.intensity.max(axis=0).toarray() > 0).sum())}
            for hid, h, es, start, happens in zip(scenario.hazard_ids(), scenario.hazards,
                                                  eventsets, scenario.onset_hours(), occurs,
                                                  strict=True)
        ],
        "headline": {
            "direct_loss_eur_mean": float(loss_per_sample.mean()),
            "direct_loss_eur_p05": float(np.percentile(loss_per_sample, 5)),
            "direct_loss_eur_p95": float(np.percentile(loss_per_sample, 95)),
            "assets_damaged_mean": float((states > 0).sum(axis=1).mean()),
            "hospitals_total": len(hospitals),
            "hospitals_affected_mean": hospitals_affected,
            "hospitals_on_backup_mean": hospitals_backup,
            "people_hours_lost": {r.service: r.people_hours_lost_mean
                                  for r in services.itertuples()},
            "peak_people_without": {r.service: r.peak_people_without_mean
                                    for r in services.itertuples()},
        },
        "water_balance": (balance_summary(water, balance, capacity,
                                          links.population_total["water"])
                          if balance is not None else {}),
        "region_info": {
            "assets": len(assets),
            "dependencies": len(region.dependencies),
            "population": float(region.people["population"].sum()),
            "licence": region.metadata.get("licence", ""),
            "population_method": region.metadata.get("population_method", ""),
        },
        "inputs": {
            "scenario": sha256_file(scenario.path) if scenario.path else "",
            "region": sha256_file(region_path) if region_path.exists() else "",
            **{f"hazard:{h.footprint.name}": sha256_file(scenario.resolve(h.footprint))
               for h in scenario.hazards if h.footprint is not None},
            **{f"event_set:{h.event_set.name}": sha256_file(scenario.resolve(h.event_set))
               for h in scenario.hazards if h.event_set is not None},
        },
        "versions": {
            "cascada": _version("cascada"),
            "asset_catalogue": catalogue.version,
            "fragility_catalogue": fragility.version,
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    footprints = [
        footprint_polygons(scenario.resolve(h.footprint), intensity_column=h.intensity_column,
                           band=h.band, variable=h.variable).assign(hazard=h.hazard)
        for h in scenario.hazards if h.footprint is not None
    ]
    hazard_footprint = (gpd.GeoDataFrame(pd.concat(footprints, ignore_index=True),
                                         crs="EPSG:4326") if footprints else None)
    return ScenarioResult(scenario, region, eventsets, states, repair, asset_table, timeseries,
                          services, facilities, people, outages, hazard_footprint, summary,
                          balance_table(water, balance) if balance is not None else None)


def _check_imt(es: EventSet, field: str) -> None:
    """Damage needs the intensity measure the fragility curves use (PGA for earthquakes)."""
    imt = es.metadata.get("imt", "PGA")
    if imt != "PGA":
        raise CascadaInputError(f"the fragility curves use PGA, this event set holds {imt}",
                                field=field, hint="compute PGA for damage (imt = \"PGA\")")


def _capacity_factor(eventsets: list[EventSet], types: np.ndarray) -> np.ndarray | None:
    """Share of normal yield left per asset (0..1) from the scenario's droughts, or None.

    Drought is capacity, not damage: it reaches the cascade's water balance here.
    """
    from cascada.hazards.drought import capacity_factor

    factor = None
    for es in eventsets:
        if es.events["hazard"].iloc[0] == "drought":
            cf = capacity_factor(es, 0, types)
            factor = cf if factor is None else factor * cf
    return factor


def _exposure(assets: gpd.GeoDataFrame, eventsets: list[EventSet]):
    """Strongest intensity per asset over the scenario's hazards, and the loss share.

    A hazard with several events (e.g. ground-motion realisations) counts with
    its mean intensity over them.

    Returns (intensity [assets] float32, hazard of that intensity [assets] str,
    exposed length [assets] metres (lines), loss share [assets] in 0..1). A
    line's direct loss counts only its exposed length: a 2 km road with 100 m
    under water loses 5 % of its value times the damage ratio.
    """
    n = len(assets)
    intensity = np.zeros(n, np.float32)
    hazard_of = np.full(n, "", dtype=object)
    exposed = np.zeros(n, np.float32)
    for es in eventsets:
        row = np.asarray(es.intensity.mean(axis=0)).ravel()  # mean over realisations
        stronger = row > intensity
        hazard_of[stronger] = es.events["hazard"].iloc[0]
        intensity = np.maximum(intensity, row)
        if es.exposed_length_m is not None:
            exposed = np.maximum(exposed, es.exposed_length_m.max(axis=0).toarray().ravel())
    is_line = assets.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    share = np.ones(n)
    if is_line.any():
        length = assets.geometry[is_line].to_crs(assets.estimate_utm_crs()).length.to_numpy()
        share[is_line] = np.clip(exposed[is_line] / np.maximum(length, 1e-9), 0.0, 1.0)
    return intensity, hazard_of, exposed, share


def _hazard_eventsets(scenario: Scenario, assets: gpd.GeoDataFrame, seeds,
                      people: gpd.GeoDataFrame | None = None, region: Region | None = None
                      ) -> list[EventSet]:
    """One EventSet per hazard of the scenario: read a footprint or run a model.

    An attack with ``most_critical = k`` targets the greedy worst k-set of the
    region's dependency graph (:func:`cascada.impact.criticality.most_critical`).

    Models that harm people directly (chemical release, incident at a crowded
    place) also count the people exposed, in ``metadata["people_exposed"]``.

    A triggered model hazard inherits the parameters of its trigger that its
    own model takes, then applies its own.
    """
    eventsets: list[EventSet] = []
    raw: dict[str, dict] = {}
    source = scenario.path or "<scenario>"
    for i, (hid, hazard, seed) in enumerate(zip(scenario.hazard_ids(), scenario.hazards, seeds,
                                                strict=True)):
        field = f"hazards.{i}"
        try:
            if hazard.event_set is not None:
                path = scenario.resolve(hazard.event_set)
                es = _aligned_eventset(read_eventset(path), assets, path)
                _check_imt(es, f"{field}.event_set")
                if not (es.events["hazard"] == hazard.hazard).all():
                    raise CascadaInputError(
                        f"the event set holds {sorted(set(es.events['hazard']))}, "
                        f"not {hazard.hazard!r}", file=path, field=f"{field}.hazard")
                raw[hid] = {}
            elif hazard.footprint is not None:
                path = scenario.resolve(hazard.footprint)
                try:
                    es = footprint_eventset(assets, path, hazard.hazard,
                                            intensity_column=hazard.intensity_column,
                                            band=hazard.band, variable=hazard.variable)
                except CascadaInputError as exc:
                    raise CascadaInputError(exc.message, file=exc.file or path, row=exc.row,
                                            field=exc.field or field, hint=exc.hint) from exc
                raw[hid] = {}
            else:
                model = hazard_model(hazard.hazard)
                inherited = {k: v for k, v in raw.get(hazard.trigger or "", {}).items()
                             if k in model.Parameters.model_fields}
                values = {**inherited, **(hazard.parameters or {})}
                raw[hid] = values
                parameters = model.parameters(values, source=f"{source} [{field}.parameters]")
                chosen = None
                if getattr(parameters, "most_critical", None) and region is not None:
                    chosen = most_critical(region, parameters.most_critical)
                    parameters = parameters.model_copy(
                        update={"asset_ids": chosen, "most_critical": None})
                es = model.event_set(assets, parameters, np.random.default_rng(seed))
                if chosen is not None:
                    es.metadata["most_critical"] = chosen
                _check_imt(es, f"{field}.parameters.imt")
                es.metadata.setdefault("parameters", parameters.model_dump(mode="json"))
                if people is not None and len(people):
                    exposed = model.people_exposed(people, assets, parameters)
                    if exposed is not None:
                        es.metadata["people_exposed"] = exposed
        except CascadaInputError as exc:
            if exc.file is None:
                raise CascadaInputError(exc.message, file=source, row=exc.row,
                                        field=exc.field or field, hint=exc.hint) from exc
            raise
        eventsets.append(es)
    return eventsets


def _aligned_eventset(es: EventSet, assets: gpd.GeoDataFrame, path: Path) -> EventSet:
    """An event set read from file, with its columns in the region's asset order."""
    ids = assets["asset_id"].to_numpy()
    position = pd.Index(es.asset_ids).get_indexer(ids)
    missing = pd.Index(es.asset_ids).difference(pd.Index(ids))
    if len(missing):
        raise CascadaInputError(
            f"the event set names {len(missing)} asset(s) not in the region, e.g. "
            f"{missing[0]!r}", file=path, field="asset_id",
            hint="build the event set on the scenario's region")
    keep = position >= 0
    columns = np.where(keep, position, 0)

    def reorder(matrix):
        if matrix is None:
            return None
        dense = matrix.tocsc()[:, columns].tocsr()
        return dense.multiply(keep[None, :].astype(np.float32)).tocsr()

    return EventSet(reorder(es.intensity), ids, es.events, reorder(es.exposed_length_m),
                    dict(es.metadata))


def _hazard_damage(es: EventSet, types, fragility, n_samples: int, seed) -> np.ndarray:
    """Damage states of one hazard, uint8 [samples, assets]; sample s uses event s mod N."""
    rng = np.random.default_rng(seed)
    ds = np.zeros((n_samples, len(types)), np.uint8)
    for event in range(es.n_events):
        rows = np.arange(event, n_samples, es.n_events)
        if len(rows):
            ds[rows] = sample_damage_states(es, event, types, fragility, len(rows), rng)
    return ds


def _occurrence(scenario: Scenario, damage: list[np.ndarray], asset_index: pd.Index
                ) -> list[np.ndarray]:
    """Per hazard, bool [samples]: does it happen? Always, unless it is conditional.

    A hazard with ``if_damaged`` (natech, as in the JRC RAPID-N method: a
    release happens where the earthquake damages the tank) happens in the
    samples where its trigger damages that asset to ``min_damage_state`` or
    worse, and only when its trigger itself happens. damage: per hazard, its
    damage states uint8 [samples, assets].
    """
    ids = scenario.hazard_ids()
    occurs: dict[str, np.ndarray] = {}
    for i, (hid, hazard) in enumerate(zip(ids, scenario.hazards, strict=True)):
        happens = np.ones(damage[i].shape[0], bool)
        if hazard.trigger is not None:
            happens &= occurs[hazard.trigger]
        if hazard.if_damaged is not None:
            position = asset_index.get_indexer([hazard.if_damaged])[0]
            if position < 0:
                raise CascadaInputError(
                    f"if_damaged names asset {hazard.if_damaged!r}, which is not in the region",
                    file=scenario.path, field=f"hazards.{i}.if_damaged")
            parent = damage[ids.index(hazard.trigger)]
            happens &= parent[:, position] >= hazard.min_damage_state
        occurs[hid] = happens
    return [occurs[hid] for hid in ids]


def _combined_damage(eventsets, damage, onsets, types, catalogue, repair_seeds,
                     outage_hours=None, occurs=None):
    """Damage of all hazards combined per sample and asset.

    damage: per hazard, damage states uint8 [samples, assets] (see
    :func:`_hazard_damage`). Per asset: the worst damage state
    over the hazards; out of service from the earliest onset of a damaging
    hazard to the latest end of its repairs (sequential damage is not added).
    outage_hours: per hazard, None (sampled repair times) or a fixed outage,
    hours (closures, shutdowns). occurs: per hazard, bool [samples], whether it
    happens in each sample (conditional natech releases).
    Returns (states uint8 [S, M], repair end hours float32 [S, M], onset hours
    float32 [S, M]).
    """
    n_samples, n_assets = damage[0].shape
    outage_hours = outage_hours or [None] * len(eventsets)
    occurs = occurs or [np.ones(n_samples, bool)] * len(eventsets)
    states = np.zeros((n_samples, n_assets), np.uint8)
    end = np.zeros((n_samples, n_assets), np.float32)
    start = np.full((n_samples, n_assets), np.inf, np.float32)
    for es, hazard_ds, onset, rseed, fixed, happens in zip(
            eventsets, damage, onsets, repair_seeds, outage_hours, occurs, strict=True):
        ds = np.where(happens[:, None], hazard_ds, np.uint8(0))
        repair = sample_repair_hours(ds, types, catalogue, np.random.default_rng(rseed),
                                     hazard=str(es.events["hazard"].iloc[0]))
        if fixed is not None:
            repair = np.where(ds > 0, np.float32(fixed), np.float32(0))
        hit = ds > 0
        start = np.where(hit, np.minimum(start, onset), start)
        end = np.where(hit, np.maximum(end, onset + repair), end)
        np.maximum(states, ds, out=states)
    start = np.where(np.isfinite(start), start, 0.0).astype(np.float32)
    return states, end, start


def _hospital_counts(blocks, asset_index: pd.Index, hospitals: pd.DataFrame
                     ) -> tuple[float, float]:
    """Mean number of hospitals that lose function / run on backup at some hour."""
    if len(hospitals) == 0:
        return 0.0, 0.0
    idx = asset_index.get_indexer(hospitals["asset_id"])
    total = sum(n for _, _, n in blocks)
    down = backup = 0
    for working, on_backup, n in blocks:
        mask = sample_mask(n)
        down += int(np.bitwise_count(np.bitwise_or.reduce(~working[:, idx] & mask)).sum())
        backup += int(np.bitwise_count(np.bitwise_or.reduce(on_backup[:, idx] & mask)).sum())
    return down / total, backup / total


def _outage_table(blocks, states: np.ndarray, onset: np.ndarray, repair: np.ndarray,
                  asset_ids: np.ndarray) -> pd.DataFrame:
    """One row per (sample, asset) out of service at some hour: the outage window."""
    frames = []
    start = 0
    for working, _, n in blocks:
        mask = sample_mask(n)
        down = ~working & mask
        hit = np.flatnonzero(np.bitwise_or.reduce(down, axis=0))
        if len(hit):
            sub = down[:, hit]
            bits = ((sub[:, :, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)).astype(bool)
            any_down = bits.any(axis=0)  # [assets_hit, n]
            first = np.where(any_down, bits.argmax(axis=0), -1)
            last = bits.shape[0] - 1 - bits[::-1].argmax(axis=0)
            hours_down = bits.sum(axis=0)
            a, s = np.nonzero(any_down)
            frames.append(pd.DataFrame({
                "sample": (start + s).astype(np.int32),
                "asset_id": asset_ids[hit[a]],
                "damage_state": states[start + s, hit[a]],
                "damage_onset_hour": np.where(states[start + s, hit[a]] > 0,
                                              onset[start + s, hit[a]], np.nan),
                "repaired_hour": np.where(states[start + s, hit[a]] > 0,
                                          repair[start + s, hit[a]], np.nan),
                "first_down_hour": first[a, s].astype(np.int32),
                "restored_hour": np.where(last[a, s] + 1 >= bits.shape[0], -1,
                                          last[a, s] + 1).astype(np.int32),
                "hours_down": hours_down[a, s].astype(np.int32),
            }))
        start += n
    if not frames:
        return pd.DataFrame(columns=["sample", "asset_id", "damage_state", "damage_onset_hour",
                                     "repaired_hour",
                                     "first_down_hour", "restored_hour", "hours_down"])
    return pd.concat(frames, ignore_index=True).sort_values(
        ["sample", "asset_id"], kind="stable").reset_index(drop=True)
