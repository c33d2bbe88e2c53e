"""What the centre's commands act on (``edge.mqtt.commands.CommandTarget``), implemented over one lane.

Commands arrive on the MQTT worker thread; each change here is a single reference swap or a store transaction, so the
lane's event loop never sees a half-applied change. Thresholds set by the centre are also written next to the database
(``thresholds.centre.toml``) and used at the next start, with a log line saying so.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from edge import __version__
from edge.config import Thresholds
from edge.errors import ExamGateError
from edge.events.models import DeviceStatus
from edge.lane import Lane
from edge.store import RosterDigest, RosterRow, Store

log = logging.getLogger("examgate.commands")

CENTRE_THRESHOLDS_FILE = "thresholds.centre.toml"


def centre_thresholds_path(store_path: Path) -> Path:
    return store_path.parent / CENTRE_THRESHOLDS_FILE


def load_centre_thresholds(store_path: Path) -> Thresholds | None:
    """Thresholds last pushed by the centre, if any (they win over the configured ones)."""
    path = centre_thresholds_path(store_path)
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        thresholds = Thresholds.model_validate(data)
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path.name, exc)
        return None
    log.info("using thresholds set by the centre version=%s from %s", thresholds.version, path.name)
    return thresholds


CENTRE_LOCK_FILE = "gate.locked"


def centre_lock_path(store_path: Path) -> Path:
    return store_path.parent / CENTRE_LOCK_FILE


def load_centre_lock(store_path: Path) -> str | None:
    """The centre's lock, when one was in force at the last stop (a restart never unlocks a locked gate)."""
    path = centre_lock_path(store_path)
    try:
        reason = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("lock file unreadable, staying locked: %s", exc)
        return "centre: lock file unreadable"
    log.warning("lane locked by the centre at the last stop: %s", reason)
    return f"centre: {reason}"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ExamGateError(
            f"cannot write {path.name}: {exc.strerror}",
            code="E_STORE_WRITE_FAILED",
            remedy="check the data directory is writable and has free space",
        ) from exc


class GateCommands:
    def __init__(self, lane: Lane, store: Store, config_digest: str) -> None:
        self.lane = lane
        self.store = store
        self.config_digest = config_digest

    def replace_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest:
        return self.store.replace_roster(session_id, rows, actor=actor)

    def upsert_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest:
        return self.store.upsert_roster(session_id, rows, actor=actor)

    def set_thresholds(self, thresholds: Thresholds, actor: str) -> None:
        # audited first: a change the audit chain cannot record is not made
        self.store.audit(
            actor,
            "thresholds.set",
            {"version": thresholds.version, "match": thresholds.match, "review": thresholds.review},
        )
        path = centre_thresholds_path(self.store.path)
        text = (
            f"version = {json.dumps(thresholds.version)}\nmatch = {thresholds.match!r}\n"
            f"review = {thresholds.review!r}\n"
        )
        _write_atomically(path, text)
        params = dataclasses.replace(
            self.lane.params,
            match_threshold=thresholds.match,
            review_threshold=thresholds.review,
            thresholds_version=thresholds.version,
        )
        self.lane.params = params  # one reference swap: a candidate in progress keeps the thresholds it started with
        self.lane.settings = dataclasses.replace(self.lane.settings, thresholds_version=thresholds.version)

    def _status(self, state: Literal["locked", "ready"], reason: str) -> None:
        s = self.lane.settings
        self.store.append_event(
            DeviceStatus(
                site_id=s.site_id,
                gate_id=s.gate_id,
                session_id=s.session_id,
                state=state,
                details={"cause": "centre", "reason": reason},
            )
        )

    def lock_gate(self, reason: str, actor: str) -> None:
        self.store.audit(actor, "gate.lock", {"reason": reason})
        _write_atomically(centre_lock_path(self.store.path), reason)  # survives a restart
        self.lane.centre_lock = f"centre: {reason}"
        self._status("locked", reason)

    def unlock_gate(self, reason: str, actor: str) -> None:
        if self.lane.fire_release_active:
            raise ExamGateError(
                "the fire alarm holds the lane open; it cannot be unlocked remotely",
                code="E_GATE_FIRE_RELEASE",
                remedy="reset the fire alarm loop at the site; the lane unlocks by itself when the loop closes",
            )
        self.store.audit(actor, "gate.unlock", {"reason": reason})
        centre_lock_path(self.store.path).unlink(missing_ok=True)
        self.lane.centre_lock = None
        self._status("ready", reason)

    def diagnostics(self) -> dict[str, object]:
        seq, head = self.store.audit_head()
        s = self.lane.settings
        return {
            "version": __version__,
            "config_digest": self.config_digest,
            "session_id": s.session_id,
            "thresholds_version": s.thresholds_version,
            "match_threshold": self.lane.params.match_threshold,
            "review_threshold": self.lane.params.review_threshold,
            "locked": self.lane.locked_reason,
            "outbox_backlog": self.store.outbox_backlog(),
            "audit_rows": seq,
            "audit_head": head,
            "model_version": self.lane.verifier.model_version,
        }
