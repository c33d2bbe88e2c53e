"""Presence on ``examgate/v1/{site}/{gate}/status`` (retained): ``online`` birth, ``offline`` Last Will, ``stopped``."""

from __future__ import annotations

from importlib import metadata
from typing import Literal

import paho.mqtt
from pydantic import BaseModel, ConfigDict, Field

from edge.clock import iso_ms
from edge.events.models import SCHEMA_VERSION


class GateStatus(BaseModel):
    """Receivers ignore fields they do not know (a newer gate may add some); unset optional fields are not sent."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: Literal["online", "offline", "stopped"]
    site_id: str
    gate_id: str
    versions: dict[str, str] = Field(default_factory=dict)
    config_hash: str | None = None
    outbox_backlog: int | None = Field(
        default=None, ge=0, description="events in the gate's outbox the broker has not acknowledged yet (online only)"
    )
    at: str = Field(description="UTC time the message was composed (for offline: when the will was registered)")

    def payload(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def software_versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    try:
        examgate = metadata.version("examgate")
    except metadata.PackageNotFoundError:
        examgate = "unknown"
    versions = {"examgate": examgate, "event_schema": SCHEMA_VERSION, "paho_mqtt": paho.mqtt.__version__}
    versions.update(extra or {})
    return versions


def make_status(
    state: Literal["online", "offline", "stopped"],
    site_id: str,
    gate_id: str,
    *,
    versions: dict[str, str] | None = None,
    config_hash: str | None = None,
    outbox_backlog: int | None = None,
) -> GateStatus:
    return GateStatus(
        state=state,
        site_id=site_id,
        gate_id=gate_id,
        versions=versions or {},
        config_hash=config_hash,
        outbox_backlog=outbox_backlog,
        at=iso_ms(),
    )
