"""Guards: who may call a route (account roles, CSRF, kiosk and scrape tokens), the body size limit and security
headers (pure ASGI middleware), token files."""

# No `from __future__ import annotations` here: FastAPI reads the guard aliases below at definition time.

import hmac
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.api.accounts import Principal
from edge.api.context import api_context
from edge.api.errors import token_file_error

MIN_TOKEN_CHARS = 24
SESSION_COOKIE = "eg_session"
KIOSK_COOKIE = "eg_kiosk"
CSRF_HEADER = "X-CSRF-Token"

STAFF = frozenset({"proctor", "technician", "viewer"})
PROCTOR = frozenset({"proctor"})
TECHNICIAN = frozenset({"technician", "proctor"})


class RefusedError(Exception):
    """Raised by guards; turned into 401/403 JSON for the API, a redirect to the login page for screens."""

    def __init__(self, status: int, code: str, message: str, html: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.html = html


def principal_of(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return None
    return api_context(request).accounts.session(token)


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
    kiosk_token = api_context(request).kiosk_token
    if kiosk_token is not None and same_secret(request.cookies.get(KIOSK_COOKIE), kiosk_token):
        return Principal("kiosk", "kiosk")
    who = principal_of(request)
    if who is None:
        raise RefusedError(401, "E_API_LOGIN_REQUIRED", "open the kiosk with its token, or log in", True)
    return who


def metrics_guard(request: Request) -> Principal:
    metrics_token = api_context(request).metrics_token
    auth = request.headers.get("authorization", "")
    if metrics_token is not None and auth.startswith("Bearer ") and same_secret(auth[7:], metrics_token):
        return Principal("metrics", "metrics")
    return guard(TECHNICIAN)(request)


Staff = Annotated[Principal, Depends(guard(STAFF))]
StaffPage = Annotated[Principal, Depends(guard(STAFF, html=True))]
ProctorPage = Annotated[Principal, Depends(guard(PROCTOR, html=True))]
ProctorImages = Annotated[Principal, Depends(guard(PROCTOR))]
ProctorWrite = Annotated[Principal, Depends(guard(PROCTOR, csrf=True))]
StaffWrite = Annotated[Principal, Depends(guard(STAFF, csrf=True))]
Kiosk = Annotated[Principal, Depends(kiosk_guard)]
MetricsReader = Annotated[Principal, Depends(metrics_guard)]

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob:; script-src 'self'; style-src 'self'; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether announced (Content-Length) or streamed.

    The body is read here first (it is small: the API takes short JSON documents) and handed on whole, so an
    oversized stream is refused before any handler, whose body parser would swallow the error, sees it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _problem(
                        send, 400, "E_API_BAD_REQUEST", "bad Content-Length", "send a decimal Content-Length"
                    )
                    return
                if declared > self.max_bytes:
                    await _problem(
                        send, 413, "E_API_BODY_TOO_LARGE", f"request body over {self.max_bytes} bytes", SHORTER
                    )
                    return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _problem(send, 413, "E_API_BODY_TOO_LARGE", f"request body over {self.max_bytes} bytes", SHORTER)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (n, v) for n, v in SECURITY_HEADERS if n not in present and not (static and n == b"cache-control")
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


SHORTER = "send a shorter JSON document (the API takes short requests; api.max_body_bytes sets the limit)"


async def _problem(send: Send, status: int, code: str, message: str, remedy: str) -> None:
    """The API's error shape ({code, message, remedy}), answered before the app sees the request."""
    body = json.dumps({"code": code, "message": message, "remedy": remedy}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def read_token_file(path: Path) -> str:
    """A secret token from a file only its owner may read."""
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise token_file_error(str(path), f"cannot be read ({exc.__class__.__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise token_file_error(str(path), "is readable or writable by group or others")
    if len(token) < MIN_TOKEN_CHARS:
        raise token_file_error(str(path), f"holds fewer than {MIN_TOKEN_CHARS} characters")
    return token


def same_secret(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
