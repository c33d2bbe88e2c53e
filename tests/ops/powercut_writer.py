"""Child process for the power-cut test: commits decisions in a loop until killed.

After each ``record_decision`` returns, the attempt id is appended to IDS_FILE and fsync'd, so the parent knows
exactly which commits had returned when the SIGKILL landed. Usage: ``python powercut_writer.py DB IDS_FILE PREFIX``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from edge.events.models import CandidateRejected
from edge.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from event_helpers import decision_event


def main(db: Path, ids_file: Path, prefix: str) -> None:
    store = Store.open(db, synchronous="FULL")
    store.ensure_session("SES-CUT")
    fd = os.open(ids_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    n = 0
    while True:
        attempt = f"{prefix}-{n:06d}"
        event = decision_event(
            CandidateRejected, attempt, f"C{n}", session_id="SES-CUT", reason_codes=("FACE_MISMATCH",), face_score=0.2
        )
        store.record_decision(event)
        os.write(fd, f"{attempt}\n".encode())
        os.fsync(fd)
        n += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
