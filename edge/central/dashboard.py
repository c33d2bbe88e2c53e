"""Province dashboard: FastAPI + server-rendered pages (no script), Vietnamese first (``?lang=en``).

Same auth model as the gate console, reused, not copied: local accounts, login throttling and hashed session tokens
from ``edge.api.accounts.AccountStore`` (an accounts file at the centre), the console's session cookie name, its
security headers and body limit (``edge.api.security``). Every role may read; nothing here writes to PostgreSQL.
"""

# No `from __future__ import annotations`: FastAPI reads the dependency annotations of the nested routes.

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from edge.api.accounts import AccountStore, Principal
from edge.api.security import SESSION_COOKIE, BodyLimit, SecurityHeaders
from edge.api.settings import ApiSettings
from edge.central import queries

_HERE = Path(__file__).parent
STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "app": "ExamGate · Bảng điều khiển tỉnh",
        "login": "Đăng nhập",
        "username": "Tên đăng nhập",
        "password": "Mật khẩu",
        "login_failed": "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa tạm thời.",
        "logout": "Đăng xuất",
        "gates": "Cổng",
        "online": "Trực tuyến",
        "offline": "Mất kết nối",
        "degraded": "Suy giảm",
        "unknown": "Chưa đăng ký",
        "stopped": "Đã dừng",
        "state": "Trạng thái",
        "health": "Tình trạng",
        "last_seen": "Lần cuối",
        "backlog": "Tồn đọng",
        "faults": "Lỗi thiết bị",
        "software": "Phần mềm / mô hình",
        "sessions": "Ca thi",
        "session": "Ca",
        "admitted": "Cho vào",
        "reviewed": "Cần xem lại",
        "rejected": "Từ chối",
        "assisted": "Hỗ trợ",
        "p50": "Thời gian/thí sinh p50",
        "p95": "p95",
        "per_gate": "Tỷ lệ xem lại và can thiệp theo cổng",
        "per_proctor": "Theo giám thị",
        "proctor": "Giám thị",
        "resolved": "Đã xử lý",
        "approved": "Chấp thuận",
        "decisions": "Quyết định",
        "review_rate": "Tỷ lệ xem lại",
        "override_rate": "Tỷ lệ can thiệp",
        "recent_faults": "Lỗi thiết bị gần đây",
        "device": "Thiết bị",
        "code": "Mã",
        "time": "Thời điểm",
        "rejected_msgs": "Tin nhắn bị loại",
        "none": "Chưa có dữ liệu",
        "lang": "English",
    },
    "en": {
        "app": "ExamGate · Province dashboard",
        "login": "Log in",
        "username": "Username",
        "password": "Password",
        "login_failed": "Wrong username or password, or the account is locked for a while.",
        "logout": "Log out",
        "gates": "Gates",
        "online": "Online",
        "offline": "Offline",
        "degraded": "Degraded",
        "unknown": "Unregistered",
        "stopped": "Stopped",
        "state": "State",
        "health": "Health",
        "last_seen": "Last seen",
        "backlog": "Backlog",
        "faults": "Device faults",
        "software": "Software / model",
        "sessions": "Sessions",
        "session": "Session",
        "admitted": "Admitted",
        "reviewed": "Reviewed",
        "rejected": "Rejected",
        "assisted": "Assisted",
        "p50": "Time per candidate p50",
        "p95": "p95",
        "per_gate": "Review and override rates per gate",
        "per_proctor": "Per proctor",
        "proctor": "Proctor",
        "resolved": "Resolved",
        "approved": "Approved",
        "decisions": "Decisions",
        "review_rate": "Review rate",
        "override_rate": "Override rate",
        "recent_faults": "Recent device faults",
        "device": "Device",
        "code": "Code",
        "time": "Time",
        "rejected_msgs": "Rejected messages",
        "none": "No data yet",
        "lang": "Tiếng Việt",
    },
}


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("eg_lang") or "vi"
    return wanted if wanted in STRINGS else "vi"


def create_app(dsn: str, accounts_path: Path, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    accounts = AccountStore(accounts_path)
    templates = Environment(
        loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
    )
    app = FastAPI(title="ExamGate province dashboard", docs_url=None, redoc_url=None, openapi_url=None)

    def who(request: Request) -> Principal | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 128:
            return None
        return accounts.session(token)

    Who = Annotated[Principal | None, Depends(who)]  # noqa: N806 - a type alias

    def page(request: Request, name: str, **values: Any) -> HTMLResponse:
        lang = _lang(request)
        html = templates.get_template(name).render(
            t=STRINGS[lang], lang=lang, other="en" if lang == "vi" else "vi", **values
        )
        response = HTMLResponse(html)
        response.set_cookie("eg_lang", lang, httponly=True, samesite="strict", secure=settings.cookie_secure)
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "central_login.html", failed=request.query_params.get("failed") == "1")

    @app.post("/login")
    async def login(request: Request) -> Response:
        # an urlencoded form, parsed here (no multipart dependency); BodyLimit has already bounded the body
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=4)
        username = (form.get("username") or [""])[0][:64]
        password = (form.get("password") or [""])[0][:256]
        remote = request.client.host if request.client else "?"
        result = await run_in_threadpool(accounts.login, username, password, remote, settings)
        if result.principal is None or result.token is None:
            return RedirectResponse("/login?failed=1", status_code=303)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            result.token,
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            max_age=settings.session_ttl_s,
        )
        return response

    @app.post("/logout")
    def logout(request: Request, principal: Who) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if principal is not None and token:
            accounts.logout(token, principal.username)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def dashboard(request: Request, principal: Who) -> Response:
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        data = queries.overview(dsn)
        return page(request, "central_dashboard.html", who=principal, d=data, bars=_bars(data.counts))

    @app.get("/static/central.css")
    def css() -> Response:
        return Response((_HERE / "templates" / "central.css").read_text(encoding="utf-8"), media_type="text/css")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.accounts = accounts
    return app


def _bars(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Horizontal bars of the gate states, as SVG geometry (server-rendered chart, no script)."""
    total = max(sum(counts.values()), 1)
    out, y = [], 0
    for state in ("online", "degraded", "offline", "unknown", "stopped"):
        n = counts.get(state, 0)
        out.append({"state": state, "n": n, "width": round(400 * n / total), "y": y})
        y += 28
    return out
