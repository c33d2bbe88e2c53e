"""`examgate daemon`: run one lane until SIGTERM/SIGINT, then finish the current candidate and shut down cleanly.

Under systemd (Type=notify) it reports READY once the devices are up and pings the watchdog from the event loop,
so a stalled loop gets the service restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time

from edge import logs, sdnotify
from edge.config import AppConfig
from edge.errors import ExamGateError
from edge.events.models import DeviceFault
from edge.startup import check_startup
from edge.wiring import Gate, build_gate, build_link

log = logging.getLogger("examgate.daemon")


async def _watchdog(interval_s: float) -> None:
    while True:
        sdnotify.watchdog()
        await asyncio.sleep(interval_s)


async def _stall_for_tests(after_s: float) -> None:
    """Test mode (EXAMGATE_TEST_STALL_AFTER_S): block the event loop so the systemd watchdog must fire."""
    await asyncio.sleep(after_s)
    log.warning("test mode: stalling the event loop")
    time.sleep(3600)  # noqa: ASYNC251 - deliberately blocks the loop: that is what the watchdog test needs


async def serve(gate: Gate, stop: asyncio.Event | None = None) -> None:
    """Run the lane until ``stop`` is set or a termination signal arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    interval = sdnotify.watchdog_interval_s()
    pinger = asyncio.create_task(_watchdog(interval)) if interval else None
    stall_s = os.environ.get("EXAMGATE_TEST_STALL_AFTER_S")
    staller = asyncio.create_task(_stall_for_tests(float(stall_s))) if stall_s else None
    api_stop = asyncio.Event()
    api_task: asyncio.Task[None] | None = None
    if gate.cfg.api is not None:  # same loop as the lane: a proctor's answer reaches its ReviewBroker directly
        from edge.api.serve import make_server, run_server  # noqa: PLC0415 - web stack only when configured

        api_task = asyncio.create_task(run_server(make_server(gate, gate.cfg.api), api_stop))
    sdnotify.ready(f"admitting for session {gate.lane.settings.session_id}")
    log.info(
        "lane ready site=%s gate=%s session=%s thresholds=%s",
        gate.cfg.site.site_id,
        gate.cfg.site.gate_id,
        gate.lane.settings.session_id,
        gate.thresholds.version,
    )
    try:
        await gate.lane.run(stop)
    finally:
        sdnotify.stopping("finishing the current candidate")
        if api_task is not None:
            api_stop.set()
            await api_task
        for task in (pinger, staller):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run_daemon(cfg: AppConfig) -> int:
    logs.configure(cfg.logging.format, cfg.logging.level)
    check_startup(cfg)  # the same checks as `examgate config check`: thresholds file, store, session
    gate = build_gate(cfg)
    link = build_link(gate)
    if link is not None:
        link.start()  # connects in the background; the lane admits offline and the outbox catches up
    try:
        asyncio.run(serve(gate))
    except ExamGateError as err:
        log.error("lane stopped code=%s message=%s", err.code, err.message)
        with contextlib.suppress(ExamGateError):
            gate.store.append_event(
                DeviceFault(
                    site_id=cfg.site.site_id,
                    gate_id=cfg.site.gate_id,
                    device="store" if err.code.startswith("E_STORE") else "reader",
                    code=err.code,
                    message=err.message,
                    remedy=err.remedy,
                )
            )
        raise
    finally:
        if link is not None:
            link.stop()
        gate.close()
    log.info("lane stopped cleanly")
    return 0
