"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

One live service (uvicorn, job runner on) holds the Malta region; the tests
log in, open Malta, check the map renders and responds, start a run and follow
it, scrub the time slider, and read a risk run. Screenshots go to
test-artifacts/dashboard/. The page runs under the service's real
Content-Security-Policy, so waits poll with page.evaluate (wait_for_function
would need eval).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest_dashboard import (
    ADMIN,
    CHROMIUM,
    PASSWORD,
    PROJECT,
    launch_browser,
    start_service,
    static_built,
    wait_until,
)

pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

if not static_built():
    pytest.skip("the dashboard is not built: run `make web` (npm ci + vite build into "
                "src/cascada/service/static/)", allow_module_level=True)
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is missing: run `make chromium` (apt-get install chromium)",
                allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
ASSET_LAYERS = "['assets-points', 'assets-lines']"
RISK_TOML = """\
[risk]
name = "substations-risk"
seed = 3
samples = 8
hours = 48
bootstrap = 10

[[event_sets]]
id = "attack"
hazard = "attack"
generator = "model"
annual_rate = 0.01
parameters = { asset_ids = [{ids}], damage_state = 3 }
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory, malta_region):
    svc = start_service(tmp_path_factory.mktemp("dashboard-home"), malta_region)
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def page(tmp_path_factory, service):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        context = launch_browser(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(30_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        yield page
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def map_idle(page) -> None:
    wait_until(page, "window.cascada && window.cascada.ready && window.cascada.map.loaded()"
                     " && !window.cascada.map.isMoving()")
    page.evaluate("new Promise(r => { const m = window.cascada.map;"
                  " m.once('idle', () => r(true)); m.triggerRepaint(); })")


def rendered(page, sector: str | None = None) -> int:
    where = f"&& f.properties.sector === '{sector}'" if sector else ""
    return page.evaluate(
        f"window.cascada.map.queryRenderedFeatures({{layers: {ASSET_LAYERS}}})"
        f".filter(f => true {where}).length")


def start_run(page, service, scenario_label: str) -> str:
    """Pick a scenario, press Run, follow the progress to the end; returns the status."""
    page.select_option("#scenario-select", label=scenario_label)
    before = page.get_attribute(".progress", "data-run-id") or ""
    page.click("#run-button")
    wait_until(page, f"(document.querySelector('.progress').dataset.runId || '') !== '{before}'")
    statuses = set()
    status = ""
    for _ in range(3000):
        status = page.get_attribute(".progress", "data-status") or ""
        statuses.add(status)
        if status in ("succeeded", "failed", "cancelled", "interrupted"):
            break
        page.wait_for_timeout(100)
    if status != "succeeded":
        run_id = page.get_attribute(".progress", "data-run-id")
        log = service.home / "projects" / PROJECT / "runs" / f"{run_id}.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no worker log)"
        shot(page, f"failed-run-{run_id}")
        pytest.fail(f"run {run_id}: {page.inner_text('#run-status')} (seen {sorted(statuses)})"
                    f"\nworker log:\n{tail}")
    assert page.evaluate("document.querySelector('#run-progress').value") == 1
    return status


def test_login_and_the_malta_map(page, service):
    page.goto(service.url)
    page.fill("#login-password", "wrong")
    page.fill("#login-username", ADMIN)
    page.click("#login-submit")
    sync_api.expect(page.locator("#login-error")).to_contain_text("Wrong")
    page.fill("#login-password", PASSWORD)
    page.press("#login-password", "Enter")
    page.get_by_role("link", name="Malta").click()
    map_idle(page)
    points = rendered(page)
    assert points > 100
    assert page.evaluate("window.cascada.map.getStyle().glyphs") in (None, "")
    assert "OpenStreetMap" in page.inner_text(".maplibregl-ctrl-attrib")
    wait_until(page, "window.cascada.view.info.countries > 0")  # Natural Earth outlines
    shot(page, "01-malta-map")
    assert page.errors == []


def test_layer_toggle_and_asset_details(page, service):
    map_idle(page)
    assert rendered(page, "power") > 0
    page.uncheck("#layer-power")
    map_idle(page)
    assert rendered(page, "power") == 0
    assert rendered(page, "transport") > 0
    page.check("#layer-power")
    map_idle(page)
    assert rendered(page, "power") > 0

    # a click on a rendered point opens its details
    target = page.evaluate("""() => {
        const m = window.cascada.map;
        const f = m.queryRenderedFeatures({layers: ['assets-points']})
            .find(f => f.properties.sector === 'health') ||
            m.queryRenderedFeatures({layers: ['assets-points']})[0];
        const p = m.project(f.geometry.coordinates);
        const box = m.getCanvas().getBoundingClientRect();
        return {id: f.properties.asset_id, x: box.left + p.x, y: box.top + p.y};
    }""")
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector("#asset-table")
    clicked = page.inner_text("#asset-table")
    assert "sector" in clicked and "type" in clicked
    assert page.locator(".maplibregl-popup").count() == 1
    shot(page, "02-asset-details")

    # the keyboard route: find an asset by name
    name = page.evaluate("""window.cascada.state.assets.features
        .find(f => f.properties.sector === 'water' && f.properties.name).properties.name""")
    page.focus("#find-asset")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    wait_until(page, f"document.querySelector('#asset-name')?.textContent === {name!r}")


def test_run_progress_time_slider_and_chart(page, service):
    start_run(page, service, "Substations attack (scenario: attack)")
    page.wait_for_selector("#service-chart canvas")
    page.evaluate("window.cascada.view.fitRegion()")  # the previous test zoomed to one asset
    map_idle(page)
    assert page.is_checked("input[name=colour-mode][value=state]")
    assert page.get_attribute("#service-chart", "data-hour") == "0"
    # the first hour at which some asset's state differs from hour 0
    target = page.evaluate("""() => {
        const t = window.cascada.state.timeline;
        for (let h = 1; h < t.hours; h++)
            for (let i = 0; i < t.asset_ids.length; i++)
                if (t.p_down[i][h] !== t.p_down[i][0]) return {hour: h, id: t.asset_ids[i]};
        return null;
    }""")
    assert target is not None, "the scenario's outages never change over the horizon"
    asset = json.dumps(target["id"])
    state_of = f"window.cascada.map.getFeatureState({{source: 'assets', id: {asset}}}).p_down ?? 0"
    before = page.evaluate(state_of)
    colours_before = page.evaluate(
        f"JSON.stringify(window.cascada.map.queryRenderedFeatures({{layers: {ASSET_LAYERS}}})"
        ".filter(f => f.state && f.state.p_down).map(f => [f.id, f.state.p_down]).sort())")
    shot(page, "03-timeline-hour-0")

    page.focus("#hour-slider")
    for _ in range(target["hour"]):
        page.keyboard.press("ArrowRight")
    hour = str(target["hour"])
    assert page.input_value("#hour-slider") == hour
    assert page.get_attribute("#service-chart", "data-hour") == hour
    assert f"hour {hour}" in page.inner_text("#hour-label")
    map_idle(page)
    assert page.evaluate(state_of) != before
    colours_after = page.evaluate(
        f"JSON.stringify(window.cascada.map.queryRenderedFeatures({{layers: {ASSET_LAYERS}}})"
        ".filter(f => f.state && f.state.p_down).map(f => [f.id, f.state.p_down]).sort())")
    assert colours_after != colours_before
    shot(page, f"04-timeline-hour-{hour}")

    # downloads: the report and a table in each format
    page.wait_for_selector("#file-links a")
    assert "HTML report" in page.inner_text("#file-links")
    for table, fmt in (("outages", "csv"), ("outages", "parquet"), ("assets", "geojson")):
        href = page.get_attribute(f"#table-links a[href$='/{table}.{fmt}']", "href")
        response = page.request.get(service.url + href)
        assert response.status == 200, (href, response.status)
    assert page.errors == []


def test_risk_run_view(page, service, malta_region):
    ids = page.evaluate("""window.cascada.state.assets.features
        .filter(f => f.properties.asset_type === 'power.substation')
        .slice(0, 3).map(f => f.properties.asset_id)""")
    page.click(".add-scenario summary")
    page.fill("#scenario-name", "Substations risk")
    toml = RISK_TOML.replace("{ids}", ", ".join(f'"{a}"' for a in ids))
    page.fill("#scenario-toml", toml)
    page.click("#scenario-form button[type=submit]")
    wait_until(page, "[...document.querySelectorAll('#scenario-select option')]"
                     ".some(o => o.textContent.startsWith('Substations risk'))")
    start_run(page, service, "Substations risk (risk: attack)")
    page.wait_for_selector("#eai-table tbody tr")
    page.wait_for_selector("#ep-chart canvas")
    assert page.is_hidden("#timeline")
    assert page.locator("#top-assets li").count() > 0
    assert page.is_checked("input[name=colour-mode][value=eai]")
    map_idle(page)
    shot(page, "05-risk")
    assert page.errors == []
