"""Reviews waiting for a proctor: the list, the console's event stream, the face images, the answer."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from edge.api.context import ApiContext, Ctx
from edge.api.live import ImageKind
from edge.api.models import ATTEMPT_ID, Problem, ResolveResult, ReviewBody, problem
from edge.api.pages import stream
from edge.api.security import ProctorImages, ProctorWrite, Staff
from edge.policy.reasons import PAD_CHALLENGE_FAILED, PAD_NOT_SCORED, PAD_SUSPECTED, PAD_UNAVAILABLE
from edge.reviews import ReviewAnswer

router = APIRouter()
PAD_REVIEW_REASONS = (PAD_SUSPECTED, PAD_UNAVAILABLE, PAD_CHALLENGE_FAILED, PAD_NOT_SCORED)


def pad_view(ctx: ApiContext, reasons: tuple[str, ...], score: float | None) -> dict[str, object] | None:
    """For a review PAD asked for: its reasons (the console explains each), and the thresholds the lane read the
    score against; None for any other review."""
    pad_reasons = [r for r in reasons if r in PAD_REVIEW_REASONS]
    if not pad_reasons:
        return None
    params = ctx.gate.lane.params
    return {
        "reasons": pad_reasons,
        "score": score,
        "threshold": params.pad_threshold,
        "attack_threshold": params.pad_attack_threshold,
        "mode": params.pad_mode,
    }


def review_view(ctx: ApiContext, attempt_id: str) -> dict[str, object] | None:
    gate = ctx.gate
    item = ctx.hub.item(attempt_id)
    if item is None:
        return None
    view = item.summary()
    if item.candidate_id:
        details = ctx.queries.roster_details(ctx.session_id, item.candidate_id)
        if details is not None:
            view["full_name"] = details.full_name
            view["birth_date"] = details.birth_date or view["birth_date"]
            view["has_roster"] = details.photo is not None
    view.setdefault("has_roster", False)
    view["match_threshold"] = gate.lane.params.match_threshold
    view["review_threshold"] = gate.lane.params.review_threshold
    view["thresholds_version"] = gate.thresholds.version
    view["resolvable"] = attempt_id in gate.reviews.pending()
    view["pad"] = pad_view(ctx, item.reasons, item.pad_score)
    return view


def reviews_state(ctx: ApiContext) -> dict[str, object]:
    live = [v for v in (review_view(ctx, i.attempt_id) for i in ctx.hub.items()) if v is not None]
    known = {str(v["attempt_id"]) for v in live}
    stale = [
        {"attempt_id": r.attempt_id, "requested_at": r.requested_at, "reasons": list(r.reasons)}
        for r in ctx.gate.store.pending_reviews()
        if r.attempt_id not in known
    ]
    return {"items": live, "stale": stale, "recent": ctx.hub.recent_decisions()}


def image_bytes(ctx: ApiContext, attempt_id: str, kind: ImageKind) -> bytes | None:
    from edge.privacy.evidence import jpeg_from_encoded, jpeg_from_rgb  # noqa: PLC0415 - Pillow on demand

    item = ctx.hub.item(attempt_id)
    if item is not None:
        if kind in item.jpeg:
            return item.jpeg[kind]
        data: bytes | None = None
        if kind == "live" and item.live_frame is not None:
            data = jpeg_from_rgb(item.live_frame)
        elif kind == "chip" and item.chip_image:
            data = jpeg_from_encoded(item.chip_image)
        elif kind == "roster" and item.candidate_id:
            details = ctx.queries.roster_details(ctx.session_id, item.candidate_id)
            data = jpeg_from_encoded(details.photo) if details and details.photo else None
        if data is not None:
            item.jpeg[kind] = data
            return data
    if ctx.gate.evidence is not None:  # finished candidates: the encrypted copy, if one was kept
        return ctx.gate.evidence.load(attempt_id, kind)
    return None


@router.get("/api/reviews", tags=["reviews"], summary="reviews waiting for a proctor, and recent decisions")
def reviews(_who: Staff, ctx: Ctx) -> dict[str, object]:
    return reviews_state(ctx)


@router.get("/api/events", include_in_schema=False)
async def console_events(request: Request, who: Staff, ctx: Ctx) -> StreamingResponse:
    return await stream(ctx, request, "console", [], who)


@router.get(
    "/api/reviews/{attempt_id}/images/{kind}",
    tags=["reviews"],
    summary="face image of a pending review (JPEG; proctors only)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"model": Problem}},
)
async def review_image(attempt_id: ATTEMPT_ID, kind: ImageKind, _who: ProctorImages, ctx: Ctx) -> Response:
    data = await asyncio.to_thread(image_bytes, ctx, attempt_id, kind)
    if data is None:
        return problem(404, "E_API_NO_IMAGE", f"no {kind} image for this attempt")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post(
    "/api/reviews/{attempt_id}",
    tags=["reviews"],
    summary="approve or deny a pending review (the lane opens the gate on approval)",
    response_model=ResolveResult,
    responses={409: {"model": Problem}},
)
def resolve_review(attempt_id: ATTEMPT_ID, body: ReviewBody, who: ProctorWrite, ctx: Ctx) -> Response:
    reason = body.reason.strip()
    if len(reason) < 3:
        return problem(422, "E_API_REASON_REQUIRED", "a reason is required")
    if not ctx.gate.reviews.resolve(attempt_id, ReviewAnswer(body.approved, who.username, reason)):
        return problem(
            409, "E_API_REVIEW_NOT_PENDING", "this review is not waiting for an answer (resolved or timed out)"
        )
    ctx.gate.store.audit(who.username, "api.review_answer", {"attempt_id": attempt_id, "approved": body.approved})
    return JSONResponse(
        ResolveResult(attempt_id=attempt_id, approved=body.approved, operator=who.username).model_dump()
    )
