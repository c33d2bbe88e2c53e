"""The HTML screens: console, assisted admission, kiosk (with its token and event stream), reports."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from edge.api.context import Ctx
from edge.api.models import SESSION_ID
from edge.api.pages import page, stream
from edge.api.queries import CREDENTIALS
from edge.api.security import KIOSK_COOKIE, Kiosk, ProctorPage, RefusedError, StaffPage, kiosk_guard, same_secret
from edge.privacy.notice import load_notice

router = APIRouter()


@router.get("/", include_in_schema=False)
def root(_who: StaffPage) -> RedirectResponse:
    return RedirectResponse("/console", status_code=303)


@router.get("/console", include_in_schema=False)
def console(request: Request, who: StaffPage, ctx: Ctx) -> HTMLResponse:
    return page(
        ctx,
        request,
        "console.html",
        who,
        gate_id=ctx.gate.cfg.site.gate_id,
        session_id=ctx.session_id,
        no_csca=ctx.no_csca,
    )


@router.get("/assisted", include_in_schema=False)
def assisted_page(request: Request, who: ProctorPage, ctx: Ctx) -> HTMLResponse:
    return page(ctx, request, "assisted.html", who, credentials=CREDENTIALS[1:])


@router.get("/kiosk", include_in_schema=False)
def kiosk(request: Request, ctx: Ctx, token: str | None = None) -> Response:
    kiosk_token = ctx.kiosk_token
    if token is not None:
        if kiosk_token is None or not same_secret(token, kiosk_token):
            raise RefusedError(401, "E_API_KIOSK_TOKEN", "wrong kiosk token", True)
        response = RedirectResponse("/kiosk", status_code=303)  # the token leaves the address bar
        response.set_cookie(
            KIOSK_COOKIE, kiosk_token, httponly=True, samesite="strict", secure=ctx.settings.cookie_secure, path="/"
        )
        return response
    who = kiosk_guard(request)
    notice = load_notice(ctx.gate.cfg.privacy.notice_file)  # shown before any capture (issue 16)
    return page(
        ctx, request, "kiosk.html", None if who.role == "kiosk" else who, boot_kiosk=ctx.hub.kiosk_now(), notice=notice
    )


@router.get("/kiosk/events", include_in_schema=False)
async def kiosk_events(request: Request, who: Kiosk, ctx: Ctx) -> StreamingResponse:
    return await stream(ctx, request, "kiosk", [ctx.hub.kiosk_now()], who)


@router.get("/reports", include_in_schema=False)
def reports_page(request: Request, who: StaffPage, ctx: Ctx) -> HTMLResponse:
    return page(ctx, request, "reports.html", who, sessions=ctx.queries.sessions(), report=None)


@router.get("/reports/{session}", include_in_schema=False)
def report_page(request: Request, session: SESSION_ID, who: StaffPage, ctx: Ctx) -> HTMLResponse:
    report = ctx.queries.session_report(session)
    if report is None:
        raise HTTPException(404, "no such exam session")
    return page(ctx, request, "reports.html", who, sessions=ctx.queries.sessions(), report=report)
