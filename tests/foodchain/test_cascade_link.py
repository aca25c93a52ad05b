"""A recall closes food facilities of a region, and the closure flows into the cascade."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from cascada.foodchain.cli import food_app
from cascada.hazards.eventset import read_eventset
from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario

runner = CliRunner()


def test_recall_closures_feed_the_cascade(tmp_path, tiny_region):
    net = tmp_path / "net"
    net.mkdir()
    # A farm near Mdina supplies the tiny region's supermarket (at 14.489 E, 35.894 N).
    pd.DataFrame({"station_id": ["farm", "shop-station"], "name": ["Farm", "Supermarket"],
                  "latitude": [35.886, 35.8941], "longitude": [14.403, 14.4891]}
                 ).to_csv(net / "stations.csv", index=False)
    pd.DataFrame({"delivery_id": ["d1"], "supplier": ["farm"], "recipient": ["shop-station"],
                  "product": ["lettuce"], "lot": ["L1"], "departure": ["2026-06-01"],
                  "arrival": ["2026-06-02"], "amount": [120.0], "unit": ["kg"]}
                 ).to_csv(net / "deliveries.csv", index=False)
    region = write_region(tiny_region, tmp_path / "tiny.gpkg")
    out = tmp_path / "recall"
    result = runner.invoke(food_app, ["recall", "-n", str(net), "--from", "farm",
                                      "--region", str(region), "-o", str(out)])
    assert result.exit_code == 0, result.output
    closures = read_eventset(out / "closures.parquet")
    assert list(closures.asset_ids[closures.exposed_assets(0)]) == ["shop"]

    scenario = tmp_path / "closure.toml"
    scenario.write_text(
        '[scenario]\nname = "closure"\nregion = "tiny.gpkg"\nsamples = 4\nhours = 96\n\n'
        '[[hazards]]\nhazard = "attack"\nevent_set = "recall/closures.parquet"\n'
        "outage_hours = 72\n"
    )
    run = run_scenario(read_scenario(scenario))
    food = run.service_timeseries[run.service_timeseries["service"] == "food"]
    # p2 (2,500 people) buys food at the shop only: without for exactly 72 hours.
    without = food.set_index("hour")["people_without_mean"]
    np.testing.assert_allclose(without.loc[:71], 2500)
    np.testing.assert_allclose(without.loc[72:], 0)
    assert run.summary["hazards"][0]["outage_hours"] == 72
