"""The local API and screens: ``create_app(gate, settings)``.

Every route needs a logged-in account (or the kiosk token on the kiosk routes) except the few in ``PUBLIC_ROUTES``;
a test enumerates ``app.routes`` so a new route that forgets its guard fails the build. State-changing requests need
the session's CSRF token in ``X-CSRF-Token`` and a JSON body; every state change is audited with the account.
"""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations at
# definition time (they are local aliases of create_app, which string annotations could not resolve).

import asyncio
import csv
import io
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from edge.api.accounts import AccountStore, Principal
from edge.api.i18n import Lang, pick_lang, texts
from edge.api.live import ImageKind, LiveHub
from edge.api.metrics import Metrics
from edge.api.queries import CREDENTIALS, Queries, SessionReport
from edge.api.security import BodyLimit, SecurityHeaders, read_token_file, same_secret
from edge.api.settings import ApiSettings
from edge.errors import ExamGateError
from edge.lane import AssistedRequest, CandidateReport
from edge.masking import mask_id
from edge.reviews import ReviewAnswer
from edge.wiring import Gate

log = logging.getLogger("examgate.api")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "eg_session"
KIOSK_COOKIE = "eg_kiosk"
LANG_COOKIE = "eg_lang"
CSRF_HEADER = "X-CSRF-Token"

# The only routes reachable without an account: liveness, and the login page and its POST. The static mount serves
# the screens' CSS and JS (no data). Anything else must carry a guard; tests/api enumerates app.routes against this.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/healthz"), ("GET", "/login"), ("POST", "/api/login")})
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/static"})

STAFF = frozenset({"proctor", "technician", "viewer"})
PROCTOR = frozenset({"proctor"})
TECHNICIAN = frozenset({"technician", "proctor"})

ATTEMPT_ID = Annotated[str, PathParam(pattern=r"^[0-9a-fA-F-]{32,36}$", description="attempt id (UUIDv7)")]
SESSION_ID = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="exam session id")]


# ------------------------------------------------------------------ bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginBody(_Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class ReviewBody(_Body):
    approved: bool
    reason: Annotated[str, Field(min_length=3, max_length=500, description="why; required, logged with the account")]


class AssistedBody(_Body):
    credential: Literal["vneid_level2", "manual_no_card", "manual_lost_card", "manual_old_cmnd"]
    personal_id: Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit personal ID number")]
    vneid_verified: bool = Field(default=False, description="the officer verified the VNeID level-2 app (vneid_level2)")
    commitment_signed: bool = Field(default=False, description="the candidate signed the commitment (manual_*)")
    note: Annotated[str, Field(max_length=500)] = ""


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str


class ResolveResult(BaseModel):
    attempt_id: str
    approved: bool
    operator: str


class AssistedResult(BaseModel):
    state: Literal["done", "running"]
    attempt_id: str | None = None
    outcome: str | None = None
    passed: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    reviewed_by: str | None = None
    full_name: str | None = None
    candidate_id: str | None = None


class Problem(BaseModel):
    code: str
    message: str
    remedy: str = ""


