"""Start-up checks: what must hold before a gate admits anyone, beyond the config file's own validation.

Checked: the thresholds file, the database path and its folder, the data key(s), and that the session the lane
would admit for exists in the store.

``examgate daemon`` refuses to start on any of these, and ``examgate config check`` reports the same list, so a config
that passes the check is one the daemon starts with. Nothing here opens a device or writes the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from edge.config import AppConfig, name_env_sources
from edge.errors import ConfigError, ExamGateError
from edge.gate_commands import centre_thresholds_path

Problem = tuple[str, str]


def _file_problem(path: Path, what: str) -> str | None:
    if path.is_dir():
        return f"{path} is a directory: give the {what} file inside it"
    if not path.exists():
        return f"{path} does not exist"
    if not os.access(path, os.R_OK):
        return f"{path} cannot be read by this user"
    return None


def _thresholds(cfg: AppConfig) -> list[Problem]:
    path = cfg.policy.thresholds_file
    if path is None or centre_thresholds_path(cfg.store.path).is_file():
        return []  # inline, or the centre's pushed thresholds win over the file (as in wiring.build_gate)
    missing = _file_problem(path, "thresholds")
    if missing is not None:
        return [("policy.thresholds_file", f"{missing}; write it with `examgate face calibrate`")]
    from edge.vision.thresholds import load_thresholds  # noqa: PLC0415 - the vision stack only when a file is set

    try:
        load_thresholds(path)
    except ExamGateError as exc:
        return [("policy.thresholds_file", exc.message)]
    return []


def _store(cfg: AppConfig) -> list[Problem]:
    path = cfg.store.path
    if path.is_dir():
        return [("store.path", f"{path} is a directory: give the database file inside it, e.g. {path / 'examgate.db'}")]
    folder = path.parent
    if not folder.is_dir():
        return [("store.path", f"folder {folder} does not exist: create it (`examgate provision init` does)")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [("store.path", f"folder {folder} is not writable by this user (SQLite needs it for its journal)")]
    return []


def _session(cfg: AppConfig) -> list[Problem]:
    """The session the lane would admit for must exist in the store (an unknown one has no roster)."""
    from edge.store import Store  # noqa: PLC0415

    path = cfg.store.path
    wanted = cfg.lane.session_id
    import_hint = "import its roster with `examgate roster import FILE --session ID`"
    if not path.is_file():
        if wanted is not None:
            return [
                ("lane.session_id", f"no session {wanted!r}: the database {path} does not exist yet; {import_hint}")
            ]
        return [("lane.session_id", f"no exam session to admit for: the database {path} does not exist yet")]
    try:
        store = Store.open(path, read_only=True)
    except ExamGateError as exc:
        return [("store.path", f"cannot open {path}: {exc.message}")]
    try:
        sessions = {session_id: status for session_id, status, _created, _size in store.sessions()}
        open_session = store.open_session_id()
    except ExamGateError as exc:
        return [("store.path", f"cannot read {path}: {exc.message}")]
    finally:
        store.close()
    if wanted is not None and wanted not in sessions:
        known = ", ".join(sorted(sessions)[:5]) or "none"
        return [("lane.session_id", f"no session {wanted!r} in {path.name} (sessions: {known}); {import_hint}")]
    if wanted is None and open_session is None:
        return [("lane.session_id", f"no open exam session in {path.name}: set it, or {import_hint}")]
    return []


def _privacy(cfg: AppConfig) -> list[Problem]:
    """A configured data key that is missing, unsafe or malformed stops the gate (``open_vault``)."""
    from edge.privacy.keys import load_key  # noqa: PLC0415

    problems: list[Problem] = []
    paths = [("privacy.key_file", cfg.privacy.key_file)]
    paths += [("privacy.previous_key_files", p) for p in cfg.privacy.previous_key_files]
    for dotted, path in paths:
        if path is None:
            continue
        if path.is_dir():
            problems.append((dotted, f"{path} is a directory: give the key file inside it"))
            continue
        try:
            load_key(path)
        except ExamGateError as exc:
            problems.append((dotted, f"{exc.message} ({exc.remedy})"))
    return problems


def startup_problems(cfg: AppConfig, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every reason the daemon would refuse ``cfg``, each naming the environment variable when one is at fault."""
    problems = _thresholds(cfg) + _store(cfg) + _privacy(cfg)
    if not any(dotted == "store.path" for dotted, _ in problems):
        problems += _session(cfg)
    return name_env_sources(problems, os.environ if environ is None else environ)


def check_startup(cfg: AppConfig, environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`ConfigError` listing every start-up problem (the daemon calls this before opening anything)."""
    problems = startup_problems(cfg, environ)
    if problems:
        raise ConfigError(f"the gate cannot start: {len(problems)} problem(s)", problems)
