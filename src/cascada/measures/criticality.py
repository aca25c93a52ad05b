"""Which assets matter most: N-1 and greedy N-k consequence, joined with each asset's
contribution to risk (expected annual impact from a risk run).

The consequence side comes from :mod:`cascada.impact.criticality` (the cascade,
64 contingencies per machine word); the risk side from the per-asset EAI
decomposition of :func:`cascada.risk.montecarlo.run_risk` (``asset_eai``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from cascada.impact.criticality import greedy_n_k, n_minus_1
from cascada.region.model import Region

#: columns taken from a risk run's asset_eai table
RISK_COLUMNS = ("expected_annual_loss_eur", "expected_annual_down_hours",
                "annual_outage_frequency")


@dataclass
class Criticality:
    """N-1 table (one row per asset, GeoDataFrame), greedy N-k table and headline figures."""

    assets: gpd.GeoDataFrame
    n_k: pd.DataFrame
    summary: dict = field(default_factory=dict)


def criticality_ranking(region: Region, *, k: int = 3, hours: int = 72,
                        risk_assets: pd.DataFrame | None = None,
                        progress: Callable[[str, int, int], None] | None = None
                        ) -> Criticality:
    """Rank assets by N-1 consequence and (when given) by their contribution to risk.

    risk_assets: a risk run's ``asset_eai`` table (asset_id plus
    expected_annual_loss_eur EUR/yr, expected_annual_down_hours h/yr,
    annual_outage_frequency 1/yr). k: size of the greedy N-k set (0: none).
    hours: horizon of each contingency, hours.
    """
    def tick(stage: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(stage, done, total)) if progress else None

    table = n_minus_1(region, hours=hours, progress=tick("N-1"))
    geometry = region.assets.set_index("asset_id").geometry
    out = gpd.GeoDataFrame(table, geometry=geometry.loc[table["asset_id"]].to_numpy(),
                           crs=region.assets.crs)
    if risk_assets is not None:
        risk = risk_assets.set_index("asset_id")
        for column in RISK_COLUMNS:
            if column in risk.columns:
                out[column] = risk[column].reindex(out["asset_id"]).fillna(0.0).to_numpy()
        if "expected_annual_loss_eur" in out:
            out["risk_rank"] = (out["expected_annual_loss_eur"]
                                .rank(ascending=False, method="first").astype(int))
    n_k = (greedy_n_k(region, k, hours=hours, progress=tick(f"N-{k}")) if k > 0
           else pd.DataFrame())
    summary = {
        "hours": hours,
        "assets": len(out),
        "n_minus_1": {
            "assets_cutting_service": int((out["people_affected"] > 0).sum()),
            "max_people_affected": float(out["people_affected"].max()),
            "max_people_single_supply": float(out["people_single_supply"].max()),
            "top": out.head(10)[["asset_id", "asset_type", "people_affected",
                                 "people_single_supply"]].to_dict("records"),
        },
        "n_k": ({"k": k, "assets": n_k["asset_id"].tolist(),
                 "people_affected": n_k["people_affected"].tolist(),
                 "people_hours_lost": n_k["people_hours_lost"].tolist()} if k > 0 else {}),
        "with_risk": risk_assets is not None,
    }
    return Criticality(out, n_k, summary)