def problem(
    status: int, code: str, message: str, remedy: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(Problem(code=code, message=message, remedy=remedy).model_dump(), status, headers=headers)


class RefusedError(Exception):
    """Raised by guards; turned into 401/403 JSON for the API, a redirect to the login page for screens."""

    def __init__(self, status: int, code: str, message: str, html: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.html = html


# --------------------------------------------------------------------- app
def create_app(gate: Gate, settings: ApiSettings, *, hub: LiveHub | None = None) -> FastAPI:
    """The API for one gate. Attaches a ``LiveHub`` to the gate's lane (callbacks and device notifications)."""
    accounts = AccountStore(gate.store.path)
    queries = Queries(gate.store.path)
    hub = hub or LiveHub(kiosk_result_s=settings.kiosk_result_s)
    hub.attach(gate.lane)
    session_id = gate.lane.settings.session_id
    metrics = Metrics(queries, session_id, gate.store.outbox_backlog, lambda: len(gate.reviews.pending()))
    hub.report_listeners.append(metrics.observe)
    kiosk_token = read_token_file(settings.kiosk_token_file) if settings.kiosk_token_file else None
    metrics_token = read_token_file(settings.metrics_token_file) if settings.metrics_token_file else None
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
    app.state.gate = gate
    app.state.hub = hub
    app.state.accounts = accounts
    app.state.queries = queries
    app.state.metrics = metrics
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

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

    # -------------------------------------------------------------- guards
    def principal_of(request: Request) -> Principal | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 128:
            return None
        return accounts.session(token)

    def guard(roles: frozenset[str], *, html: bool = False, csrf: bool = False) -> Callable[[Request], Principal]:
        def check(request: Request) -> Principal:
            who = principal_of(request)
            if who is None:
                raise RefusedError(401, "E_API_LOGIN_REQUIRED", "log in first", html)
            if who.role not in roles:
                raise RefusedError(403, "E_API_FORBIDDEN", f"role {who.role} may not do this", html)
            if csrf:
                if not same_secret(request.headers.get(CSRF_HEADER), who.csrf_token):
                    raise RefusedError(403, "E_API_CSRF", f"missing or wrong {CSRF_HEADER} header", html)
                if not request.headers.get("content-type", "").startswith("application/json"):
                    raise RefusedError(415, "E_API_JSON_REQUIRED", "send the body as application/json", html)
            return who

        return check

    def kiosk_guard(request: Request) -> Principal:
        if kiosk_token is not None and same_secret(request.cookies.get(KIOSK_COOKIE), kiosk_token):
            return Principal("kiosk", "kiosk")
        who = principal_of(request)
        if who is None:
            raise RefusedError(401, "E_API_LOGIN_REQUIRED", "open the kiosk with its token, or log in", True)
        return who

    def metrics_guard(request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if metrics_token is not None and auth.startswith("Bearer ") and same_secret(auth[7:], metrics_token):
            return Principal("metrics", "metrics")
        return guard(TECHNICIAN)(request)

    Staff = Annotated[Principal, Depends(guard(STAFF))]  # noqa: N806 - a type alias
    StaffPage = Annotated[Principal, Depends(guard(STAFF, html=True))]  # noqa: N806 - a type alias
    ProctorPage = Annotated[Principal, Depends(guard(PROCTOR, html=True))]  # noqa: N806 - a type alias
    ProctorImages = Annotated[Principal, Depends(guard(PROCTOR))]  # noqa: N806 - a type alias
    ProctorWrite = Annotated[Principal, Depends(guard(PROCTOR, csrf=True))]  # noqa: N806 - a type alias
    StaffWrite = Annotated[Principal, Depends(guard(STAFF, csrf=True))]  # noqa: N806 - a type alias

    # ----------------------------------------------------------- helpers
    def language(request: Request) -> Lang:
        return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))

    def page(request: Request, name: str, who: Principal | None, **context: object) -> HTMLResponse:
        lang = language(request)
        t = texts(lang)
        boot = {
            "lang": lang,
            # the candidate's screen gets only its own texts
            "t": {k: v for k, v in t.items() if k.startswith("kiosk.")} if name == "kiosk.html" else t,
            "csrf": who.csrf_token if who else "",
            "role": who.role if who else "",
            "user": who.username if who else "",
            **{k: v for k, v in context.items() if k.startswith("boot_")},
        }
        html = templates.get_template(name).render(
            t=t, lang=lang, who=who, other_lang="en" if lang == "vi" else "vi", boot=script_json(boot), **context
        )
        response = HTMLResponse(html)
        if request.query_params.get("lang") in ("vi", "en"):
            response.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", secure=settings.cookie_secure
            )
        return response

    def review_view(attempt_id: str) -> dict[str, object] | None:
        item = hub.item(attempt_id)
        if item is None:
            return None
        view = item.summary()
        if item.candidate_id:
            details = queries.roster_details(session_id, item.candidate_id)
            if details is not None:
                view["full_name"] = details.full_name
                view["birth_date"] = details.birth_date or view["birth_date"]
                view["has_roster"] = details.photo is not None
        view.setdefault("has_roster", False)
        view["match_threshold"] = gate.lane.params.match_threshold
        view["review_threshold"] = gate.lane.params.review_threshold
        view["thresholds_version"] = gate.thresholds.version
        view["resolvable"] = attempt_id in gate.reviews.pending()
        return view

    def reviews_state() -> dict[str, object]:
        live = [v for v in (review_view(i.attempt_id) for i in hub.items()) if v is not None]
        known = {str(v["attempt_id"]) for v in live}
        stale = [
            {"attempt_id": r.attempt_id, "requested_at": r.requested_at, "reasons": list(r.reasons)}
            for r in gate.store.pending_reviews()
            if r.attempt_id not in known
        ]
        return {"items": live, "stale": stale, "recent": hub.recent_decisions()}

    def image_bytes(attempt_id: str, kind: ImageKind) -> bytes | None:
        from edge.privacy.evidence import jpeg_from_encoded, jpeg_from_rgb  # noqa: PLC0415 - Pillow on demand

        item = hub.item(attempt_id)
        if item is not None:
            if kind in item.jpeg:
                return item.jpeg[kind]
            data: bytes | None = None
            if kind == "live" and item.live_frame is not None:
                data = jpeg_from_rgb(item.live_frame)
            elif kind == "chip" and item.chip_image:
                data = jpeg_from_encoded(item.chip_image)
            elif kind == "roster" and item.candidate_id:
                details = queries.roster_details(session_id, item.candidate_id)
                data = jpeg_from_encoded(details.photo) if details and details.photo else None
            if data is not None:
                item.jpeg[kind] = data
                return data
        if gate.evidence is not None:  # finished candidates: the encrypted copy, if one was kept
            return gate.evidence.load(attempt_id, kind)
        return None

    async def stream(
        request: Request, channel: str, initial: list[dict[str, object]], who: Principal
    ) -> StreamingResponse:
        broadcaster = hub.console if channel == "console" else hub.kiosk
        key, queue = broadcaster.subscribe()

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\n\n"
                for message in initial:
                    yield f"data: {json.dumps(message, ensure_ascii=False)}\n\n"
                while who.expires_at == 0.0 or time.time() < who.expires_at:
                    try:
                        text = await asyncio.wait_for(queue.get(), settings.sse_heartbeat_s)
                    except TimeoutError:
                        if await request.is_disconnected():
                            break
                        yield ": keep-alive\n\n"
                        continue
                    yield f"data: {text}\n\n"
            finally:
                broadcaster.unsubscribe(key)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})

    # -------------------------------------------------------------- public
    @app.get("/healthz", tags=["health"], summary="liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", None)

    @app.post(
        "/api/login",
        tags=["auth"],
        response_model=Me,
        responses={401: {"model": Problem}, 429: {"model": Problem}},
    )
    def login(body: LoginBody, request: Request) -> Response:
        remote = request.client.host if request.client else "unknown"
        result = accounts.login(body.username, body.password, remote, settings)
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

    # ------------------------------------------------------------- account
    @app.post("/api/logout", tags=["auth"], status_code=204)
    def logout(request: Request, who: StaffWrite) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        accounts.logout(token, who.username)
        response = Response(status_code=204)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure
        )
        return response

    @app.get("/api/me", tags=["auth"], response_model=Me)
    def me(who: Staff) -> Me:
        return Me(username=who.username, role=who.role, csrf_token=who.csrf_token)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_who: Staff) -> JSONResponse:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
        return JSONResponse(app.openapi_schema)

    # ------------------------------------------------------------- screens
    @app.get("/", include_in_schema=False)
    def root(_who: StaffPage) -> RedirectResponse:
        return RedirectResponse("/console", status_code=303)

    @app.get("/console", include_in_schema=False)
    def console(request: Request, who: StaffPage) -> HTMLResponse:
        return page(request, "console.html", who, gate_id=gate.cfg.site.gate_id, session_id=session_id)

    @app.get("/assisted", include_in_schema=False)
    def assisted_page(request: Request, who: ProctorPage) -> HTMLResponse:
        return page(request, "assisted.html", who, credentials=CREDENTIALS[1:])

    @app.get("/kiosk", include_in_schema=False)
    def kiosk(request: Request, token: str | None = None) -> Response:
        if token is not None:
            if kiosk_token is None or not same_secret(token, kiosk_token):
                raise RefusedError(401, "E_API_KIOSK_TOKEN", "wrong kiosk token", True)
            response = RedirectResponse("/kiosk", status_code=303)  # the token leaves the address bar
            response.set_cookie(
                KIOSK_COOKIE, kiosk_token, httponly=True, samesite="strict", secure=settings.cookie_secure, path="/"
            )
            return response
        who = kiosk_guard(request)
        return page(request, "kiosk.html", None if who.role == "kiosk" else who, boot_kiosk=hub.kiosk_now())

    @app.get("/kiosk/events", include_in_schema=False)
    async def kiosk_events(request: Request, who: Annotated[Principal, Depends(kiosk_guard)]) -> StreamingResponse:
        return await stream(request, "kiosk", [hub.kiosk_now()], who)

    @app.get("/reports", include_in_schema=False)
    def reports_page(request: Request, who: StaffPage) -> HTMLResponse:
        return page(request, "reports.html", who, sessions=queries.sessions(), report=None)

    @app.get("/reports/{session}", include_in_schema=False)
    def report_page(request: Request, session: SESSION_ID, who: StaffPage) -> HTMLResponse:
        report = queries.session_report(session)
        if report is None:
            raise HTTPException(404, "no such exam session")
        return page(request, "reports.html", who, sessions=queries.sessions(), report=report)

    # ------------------------------------------------------------- reviews
    @app.get("/api/reviews", tags=["reviews"], summary="reviews waiting for a proctor, and recent decisions")
    def reviews(_who: Staff) -> dict[str, object]:
        return reviews_state()

    @app.get("/api/events", include_in_schema=False)
    async def console_events(request: Request, who: Staff) -> StreamingResponse:
        return await stream(request, "console", [], who)

    @app.get(
        "/api/reviews/{attempt_id}/images/{kind}",
        tags=["reviews"],
        summary="face image of a pending review (JPEG; proctors only)",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}, 404: {"model": Problem}},
    )
    async def review_image(attempt_id: ATTEMPT_ID, kind: ImageKind, _who: ProctorImages) -> Response:
        data = await asyncio.to_thread(image_bytes, attempt_id, kind)
        if data is None:
            return problem(404, "E_API_NO_IMAGE", f"no {kind} image for this attempt")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.post(
        "/api/reviews/{attempt_id}",
        tags=["reviews"],
        summary="approve or deny a pending review (the lane opens the gate on approval)",
        response_model=ResolveResult,
        responses={409: {"model": Problem}},
    )
    def resolve_review(attempt_id: ATTEMPT_ID, body: ReviewBody, who: ProctorWrite) -> Response:
        reason = body.reason.strip()
        if len(reason) < 3:
            return problem(422, "E_API_REASON_REQUIRED", "a reason is required")
        if not gate.reviews.resolve(attempt_id, ReviewAnswer(body.approved, who.username, reason)):
            return problem(
                409, "E_API_REVIEW_NOT_PENDING", "this review is not waiting for an answer (resolved or timed out)"
            )
        gate.store.audit(who.username, "api.review_answer", {"attempt_id": attempt_id, "approved": body.approved})
        return JSONResponse(
            ResolveResult(attempt_id=attempt_id, approved=body.approved, operator=who.username).model_dump()
        )

    # ------------------------------------------------------------ assisted
    @app.post(
        "/api/assisted",
        tags=["assisted"],
        summary="officer-assisted admission: the lane looks the person up and matches the live face",
        response_model=AssistedResult,
        responses={202: {"model": AssistedResult}, 422: {"model": Problem}, 503: {"model": Problem}},
    )
    async def assisted(body: AssistedBody, who: ProctorWrite) -> Response:
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
        done, _ = await asyncio.wait({future}, timeout=settings.assisted_wait_s)  # never cancels the lane's work
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

    # ------------------------------------------------------------- reports
    @app.get("/api/reports/{session}", tags=["reports"], summary="counts of one exam session")
    def report_json(session: SESSION_ID, _who: Staff) -> dict[str, object]:
        report = queries.session_report(session)
        if report is None:
            raise HTTPException(404, "no such exam session")
        return report_dict(report)

    @app.get(
        "/api/reports/{session}/csv",
        tags=["reports"],
        summary="counts of one exam session as CSV",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    def report_csv(session: SESSION_ID, _who: Staff) -> Response:
        report = queries.session_report(session)
        if report is None:
            raise HTTPException(404, "no such exam session")
        return Response(
            report_to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="examgate-{session}.csv"'},
        )

    # -------------------------------------------------------------- health
    @app.get("/readyz", tags=["health"], summary="readiness of the lane's parts")
    async def readyz(_who: Staff) -> JSONResponse:
        checks = await asyncio.to_thread(readiness, gate, queries, hub)
        ok = all(c["ok"] for c in checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, 200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    async def metrics_route(_who: Annotated[Principal, Depends(metrics_guard)]) -> Response:
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


def script_json(data: object) -> str:
    """JSON safe to place inside a <script type="application/json"> element."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


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


def report_dict(report: SessionReport) -> dict[str, object]:
    return {
        "session_id": report.session_id,
        "name": report.name,
        "exam_date": report.exam_date,
        "roster_size": report.roster_size,
        "admitted": report.admitted,
        "rejected": report.rejected,
        "pending_review": report.pending_review,
        "reviewed": report.reviewed,
        "review_approved": report.review_approved,
        "review_denied": report.review_denied,
        "officer_assisted": report.officer_assisted,
        "by_credential": {
            k: {"admitted": c.admitted, "rejected": c.rejected, "pending": c.pending, "total": c.total}
            for k, c in report.by_credential.items()
        },
        "by_reason": report.by_reason,
    }


def report_to_csv(report: SessionReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session_id", "section", "key", "count"])
    sid = report.session_id
    for key in (
        "roster_size",
        "admitted",
        "rejected",
        "pending_review",
        "reviewed",
        "review_approved",
        "review_denied",
    ):
        writer.writerow([sid, "total", key, getattr(report, key)])
    writer.writerow([sid, "total", "officer_assisted", report.officer_assisted])
    for credential, counts in report.by_credential.items():
        for key in ("admitted", "rejected", "pending"):
            writer.writerow([sid, f"credential:{credential}", key, getattr(counts, key)])
    for reason, count in report.by_reason.items():
        writer.writerow([sid, "reason", reason, count])
    return out.getvalue()
