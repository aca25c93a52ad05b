"""Deliberate attack: targeted loss of chosen assets, or an incident at a crowded place.

The intensity IS the damage state (unit ``damage_state``, 0 none … 4 complete;
:func:`cascada.vulnerability.damage.sample_damage_states` uses it directly).

Two modes, chosen by the parameters given:

(a) **targeted** — ``asset_ids``: the listed assets reach ``damage_state``
    (default 4, complete loss); nothing else is touched. Criticality ranking
    (which k assets matter most) comes later; this mode takes its output.
(b) **crowded place** — an incident at ``target_lat``/``target_lon`` (e.g. a
    place from :func:`crowded_places`) with a consequence radius from the public
    US DHS / NCTC / FBI *Bomb Threat Stand-Off Distances* planning chart
    (``data/standoff.csv``): for each device class, a mandatory evacuation
    distance R_evac and a preferred evacuation distance R_shelter (shelter in
    place between them). The chart is a planning aid, not a damage model; the
    grading by distance r is an **assumption** of this module:

    ======================  ============
    r ≤ 0.5 · R_evac        4 complete
    r ≤ R_evac              3 extensive
    r ≤ 2 · R_evac          2 moderate
    r ≤ R_shelter           1 slight (glazing hazard zone)
    ======================  ============

    Distances for a charge between the chart's rows are interpolated
    log–log in TNT-equivalent mass; beyond the ends they scale with the
    cube root of the mass (Hopkinson–Cranz scaling). Line assets take the
    worst state along them. People inside R_evac and R_shelter are counted by
    :func:`people_exposed`.

No operational detail beyond the published planning guidance is used or given.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, model_validator
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.hazards.registry import HazardModel, HazardParameters, register
from cascada.region.osm import open_osm

#: OSM tags of crowded places (key -> values).
CROWDED_PLACE_TAGS: dict[str, list[str]] = {
    "leisure": ["stadium"],
    "amenity": ["bus_station", "marketplace", "place_of_worship"],
}


@cache
def standoff_table() -> pd.DataFrame:
    """Published planning stand-off distances per device class (index: device).

    Columns: tnt_equivalent_kg, evacuation_m, shelter_m, source (and the
    chart's original feet and pounds). Sorted by charge.
    """
    path = resources.files("cascada.hazards") / "data" / "standoff.csv"
    with resources.as_file(path) as p:
        table = pd.read_csv(p).set_index("device")
    return table.sort_values("tnt_equivalent_kg")


def standoff_distances(tnt_equivalent_kg: float) -> tuple[float, float]:
    """(evacuation_m, shelter_m) for a charge in kg TNT equivalent.

    Log–log interpolation between the chart's rows; cube-root scaling beyond
    them. Non-decreasing in the charge.
    """
    if not tnt_equivalent_kg > 0:
        raise CascadaInputError("the charge must be > 0 kg TNT equivalent",
                                field="tnt_equivalent_kg")
    t = standoff_table()
    w = np.log(t["tnt_equivalent_kg"].to_numpy(float))
    lw = np.log(tnt_equivalent_kg)
    out = []
    for column in ("evacuation_m", "shelter_m"):
        r = np.log(t[column].to_numpy(float))
        if lw < w[0]:
            value = r[0] + (lw - w[0]) / 3.0
        elif lw > w[-1]:
            value = r[-1] + (lw - w[-1]) / 3.0
        else:
            value = float(np.interp(lw, w, r))
        out.append(float(np.exp(value)))
    return out[0], out[1]


def damage_state_at_distance(distance_m: np.ndarray, evacuation_m: float, shelter_m: float
                             ) -> np.ndarray:
    """Damage state 0..4 (uint8) at each distance (m) from the incident; see module docs."""
    r = np.asarray(distance_m, dtype=np.float64)
    edges = np.array([0.5 * evacuation_m, evacuation_m, max(2.0 * evacuation_m, evacuation_m),
                      max(shelter_m, 2.0 * evacuation_m)])
    # state = 4 − (number of edges strictly below r), clipped at 0
    return (4 - np.searchsorted(edges, r, side="left")).clip(0, 4).astype(np.uint8)


class AttackParameters(HazardParameters):
    """Targeted loss (asset_ids) or an incident at a point (target_lat/lon + charge)."""

    asset_ids: list[str] | None = Field(None, description="assets lost (targeted mode)")
    damage_state: int = Field(4, ge=1, le=4, description="state of targeted assets")
    target_lat: float | None = Field(None, ge=-90, le=90, description="degrees")
    target_lon: float | None = Field(None, ge=-180, le=180, description="degrees")
    place_name: str | None = Field(None, description="label of the target place")
    device: str | None = Field(None, description="device class of the stand-off chart")
    tnt_equivalent_kg: float | None = Field(None, gt=0, description="kg TNT equivalent")
    most_critical: int | None = Field(
        None, ge=1, le=50, description="targeted loss of the k most critical assets (greedy "
        "N-k on the region's dependency graph; in a scenario)")

    @model_validator(mode="after")
    def _mode(self) -> AttackParameters:
        point = self.target_lat is not None and self.target_lon is not None
        if (self.target_lat is None) != (self.target_lon is None):
            raise ValueError("give both target_lat and target_lon")
        modes = point + (self.asset_ids is not None) + (self.most_critical is not None)
        if modes != 1:
            raise ValueError("give one of: asset_ids (targeted loss), most_critical (the k "
                             "most critical assets) or target_lat and target_lon (incident "
                             "at a place)")
        if point:
            if self.device is not None and self.device not in standoff_table().index:
                raise ValueError(f"unknown device class {self.device!r}: known "
                                 f"{', '.join(standoff_table().index)}")
            if (self.device is None) == (self.tnt_equivalent_kg is None):
                raise ValueError("give either device or tnt_equivalent_kg for an incident")
        return self

    def charge_kg(self) -> float:
        """TNT-equivalent charge of the incident, kg."""
        if self.tnt_equivalent_kg is not None:
            return float(self.tnt_equivalent_kg)
        return float(standoff_table().at[self.device, "tnt_equivalent_kg"])


@register
class Attack(HazardModel):
    """Deliberate attack; the intensity is the damage state 0..4."""

    name: ClassVar[str] = "attack"
    unit: ClassVar[str] = "damage_state"
    description: ClassVar[str] = ("deliberate attack: targeted asset loss, or an incident at a "
                                  "crowded place graded by published stand-off distances")
    Parameters: ClassVar[type[HazardParameters]] = AttackParameters
    size_parameter: ClassVar[str | None] = "tnt_equivalent_kg"
    #: an incident at the Valletta bus terminus (OSM way 24050431), car-sized charge class.
    example: ClassVar[dict] = {"target_lat": 35.89478, "target_lon": 14.50865,
                               "place_name": "Valletta bus terminus",
                               "tnt_equivalent_kg": 227.0}

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters,
                  rng: np.random.Generator) -> EventSet:
        """One event: damage state (0..4) at every asset; deterministic (rng unused)."""
        p = parameters
        assert isinstance(p, AttackParameters)
        ids = assets["asset_id"].astype(str).to_numpy()
        state = np.zeros(len(assets), np.float32)
        metadata: dict = {}
        if p.most_critical is not None:
            raise CascadaInputError(
                "most_critical needs the region's dependency graph", field="most_critical",
                hint="use it in a scenario file (cascada run), or pick the assets with "
                     "`cascada criticality` and give asset_ids")
        if p.asset_ids is not None:
            missing = sorted(set(p.asset_ids) - set(ids))
            if missing:
                raise CascadaInputError(f"asset(s) not in the region: {', '.join(missing[:5])}",
                                        field="asset_ids")
            state[np.isin(ids, p.asset_ids)] = p.damage_state
            event_id = "attack-targeted"
            metadata["mode"] = "targeted"
        else:
            evacuation_m, shelter_m = standoff_distances(p.charge_kg())
            distance = _distance_m(assets.geometry, p.target_lon, p.target_lat)
            state = damage_state_at_distance(distance, evacuation_m, shelter_m).astype(np.float32)
            event_id = f"attack-{p.place_name or 'incident'}"
            metadata.update(mode="incident", evacuation_m=evacuation_m, shelter_m=shelter_m,
                            tnt_equivalent_kg=p.charge_kg(),
                            source="US DHS/NCTC/FBI Bomb Threat Stand-Off Distances chart; "
                                   "damage-state grading is an assumption")
        events = pd.DataFrame({"event_id": [event_id], "hazard": ["attack"]})
        return EventSet(intensity=sparse.csr_matrix(state[None, :]),
                        asset_ids=assets["asset_id"].to_numpy(), events=events,
                        metadata=metadata)

    def people_exposed(self, people: gpd.GeoDataFrame, assets: gpd.GeoDataFrame,
                       parameters: HazardParameters) -> dict[str, float] | None:
        """People inside the evacuation and shelter-in-place distances of an incident."""
        return _incident_people(people, parameters)


def _incident_people(people: gpd.GeoDataFrame, parameters: HazardParameters
                     ) -> dict[str, float] | None:
    p = parameters
    if getattr(p, "target_lat", None) is None or getattr(p, "target_lon", None) is None:
        return None  # a targeted loss of assets, not an incident at a place
    return people_exposed(people, p).to_dict()


def _distance_m(geometries: gpd.GeoSeries, lon: float, lat: float) -> np.ndarray:
    """Shortest distance (m) from each geometry to a point, in a local UTM projection."""
    crs = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").estimate_utm_crs()
    target = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]
    return shapely.distance(geometries.to_crs(crs).values, target)


def people_exposed(people: gpd.GeoDataFrame, parameters: dict | HazardParameters
                   ) -> pd.Series:
    """People inside the evacuation and the shelter-in-place distances of an incident.

    people: population points (``population``, people). parameters: an
    incident (target_lat/lon and device or tnt_equivalent_kg).
    Returns: Series {"evacuation_zone": people within R_evac,
    "shelter_zone": people within R_shelter (includes the evacuation zone)}.
    """
    model = Attack()
    p = parameters if isinstance(parameters, HazardParameters) else model.parameters(parameters)
    assert isinstance(p, AttackParameters)
    if p.target_lat is None or p.target_lon is None:
        raise CascadaInputError("people exposed needs an incident location",
                                field="target_lat")
    evacuation_m, shelter_m = standoff_distances(p.charge_kg())
    distance = _distance_m(people.geometry, p.target_lon, p.target_lat)
    population = people["population"].to_numpy(float)
    return pd.Series({"evacuation_zone": float(population[distance <= evacuation_m].sum()),
                      "shelter_zone": float(population[distance <= shelter_m].sum())},
                     name="people")


def crowded_places(pbf_path: str | Path) -> gpd.GeoDataFrame:
    """Crowded places mapped in OSM: stadiums, bus stations, markets, places of worship.

    Returns: GeoDataFrame (EPSG:4326) with place_id ("n123"/"w123"/"r123"),
    kind (the OSM tag value), name, geometry (a point inside the feature).
    © OpenStreetMap contributors, ODbL 1.0.
    """
    osm = open_osm(pbf_path)
    features = osm.get_data_by_custom_criteria(
        custom_filter=CROWDED_PLACE_TAGS, filter_type="keep", keep_nodes=True,
        keep_ways=True, keep_relations=True)
    columns = ["place_id", "kind", "name", "geometry"]
    if features is None or len(features) == 0:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs="EPSG:4326")
    kind = pd.Series(pd.NA, index=features.index, dtype=object)
    for key, values in CROWDED_PLACE_TAGS.items():
        if key in features.columns:
            match = features[key].isin(values) & kind.isna()
            kind[match] = features.loc[match, key]
    keep = kind.notna().to_numpy()
    features = features.loc[keep]
    letter = features["osm_type"].map({"node": "n", "way": "w", "relation": "r"}).fillna("x")
    names = (features["name"] if "name" in features.columns
             else pd.Series("", index=features.index))
    out = gpd.GeoDataFrame(
        {"place_id": (letter + features["id"].astype(str)).to_numpy(),
         "kind": kind[keep].to_numpy(),
         "name": names.fillna("").astype(str).to_numpy()},
        geometry=shapely.point_on_surface(features.geometry.values), crs="EPSG:4326")
    return out.drop_duplicates("place_id").reset_index(drop=True)
