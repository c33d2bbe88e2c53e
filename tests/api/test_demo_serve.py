"""`examgate demo --serve`: the demo lane (real face matching) with the console served; nobody but the person at the
console answers the grey-zone review."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_env import free_port

from edge.api.errors import ApiError
from edge.demo.runner import default_data_dir, load_scenario
from edge.demo.serve import demo_order, parse_host_port, prepare, serve_demo
from firmware_bridge.turnstile.virtual import VirtualTurnstile


@pytest.mark.parametrize("text", ["8080", "host:", ":8080", "host:0", "host:70000", "host:http"])
def test_serve_address_must_be_host_and_port(text: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_host_port(text)
    assert err.value.code == "E_API_SERVE_ADDRESS"


def test_serve_address_accepts_ipv4_and_bracketed_ipv6() -> None:
    assert parse_host_port("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_host_port("[::1]:9000") == ("::1", 9000)


def test_grey_zone_candidates_come_first() -> None:
    scenario = load_scenario(default_data_dir())
    order = demo_order(scenario)
    assert scenario.steps[order[0]].expect == "review"
    assert sorted(order) == list(range(len(scenario.steps)))


@pytest.mark.slow
def test_demo_serve_waits_for_the_console_to_answer(tmp_path: Path) -> None:
    port = free_port()
    gate, scenario, info = prepare(tmp_path, "127.0.0.1", port)
    assert {role for role, _ in info.accounts.values()} == {"proctor", "technician", "viewer"}
    assert info.kiosk_url.startswith(f"http://127.0.0.1:{port}/kiosk?token=")
    turnstile = gate.turnstile
    assert isinstance(turnstile, VirtualTurnstile)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    runner = threading.Thread(
        target=lambda: loop.run_until_complete(serve_demo(gate, scenario, stop=stop, pause_s=30.0)), daemon=True
    )
    runner.start()
    try:
        proctor = next(name for name, (role, _) in info.accounts.items() if role == "proctor")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        deadline = time.monotonic() + 60
        items: list[dict[str, object]] = []
        csrf = ""
        while time.monotonic() < deadline and not items:
            try:
                if not csrf:
                    login = client.post("/api/login", json={"username": proctor, "password": info.accounts[proctor][1]})
                    csrf = login.json()["csrf_token"]
                items = client.get("/api/reviews").json()["items"]
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert items, "the review candidate did not reach the console"
        assert "E_ROSTER_DISAGREES" in items[0]["reasons"]  # type: ignore[operator]
        model = client.get("/readyz").json()["checks"]["model"]
        assert model["ok"] is True and model["model_files_version"] == model["model_version"]
        assert "@" in model["model_version"]  # name@sha8 of the model files
        time.sleep(1.0)
        assert turnstile.pulses == ()  # no scripted proctor answered
        answer = client.post(
            f"/api/reviews/{items[0]['attempt_id']}",
            json={"approved": True, "reason": "checked by hand"},
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.status_code == 200
        deadline = time.monotonic() + 20
        while not turnstile.pulses and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(turnstile.pulses) == 1
    finally:
        loop.call_soon_threadsafe(stop.set)
        runner.join(30)
        gate.close()
    assert not runner.is_alive()
