"""Every error answers {code, message, remedy} (docs/api.md; issue 14, fault 8)."""

from __future__ import annotations

import httpx
from api_env import Env, LiveServer


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"code", "message", "remedy"}, body
    assert body["code"] == code and body["message"], body


def test_oversized_body_answers_the_error_shape(env: Env, live: LiveServer) -> None:
    big = b'{"username": "' + b"a" * 20_000 + b'", "password": "x"}'
    with httpx.Client(base_url=live.url) as client:
        announced = client.post("/api/login", content=big, headers={"content-type": "application/json"})
        _problem(announced, 413, "E_API_BODY_TOO_LARGE")

        def chunks() -> object:
            yield big[:10_000]
            yield big[10_000:]

        streamed = client.post("/api/login", content=chunks(), headers={"content-type": "application/json"})  # type: ignore[arg-type]
        _problem(streamed, 413, "E_API_BODY_TOO_LARGE")


def test_too_deep_json_answers_the_error_shape(env: Env) -> None:
    deep = "[" * 5000 + "]" * 5000
    response = env.client().post("/api/login", content=deep, headers={"content-type": "application/json"})
    _problem(response, 400, "E_API_BAD_REQUEST")


def test_validation_errors_answer_the_error_shape_and_name_the_field(env: Env) -> None:
    response = env.client().post("/api/login", json={"username": "proctor1"})
    _problem(response, 422, "E_API_INVALID_REQUEST")
    assert "password" in response.json()["message"]


def test_unknown_route_and_wrong_method_answer_the_error_shape(env: Env) -> None:
    client = env.client()
    _problem(client.get("/api/nothing-here"), 404, "E_API_NOT_FOUND")
    wrong = client.delete("/healthz")
    _problem(wrong, 405, "E_API_METHOD_NOT_ALLOWED")
    assert "GET" in wrong.headers["allow"]


def test_missing_report_answers_the_error_shape(env: Env) -> None:
    client, _csrf = env.login("proctor1")
    response = client.get("/api/reports/no-such-session")
    _problem(response, 404, "E_API_NOT_FOUND")
    assert response.json()["message"] == "no such exam session"
