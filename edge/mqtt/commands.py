"""Commands from the centre: ``examgate/v1/{site}/{gate}/cmd/{name}`` → validated, authorised, idempotent, audited.

Each request is JSON with a ``command_id`` (idempotency key) and ``issued_by``. The reply goes to the request's
MQTT 5 response topic (which must be under ``examgate/v1/{site}/{gate}/reply/``; the broker ACL lets the gate write
only there) with the request's correlation data, and says ``status`` ("ok" / "error"), ``result`` and ``errors``.
A refused command (too large, malformed, unknown, disabled, bad signature) changes nothing.
A command id already processed gets its stored reply again with ``duplicate: true`` and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.clock import iso_ms
from edge.errors import ExamGateError
from edge.mqtt.errors import CommandError
from edge.mqtt.settings import COMMAND_NAMES, MqttSettings
from edge.policy.settings import Thresholds
from edge.store.models import RosterDigest, RosterRow

log = logging.getLogger(__name__)

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_PHOTO_BYTES = 2_000_000
MAX_ROSTER_ROWS = 5_000
_IMAGE_MAGIC = (b"\xff\xd8", b"\x89PNG", b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")


# ------------------------------------------------------------------ payload schemas
class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$", description="idempotency key")]
    issued_by: Annotated[str, Field(min_length=1, max_length=64, description="operator account, for the audit log")]
    issued_at: dt.datetime | None = None


class RosterRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    candidate_id: Annotated[str, Field(pattern=_ID)]
    personal_id: Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit CCCD number")]
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    birth_date: dt.date | None = None
    photo_b64: str | None = Field(default=None, description="JPEG/PNG/JPEG 2000, base64; at most 2 MB decoded")

    @field_validator("photo_b64")
    @classmethod
    def _photo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > (MAX_PHOTO_BYTES * 4) // 3 + 4:
            raise ValueError(f"photo larger than {MAX_PHOTO_BYTES} bytes")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("photo_b64 is not valid base64") from None
        if not data.startswith(_IMAGE_MAGIC):
            raise ValueError("photo is not a JPEG, PNG or JPEG 2000 image")
        return value

    def to_row(self) -> RosterRow:
        photo = base64.b64decode(self.photo_b64) if self.photo_b64 else None
        return RosterRow(self.candidate_id, self.personal_id, self.full_name, self.birth_date, photo)


class RosterCommand(_Command):
    session_id: Annotated[str, Field(pattern=_ID)]
    rows: Annotated[list[RosterRecord], Field(max_length=MAX_ROSTER_ROWS)]

    @field_validator("rows")
    @classmethod
    def _unique(cls, rows: list[RosterRecord]) -> list[RosterRecord]:
        for key in ("candidate_id", "personal_id"):
            values = [getattr(r, key) for r in rows]
            if len(set(values)) != len(values):
                raise ValueError(f"duplicate {key} in rows")
        return rows


class ThresholdsCommand(_Command):
    thresholds: Thresholds


class GateLockCommand(_Command):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class PlainCommand(_Command):
    """ping, diagnostics."""


COMMAND_MODELS: dict[str, type[_Command]] = {
    "roster.replace": RosterCommand,
    "roster.upsert": RosterCommand,
    "thresholds.set": ThresholdsCommand,
    "gate.lock": GateLockCommand,
    "gate.unlock": GateLockCommand,
    "ping": PlainCommand,
    "diagnostics": PlainCommand,
}
assert set(COMMAND_MODELS) == set(COMMAND_NAMES)


class CommandReply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    command_id: str | None
    status: Literal["ok", "error"]
    duplicate: bool = False
    result: dict[str, Any] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    site_id: str
    gate_id: str
    replied_at: str


# ------------------------------------------------------------------ ports
class CommandTarget(Protocol):
    """What commands act on; the wiring implements it over the store, policy and lane."""

    def replace_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest: ...
    def upsert_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest: ...
    def set_thresholds(self, thresholds: Thresholds, actor: str) -> None: ...
    def lock_gate(self, reason: str, actor: str) -> None: ...
    def unlock_gate(self, reason: str, actor: str) -> None: ...
    def diagnostics(self) -> dict[str, object]: ...


class CommandLedger(Protocol):
    """Durable memory of processed command ids, plus the audit chain (``edge.store.Store`` satisfies it)."""

    def command_reply(self, command_id: str) -> str | None: ...
    def record_command(self, command_id: str, name: str, reply: str, actor: str) -> bool: ...
    def audit(self, actor: str, action: str, details: dict[str, object]) -> None: ...


# ------------------------------------------------------------------ processing
@dataclass(frozen=True, slots=True)
class IncomingCommand:
    name: str
    topic: str
    payload: bytes
    signature: str | None = None


def sign(key: bytes, topic: str, payload: bytes) -> str:
    """The ``sig`` user property: hex HMAC-SHA256 over ``topic`` + LF + payload."""
    return hmac.new(key, topic.encode() + b"\n" + payload, hashlib.sha256).hexdigest()


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Locations and messages only: never echo the input (it may hold ID numbers)."""
    return [
        {
            "code": "E_CMD_INVALID",
            "loc": ".".join(str(p) for p in err["loc"]),
            "message": err["msg"],
            "remedy": CommandError.remedy,
        }
        for err in exc.errors(include_input=False, include_url=False)
    ]


