"""Settings of the local API (the ``[api]`` section of the gate config)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    """Where the console listens and how it guards itself. Defaults suit one gate on its own LAN segment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(
        default="127.0.0.1", description="listen address; keep 127.0.0.1 unless a firewall guards the LAN"
    )
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    session_ttl_s: Annotated[int, Field(ge=60, le=86_400)] = 8 * 3600
    cookie_secure: bool = Field(default=False, description="mark cookies Secure (set when served over HTTPS)")
    login_max_failures: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5, description="consecutive failed logins before an account is locked"
    )
    login_lockout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=30.0, description="first lockout; doubles with each further failure"
    )
    login_lockout_max_s: Annotated[float, Field(gt=0, le=86_400)] = 900.0
    login_window_s: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=3600.0, description="failures older than this no longer count"
    )
    login_remote_max_failures: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=30, description="failed logins from one address within the window before it is refused"
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=10_000_000)] = 16_384
    kiosk_token_file: Path | None = Field(
        default=None, description="file holding the kiosk screen's token (0600); absent = kiosk needs a login"
    )
    metrics_token_file: Path | None = Field(
        default=None, description="file holding a bearer token for Prometheus scrapes of /metrics"
    )
    assisted_wait_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=20.0, description="how long an assisted-admission request waits for the lane's outcome"
    )
    kiosk_result_s: Annotated[float, Field(gt=0, le=60)] = Field(
        default=6.0, description="how long the kiosk shows a result before going back to 'tap your card'"
    )
    sse_heartbeat_s: Annotated[float, Field(gt=0, le=300)] = 15.0
