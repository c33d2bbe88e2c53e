"""Authentication, roles, sessions, CSRF and login throttling, on a real gate and the real SQLite store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from api_env import METRICS_TOKEN, PASSWORDS, Env, build_env, csrf_headers
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from edge.api.accounts import AccountStore
from edge.api.app import PUBLIC_MOUNTS, PUBLIC_ROUTES
from edge.api.errors import AccountError
from edge.api.passwords import hash_password, verify_password
from edge.api.settings import ApiSettings

FILL = {"attempt_id": "01a2122d-99a9-7269-b38b-5c3518ce4bc7", "kind": "live", "session": "SES1"}


def concrete(path: str) -> str:
    for name, value in FILL.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"test does not know how to fill {path}; add its parameter to FILL"
    return path


def every_route(env: Env) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in env.app.routes:
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"unexpected mount {route.path}"
            continue
        assert isinstance(route, (APIRoute, Route)), route
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def test_every_route_but_the_listed_few_refuses_anonymous_callers(env: Env) -> None:
    client = env.client()
    routes = every_route(env)
    assert len(routes) >= 20
    assert set(routes) >= PUBLIC_ROUTES
    for method, path in routes:
        response = client.request(method, concrete(path), follow_redirects=False, json={} if method == "POST" else None)
        if (method, path) in PUBLIC_ROUTES:
            assert response.status_code not in (401, 403), (method, path)
            continue
        assert response.status_code in (401, 303), (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login"), (method, path)


def test_public_routes_are_exactly_health_and_login() -> None:
    assert {("GET", "/healthz"), ("GET", "/login"), ("POST", "/api/login")} == PUBLIC_ROUTES
    assert frozenset({"/static"}) == PUBLIC_MOUNTS


def test_no_route_answers_5xx_for_any_role(env: Env) -> None:
    for username in ("view1", "tech1", "proctor1"):
        client, csrf = env.login(username)
        for method, path in every_route(env):
            if path in ("/api/events", "/kiosk/events", "/api/logout"):
                continue  # endless streams (tested against a live server); logout would end this loop's session
            response = client.request(
                method, concrete(path), headers=csrf_headers(csrf), json={} if method == "POST" else None
            )
            assert response.status_code < 500, (username, method, path, response.status_code, response.text)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/assisted"),
        ("POST", "/api/assisted"),
        ("POST", "/api/reviews/{attempt_id}"),
        ("GET", "/api/reviews/{attempt_id}/images/{kind}"),
    ],
)
def test_viewers_and_technicians_cannot_act_as_proctors(env: Env, method: str, path: str) -> None:
    for username in ("view1", "tech1"):
        client, csrf = env.login(username)
        response = client.request(
            method, concrete(path), headers=csrf_headers(csrf), json={"approved": True, "reason": "because"}
        )
        assert response.status_code == 403, (username, path)


def test_metrics_needs_a_technician_or_the_scrape_token(env: Env) -> None:
    viewer, _ = env.login("view1")
    assert viewer.get("/metrics").status_code == 403
    tech, _ = env.login("tech1")
    assert tech.get("/metrics").status_code == 200
    anonymous = env.client()
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong-token!!"}).status_code == 401
    assert anonymous.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200


def test_login_sets_a_strict_http_only_cookie(env: Env) -> None:
    client = env.client()
    response = client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "eg_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie
    body = response.json()
    assert body["role"] == "proctor" and len(body["csrf_token"]) >= 32
    assert client.get("/api/me").json()["username"] == "proctor1"
    # only a hash of the session token is stored
    token = client.cookies["eg_session"]
    rows = sqlite3.connect(env.gate.store.path).execute("SELECT token_hash FROM api_sessions").fetchall()
    assert rows and all(token not in r[0] for r in rows)


def test_secure_cookie_when_configured(tmp_path: Path) -> None:
    env = build_env(tmp_path, cookie_secure=True)
    try:
        response = env.client().post("/api/login", json={"username": "view1", "password": PASSWORDS["view1"]})
        assert "Secure" in response.headers["set-cookie"]
    finally:
        env.lane.stop()
        env.gate.close()


def test_wrong_passwords_lock_the_account_with_growing_backoff(env: Env) -> None:
    now = [1_000_000.0]
    env.accounts.clock = lambda: now[0]
    client = env.client()
    settings = ApiSettings()
    for _ in range(settings.login_max_failures):
        assert client.post("/api/login", json={"username": "proctor1", "password": "nope"}).status_code == 401
        now[0] += 1
    locked = client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    assert locked.status_code == 429 and locked.json()["code"] == "E_API_LOGIN_LOCKED"
    first_wait = int(locked.headers["Retry-After"])
    assert 25 <= first_wait <= settings.login_lockout_s + 1
    # the lockout is in the database: another process (a restarted daemon) sees it too
    other = AccountStore(env.gate.store.path, clock=lambda: now[0])
    assert other.login("proctor1", PASSWORDS["proctor1"], "x", settings).retry_after_s > 0
    other.close()
    now[0] += settings.login_lockout_s + 1
    assert client.post("/api/login", json={"username": "proctor1", "password": "nope"}).status_code == 401
    again = client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > first_wait  # doubled
    now[0] += 2 * settings.login_lockout_s + 1
    ok = client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    assert ok.status_code == 200
    # success resets the count
    assert client.post("/api/login", json={"username": "proctor1", "password": "nope"}).status_code == 401


def test_unknown_users_are_throttled_too_and_answer_like_wrong_passwords(env: Env) -> None:
    client = env.client()
    first = client.post("/api/login", json={"username": "ghost", "password": "whatever"})
    assert first.status_code == 401 and first.json()["code"] == "E_API_LOGIN_FAILED"
    wrong = client.post("/api/login", json={"username": "proctor1", "password": "whatever"})
    assert wrong.json() == first.json()


def test_expired_session_is_refused(env: Env) -> None:
    now = [2_000_000.0]
    env.accounts.clock = lambda: now[0]
    client, _ = env.login("view1")
    assert client.get("/api/me").status_code == 200
    now[0] += ApiSettings().session_ttl_s + 1
    assert client.get("/api/me").status_code == 401
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_post_without_or_with_a_wrong_csrf_token_is_forbidden(env: Env) -> None:
    client, csrf = env.login("proctor1")
    body = {"approved": True, "reason": "checked"}
    path = concrete("/api/reviews/{attempt_id}")
    assert client.post(path, json=body).status_code == 403
    assert client.post(path, json=body, headers=csrf_headers("x" * 43)).json()["code"] == "E_API_CSRF"
    other, other_csrf = env.login("proctor2")
    assert client.post(path, json=body, headers=csrf_headers(other_csrf)).status_code == 403  # another session's
    text = client.post(path, content=b'{"approved":true}', headers={**csrf_headers(csrf), "content-type": "text/plain"})
    assert text.status_code == 415
    assert client.post(path, json=body, headers=csrf_headers(csrf)).status_code == 409  # passes the guard
    assert other.get("/api/me").status_code == 200


def test_logout_ends_the_session(env: Env) -> None:
    client, csrf = env.login("view1")
    cookie = client.cookies["eg_session"]
    assert client.post("/api/logout", headers=csrf_headers(csrf), json={}).status_code == 204
    replay = env.client()
    replay.cookies.set("eg_session", cookie)
    assert replay.get("/api/me").status_code == 401


def test_disabling_or_changing_the_password_ends_sessions(env: Env) -> None:
    client, _ = env.login("view1")
    env.accounts.set_password("view1", "another-password-1", actor="test")
    assert client.get("/api/me").status_code == 401
    client, _ = env.login("proctor2")
    env.accounts.disable("proctor2", actor="test")
    assert client.get("/api/me").status_code == 401
    refused = env.client().post("/api/login", json={"username": "proctor2", "password": PASSWORDS["proctor2"]})
    assert refused.status_code == 401
    actions = [r[0] for r in sqlite3.connect(env.gate.store.path).execute("SELECT action FROM audit_log ORDER BY seq")]
    assert "account.passwd" in actions and "account.disable" in actions and "session.login" in actions
    assert env.gate.store.verify_audit().ok


def test_password_hash_format_and_verification() -> None:
    stored = hash_password("correct horse battery", log2_n=10)
    algorithm, log2_n, r, p, salt, digest = stored.split("$")
    assert (algorithm, log2_n, r, p) == ("scrypt", "10", "8", "1")
    assert len(salt) >= 20 and len(digest) >= 40
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert hash_password("same", log2_n=10) != hash_password("same", log2_n=10)  # salted
    for broken in ("", "scrypt$10$8$1$!!$??", "bcrypt$x", "scrypt$99$8$1$AAAA$AAAA", stored[:-4]):
        assert not verify_password("correct horse battery", broken)


def test_account_rules(env: Env) -> None:
    refused = [  # (username, role, password): the code the account store answers with
        (("x", "proctor", "long-enough-pass"), "E_ACCOUNT_INVALID"),
        (("newuser", "admin", "long-enough-pass"), "E_ACCOUNT_INVALID"),
        (("newuser", "viewer", "short"), "E_ACCOUNT_WEAK_PASSWORD"),
        (("proctor1", "viewer", "long-enough-pass"), "E_ACCOUNT_EXISTS"),
    ]
    for (username, role, password), code in refused:
        with pytest.raises(AccountError) as err:
            env.accounts.add_user(username, role, password, "test")
        assert err.value.code == code, username
    with pytest.raises(AccountError) as err:
        env.accounts.disable("ghost", "test")
    assert err.value.code == "E_ACCOUNT_UNKNOWN"


def test_login_only_takes_json(env: Env) -> None:
    client = env.client()
    body = '{"username": "view1", "password": "' + PASSWORDS["view1"] + '"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post("/api/login", content=body, headers={"content-type": content_type})
        assert response.status_code == 422 and "set-cookie" not in response.headers, content_type
