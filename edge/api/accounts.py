"""Local accounts, login throttling and console sessions, kept in the gate's SQLite file (tables of migration 2).

The API opens its own connection to the store's file (WAL lets it share the file with the lane's connection);
every change is one transaction with its row in the hash-chained audit log. Session cookies are random tokens;
only their SHA-256 is stored, so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from edge.api.errors import AccountError, unknown_user, weak_password
from edge.api.passwords import DUMMY_HASH, hash_password, verify_password
from edge.api.settings import ApiSettings
from edge.clock import iso_ms, parse_iso_ms
from edge.store import audit as audit_chain
from edge.store.db import Database

Role = Literal["proctor", "technician", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{3,32}$")
MIN_PASSWORD_CHARS = 10


def iso(epoch_s: float) -> str:
    """Epoch seconds (the injectable clock) as the shared millisecond timestamp of ``edge.clock``."""
    return iso_ms(dt.datetime.fromtimestamp(epoch_s, dt.UTC))


def epoch(text: str) -> float:
    return parse_iso_ms(text).timestamp()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in account (with its session's CSRF token) or the kiosk screen."""

    username: str
    role: Role | Literal["kiosk", "metrics"]
    csrf_token: str = ""
    expires_at: float = 0.0


@dataclass(frozen=True)
class LoginResult:
    principal: Principal | None
    token: str | None = None
    retry_after_s: float = 0.0  # > 0: refused without checking the password (locked out / throttled)


def check_username(username: str) -> None:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(f"username {username!r} is not allowed", code="E_ACCOUNT_INVALID")


def check_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise weak_password(f"shorter than {MIN_PASSWORD_CHARS} characters")
    if password.lower() == username.lower():
        raise weak_password("same as the username")
    if len(password) > 256:
        raise weak_password("longer than 256 characters")


