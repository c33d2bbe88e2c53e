"""Schema migrations. Append only: never edit a migration that has shipped; add a new one.

Each entry is (version, SQL script). ``schema_version`` holds the applied versions.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE exam_sessions (
            session_id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            exam_date TEXT,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            created_at TEXT NOT NULL
        );
        CREATE TABLE roster (
            session_id TEXT NOT NULL REFERENCES exam_sessions(session_id),
            candidate_id TEXT NOT NULL,
            personal_id TEXT NOT NULL,
            full_name TEXT NOT NULL,
            birth_date TEXT,
            photo BLOB,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (session_id, candidate_id),
            UNIQUE (session_id, personal_id)
        );
        CREATE TABLE attempts (
            attempt_id TEXT PRIMARY KEY,
            session_id TEXT,
            candidate_id TEXT,
            id_masked TEXT,
            credential TEXT NOT NULL,
            started_at TEXT NOT NULL
        );
        CREATE TABLE decisions (
            attempt_id TEXT PRIMARY KEY REFERENCES attempts(attempt_id),
            outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'review', 'fail')),
            reason_codes TEXT NOT NULL,
            face_score REAL,
            thresholds_version TEXT NOT NULL,
            model_version TEXT,
            event_id TEXT NOT NULL,
            decided_at TEXT NOT NULL
        );
        CREATE TABLE admissions (
            session_id TEXT NOT NULL,
            candidate_id TEXT NOT NULL,
            gate_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            admitted_at TEXT NOT NULL,
            PRIMARY KEY (session_id, candidate_id)
        );
        CREATE TABLE reviews (
            attempt_id TEXT PRIMARY KEY REFERENCES attempts(attempt_id),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
            reasons TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            resolved_by TEXT,
            resolved_reason TEXT,
            resolved_at TEXT
        );
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            occurred_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            row_hash TEXT NOT NULL
        );
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL,
            last_hash TEXT NOT NULL
        );
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            event_type TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL;
        CREATE TABLE processed_commands (
            command_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            reply TEXT NOT NULL,
            processed_at TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('proctor', 'technician', 'viewer')),
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL
        );
        CREATE TABLE login_attempts (
            username TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            remote TEXT
        );
        CREATE INDEX login_attempts_user ON login_attempts(username, at);
        CREATE TABLE api_sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES users(username),
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE assisted_admissions (
            attempt_id TEXT PRIMARY KEY REFERENCES attempts(attempt_id),
            officer TEXT NOT NULL,
            credential TEXT NOT NULL,
            commitment_signed INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT ''
        );
        """,
    ),
    (
        3,
        """
        CREATE TABLE face_evidence (
            attempt_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('live', 'chip', 'roster')),
            key_id TEXT NOT NULL,
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (attempt_id, kind)
        );
        CREATE INDEX face_evidence_expiry ON face_evidence(expires_at);
        """,
    ),
)
