"""Site-wide anti-passback: remember the other gates' admissions; flag a candidate admitted at two gates.

Every gate subscribes to ``examgate/v1/{site}/+/events/candidate.admitted`` (persistent session, so admissions made
while this gate was cut off are delivered when it reconnects). A remote admission is recorded in the store; the lane
refuses a second admission for a recorded candidate. When the link was partitioned and the same candidate was
admitted here too, the first record wins and this gate appends an ``admission.conflict`` event for the proctor.
Both gates see the other's admission, so each raises one conflict event (same pair of event ids): receivers
group them by ``(first_event_id, second_event_id)`` as an unordered pair.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from pydantic import ValidationError

from edge.events.models import AdmissionConflict, CandidateAdmitted, Event, parse_event
from edge.masking import mask_id

log = logging.getLogger(__name__)


class AdmissionLedger(Protocol):
    """The part of ``edge.store.Store`` anti-passback uses."""

    def record_remote_admission(
        self, session_id: str, candidate_id: str, gate_id: str, event_id: str, occurred_at: dt.datetime
    ) -> bool: ...
    def admission_of(self, session_id: str, candidate_id: str) -> tuple[str, str] | None: ...
    def open_session_id(self) -> str | None: ...
    def append_event(self, event: Event, actor: str = ...) -> None: ...


class AntiPassback:
    def __init__(self, ledger: AdmissionLedger, *, site_id: str, gate_id: str) -> None:
        self._ledger = ledger
        self._site_id = site_id
        self._gate_id = gate_id
        self.remote_recorded = 0
        self.conflicts = 0

    def handle(self, payload: bytes) -> AdmissionConflict | None:
        """Process one received ``candidate.admitted`` payload. Returns the conflict event it raised, if any."""
        try:
            event = parse_event(payload)
        except ValidationError:
            log.warning("anti-passback: ignored a malformed candidate.admitted payload")
            return None
        if not isinstance(event, CandidateAdmitted) or event.site_id != self._site_id:
            return None
        if event.gate_id == self._gate_id or event.session_id is None or event.subject.candidate_id is None:
            return None
        open_session = self._ledger.open_session_id()
        if open_session is not None and event.session_id != open_session:
            return None
        candidate = event.subject.candidate_id
        if self._ledger.record_remote_admission(
            event.session_id, candidate, event.gate_id, event.event_id, event.occurred_at
        ):
            self.remote_recorded += 1
            return None
        known = self._ledger.admission_of(event.session_id, candidate)
        if known is None or known[1] == event.event_id or known[0] != self._gate_id:
            return None  # a redelivery, or a conflict between two other gates (they report it themselves)
        conflict = AdmissionConflict(
            site_id=self._site_id,
            gate_id=self._gate_id,
            session_id=event.session_id,
            subject=event.subject,
            first_gate_id=known[0],
            first_event_id=known[1],
            second_gate_id=event.gate_id,
            second_event_id=event.event_id,
        )
        self._ledger.append_event(conflict, actor="anti-passback")
        self.conflicts += 1
        log.warning("anti-passback: candidate %s admitted here and at gate %s", mask_id(candidate), event.gate_id)
        return conflict
