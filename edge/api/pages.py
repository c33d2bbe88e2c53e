"""Rendering the screens (language, boot data) and the server-sent event streams the screens listen to."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import HTMLResponse, StreamingResponse

from edge.api.accounts import Principal
from edge.api.context import ApiContext
from edge.api.i18n import Lang, pick_lang, texts

LANG_COOKIE = "eg_lang"


def language(request: Request) -> Lang:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def script_json(data: object) -> str:
    """JSON safe to place inside a <script type="application/json"> element."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def page(ctx: ApiContext, request: Request, name: str, who: Principal | None, **context: object) -> HTMLResponse:
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
    html = ctx.templates.get_template(name).render(
        t=t, lang=lang, who=who, other_lang="en" if lang == "vi" else "vi", boot=script_json(boot), **context
    )
    response = HTMLResponse(html)
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", secure=ctx.settings.cookie_secure
        )
    return response


async def stream(
    ctx: ApiContext, request: Request, channel: str, initial: list[dict[str, object]], who: Principal
) -> StreamingResponse:
    broadcaster = ctx.hub.console if channel == "console" else ctx.hub.kiosk
    key, queue = broadcaster.subscribe()
    heartbeat_s = ctx.settings.sse_heartbeat_s

    async def events() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            for message in initial:
                yield f"data: {json.dumps(message, ensure_ascii=False)}\n\n"
            while who.expires_at == 0.0 or time.time() < who.expires_at:
                try:
                    text = await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield ": keep-alive\n\n"
                    continue
                yield f"data: {text}\n\n"
        finally:
            broadcaster.unsubscribe(key)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})
