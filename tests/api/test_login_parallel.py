"""Login limits hold under parallel requests against a real uvicorn on loopback (issue 14, fault 2)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from api_env import PASSWORDS, Env, LiveServer

from edge.api.settings import ApiSettings


def _flood(url: str, bodies: list[dict[str, str]]) -> list[int]:
    start = threading.Barrier(len(bodies))

    def one(body: dict[str, str]) -> int:
        with httpx.Client(base_url=url, timeout=60) as client:
            start.wait()  # all requests leave together
            return client.post("/api/login", json=body).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_parallel_wrong_passwords_for_one_account_are_checked_at_most_the_limit(env: Env, live: LiveServer) -> None:
    limit = ApiSettings().login_max_failures
    codes = _flood(live.url, [{"username": "proctor1", "password": f"wrong-{i}"} for i in range(20)])
    assert codes.count(401) == limit, codes
    assert codes.count(429) == 20 - limit, codes
    # the account is locked now, for the right password too
    with httpx.Client(base_url=live.url) as client:
        assert (
            client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]}).status_code
            == 429
        )


def test_parallel_failures_from_one_address_are_checked_at_most_the_address_limit(env: Env, live: LiveServer) -> None:
    limit = ApiSettings().login_remote_max_failures
    codes = _flood(live.url, [{"username": f"ghost{i}", "password": "whatever1"} for i in range(40)])
    assert codes.count(401) == limit, codes
    assert codes.count(429) == 40 - limit, codes