class AccountStore:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._db = Database.open(path)

    def close(self) -> None:
        self._db.close()

    def _audit(self, conn: sqlite3.Connection, actor: str, action: str, details: dict[str, object]) -> None:
        audit_chain.append(conn, iso(self.clock()), actor, action, details)

    # ------------------------------------------------------------ accounts
    def add_user(self, username: str, role: str, password: str, actor: str) -> User:
        check_username(username)
        if role not in ROLES:
            raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}", code="E_ACCOUNT_INVALID")
        check_password(username, password)
        hashed = hash_password(password)
        stamp = iso(self.clock())
        with self._db.write() as c:
            if c.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise AccountError(
                    f"account {username!r} exists already",
                    code="E_ACCOUNT_EXISTS",
                    remedy="pick another name, or change its password with `examgate users passwd`",
                )
            c.execute(
                "INSERT INTO users (username, role, password_hash, disabled, created_at, password_changed_at) "
                "VALUES (?,?,?,0,?,?)",
                (username, role, hashed, stamp, stamp),
            )
            self._audit(c, actor, "account.add", {"username": username, "role": role})
        return User(username, role, False)  # type: ignore[arg-type]  # checked against ROLES above

    def set_password(self, username: str, password: str, actor: str) -> None:
        check_password(username, password)
        hashed = hash_password(password)
        with self._db.write() as c:
            cur = c.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                (hashed, iso(self.clock()), username),
            )
            self._end_sessions(c, cur.rowcount, username, actor, "account.passwd")

    def disable(self, username: str, actor: str) -> None:
        with self._db.write() as c:
            cur = c.execute("UPDATE users SET disabled = 1 WHERE username = ?", (username,))
            self._end_sessions(c, cur.rowcount, username, actor, "account.disable")

    def _end_sessions(self, c: sqlite3.Connection, rows_changed: int, username: str, actor: str, action: str) -> None:
        """After an UPDATE of the account: unknown user when it changed no row, else log its sessions out and audit
        ``action``."""
        if rows_changed != 1:
            raise unknown_user(username)
        c.execute("DELETE FROM api_sessions WHERE username = ?", (username,))
        self._audit(c, actor, action, {"username": username})

    def users(self) -> list[User]:
        rows = self._db.read("SELECT username, role, disabled FROM users ORDER BY username")
        return [User(str(u), str(r), bool(d)) for u, r, d in rows]  # type: ignore[arg-type]  # CHECK constraint

    def _user(self, username: str) -> tuple[User, str] | None:
        rows = self._db.read(
            "SELECT username, role, disabled, password_hash FROM users WHERE username = ?", (username,)
        )
        if not rows:
            return None
        u, r, d, h = rows[0]
        return User(str(u), str(r), bool(d)), str(h)  # type: ignore[arg-type]  # CHECK constraint

    # --------------------------------------------------------------- login
    # Limits (docs/api.md): an account locks after `login_max_failures` failures within `login_window_s`, for
    # `login_lockout_s` doubling per further failure, never longer than `login_lockout_max_s`; an address is refused
    # after `login_remote_max_failures` failures within the window. Refused attempts are not recorded, so one
    # address can spend at most `login_remote_max_failures` failures per window: it can lock a few accounts for a
    # bounded time, never every account for the window.
    def _lockout(self, c: sqlite3.Connection, username: str, now: float, settings: ApiSettings) -> float:
        """Seconds the account stays locked (0 when it may try)."""
        since = iso(now - settings.login_window_s)
        last_ok = c.execute("SELECT MAX(at) FROM login_attempts WHERE username = ? AND ok = 1", (username,)).fetchone()
        if last_ok and last_ok[0] is not None and str(last_ok[0]) > since:
            since = str(last_ok[0])
        row = c.execute(
            "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE username = ? AND ok = 0 AND at > ?", (username, since)
        ).fetchone()
        failures = int(row[0])
        if failures < settings.login_max_failures or row[1] is None:
            return 0.0
        lock_s = min(
            settings.login_lockout_s * 2.0 ** (failures - settings.login_max_failures), settings.login_lockout_max_s
        )
        return max(0.0, epoch(str(row[1])) + lock_s - now)

    def _remote_throttle(self, c: sqlite3.Connection, remote: str, now: float, settings: ApiSettings) -> float:
        row = c.execute(
            "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE remote = ? AND ok = 0 AND at > ?",
            (remote, iso(now - settings.login_window_s)),
        ).fetchone()
        if int(row[0]) < settings.login_remote_max_failures or row[1] is None:
            return 0.0
        return max(1.0, epoch(str(row[1])) + settings.login_window_s - now)

    def login(self, username: str, password: str, remote: str, settings: ApiSettings) -> LoginResult:
        """Check a login; on success open a session. Every checked attempt is recorded (throttling survives a
        restart); attempts refused by a lockout are not checked, so they do not lengthen it.

        Check and count are one transaction: the attempt is recorded as a failure *before* the (slow) password
        check and turned into a success after it, so parallel requests all see each other and the limits hold."""
        now = self.clock()
        with self._db.write() as c:
            wait_s = max(self._lockout(c, username, now, settings), self._remote_throttle(c, remote, now, settings))
            if wait_s > 0:
                return LoginResult(None, retry_after_s=wait_s)
            attempt = c.execute(
                "INSERT INTO login_attempts (username, at, ok, remote) VALUES (?,?,0,?)",
                (username[:64], iso(now), remote[:64]),
            ).lastrowid
        found = self._user(username)
        ok = (
            verify_password(password, found[1] if found else DUMMY_HASH) and found is not None and not found[0].disabled
        )
        if not ok or found is None:
            return LoginResult(None)
        user = found[0]
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + settings.session_ttl_s
        with self._db.write() as c:
            c.execute("UPDATE login_attempts SET ok = 1 WHERE rowid = ?", (attempt,))
            c.execute(
                "INSERT INTO api_sessions (token_hash, username, csrf_token, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (token_hash(token), user.username, csrf, iso(now), iso(expires)),
            )
            c.execute("DELETE FROM api_sessions WHERE expires_at < ?", (iso(now),))
            self._audit(c, user.username, "session.login", {"remote": remote[:64]})
        return LoginResult(Principal(user.username, user.role, csrf, expires), token)

    def session(self, token: str) -> Principal | None:
        """The account behind a session cookie, or None (unknown, expired, or the account was disabled)."""
        rows = self._db.read(
            "SELECT s.username, u.role, s.csrf_token, s.expires_at FROM api_sessions s JOIN users u USING (username) "
            "WHERE s.token_hash = ? AND u.disabled = 0",
            (token_hash(token),),
        )
        if not rows:
            return None
        username, role, csrf, expires = rows[0]
        expires_at = epoch(str(expires))
        if expires_at <= self.clock():
            return None
        return Principal(str(username), str(role), str(csrf), expires_at)  # type: ignore[arg-type]  # CHECK

    def logout(self, token: str, actor: str) -> None:
        with self._db.write() as c:
            if c.execute("DELETE FROM api_sessions WHERE token_hash = ?", (token_hash(token),)).rowcount:
                self._audit(c, actor, "session.logout", {})

    def audit(self, actor: str, action: str, details: dict[str, object]) -> None:
        with self._db.write() as c:
            self._audit(c, actor, action, details)
