"""The local API and screens: ``create_app(gate, settings)`` assembles the routers of ``edge.api.routes``.

Every route needs a logged-in account (or the kiosk token on the kiosk routes) except the few in ``PUBLIC_ROUTES``;
a test enumerates ``app.routes`` so a new route that forgets its guard fails the build. State-changing requests need
the session's CSRF token in ``X-CSRF-Token`` and a JSON body; every state change is audited with the account.
Guards live in ``edge.api.security``; what the routes share (gate, stores, hub) reaches them through ``Ctx``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge.api.accounts import AccountStore
from edge.api.context import ApiContext
from edge.api.i18n import texts
from edge.api.live import LiveHub
from edge.api.metrics import Metrics
from edge.api.models import Problem, problem
from edge.api.pages import language
from edge.api.queries import Queries
from edge.api.routes import assisted, auth, health, reports, reviews, screens
from edge.api.security import CSRF_HEADER, BodyLimit, RefusedError, SecurityHeaders, read_token_file
from edge.api.settings import ApiSettings
from edge.device_config import Pn532ReaderConfig
from edge.errors import ExamGateError
from edge.identity.trust_store import vnm_gap
from edge.lane import on_done
from edge.wiring import Gate

__all__ = ["CSRF_HEADER", "PUBLIC_MOUNTS", "PUBLIC_ROUTES", "Problem", "create_app"]

log = logging.getLogger("examgate.api")

HERE = Path(__file__).resolve().parent

# The only routes reachable without an account: liveness, and the login page and its POST. The static mount serves
# the screens' CSS and JS (no data). Anything else must carry a guard; tests/api enumerates app.routes against this.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/healthz"), ("GET", "/login"), ("POST", "/api/login")})
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/static"})


def create_app(gate: Gate, settings: ApiSettings, *, hub: LiveHub | None = None) -> FastAPI:
    """The API for one gate. Registers a ``LiveHub`` and the metrics as listeners of the gate's lane."""
    accounts = AccountStore(gate.store.path)
    queries = Queries(gate.store.path)
    hub = hub or LiveHub(kiosk_result_s=settings.kiosk_result_s)
    hub.attach(gate.lane)
    session_id = gate.lane.settings.session_id
    metrics = Metrics(queries, session_id, gate.store.outbox_backlog, lambda: len(gate.reviews.pending()))
    gate.lane.listen(on_done(metrics.observe))
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
    )

    app = FastAPI(
        title="ExamGate local API",
        version="1.0",
        description="Proctor review console, kiosk screen, officer-assisted admission, health and metrics of one gate.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ApiContext(
        gate=gate,
        settings=settings,
        accounts=accounts,
        queries=queries,
        hub=hub,
        metrics=metrics,
        templates=templates,
        session_id=session_id,
        kiosk_token=read_token_file(settings.kiosk_token_file) if settings.kiosk_token_file else None,
        metrics_token=read_token_file(settings.metrics_token_file) if settings.metrics_token_file else None,
        # the reader loads its trust store once at start, so the console's warning is read once too
        no_csca=isinstance(gate.cfg.reader, Pn532ReaderConfig) and vnm_gap(gate.cfg.reader.csca_dir) is not None,
    )
    app.state.gate = gate
    app.state.hub = hub
    app.state.accounts = accounts
    app.state.queries = queries
    app.state.metrics = metrics
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    add_error_handlers(app)
    for module in (health, auth, screens, reviews, assisted, reports):
        # the routes themselves, not a lazily included router: app.routes then lists every route (tests/api checks
        # each one's guard against PUBLIC_ROUTES) and the OpenAPI document sees them all
        app.router.routes.extend(module.router.routes)
    return app


# Every error answers {code, message, remedy} (docs/api.md), also FastAPI's and Starlette's own refusals.
HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("E_API_BAD_REQUEST", "send a well-formed JSON document (at most a few levels deep)"),
    401: ("E_API_LOGIN_REQUIRED", "log in first"),
    403: ("E_API_FORBIDDEN", "log in with an account whose role may do this"),
    404: ("E_API_NOT_FOUND", "check the address; docs/api.md lists the routes"),
    405: ("E_API_METHOD_NOT_ALLOWED", "use the method the Allow header names"),
    413: ("E_API_BODY_TOO_LARGE", "send a shorter JSON document"),
    415: ("E_API_JSON_REQUIRED", "send the body as application/json"),
}


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code, remedy = HTTP_CODES.get(exc.status_code, (f"E_API_HTTP_{exc.status_code}", "see the message"))
        message = exc.detail if isinstance(exc.detail, str) else code
        return problem(exc.status_code, code, message, remedy, headers=dict(exc.headers or {}) or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return problem(
            422,
            "E_API_INVALID_REQUEST",
            "; ".join(parts) or "invalid request",
            "correct the fields named and send again",
        )

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> Response:
        if exc.html and exc.status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if exc.html:
            lang = language(request)
            return HTMLResponse(f"<p>{texts(lang)['error.forbidden']}</p>", exc.status)
        return problem(exc.status, exc.code, exc.message)

    @app.exception_handler(ExamGateError)
    async def gate_error(_request: Request, exc: ExamGateError) -> Response:
        log.warning("api request failed code=%s", exc.code)
        return problem(503, exc.code, exc.message, exc.remedy)
