"""The HTML report of a run folder: self-contained, readable numbers, atomic write."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cascada.errors import CascadaInputError
from cascada.report import write_report
from cascada.report.html import (
    format_count,
    format_eur,
    format_hours,
    format_interval,
    format_share,
    top_assets,
)

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Attributes(HTMLParser):
    """Collect every (tag, attribute, value) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def _parse(page: str) -> _Attributes:
    parser = _Attributes()
    parser.feed(page)
    return parser


def _images(page: str) -> list[bytes]:
    sources = [v for tag, name, v in _parse(page).attributes if tag == "img" and name == "src"]
    prefix = "data:image/png;base64,"
    assert all(s.startswith(prefix) for s in sources)
    return [base64.b64decode(s[len(prefix):], validate=True) for s in sources]


@pytest.fixture(scope="module")
def page(shared_run_dir: Path) -> str:
    """The report of the synthetic run folder, written once for the read-only checks."""
    return write_report(shared_run_dir).read_text(encoding="utf-8")


def test_writes_report_html_in_run_folder(run_dir: Path) -> None:
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    assert path.is_file()
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "test-flash-flood" in page


def test_report_is_self_contained(page: str) -> None:
    parsed = _parse(page)
    for tag, name, value in parsed.attributes:
        if name in {"src", "href", "srcset", "action", "data"}:
            assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), (tag, name, value)
    assert "http://" not in page and "https://" not in page
    assert "script" not in parsed.tags
    assert "link" not in parsed.tags
    assert "@import" not in page and "url(" not in page


def test_headline_numbers_are_formatted(page: str) -> None:
    assert "€ 12.3 M" in page  # direct loss mean
    assert "€ 8.10 M – € 17.9 M" in page  # 90 % interval
    assert "48,210 people" in page  # peak people without power
    assert "512,000 people-hours" in page
    assert "300,000 – 700,000" in page  # people-hours interval
    assert "4.2 assets" in page
    assert "1 of 2 hospitals" in page
    assert "not within horizon" in page  # water never restored to 90 %


def test_synthetic_banner_and_provenance(page: str) -> None:
    assert 'class="banner"' in page
    assert "Synthetic / illustrative hazard: flood" in page
    assert "Map data © OpenStreetMap contributors, ODbL 1.0" in page
    assert "a" * 64 in page  # input hash
    assert "synthetic test points" in page  # population method
    assert "Test General Hospital" in page


def test_images_are_valid_png(page: str) -> None:
    images = _images(page)
    assert len(images) == 3  # map, time series, small multiples
    for image in images:
        assert image.startswith(PNG_SIGNATURE)
        assert len(image) > 5_000


def test_no_temporary_file_left(run_dir: Path) -> None:
    before = set(run_dir.iterdir())
    write_report(run_dir)
    after = set(run_dir.iterdir())
    assert after - before == {run_dir / "report.html"}
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_custom_output_path(run_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "elsewhere" / "flood.html"
    assert write_report(run_dir, output) == output
    assert output.is_file()
    assert not (run_dir / "report.html").exists()
    assert [p.name for p in output.parent.iterdir()] == ["flood.html"]


def test_rewrite_replaces_existing_report(run_dir: Path) -> None:
    (run_dir / "report.html").write_text("old", encoding="utf-8")
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert page != "old"


def test_same_run_folder_gives_same_bytes(run_dir: Path, tmp_path: Path) -> None:
    first = write_report(run_dir, tmp_path / "a.html").read_bytes()
    second = write_report(run_dir, tmp_path / "b.html").read_bytes()
    assert first == second


def test_works_without_hazard_footprint(run_dir_without_footprint: Path) -> None:
    page = write_report(run_dir_without_footprint).read_text(encoding="utf-8")
    assert "No hazard footprint in this run folder" in page
    assert all(image.startswith(PNG_SIGNATURE) for image in _images(page))


def test_missing_optional_tables_are_named(run_dir: Path) -> None:
    (run_dir / "people.parquet").unlink()
    (run_dir / "facilities.parquet").unlink()
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert "facilities.parquet" in page
    assert len(_images(page)) == 2  # no small multiples without people


def test_missing_summary_is_a_clear_error(run_dir: Path) -> None:
    (run_dir / "summary.json").unlink()
    with pytest.raises(CascadaInputError, match=r"summary\.json"):
        write_report(run_dir)
    assert not (run_dir / "report.html").exists()
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_missing_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CascadaInputError, match="run folder not found"):
        write_report(tmp_path / "nope")


