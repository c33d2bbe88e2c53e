"""What the routes share, built once by ``create_app`` and reached through the ``Ctx`` dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from jinja2 import Environment

from edge.api.accounts import AccountStore
from edge.api.live import LiveHub
from edge.api.metrics import Metrics
from edge.api.queries import Queries
from edge.api.settings import ApiSettings
from edge.wiring import Gate


@dataclass(frozen=True)
class ApiContext:
    gate: Gate
    settings: ApiSettings
    accounts: AccountStore
    queries: Queries
    hub: LiveHub
    metrics: Metrics
    templates: Environment
    session_id: str
    kiosk_token: str | None
    metrics_token: str | None
    no_csca: bool = False  # a PN532 gate whose trust store has no valid VNM CSCA (read once, like the reader)


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.ctx
    return context


Ctx = Annotated[ApiContext, Depends(api_context)]
