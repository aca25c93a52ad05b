"""API behaviour endpoint by endpoint: accounts, projects, regions, scenarios, runs, results."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from .conftest import PASSWORD, SCENARIO_TOML
from .test_authorisation import TINY_GEOJSON


def login(world, username: str = "victor", password: str = PASSWORD):
    return world.client.post("/api/auth/login", json={"username": username,
                                                      "password": password})


# --------------------------------------------------------------------------- accounts


def test_cookie_session_needs_csrf_header_for_unsafe_requests(world):
    response = login(world)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "victor" and body["is_admin"] is False
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    me = world.client.get("/api/auth/me").json()
    assert me["csrf_token"] == body["csrf_token"]
    assert me["projects"] == [{"id": "alpha", "name": "Alpha", "role": "viewer"}]
    assert world.client.post("/api/auth/tokens").status_code == 403
    assert world.client.post("/api/auth/tokens",
                             headers={"X-CSRF-Token": "wrong"}).status_code == 403
    created = world.client.post("/api/auth/tokens", headers={"X-CSRF-Token": body["csrf_token"]})
    assert created.status_code == 201
    token = created.json()["token"]
    assert world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}
                            ).json()["username"] == "victor"
    out = world.client.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    world.client.cookies.clear()
    assert world.client.get("/api/auth/me").status_code == 401


def test_logged_out_session_cookie_is_dead(world):
    response = login(world)
    cookie = world.client.cookies.get("cascada_session")
    world.client.post("/api/auth/logout", headers={"X-CSRF-Token": response.json()["csrf_token"]})
    world.client.cookies.clear()
    world.client.cookies.set("cascada_session", cookie)
    assert world.client.get("/api/auth/me").status_code == 401


def test_login_rate_limit(world):
    for _ in range(world.settings.login_attempts):
        assert login(world, "anna", "wrong password").status_code == 401
    blocked = login(world, "anna", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert login(world, "victor").status_code == 200  # other users are not blocked


def test_passwords_never_stored_or_logged(world, caplog):
    login(world, "anna", "a-secret-guess")
    world.post("/api/users", json={"username": "zoe", "password": "zoe-secret-pw"})
    audit = json.dumps(world.get("/api/audit").json())
    assert "a-secret-guess" not in audit and "zoe-secret-pw" not in audit
    assert "a-secret-guess" not in caplog.text and "zoe-secret-pw" not in caplog.text
    from sqlalchemy import select

    from cascada.service.models import User

    with world.app.state.db.session() as session:
        stored = session.scalar(select(User).where(User.username == "zoe")).password_hash
    assert stored.startswith("$argon2") and "zoe-secret-pw" not in stored


def test_users(world):
    created = world.post("/api/users", json={"username": "zoe", "password": "long password",
                                             "is_admin": False})
    assert created.status_code == 201
    assert world.post("/api/users", json={"username": "zoe", "password": "long password"}
                      ).status_code == 409
    assert world.post("/api/users", json={"username": "x y", "password": "long password"}
                      ).status_code == 422
    assert world.post("/api/users", json={"username": "short", "password": "short"}
                      ).status_code == 422
    names = [u["username"] for u in world.get("/api/users").json()]
    assert "zoe" in names and "ada" in names
    assert login(world, "zoe", "long password").status_code == 200


# --------------------------------------------------------------------------- projects


def test_projects_and_members(world):
    assert world.post("/api/projects", json={"id": "gamma", "name": "Gamma"}).status_code == 201
    assert world.post("/api/projects", json={"id": "gamma", "name": "G"}).status_code == 409
    assert world.post("/api/projects", json={"id": "../x", "name": "G"}).status_code == 422
    assert world.client.put("/api/projects/gamma/members/oscar", json={"role": "analyst"},
                            headers=world.headers("ada")).status_code == 200
    assert [p["id"] for p in world.get("/api/projects", "oscar").json()] == ["gamma"]
    project = world.get("/api/projects/gamma", "oscar").json()
    assert project["role"] == "analyst"
    assert project["members"] == [{"username": "oscar", "role": "analyst"}]
    assert world.client.put("/api/projects/gamma/members/nobody", json={"role": "viewer"},
                            headers=world.headers("ada")).status_code == 404
    assert world.client.put("/api/projects/gamma/members/oscar", json={"role": "boss"},
                            headers=world.headers("ada")).status_code == 422
    assert world.client.delete("/api/projects/gamma/members/oscar",
                               headers=world.headers("ada")).status_code == 204
    assert world.get("/api/projects/gamma", "oscar").status_code == 404


def test_last_owner_stays(world):
    def put(username, role):
        return world.client.put(f"/api/projects/alpha/members/{username}", json={"role": role},
                                headers=world.headers("olivia"))

    assert put("olivia", "analyst").status_code == 409
    assert world.client.delete("/api/projects/alpha/members/olivia",
                               headers=world.headers("olivia")).status_code == 409
    assert put("anna", "owner").status_code == 200
    assert put("olivia", "viewer").status_code == 200  # anna owns it now


def test_owner_manages_members_of_own_project_only(world):
    put = world.client.put("/api/projects/alpha/members/oscar", json={"role": "viewer"},
                           headers=world.headers("olivia"))
    assert put.status_code == 200
    assert world.get("/api/projects/alpha/regions", "oscar").status_code == 200
    assert world.client.put("/api/projects/beta/members/oscar", json={"role": "viewer"},
                            headers=world.headers("olivia")).status_code == 404


# --------------------------------------------------------------------------- regions


def _upload(world, name: str, data: bytes, user: str = "anna"):
    return world.post("/api/projects/alpha/regions", user,
                      files={"file": (name, data, "application/octet-stream")})


def test_upload_geojson_region(world):
    response = _upload(world, "hospital.geojson", TINY_GEOJSON)
    assert response.status_code == 201, response.text
    region = response.json()
    assert region["n_assets"] == 1 and region["sectors"] == {"health": 1}
    assert region["name"] == "hospital"
    geojson = world.get(f"/api/projects/alpha/regions/{region['id']}/assets.geojson").json()
    assert geojson["features"][0]["properties"]["asset_id"] == "h1"


def test_upload_gpkg_and_parquet_folder(world, run_folders, tmp_path):
    gpkg = run_folders["region"].read_bytes()
    response = _upload(world, "tiny.gpkg", gpkg)
    assert response.status_code == 201, response.text
    assert response.json()["n_assets"] == 11
    from cascada.region.io import read_region, write_region

    folder = tmp_path / "tiny"
    write_region(read_region(run_folders["region"]), folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in folder.iterdir():
            zf.write(path, f"tiny/{path.name}")
    response = _upload(world, "tiny.zip", buffer.getvalue())
    assert response.status_code == 201, response.text
    assert response.json()["n_dependencies"] == 16


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_upload_osm_pbf(world):
    pyrosm = pytest.importorskip("pyrosm")
    from pathlib import Path

    data = Path(pyrosm.get_data("test_pbf")).read_bytes()
    response = _upload(world, "helsinki.osm.pbf", data)
    assert response.status_code == 201, response.text
    assert response.json()["n_assets"] > 0


def test_upload_rejects_bad_files(world):
    traversal = _upload(world, "evil.zip", _zip({"../../etc/x/assets.parquet": b"x"}))
    assert traversal.status_code == 422 and "outside" in traversal.json()["detail"]
    bomb = _upload(world, "bomb.zip", _zip({"assets.parquet": b"\0" * 20_000_000}))
    assert bomb.status_code in (413, 422)
    unsupported = _upload(world, "notes.txt", b"hello")
    assert unsupported.status_code == 422 and "unsupported" in unsupported.json()["detail"]
    garbage = _upload(world, "broken.gpkg", b"not a geopackage")
    assert garbage.status_code == 422
    bad_geometry = TINY_GEOJSON.replace(b'"coordinates":[14.5,35.9]', b'"coordinates":[]')
    assert _upload(world, "bad.geojson", bad_geometry).status_code == 422
    no_type = TINY_GEOJSON.replace(b'"asset_type":"health.hospital",', b"")
    response = _upload(world, "untyped.geojson", no_type)
    assert response.status_code == 422
    assert str(world.settings.home) not in response.json()["detail"]
    assert len(world.get("/api/projects/alpha/regions").json()) == 1


def test_upload_size_limit(world):
    world.settings.max_upload_bytes = 1000
    response = _upload(world, "big.geojson", TINY_GEOJSON + b" " * 2000)
    assert response.status_code == 413
    huge = _upload(world, "huge.geojson", TINY_GEOJSON + b" " * 2_000_000)
    assert huge.status_code == 413 and huge.json()["detail"] == "request body too large"

    def chunks():
        yield b"x" * 1_500_000
        yield b"x" * 1_500_000

    streamed = world.client.post("/api/projects/alpha/scenarios", content=chunks(),
                                 headers={**world.headers("anna"),
                                          "content-type": "application/json"})
    assert streamed.status_code in (400, 413, 422)


def test_asset_detail(world):
    rid = world.regions["alpha"]
    asset = world.get(f"/api/projects/alpha/regions/{rid}/assets/hosp").json()
    assert {s["asset_id"] for s in asset["suppliers"]} == {"sub-a", "sub-b", "res"}
    assert asset["population_served"] == 4000.0
    sub = world.get(f"/api/projects/alpha/regions/{rid}/assets/sub-a").json()
    assert "hosp" in {c["asset_id"] for c in sub["consumers"]}
    assert world.get(f"/api/projects/alpha/regions/{rid}/assets/nope").status_code == 404
    other = world.regions["beta"]
    assert world.get(f"/api/projects/alpha/regions/{other}/assets/hosp").status_code == 404


# --------------------------------------------------------------------------- scenarios


def test_scenarios(world):
    created = world.post("/api/projects/alpha/scenarios", "anna",
                         json={"name": "mine", "toml": SCENARIO_TOML})
    assert created.status_code == 201
    sid = created.json()["id"]
    got = world.get(f"/api/projects/alpha/scenarios/{sid}", "victor").json()
    assert got["toml"] == SCENARIO_TOML and got["kind"] == "scenario"
    assert got["hazards"] == [{"id": "attack", "hazard": "attack"}]
    kinds = {s["name"]: s["kind"] for s in world.get("/api/projects/alpha/scenarios").json()}
    assert kinds["tiny risk"] == "risk"
    assert world.get(f"/api/projects/beta/scenarios/{sid}").status_code == 404


def test_scenario_validation(world):
    def post(text: str):
        return world.post("/api/projects/alpha/scenarios", json={"name": "x", "toml": text})

    assert post("not [toml").status_code == 422
    assert post("[other]\na = 1\n").status_code == 422
    typo = post(SCENARIO_TOML.replace("samples", "sampels"))
    assert typo.status_code == 422 and "unknown key" in typo.json()["detail"]
    escape = SCENARIO_TOML.replace('parameters = { asset_ids = ["sub-a"] }',
                                   'footprint = "../../../../etc/passwd"')
    outside = post(escape)
    assert outside.status_code == 422 and "inside the project" in outside.json()["detail"]
    absolute = post(SCENARIO_TOML.replace('parameters = { asset_ids = ["sub-a"] }',
                                          'footprint = "/etc/passwd"'))
    assert absolute.status_code == 422
    dem = post(SCENARIO_TOML.replace('hazard = "attack"\nparameters = { asset_ids = ["sub-a"] }',
                                     'hazard = "flood"\nparameters = { rainfall_mm = 90, '
                                     'dem_path = "/etc/hosts" }'))
    assert dem.status_code == 422


# --------------------------------------------------------------------------- runs


def test_create_and_cancel_queued_run(world):
    created = world.post("/api/projects/alpha/runs", "anna",
                         json={"scenario_id": world.scenarios["alpha"], "samples": 4})
    assert created.status_code == 201
    run = created.json()
    assert run["status"] == "queued" and run["samples"] == 4 and run["kind"] == "scenario"
    assert run["region_id"] == world.regions["alpha"] and run["created_by"] == "anna"
    cancelled = world.post(f"/api/projects/alpha/runs/{run['id']}/cancel", "anna")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert world.post(f"/api/projects/alpha/runs/{run['id']}/cancel", "anna").status_code == 409
    assert world.get(f"/api/projects/alpha/runs/{run['id']}/summary").status_code == 409


def test_run_needs_own_scenario_and_region(world):
    assert world.post("/api/projects/alpha/runs", json={
        "scenario_id": world.scenarios["beta"]}).status_code == 404
    assert world.post("/api/projects/alpha/runs", json={
        "scenario_id": world.scenarios["alpha"],
        "region_id": world.regions["beta"]}).status_code == 404
    world.post("/api/projects", json={"id": "empty", "name": "Empty"})
    sid = world.post("/api/projects/empty/scenarios",
                     json={"name": "s", "toml": SCENARIO_TOML}).json()["id"]
    assert world.post("/api/projects/empty/runs", json={"scenario_id": sid}).status_code == 409


def test_events_stream_of_finished_run(world):
    with world.client.stream("GET", f"/api/projects/alpha/runs/{world.runs['alpha']}/events",
                             headers=world.headers("victor")) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert json.loads(lines[-1][6:])["status"] == "succeeded"


# --------------------------------------------------------------------------- results


def test_results(world):
    base = f"/api/projects/alpha/runs/{world.runs['alpha']}"
    summary = world.get(f"{base}/summary", "victor").json()
    assert summary["scenario"] == "tiny-attack"
    timeline = world.get(f"{base}/timeline", "victor").json()
    assert timeline["hours"] == 24 and timeline["samples"] == 8
    sub = timeline["asset_ids"].index("sub-a")
    assert timeline["p_down"][sub][0] == 1.0  # the attacked substation is down at once
    assert len(timeline["p_down"][sub]) == 24
    assert len(timeline["services"]["power"]["people_without_mean"]) == 24
    assert timeline["population_total"] == 4000.0
    assert world.get(f"{base}/risk").status_code == 409
    listing = {f["name"]: f for f in world.get(f"{base}/files").json()}
    assert {"summary.json", "report.html", "assets.parquet"} <= set(listing)
    assert listing["assets.parquet"]["spatial"] and not listing["services.parquet"]["spatial"]
    report = world.get(f"{base}/files/report.html", "victor")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    assert world.get(f"{base}/files/..%2Fsecret_key").status_code == 404
    assert world.get(f"{base}/files/nothing.txt").status_code == 404
    csv = world.get(f"{base}/download/assets.csv")
    assert csv.text.startswith("asset_id,") and "POINT" in csv.text
    geojson = world.get(f"{base}/download/assets.geojson").json()
    assert geojson["type"] == "FeatureCollection"
    assert world.get(f"{base}/download/services.geojson").status_code == 409
    parquet = world.get(f"{base}/download/outages.parquet")
    assert parquet.content[:4] == b"PAR1"
    assert world.get(f"{base}/download/nothing.csv").status_code == 404
    assert world.get(f"{base}/download/assets.exe").status_code == 422
    actions = {(e["username"], e["action"]) for e in world.get("/api/audit").json()}
    assert ("victor", "file_downloaded") in actions and ("ada", "table_downloaded") in actions


def test_risk_results(world):
    base = f"/api/projects/alpha/runs/{world.risk_runs['alpha']}"
    risk = world.get(f"{base}/risk", "victor").json()
    total = [e for e in risk["eai"] if e["hazard"] == "all" and e["metric"] == "direct_loss_eur"]
    assert total[0]["eai"] > 0
    assert {"metric", "return_period", "value", "lo", "hi"} <= set(risk["ep"][0])
    assert risk["assets"][0]["asset_id"] == "sub-a"
    assert world.get(f"{base}/timeline").status_code == 409


# --------------------------------------------------------------------------- the app


def test_security_headers_and_dashboard(world):
    response = world.get("/api/health", None)
    assert response.json()["status"] == "ok"
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    page = world.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert world.client.get("/api/nothing").status_code == 404
    assert world.client.get("/openapi.json").json()["info"]["title"] == "cascada"


def test_dashboard_static_files(world, tmp_path, monkeypatch):
    import cascada.service.app as service_app

    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>dash</title>", encoding="utf-8")
    (static / "assets" / "app.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    monkeypatch.setattr(service_app, "STATIC", static)
    assert "dash" in world.client.get("/").text
    assert "dash" in world.client.get("/projects/alpha/runs/1").text  # client-side route
    assert world.client.get("/assets/app.js").text == "console.log(1)"
    assert world.client.get("/projects/alpha/assets/app.js").text == "console.log(1)"
    assert "secret" not in world.client.get("/%2e%2e/secret.txt").text
    assert "secret" not in world.client.get("/assets/%2e%2e/%2e%2e/secret.txt").text
    monkeypatch.setattr(service_app, "STATIC", tmp_path / "missing")
    assert "make web" in world.client.get("/").text
