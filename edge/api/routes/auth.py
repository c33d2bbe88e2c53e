"""Login, logout, who am I, and the OpenAPI document (for logged-in staff)."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from edge.api.context import Ctx
from edge.api.models import LoginBody, Me, Problem, problem
from edge.api.pages import page
from edge.api.security import SESSION_COOKIE, Staff, StaffWrite

router = APIRouter()


@router.get("/login", include_in_schema=False)
def login_page(request: Request, ctx: Ctx) -> HTMLResponse:
    return page(ctx, request, "login.html", None)


@router.post(
    "/api/login",
    tags=["auth"],
    response_model=Me,
    responses={401: {"model": Problem}, 429: {"model": Problem}},
)
def login(body: LoginBody, request: Request, ctx: Ctx) -> Response:
    settings = ctx.settings
    remote = request.client.host if request.client else "unknown"
    result = ctx.accounts.login(body.username, body.password, remote, settings)
    if result.retry_after_s > 0:
        wait = int(result.retry_after_s) + 1
        return problem(
            429,
            "E_API_LOGIN_LOCKED",
            "too many failed logins",
            f"wait {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if result.principal is None or result.token is None:
        return problem(401, "E_API_LOGIN_FAILED", "wrong username or password")
    who = result.principal
    response = JSONResponse(Me(username=who.username, role=who.role, csrf_token=who.csrf_token).model_dump())
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/api/logout", tags=["auth"], status_code=204)
def logout(request: Request, who: StaffWrite, ctx: Ctx) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    ctx.accounts.logout(token, who.username)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=ctx.settings.cookie_secure
    )
    return response


@router.get("/api/me", tags=["auth"], response_model=Me)
def me(who: Staff) -> Me:
    return Me(username=who.username, role=who.role, csrf_token=who.csrf_token)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _who: Staff) -> JSONResponse:
    app = request.app
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
    return JSONResponse(app.openapi_schema)
