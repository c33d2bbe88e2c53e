"""Liveness (public), readiness of the lane's parts, and Prometheus metrics."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

import asyncio
import sys

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from edge.api.context import Ctx
from edge.api.live import LiveHub
from edge.api.queries import Queries
from edge.api.security import MetricsReader, Staff
from edge.errors import ExamGateError
from edge.wiring import Gate

router = APIRouter()


@router.get("/healthz", tags=["health"], summary="liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], summary="readiness of the lane's parts")
async def readyz(_who: Staff, ctx: Ctx) -> JSONResponse:
    checks = await asyncio.to_thread(readiness, ctx.gate, ctx.queries, ctx.hub)
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, 200 if ok else 503)


@router.get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics_route(_who: MetricsReader, ctx: Ctx) -> Response:
    body = await asyncio.to_thread(ctx.metrics.render)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def readiness(gate: Gate, queries: Queries, hub: LiveHub) -> dict[str, dict[str, object]]:
    """What the gate can check about itself without disturbing a candidate."""
    checks: dict[str, dict[str, object]] = {}
    try:
        queries.ping()
        checks["store"] = {"ok": True, "outbox_backlog": gate.store.outbox_backlog()}
    except ExamGateError as err:
        checks["store"] = {"ok": False, "code": err.code}
    try:
        status = gate.turnstile.status()
        checks["turnstile"] = {
            "ok": status.fault is None and not status.fire_release,
            "fire_release": status.fire_release,
            "alarm": status.alarm,
            "fault": status.fault,
        }
    except ExamGateError as err:
        checks["turnstile"] = {"ok": False, "code": err.code}
    faults = {d: c for d, c, _ in queries.device_faults()}
    for device, part in (("reader", gate.reader), ("camera", gate.camera)):
        checks[device] = {"ok": True, "kind": type(part).__name__, "faults_in_outbox": device in faults}
    checks["broker"] = {"ok": True, "outbox_oldest_pending_age_s": gate.store.outbox_oldest_pending_age_s()}
    checks["lane"] = {
        "ok": hub.lane_loop is not None and not hub.lane_loop.is_closed() and gate.lane.locked_reason is None,
        "session_id": gate.lane.settings.session_id,
        "locked_reason": gate.lane.locked_reason,
        "reviews_pending": len(gate.reviews.pending()),
    }
    checks["model"] = model_check(gate)
    return checks


def model_check(gate: Gate) -> dict[str, object]:
    """The loaded model's version (it carries the SHA-256 of both model files) against the files on disk now:
    a model file swapped or damaged under a running gate shows here."""
    loaded = str(getattr(gate.verifier, "model_version", ""))
    check: dict[str, object] = {
        "ok": True,
        "model_version": loaded,
        "thresholds_version": gate.thresholds.version,
        "config_digest": gate.cfg.digest(),
    }
    real = sys.modules.get("edge.vision.verifier")  # loaded whenever the real matcher is in use
    if real is not None and isinstance(gate.verifier, real.TfliteFaceVerifier):
        from edge.vision.models import model_path, model_version  # noqa: PLC0415 - only for the real matcher

        try:
            vision = gate.cfg.vision
            on_disk = model_version(
                model_path(vision.embedder_file_name, vision), model_path(vision.detector_file_name, vision)
            )
        except (ExamGateError, OSError) as exc:
            return {**check, "ok": False, "code": getattr(exc, "code", "E_MODEL_MISSING")}
        check["model_files_version"] = on_disk
        check["ok"] = on_disk == loaded
    return check
