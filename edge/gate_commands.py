"""What the centre's commands act on (``edge.mqtt.commands.CommandTarget``), implemented over one lane.

Commands arrive on the MQTT worker thread; each change here is a single reference swap or a store transaction, so the
lane's event loop never sees a half-applied change. Thresholds set by the centre are also written next to the database
(``thresholds.centre.toml``) and used at the next start, with a log line saying so.
"""

from __future__ import annotations

import dataclasses
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
        path = centre_thresholds_path(self.store.path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            f'version = "{thresholds.version}"\nmatch = {thresholds.match!r}\nreview = {thresholds.review!r}\n',
            encoding="utf-8",
        )
        tmp.replace(path)
        params = dataclasses.replace(
            self.lane.params, match_threshold=thresholds.match, review_threshold=thresholds.review
        )
        self.lane.settings = dataclasses.replace(self.lane.settings, thresholds_version=thresholds.version)
        self.lane.params = params
        self.store.audit(
            actor,
            "thresholds.set",
            {"version": thresholds.version, "match": thresholds.match, "review": thresholds.review},
        )

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
        self.lane.locked_reason = f"centre: {reason}"
        self.store.audit(actor, "gate.lock", {"reason": reason})
        self._status("locked", reason)

    def unlock_gate(self, reason: str, actor: str) -> None:
        if self.lane.locked_reason == "fire_release":
            raise ExamGateError(
                "the fire alarm holds the lane open; it cannot be unlocked remotely",
                code="E_GATE_FIRE_RELEASE",
                remedy="reset the fire alarm loop at the site; the lane unlocks by itself when the loop closes",
            )
        self.lane.locked_reason = None
        self.store.audit(actor, "gate.unlock", {"reason": reason})
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
