"""Opening the SQLite file: pragmas, migrations, the one locked connection (``Database``), and turning sqlite3 errors
into E_STORE_… errors."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from edge.clock import iso_ms
from edge.errors import StoreError
from edge.store.migrations import MIGRATIONS

SCHEMA_VERSION = MIGRATIONS[-1][0]


class _Fault(NamedTuple):
    """One kind of sqlite3 failure: recognised by words in its message (or its SQLite error name)."""

    words: tuple[str, ...]
    code: str
    message: str  # formatted with name (the file name), path and exc
    remedy: str
    errorname: str = ""


_FAULTS = (
    _Fault(
        ("database or disk is full",),
        "E_STORE_DISK_FULL",
        "the disk holding {name} is full; nothing of this decision was written",
        "free space on the data partition (old exports, logs) — `examgate selftest` shows free space",
        errorname="SQLITE_FULL",
    ),
    _Fault(
        ("readonly", "read-only"),
        "E_STORE_READ_ONLY",
        "{path} is read-only",
        "remount the data partition read-write and check the examgate user owns the data directory",
    ),
    _Fault(
        ("unable to open", "not a database"),
        "E_STORE_OPEN_FAILED",
        "cannot open the database {path}: {exc}",
        "check the path exists, is writable by the examgate user, and is an ExamGate database",
    ),
    _Fault(
        ("locked", "busy"),
        "E_STORE_BUSY",
        "the database {name} is locked by another process",
        "stop the other process using the database (only one daemon per data directory)",
    ),
    _Fault(
        ("malformed", "corrupt", "disk i/o"),
        "E_STORE_CORRUPT",
        "the database {name} is damaged or the disk failed: {exc}",
        "stop the gate, copy the data directory for analysis, and run `examgate audit verify`",
    ),
)


def store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """Map a sqlite3 error onto a typed error with a remedy an operator can follow."""
    text = str(exc).lower()
    errorname = getattr(exc, "sqlite_errorname", "") or ""
    for fault in _FAULTS:
        if (fault.errorname and errorname == fault.errorname) or any(word in text for word in fault.words):
            message = fault.message.format(name=path.name, path=path, exc=exc)
            return StoreError(message, code=fault.code, remedy=fault.remedy)
    return StoreError(f"database error on {path.name}: {exc}")


def connect(path: Path, synchronous: Literal["NORMAL", "FULL"] = "FULL", read_only: bool = False) -> sqlite3.Connection:
    try:
        if read_only:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            if not path.parent.is_dir():
                raise StoreError(
                    f"data directory {path.parent} does not exist",
                    code="E_STORE_OPEN_FAILED",
                    remedy="create it (examgate provision init does) and give it to the examgate user",
                )
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    except sqlite3.Error as exc:
        raise store_error(exc, path) from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            migrate(conn)
    except BaseException as exc:
        conn.close()  # never leak the connection (and its file lock) of a database that failed to open
        if isinstance(exc, sqlite3.Error):
            raise store_error(exc, path) from exc
        raise
    return conn


class Database:
    """One SQLite connection, its lock and its path: the store's parts, the account store and the API's read-only
    queries all read and write through one of these (the lane and the publisher thread share the gate's)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, synchronous: Literal["NORMAL", "FULL"] = "FULL") -> None:
        self.conn = conn
        self.path = path
        self.synchronous = synchronous
        self.lock = threading.RLock()

    @classmethod
    def open(cls, path: Path, *, synchronous: Literal["NORMAL", "FULL"] = "FULL", read_only: bool = False) -> Database:
        return cls(connect(path, synchronous=synchronous, read_only=read_only), path, synchronous)

    def close(self) -> None:
        with self.lock:
            try:
                self.conn.close()
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """All rows of one query, under the lock; a sqlite3 error becomes a typed E_STORE_… error."""
        with self.lock:
            try:
                return list(self.conn.execute(sql, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, outside a transaction (reads that walk a cursor)."""
        with self.lock:
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, inside one BEGIN IMMEDIATE … COMMIT transaction (see ``transaction``)."""
        with self.lock, transaction(self.conn, self.path) as c:
            yield c


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT; on any error ROLLBACK, so no partial rows are ever left."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise store_error(exc, path) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise store_error(exc, path) from exc
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the file's version, each in its own transaction. Returns the new version."""
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database is schema version {version}, newer than this software ({SCHEMA_VERSION})",
            code="E_STORE_SCHEMA_NEWER",
            remedy="install the ExamGate version that wrote this database, or restore a matching backup",
        )
    for number, script in MIGRATIONS:
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in (s.strip() for s in script.split(";")):
                if statement:
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, iso_ms()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version
