"""A protected site as data: areas, path elements, the response force.

The site model of the Sandia method (Garcia, *Design and Evaluation of
Physical Protection Systems*, 2nd ed., 2008, ch. 14): an adversary sequence
diagram (ASD) of **areas** (off-site, limited area, protected area, vital
area, target) joined by **path elements** (fences, gates, doors, walls,
vaults, portals) that the adversary must defeat to pass from one area to the
next. Each element has, for each adversary tactic (``stealth``, ``force``):

- ``p_detection`` — probability that the element's sensors (and assessment)
  detect the adversary, in [0, 1];
- ``location`` — where on the element the detection happens: ``beginning``,
  ``middle`` or ``end`` (EASI factor f = 1, 0.5, 0 of the element's delay
  still ahead of the adversary after detection);
- ``delay_mean_s``, ``delay_sd_s`` — time to defeat the element, seconds
  (mean, standard deviation; EASI treats it as normal).

An area may carry a ``transit`` (time to cross it from the element the
adversary entered by to the element they leave by, e.g. "run to building",
with its own detection); the target area's transit is the task at the target
(sabotage, theft), the last step of every path.

Values common to every tactic are written once on the element; a table per
tactic (``[elements.force]``) overrides them. A third tactic, ``insider``,
derives from ``stealth`` (or ``[insider] base``): detections of the elements
listed in ``[insider] bypass_detection`` are switched off, and the delays of
those in ``bypass_delay`` set to zero (an insider with access credentials).

The response force: ``mean_s``/``sd_s`` from alarm to interruption (seconds),
``p_communication`` (alarm reaches the response force) and optional
``p_neutralisation`` (the response force, once there, wins).

File format (TOML or JSON, same keys)::

    [site]
    name = "…"
    outside = "offsite"        # area the adversary starts in
    target = "store"           # area holding the target

    [response]
    mean_s = 150
    sd_s = 45
    p_communication = 0.95
    p_neutralisation = 0.9     # optional

    [[areas]]
    id = "limited"
    name = "Limited area"
    transit = { p_detection = 0.5, delay_mean_s = 45, delay_sd_s = 13.5 }

    [[elements]]
    id = "fence"
    type = "fence"
    from = "offsite"
    to = "limited"
    delay_mean_s = 10
    delay_sd_s = 3
    [elements.force]
    delay_mean_s = 5

Every bad value raises :class:`~cascada.errors.CascadaInputError` naming the
file, the element and the field.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cascada.errors import CascadaInputError

__all__ = [
    "ELEMENT_TYPES",
    "LOCATION_FACTOR",
    "TACTICS",
    "Area",
    "Detection",
    "Element",
    "Response",
    "Site",
    "Step",
    "load_site",
    "site_from_dict",
]

#: EASI factor: share of the element's delay still ahead after detection.
LOCATION_FACTOR: dict[str, float] = {"beginning": 1.0, "middle": 0.5, "end": 0.0}
#: Adversary tactics a site is evaluated for.
TACTICS: tuple[str, ...] = ("stealth", "force", "insider")
#: Path element types (the field's barrier and portal kinds).
ELEMENT_TYPES: tuple[str, ...] = (
    "fence", "gate", "vehicle_gate", "vehicle_barrier", "door", "roll_up_door", "wall",
    "window", "roof", "floor", "ceiling", "vault", "portal", "personnel_portal", "turnstile",
    "hatch", "culvert", "emergency_exit", "entrance", "screening", "area", "task",
)

_PARAMETERS = ("p_detection", "location", "delay_mean_s", "delay_sd_s")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Detection(_Strict):
    """Detection and delay of one step for one tactic (probabilities in [0, 1], seconds)."""

    p_detection: float = Field(0.0, ge=0.0, le=1.0)
    location: Literal["beginning", "middle", "end"] = "beginning"
    delay_mean_s: float = Field(0.0, ge=0.0)
    delay_sd_s: float = Field(0.0, ge=0.0)
    p_detection_sd: float | None = Field(None, ge=0.0, le=0.5)
    delay_relative_sd: float | None = Field(None, ge=0.0)

    @property
    def location_factor(self) -> float:
        return LOCATION_FACTOR[self.location]


class _TacticValues(_Strict):
    """A partial :class:`Detection`: the values a tactic overrides."""

    p_detection: float | None = Field(None, ge=0.0, le=1.0)
    location: Literal["beginning", "middle", "end"] | None = None
    delay_mean_s: float | None = Field(None, ge=0.0)
    delay_sd_s: float | None = Field(None, ge=0.0)
    p_detection_sd: float | None = Field(None, ge=0.0, le=0.5)
    delay_relative_sd: float | None = Field(None, ge=0.0)


class _WithTactics(_Strict):
    """Shared values plus per-tactic overrides."""

    p_detection: float = Field(0.0, ge=0.0, le=1.0)
    location: Literal["beginning", "middle", "end"] = "beginning"
    delay_mean_s: float = Field(0.0, ge=0.0)
    delay_sd_s: float = Field(0.0, ge=0.0)
    p_detection_sd: float | None = Field(None, ge=0.0, le=0.5)
    delay_relative_sd: float | None = Field(None, ge=0.0)
    stealth: _TacticValues | None = None
    force: _TacticValues | None = None

    def detection(self, tactic: str) -> Detection:
        """The step's values for ``stealth`` or ``force``."""
        base = {k: getattr(self, k) for k in Detection.model_fields}
        override = getattr(self, tactic, None)
        if override is not None:
            base.update({k: v for k, v in override.model_dump().items() if v is not None})
        return Detection(**base)


