"""Idempotent provisioning steps. Each step looks before it leaps and reports what it did (or, in a dry
run, what it would do); re-running a finished provisioning changes nothing and says so."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge.provision.errors import ProvisionError

Status = Literal["created", "updated", "unchanged", "kept", "ran", "would-create", "would-update", "would-run"]
CHANGES: frozenset[str] = frozenset({"created", "updated", "ran"})
WOULD: frozenset[str] = frozenset({"would-create", "would-update", "would-run"})


@dataclass(frozen=True)
class Outcome:
    action: str
    target: str
    status: Status
    detail: str = ""


@dataclass
class Runner:
    """Applies steps under ``dry_run`` rules and collects one :class:`Outcome` per step."""

    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    def _record(self, action: str, target: Path | str, status: Status, detail: str = "") -> Status:
        self.outcomes.append(Outcome(action, str(target), status, detail))
        return status

    # ----------------------------------------------------------------- files
    def ensure_dir(self, path: Path, mode: int) -> Status:
        if path.is_dir():
            if _mode(path) == mode:
                return self._record("directory", path, "unchanged")
            if self.dry_run:
                return self._record("directory", path, "would-update", f"mode {_mode(path):o} -> {mode:o}")
            path.chmod(mode)
            return self._record("directory", path, "updated", f"mode -> {mode:o}")
        if path.exists():
            raise ProvisionError(
                f"{path} exists and is not a directory", code="E_PROVISION_PATH_CONFLICT", remedy="move it away"
            )
        if self.dry_run:
            return self._record("directory", path, "would-create", f"mode {mode:o}")
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        return self._record("directory", path, "created", f"mode {mode:o}")

    def ensure_file(
        self,
        path: Path,
        make: Callable[[], bytes],
        mode: int,
        *,
        action: str = "file",
        replace: Literal["always", "never"] = "always",
        same: Callable[[bytes], bool] | None = None,
    ) -> Status:
        """Write ``make()`` to ``path`` with ``mode`` unless the file is already the same.

        ``same(existing)`` decides sameness (default: byte equality with ``make()``); ``replace="never"`` keeps
        a differing file (operator's edits, keys) and reports it as ``kept``.
        """
        if path.is_file():
            existing = path.read_bytes()
            is_same = same(existing) if same is not None else existing == make()
            if is_same or replace == "never":
                status: Status = "unchanged" if is_same else "kept"
                detail = "" if is_same else "differs from what provisioning would write; left as is"
                if _mode(path) != mode:
                    if self.dry_run:
                        return self._record(action, path, "would-update", f"mode {_mode(path):o} -> {mode:o}")
                    path.chmod(mode)
                    return self._record(action, path, "updated", f"mode -> {mode:o}")
                return self._record(action, path, status, detail)
            if self.dry_run:
                return self._record(action, path, "would-update", f"mode {mode:o}")
            write_atomic(path, make(), mode)
            return self._record(action, path, "updated", f"mode {mode:o}")
        if path.exists():
            raise ProvisionError(
                f"{path} exists and is not a file", code="E_PROVISION_PATH_CONFLICT", remedy="move it away"
            )
        if self.dry_run:
            return self._record(action, path, "would-create", f"mode {mode:o}")
        write_atomic(path, make(), mode)
        return self._record(action, path, "created", f"mode {mode:o}")

    # -------------------------------------------------------------- commands
    def run(self, action: str, argv: Sequence[str], *, needed: bool, execute: bool) -> Status:
        """Run ``argv`` when ``needed``; when not ``execute`` (not the live root) only report it."""
        line = shlex.join(argv)
        if not needed:
            return self._record(action, line, "unchanged")
        if self.dry_run or not execute:
            detail = "" if self.dry_run else "not the live root: run this on the gate"
            return self._record(action, line, "would-run", detail)
        result = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise ProvisionError(
                f"`{line}` failed ({result.returncode}): {result.stderr.strip()[:500]}",
                code="E_PROVISION_COMMAND_FAILED",
                remedy="fix the cause shown, then run the same provision command again",
            )
        return self._record(action, line, "ran")

    def note(self, action: str, target: str, status: Status, detail: str = "") -> None:
        self._record(action, target, status, detail)

    # --------------------------------------------------------------- report
    def report(self, **extra: Any) -> dict[str, Any]:
        changed = [o for o in self.outcomes if o.status in CHANGES]
        pending = [o for o in self.outcomes if o.status in WOULD]
        if self.dry_run:
            summary = f"dry run: {len(pending)} action(s) would change the system; nothing was written"
        else:
            summary = f"{len(changed)} change(s) made" if changed else "nothing to do: already provisioned"
            if pending:
                summary += f"; {len(pending)} command(s) left to run on the gate itself (see actions)"
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "changed": len(changed),
            "summary": summary,
            **extra,
            "actions": [asdict(o) for o in self.outcomes],
        }


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file created with ``mode`` from the start (a key is never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # O_CREAT's mode is filtered by the umask
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
