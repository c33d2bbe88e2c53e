"""Officer-assisted admission: a proctor admits a candidate without a readable chip; the lane still matches the face."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from edge.api.context import Ctx
from edge.api.models import AssistedBody, AssistedResult, Problem, problem
from edge.api.security import ProctorWrite
from edge.lane import AssistedRequest, CandidateReport
from edge.masking import mask_id

router = APIRouter()


@router.post(
    "/api/assisted",
    tags=["assisted"],
    summary="officer-assisted admission: the lane looks the person up and matches the live face",
    response_model=AssistedResult,
    responses={202: {"model": AssistedResult}, 422: {"model": Problem}, 503: {"model": Problem}},
)
async def assisted(body: AssistedBody, who: ProctorWrite, ctx: Ctx) -> Response:
    gate, hub = ctx.gate, ctx.hub
    if body.credential == "vneid_level2" and not body.vneid_verified:
        return problem(422, "E_API_VNEID_UNCONFIRMED", "confirm that you verified the VNeID level-2 app")
    if body.credential != "vneid_level2" and not body.commitment_signed:
        return problem(422, "E_API_COMMITMENT_MISSING", "the candidate must sign the commitment first")
    loop = hub.lane_loop
    if loop is None or loop.is_closed():
        return problem(503, "E_API_LANE_NOT_RUNNING", "the lane is not running", "start the gate daemon")
    if not hub.claim_lane():
        return problem(
            409,
            "E_API_LANE_BUSY",
            "a candidate is being checked at this gate",
            "wait until the current candidate has passed or been answered, then send it again",
        )
    note = body.note.strip()
    if body.credential == "vneid_level2":
        note = f"VNeID level 2 verified by {who.username}. {note}".strip()
    request = AssistedRequest(body.personal_id, body.credential, who.username, body.commitment_signed, note)
    try:
        await asyncio.to_thread(
            gate.store.audit,
            who.username,
            "api.assisted_admission",
            {
                "credential": body.credential,
                "id_masked": mask_id(body.personal_id),
                "vneid_verified": body.vneid_verified,
                "commitment_signed": body.commitment_signed,
            },
        )
        running = asyncio.run_coroutine_threadsafe(gate.lane.process_assisted(request), loop)
    except BaseException:
        hub.release_lane()
        raise
    running.add_done_callback(lambda _done: hub.release_lane())  # also when the lane raised
    hub.set_kiosk("camera")  # the candidate at the gate is asked to look at the camera
    future = asyncio.wrap_future(running)
    done, _ = await asyncio.wait({future}, timeout=ctx.settings.assisted_wait_s)  # never cancels the lane's work
    if not done:
        return JSONResponse(AssistedResult(state="running").model_dump(), 202)
    report: CandidateReport = future.result()
    return JSONResponse(
        AssistedResult(
            state="done",
            attempt_id=report.attempt_id,
            outcome=report.outcome,
            passed=report.passed,
            reasons=list(report.reasons),
            reviewed_by=report.reviewed_by,
            full_name=report.full_name,
            candidate_id=report.candidate_id,
        ).model_dump()
    )