class Transit(_WithTactics):
    """Crossing an area (or the task at the target)."""

    name: str = ""


class Area(_Strict):
    """An area of the ASD (off-site, limited, protected, vital, target …)."""

    id: str = Field(min_length=1)
    name: str = ""
    transit: Transit | None = None


class Element(_WithTactics):
    """A path element between two areas (fence, door, vault …)."""

    id: str = Field(min_length=1)
    type: str
    name: str = ""
    from_area: str = Field(alias="from", min_length=1)
    to_area: str = Field(alias="to", min_length=1)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ELEMENT_TYPES:
            raise ValueError(f"unknown element type {value!r}; known: {', '.join(ELEMENT_TYPES)}")
        return value


class Response(_Strict):
    """The response force: time from alarm to interruption (s), communication, neutralisation."""

    mean_s: float = Field(ge=0.0)
    sd_s: float = Field(0.0, ge=0.0)
    p_communication: float = Field(1.0, ge=0.0, le=1.0)
    p_neutralisation: float | None = Field(None, ge=0.0, le=1.0)
    relative_sd: float | None = Field(None, ge=0.0)


class Insider(_Strict):
    """The insider tactic: a base tactic with some detections / delays bypassed."""

    base: Literal["stealth", "force"] = "stealth"
    bypass_detection: list[str] = Field(default_factory=list)
    bypass_delay: list[str] = Field(default_factory=list)


class SiteHeader(_Strict):
    name: str = "site"
    outside: str = Field(min_length=1)
    target: str = Field(min_length=1)
    description: str = ""


class Step(_Strict):
    """One step of a path for one tactic: an element or an area transit."""

    id: str
    kind: Literal["element", "transit"]
    type: str
    name: str
    detection: Detection


class Site(_Strict):
    """A validated site. Build with :func:`load_site` or :func:`site_from_dict`."""

    site: SiteHeader
    response: Response
    areas: list[Area]
    elements: list[Element]
    insider: Insider | None = None
    source: str = "<memory>"

    # ------------------------------------------------------------------ lookups
    @property
    def name(self) -> str:
        return self.site.name

    def area(self, area_id: str) -> Area:
        for area in self.areas:
            if area.id == area_id:
                return area
        raise KeyError(area_id)

    def element(self, element_id: str) -> Element:
        for element in self.elements:
            if element.id == element_id:
                return element
        raise KeyError(element_id)

    def tactics(self) -> list[str]:
        """Tactics to evaluate: stealth, force, and insider when declared."""
        return ["stealth", "force"] + (["insider"] if self.insider is not None else [])

    def step(self, step_id: str, tactic: str) -> Step:
        """The step ``step_id`` (an element id, or ``transit:<area id>``) for a tactic."""
        if tactic not in TACTICS:
            raise CascadaInputError(f"unknown tactic {tactic!r}", field="tactic",
                                    hint=f"use one of {', '.join(TACTICS)}")
        base = tactic
        insider = self.insider if tactic == "insider" else None
        if tactic == "insider":
            base = self.insider.base if self.insider is not None else "stealth"
        if step_id.startswith("transit:"):
            area = self.area(step_id.removeprefix("transit:"))
            assert area.transit is not None
            detection = area.transit.detection(base)
            step = Step(id=step_id, kind="transit", type="task" if area.id == self.site.target
                        else "area", name=area.transit.name or f"cross {area.name or area.id}",
                        detection=detection)
        else:
            element = self.element(step_id)
            detection = element.detection(base)
            step = Step(id=element.id, kind="element", type=element.type,
                        name=element.name or element.id, detection=detection)
        if insider is not None:
            changes: dict[str, Any] = {}
            if step_id in insider.bypass_detection:
                changes["p_detection"] = 0.0
            if step_id in insider.bypass_delay:
                changes.update(delay_mean_s=0.0, delay_sd_s=0.0)
            if changes:
                step = step.model_copy(update={"detection": detection.model_copy(update=changes)})
        return step

    def path_steps(self, element_ids: Iterable[str], tactic: str) -> list[Step]:
        """Steps of a path given by its element ids: each element then the transit of the
        area it leads into (when that area has one); the target's task comes last."""
        steps: list[Step] = []
        for element_id in element_ids:
            element = self.element(element_id)
            steps.append(self.step(element_id, tactic))
            area = self.area(element.to_area)
            if area.transit is not None:
                steps.append(self.step(f"transit:{area.id}", tactic))
        return steps