def test_bad_summary_json_names_the_file(run_dir: Path) -> None:
    (run_dir / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CascadaInputError, match=r"summary\.json.*not valid JSON"):
        write_report(run_dir)


def test_missing_column_names_file_and_field(run_dir: Path) -> None:
    services = pd.read_parquet(run_dir / "services.parquet")
    services.drop(columns=["peak_hour"]).to_parquet(run_dir / "services.parquet")
    with pytest.raises(CascadaInputError) as error:
        write_report(run_dir)
    assert error.value.field == "peak_hour"
    assert "services.parquet" in str(error.value)


def test_text_is_escaped(run_dir: Path) -> None:
    summary = (run_dir / "summary.json").read_text(encoding="utf-8")
    summary = summary.replace("test-flash-flood", "<script>alert(1)</script>")
    (run_dir / "summary.json").write_text(summary, encoding="utf-8")
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_top_assets_ranked_by_people_at_risk_then_loss(run_dir: Path) -> None:
    import geopandas as gpd

    assets = gpd.read_parquet(run_dir / "assets.parquet")
    top = top_assets(assets)
    assert top["asset_id"].iloc[0] == "sub-1"  # 0.95 × 30,000 people
    assert "sub-2" not in set(top["asset_id"])  # never down, never damaged
    people_at_risk = (top["p_down"] * top["population_served"]).to_numpy()
    assert np.all(np.diff(people_at_risk) <= 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12_345_678, "€ 12.3 M"),
        (950, "€ 950"),
        (1_500, "€ 1.50 k"),
        (999_999, "€ 1.00 M"),
        (2.5e9, "€ 2.50 bn"),
        (float("nan"), "—"),
        (None, "—"),
    ],
)
def test_format_eur(value: float | None, expected: str) -> None:
    assert format_eur(value) == expected


def test_other_formats() -> None:
    assert format_count(48_210.4, "people") == "48,210 people"
    assert format_count(2.44, "assets") == "2.4 assets"
    assert format_count(0, "assets") == "0 assets"
    assert format_share(0.873) == "87 %"
    assert format_share(0.001) == "<1 %"
    assert format_share(0) == "0 %"
    assert format_hours(12.34) == "12.3 h"
    assert format_interval(1_000, 2_500) == "1,000 – 2,500"
    assert format_interval(None, 3) == "—"


def test_many_people_points_use_a_grid(run_dir: Path) -> None:
    import geopandas as gpd

    rng = np.random.default_rng(3)
    count = 5_000
    people = gpd.GeoDataFrame(
        {
            "people_id": np.arange(count),
            "population": rng.uniform(1, 300, count),
            "hours_without_power": rng.uniform(0, 24, count) * (rng.random(count) < 0.3),
            "hours_without_water": np.zeros(count),
        },
        geometry=gpd.points_from_xy(rng.uniform(14.47, 14.52, count),
                                    rng.uniform(35.87, 35.905, count)),
        crs="EPSG:4326",
    )
    people.to_parquet(run_dir / "people.parquet")
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert len(_images(page)) == 3


def test_top_assets_table_shows_intensity_and_falls_back_to_id(page: str) -> None:
    assert "1.35 depth_m" in page  # sub-1: p_damaged 0.9 × 1.5 in the fixture
    assert "<td>line-1</td>" in page  # unnamed power line shown by its id
    assert "hour 0" in page  # peak hour


def test_missing_matplotlib_names_the_extra(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cascada.errors import MissingExtraError
    from cascada.report import figures

    def missing(module: str, extra: str) -> None:
        raise MissingExtraError(module, extra)

    monkeypatch.setattr(figures, "require", missing)
    with pytest.raises(MissingExtraError, match=r"cascada\[report\]"):
        write_report(run_dir)
    assert not (run_dir / "report.html").exists()


def test_people_without_geometry_are_skipped_on_the_maps(run_dir: Path) -> None:
    import geopandas as gpd

    people = gpd.read_parquet(run_dir / "people.parquet")
    people.loc[[0, 5], "geometry"] = None
    people.to_parquet(run_dir / "people.parquet")
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert len(_images(page)) == 3
