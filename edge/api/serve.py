"""Serving the API inside the daemon's event loop (same process as the lane).

Same loop, same process: a proctor's answer goes straight into the lane's ``ReviewBroker``, an officer-assisted
request straight into ``Lane.process_assisted``, and the screens hear the lane's notices without any IPC. The price:
a slow handler would slow the lane, so every blocking call in the API runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from edge.api.app import create_app
from edge.api.live import LiveHub
from edge.api.settings import ApiSettings
from edge.wiring import Gate

log = logging.getLogger("examgate.api")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the daemon owns SIGTERM/SIGINT and stops the API itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(gate: Gate, settings: ApiSettings, *, hub: LiveHub | None = None) -> uvicorn.Server:
    """The server for ``gate``, hooked into its lane. Call from the lane's running event loop, before the lane runs."""
    app = create_app(gate, settings, hub=hub)
    app.state.hub.bind_lane_loop(asyncio.get_running_loop())
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # the daemon's logging stays in charge
        access_log=False,  # the kiosk's first URL carries its token; keep URLs out of the logs
        lifespan="off",
        server_header=False,
        proxy_headers=False,
    )
    return _QuietServer(config)


async def run_server(server: uvicorn.Server, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set. A console that cannot start (port taken) is logged; the lane keeps admitting."""
    task = asyncio.create_task(_serve(server))
    stopper = asyncio.create_task(stop.wait())
    log.info("api listening host=%s port=%d", server.config.host, server.config.port)
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits when it cannot bind; the gate must not
        log.error(
            "api not started code=E_API_BIND host=%s port=%d remedy=free the port or change api.port",
            server.config.host,
            server.config.port,
        )


async def run_api(gate: Gate, settings: ApiSettings, stop: asyncio.Event) -> None:
    """Build and serve the API until ``stop`` is set (call from the lane's event loop)."""
    await run_server(make_server(gate, settings), stop)
