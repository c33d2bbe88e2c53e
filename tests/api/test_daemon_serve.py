"""`examgate daemon` with `[api]` configured: the API runs in the lane's own event loop (edge.daemon.serve), so a
proctor's answer and an officer-assisted request reach the lane without crossing threads."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from api_env import PASSWORDS, free_port, make_gate

from edge.api.accounts import AccountStore
from edge.api.settings import ApiSettings
from edge.daemon import serve
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.turnstile.virtual import VirtualTurnstile


def test_daemon_serves_the_api_in_the_lane_loop(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    port = free_port()
    gate.cfg = gate.cfg.model_copy(update={"api": ApiSettings(port=port)})
    accounts = AccountStore(gate.store.path)
    accounts.add_user("proctor1", "proctor", PASSWORDS["proctor1"], "test")
    accounts.close()
    reader = gate.reader
    turnstile = gate.turnstile
    assert isinstance(reader, FixtureCardReader) and isinstance(turnstile, VirtualTurnstile)

    async def scenario() -> None:
        stop = asyncio.Event()
        daemon = asyncio.create_task(serve(gate, stop))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            login = await client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
            csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
            gate.camera.set_folder(tmp_path / "camera" / "grey")  # type: ignore[attr-defined]
            reader.tap("binh")
            items: list[dict[str, object]] = []
            for _ in range(200):
                items = (await client.get("/api/reviews")).json()["items"]
                if items:
                    break
                await asyncio.sleep(0.02)
            assert items, "no review appeared"
            attempt = items[0]["attempt_id"]
            body = {"approved": True, "reason": "checked by hand"}
            assert (await client.post(f"/api/reviews/{attempt}", json=body, headers=csrf)).status_code == 200
            for _ in range(200):
                if turnstile.pulses:
                    break
                await asyncio.sleep(0.02)
            gate.camera.set_folder(tmp_path / "camera" / "high")  # type: ignore[attr-defined]
            for _ in range(200):  # the approved candidate may still be walking through: the lane answers 409 busy
                assisted = await client.post(
                    "/api/assisted",
                    json={"credential": "manual_no_card", "personal_id": "001099000444", "commitment_signed": True},
                    headers=csrf,
                )
                if assisted.status_code != 409:
                    break
                assert assisted.json()["code"] == "E_API_LANE_BUSY"
                await asyncio.sleep(0.05)
            assert assisted.status_code == 200 and assisted.json()["outcome"] == "pass"
        stop.set()
        await daemon

    asyncio.run(scenario())
    assert len(turnstile.pulses) == 2
    with socket.socket() as s:  # the port is released on stop
        s.bind(("127.0.0.1", port))
    gate.close()


def test_a_taken_port_does_not_stop_the_lane(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gate = make_gate(tmp_path)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        gate.cfg = gate.cfg.model_copy(update={"api": ApiSettings(port=blocker.getsockname()[1])})
        reader = gate.reader
        assert isinstance(reader, FixtureCardReader)

        async def scenario() -> None:
            stop = asyncio.Event()
            daemon = asyncio.create_task(serve(gate, stop))
            await asyncio.sleep(0.3)
            reader.tap("an")
            for _ in range(200):
                if gate.store.is_admitted("SES1", "SBD-1"):
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await daemon

        asyncio.run(scenario())
    assert gate.store.is_admitted("SES1", "SBD-1")
    assert "code=E_API_BIND" in caplog.text
    gate.close()