# ---------------------------------------------------------------------- reading


def _location(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int))


def _validate(model: type[BaseModel], data: Any, *, source: str, what: str,
              row: int | str | None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CascadaInputError(
            f"{what}: {first['msg']} (got {first.get('input')!r})",
            file=source, row=row, field=_location(first) or None,
        ) from None


def site_from_dict(data: Mapping[str, Any], *, source: str = "<memory>") -> Site:
    """Validate a site given as a mapping (the parsed TOML/JSON).

    Raises CascadaInputError naming the element (or area) and field on bad
    values, duplicate ids, unknown areas, and when no path leads from
    ``outside`` to ``target``.
    """
    if not isinstance(data, Mapping):
        raise CascadaInputError("a site must be a table of [site], [response], "
                                "[[areas]] and [[elements]]", file=source)
    known = {"site", "response", "areas", "elements", "insider"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CascadaInputError(f"unknown section(s) {', '.join(unknown)}", file=source,
                                field=unknown[0], hint=f"known: {', '.join(sorted(known))}")
    for section in ("site", "response", "elements"):
        if section not in data:
            raise CascadaInputError(f"missing [{section}] section", file=source, field=section)
    header = _validate(SiteHeader, data["site"], source=source, what="[site]", row=None)
    response = _validate(Response, data["response"], source=source, what="[response]", row=None)
    areas: list[Area] = []
    for i, raw in enumerate(data.get("areas", []) or []):
        name = raw.get("id", f"#{i + 1}") if isinstance(raw, Mapping) else f"#{i + 1}"
        areas.append(_validate(Area, raw, source=source, what=f"area {name!r}",
                               row=f"area {name!r}"))
    elements: list[Element] = []
    for i, raw in enumerate(data.get("elements", []) or []):
        name = raw.get("id", f"#{i + 1}") if isinstance(raw, Mapping) else f"#{i + 1}"
        elements.append(_validate(Element, raw, source=source, what=f"element {name!r}",
                                  row=f"element {name!r}"))
    insider = None
    if data.get("insider") is not None:
        insider = _validate(Insider, data["insider"], source=source, what="[insider]",
                            row=None)
    # Areas named only by elements or the header are created implicitly.
    area_ids = [a.id for a in areas]
    _no_duplicates(area_ids, "area", source)
    _no_duplicates([e.id for e in elements], "element", source)
    declared = set(area_ids)
    for element in elements:
        for end in (element.from_area, element.to_area):
            if end not in declared:
                areas.append(Area(id=end))
                declared.add(end)
        if element.from_area == element.to_area:
            raise CascadaInputError(
                f"element {element.id!r} leads from area {element.from_area!r} to itself",
                file=source, row=f"element {element.id!r}", field="to",
                hint="model the crossing of an area as the area's transit")
    for end, label in ((header.outside, "outside"), (header.target, "target")):
        if end not in declared:
            raise CascadaInputError(f"[site] {label} area {end!r} is not an area of any element",
                                    file=source, field=label)
    if insider is not None:
        ids = {e.id for e in elements} | {f"transit:{a.id}" for a in areas}
        for listed in insider.bypass_detection + insider.bypass_delay:
            if listed not in ids:
                raise CascadaInputError(
                    f"[insider] names unknown element {listed!r}", file=source,
                    field="bypass_detection", hint="use element ids or transit:<area id>")
    site = Site(site=header, response=response, areas=areas, elements=elements,
                insider=insider, source=source)
    _check_reachable(site)
    return site


def _no_duplicates(ids: list[str], what: str, source: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise CascadaInputError(f"duplicate {what} id {item!r}", file=source,
                                    row=f"{what} {item!r}", field="id")
        seen.add(item)


def _check_reachable(site: Site) -> None:
    """Raise when no chain of elements leads from ``outside`` to ``target``."""
    reached = {site.site.outside}
    frontier = [site.site.outside]
    while frontier:
        area = frontier.pop()
        for element in site.elements:
            if element.from_area == area and element.to_area not in reached:
                reached.add(element.to_area)
                frontier.append(element.to_area)
    if site.site.target not in reached:
        raise CascadaInputError(
            f"no path from outside area {site.site.outside!r} to target area "
            f"{site.site.target!r}", file=site.source, field="elements",
            hint=f"areas reachable from outside: {', '.join(sorted(reached))}")


def load_site(path: str | Path) -> Site:
    """Read and validate a site file (``.toml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise CascadaInputError("site file not found", file=path)
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CascadaInputError(f"cannot parse: {exc}", file=path) from None
    return site_from_dict(data, source=str(path))
