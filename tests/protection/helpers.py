"""Builders of small sites for the protection tests."""

from __future__ import annotations

from typing import Any

#: The six-step regression path (see test_easi.py for where the numbers come from).
REGRESSION_PATH = dict(
    p_detection=[0.0, 0.5, 0.9, 0.0, 0.9, 0.0],
    location_factor=[1.0, 1.0, 0.5, 1.0, 0.0, 1.0],
    delay_mean_s=[10.0, 45.0, 50.0, 45.0, 45.0, 25.0],
    delay_sd_s=[3.0, 13.5, 15.0, 13.5, 13.5, 7.5],
)


def layered_site(layers: list[list[dict[str, Any]]], *, response_mean_s: float = 150.0,
                 response_sd_s: float = 45.0, p_communication: float = 0.95,
                 transits: list[dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """A site dict: areas a0 (outside) … aN (target), layer i's elements lead a_i → a_{i+1}."""
    n = len(layers)
    areas = []
    for i in range(n + 1):
        area: dict[str, Any] = {"id": f"a{i}"}
        if transits and i > 0 and transits[i - 1]:
            area["transit"] = transits[i - 1]
        areas.append(area)
    elements = []
    for i, layer in enumerate(layers):
        for j, values in enumerate(layer):
            elements.append({"id": f"e{i}{j}", "type": "door", "from": f"a{i}",
                             "to": f"a{i + 1}", **values})
    return {
        "site": {"name": "test", "outside": "a0", "target": f"a{n}"},
        "response": {"mean_s": response_mean_s, "sd_s": response_sd_s,
                     "p_communication": p_communication},
        "areas": areas,
        "elements": elements,
    }
