"""Child process for the power-cut test: commits decisions in a loop until killed.

After each ``record_decision`` returns, the attempt id is appended to IDS_FILE and fsync'd, so the parent knows
exactly which commits had returned when the SIGKILL landed. Usage: ``python powercut_writer.py DB IDS_FILE PREFIX``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from edge.events.models import CandidateRejected, Subject
from edge.store import Store


def main(db: Path, ids_file: Path, prefix: str) -> None:
    store = Store.open(db, synchronous="FULL")
    store.ensure_session("SES-CUT")
    fd = os.open(ids_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    n = 0
    while True:
        attempt = f"{prefix}-{n:06d}"
        event = CandidateRejected(
            site_id="S1",
            gate_id="lane-1",
            session_id="SES-CUT",
            attempt_id=attempt,
            subject=Subject(candidate_id=f"C{n}", id_masked="0010******45"),
            reason_codes=("FACE_MISMATCH",),
            face_score=0.2,
            thresholds_version="t1",
            match_threshold=0.6,
            review_threshold=0.5,
            model_version="m1",
        )
        store.record_decision(event)
        os.write(fd, f"{attempt}\n".encode())
        os.fsync(fd)
        n += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