class CommandProcessor:
    """Turns one incoming command into one reply. Pure apart from the target and ledger it was given."""

    def __init__(
        self, settings: MqttSettings, target: CommandTarget, ledger: CommandLedger, *, site_id: str, gate_id: str
    ) -> None:
        self._settings = settings
        self._target = target
        self._ledger = ledger
        self._site_id = site_id
        self._gate_id = gate_id
        self._key = settings.hmac_key()

    def _reply(
        self,
        name: str,
        command_id: str | None,
        *,
        result: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> CommandReply:
        return CommandReply(
            name=name,
            command_id=command_id,
            status="error" if errors else "ok",
            result=result or {},
            errors=errors or [],
            site_id=self._site_id,
            gate_id=self._gate_id,
            replied_at=iso_ms(),
        )

    def _refuse(self, name: str, command_id: str | None, error: ExamGateError | list[dict[str, Any]]) -> CommandReply:
        errors = error if isinstance(error, list) else [error.to_dict()]
        self._ledger.audit(
            "mqtt",
            "command.refused",
            {"name": name[:64], "command_id": command_id, "codes": sorted({str(e.get("code")) for e in errors})},
        )
        log.warning("command %s refused: %s", name[:64], [e.get("code") for e in errors])
        return self._reply(name, command_id, errors=errors)

    def reject_reply_topic(self, name: str, topic: str, prefix: str) -> CommandReply:
        return self._refuse(
            name,
            None,
            CommandError(
                f"response topic {topic[:200]!r} is outside {prefix}",
                code="E_CMD_REPLY_TOPIC",
                remedy=f"set the MQTT 5 response topic under {prefix} (the only place this gate may write replies)",
            ),
        )

    def process(self, command: IncomingCommand) -> CommandReply:
        name = command.name
        if len(command.payload) > self._settings.command_max_bytes:
            return self._refuse(
                name,
                None,
                CommandError(
                    f"command of {len(command.payload)} bytes exceeds mqtt.command_max_bytes "
                    f"({self._settings.command_max_bytes})",
                    code="E_CMD_TOO_LARGE",
                    remedy="split the roster into roster.upsert commands below the limit",
                ),
            )
        model = COMMAND_MODELS.get(name)
        if model is None:
            return self._refuse(
                name,
                None,
                CommandError(
                    f"unknown command {name[:64]!r}",
                    code="E_CMD_UNKNOWN",
                    remedy=f"use one of: {', '.join(COMMAND_NAMES)}",
                ),
            )
        if name not in self._settings.commands_enabled:
            return self._refuse(
                name,
                None,
                CommandError(
                    f"command {name} is disabled on this gate",
                    code="E_CMD_UNAUTHORISED",
                    remedy="enable it in mqtt.commands_enabled if this gate should accept it",
                ),
            )
        if self._key is not None and (
            command.signature is None
            or not hmac.compare_digest(command.signature, sign(self._key, command.topic, command.payload))
        ):
            return self._refuse(
                name,
                None,
                CommandError(
                    "command signature missing or wrong",
                    code="E_CMD_UNAUTHORISED",
                    remedy="sign the command with the site's command key (user property `sig`, see docs/mqtt.md)",
                ),
            )
        try:
            request = model.model_validate_json(command.payload)
        except ValidationError as exc:
            return self._refuse(name, _command_id_hint(command.payload), _validation_errors(exc))
        previous = self._ledger.command_reply(request.command_id)
        if previous is not None:
            stored = CommandReply.model_validate_json(previous)
            return stored.model_copy(update={"duplicate": True, "replied_at": iso_ms()})
        try:
            result = self._execute(name, request)
        except ExamGateError as exc:
            return self._refuse(name, request.command_id, exc)
        reply = self._reply(name, request.command_id, result=result)
        self._ledger.record_command(request.command_id, name, reply.model_dump_json(), request.issued_by)
        log.info("command %s %s done", name, request.command_id)
        return reply

    def _execute(self, name: str, request: _Command) -> dict[str, Any]:
        actor = request.issued_by
        if isinstance(request, RosterCommand):
            rows = [r.to_row() for r in request.rows]
            write = self._target.replace_roster if name == "roster.replace" else self._target.upsert_roster
            digest = write(request.session_id, rows, actor)
            return {"session_id": request.session_id, "rows": len(rows), "count": digest.count, "sha256": digest.sha256}
        if isinstance(request, ThresholdsCommand):
            self._target.set_thresholds(request.thresholds, actor)
            return {"thresholds_version": request.thresholds.version}
        if isinstance(request, GateLockCommand):
            if name == "gate.lock":
                self._target.lock_gate(request.reason, actor)
                return {"locked": True}
            self._target.unlock_gate(request.reason, actor)
            return {"locked": False}
        if name == "ping":
            return {"pong": True}
        return {"diagnostics": self._target.diagnostics()}


def _command_id_hint(payload: bytes) -> str | None:
    """The command_id of a malformed request, when it can be read, so the sender can match the reply."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get("command_id") if isinstance(data, dict) else None
    return value[:64] if isinstance(value, str) else None
