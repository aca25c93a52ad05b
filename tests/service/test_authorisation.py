"""The authorisation matrix: every endpoint × every role × own and other project.

The endpoints come from the app's OpenAPI schema, so a new endpoint without
a rule in RULES fails ``test_every_endpoint_has_a_rule``. Roles: anonymous,
outsider (no project), viewer, analyst and owner of project alpha, admin.
On project beta (where none of them but the admin is a member) everything is
404, exactly like a project that does not exist.
"""

from __future__ import annotations

import itertools

from cascada.service.deps import PROJECT_NOT_FOUND

from .conftest import PASSWORD, SCENARIO_TOML

# who may call each endpoint: public, user (any login), admin, or the least project role
RULES = {
    ("GET", "/api/health"): "public",
    ("POST", "/api/auth/login"): "public",
    ("POST", "/api/auth/logout"): "user",
    ("GET", "/api/auth/me"): "user",
    ("POST", "/api/auth/tokens"): "user",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("GET", "/api/audit"): "admin",
    ("GET", "/api/projects"): "user",
    ("POST", "/api/projects"): "admin",
    ("GET", "/api/projects/{pid}"): "viewer",
    ("PUT", "/api/projects/{pid}/members/{username}"): "owner",
    ("DELETE", "/api/projects/{pid}/members/{username}"): "owner",
    ("GET", "/api/projects/{pid}/regions"): "viewer",
    ("POST", "/api/projects/{pid}/regions"): "analyst",
    ("GET", "/api/projects/{pid}/regions/{rid}/assets.geojson"): "viewer",
    ("GET", "/api/projects/{pid}/regions/{rid}/assets/{asset_id}"): "viewer",
    ("GET", "/api/projects/{pid}/scenarios"): "viewer",
    ("POST", "/api/projects/{pid}/scenarios"): "analyst",
    ("GET", "/api/projects/{pid}/scenarios/{sid}"): "viewer",
    ("GET", "/api/projects/{pid}/runs"): "viewer",
    ("POST", "/api/projects/{pid}/runs"): "analyst",
    ("GET", "/api/projects/{pid}/runs/{run_id}"): "viewer",
    ("POST", "/api/projects/{pid}/runs/{run_id}/cancel"): "analyst",
    ("GET", "/api/projects/{pid}/runs/{run_id}/events"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/summary"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/timeline"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/risk"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/files"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/files/{name}"): "viewer",
    ("GET", "/api/projects/{pid}/runs/{run_id}/download/{table}.{fmt}"): "viewer",
}
CALLERS = {"anonymous": None, "outsider": "oscar", "viewer": "victor", "analyst": "anna",
           "owner": "olivia", "admin": "ada"}
PROJECT_ROLES = ("viewer", "analyst", "owner")
TINY_GEOJSON = (
    b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
    b'{"asset_id":"h1","asset_type":"health.hospital","name":"H"},'
    b'"geometry":{"type":"Point","coordinates":[14.5,35.9]}}]}'
)


def _endpoints(app) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def test_every_endpoint_has_a_rule(world):
    endpoints = _endpoints(world.app)
    assert [e for e in endpoints if e not in RULES] == []
    assert [e for e in RULES if e not in endpoints] == []


def _allowed(rule: str, caller: str, own_project: bool) -> bool:
    if rule == "public":
        return True
    if caller == "anonymous":
        return False
    if caller == "admin" or rule == "user":
        return True
    if rule == "admin":
        return False
    if not own_project or caller == "outsider":
        return False
    return PROJECT_ROLES.index(caller) >= PROJECT_ROLES.index(rule)


_counter = itertools.count()


def _request(world, method: str, template: str, pid: str, user: str | None):
    n = next(_counter)
    values = {"pid": pid, "rid": world.regions[pid], "sid": world.scenarios[pid],
              "run_id": world.runs[pid], "asset_id": "hosp", "username": "extra",
              "name": "summary.json", "table": "assets", "fmt": "csv"}
    if template.endswith(("/risk",)):
        values["run_id"] = world.risk_runs[pid]
    path = template.format(**values)
    kwargs: dict = {}
    if (method, template) == ("POST", "/api/auth/login"):
        kwargs["json"] = {"username": "victor", "password": PASSWORD}
    elif (method, template) == ("POST", "/api/users"):
        kwargs["json"] = {"username": f"new{n}", "password": "long enough pw"}
    elif (method, template) == ("POST", "/api/projects"):
        kwargs["json"] = {"id": f"new{n}", "name": "New"}
    elif method == "PUT":
        kwargs["json"] = {"role": "viewer"}
    elif template.endswith("/regions") and method == "POST":
        kwargs["files"] = {"file": ("h.geojson", TINY_GEOJSON, "application/geo+json")}
    elif template.endswith("/scenarios") and method == "POST":
        kwargs["json"] = {"name": "again", "toml": SCENARIO_TOML}
    elif template.endswith("/runs") and method == "POST":
        kwargs["json"] = {"scenario_id": world.scenarios[pid]}
    response = world.client.request(method, path, headers=world.headers(user), **kwargs)
    world.client.cookies.clear()  # the matrix authenticates by token only
    return response


def test_authorisation_matrix(world):
    world.app.state.login_limits.attempts = 10_000
    world.app.state.client_limits.attempts = 10_000
    failures = []
    checked = 0
    for (method, template), rule in sorted(RULES.items()):
        projects = ("alpha", "beta") if "{pid}" in template else ("alpha",)
        for caller, user in CALLERS.items():
            for pid in projects:
                own = pid == "alpha"
                response = _request(world, method, template, pid, user)
                status = response.status_code
                detail = response.json().get("detail") if response.headers.get(
                    "content-type", "").startswith("application/json") and status >= 400 else None
                checked += 1
                if status >= 500:
                    failures.append((method, template, caller, pid, status, detail))
                elif _allowed(rule, caller, own):
                    if status in (401, 403) or detail == PROJECT_NOT_FOUND:
                        failures.append((method, template, caller, pid, status, detail))
                elif caller == "anonymous":
                    if status != 401:
                        failures.append((method, template, caller, pid, status, detail))
                elif "{pid}" in template and (not own or caller == "outsider"):
                    if (status, detail) != (404, PROJECT_NOT_FOUND):
                        failures.append((method, template, caller, pid, status, detail))
                elif status != 403:
                    failures.append((method, template, caller, pid, status, detail))
    assert failures == []
    assert checked > 250
