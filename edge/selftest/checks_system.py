"""Host checks: model files vs models/SHA256SUMS, clock, free disk, store + audit chain, roster, CPU temperature."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from edge.selftest.model import CheckResult, SelftestContext, failed, passed, skipped

SUMS_FILE = "SHA256SUMS"
EARLIEST_PLAUSIBLE_YEAR = 2025  # a Pi without RTC or NTP boots into 1970 or its image's build date
LATEST_PLAUSIBLE_YEAR = 2100


def _sha256(path: Path) -> str:
    """Hashed afresh on every run (a file altered since the daemon started must show)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_models(ctx: SelftestContext) -> CheckResult:
    """Every file listed in SHA256SUMS is present and hashes right; the configured models are among them."""
    from edge.vision.embedders import FAMILIES  # noqa: PLC0415
    from edge.vision.models import ModelHashError, listed_sha256, models_dir  # noqa: PLC0415
    from edge.vision.pad.landmarks import LANDMARK_FILE  # noqa: PLC0415

    folder = models_dir(ctx.cfg.vision)
    sums = folder / SUMS_FILE
    reinstall = "reinstall the release (its models/ folder) or copy the files again from the release archive"
    if not sums.is_file():
        return failed("models", f"{sums} is missing", reinstall)
    try:
        expected = listed_sha256(folder)
    except ModelHashError as exc:
        return failed("models", exc.message, reinstall)
    problems: list[str] = []
    vision = ctx.cfg.vision
    configured = [vision.detector_file_name, vision.embedder_file_name]
    if FAMILIES[vision.embedder].uses_face_mesh:
        configured.append(LANDMARK_FILE)  # the embedder's chip comes from the face mesh
    for name in configured:
        if name not in expected:
            problems.append(f"{name} (configured) is not listed in {SUMS_FILE}")
    for name, want in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif _sha256(path) != want:
            problems.append(f"{name} does not match its SHA-256 in {SUMS_FILE} (damaged or replaced)")
    if problems:
        return failed("models", "; ".join(problems), reinstall)
    return passed("models", f"{len(expected)} model file(s) match {SUMS_FILE} in {folder}")


def check_clock(ctx: SelftestContext) -> CheckResult:
    """NTP synchronised (systemd-timesyncd / chrony via timedatectl); else at least a plausible year."""
    now = ctx.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    ntp_remedy = (
        "connect the network and check `timedatectl timesync-status`; certificates, events and the retention "
        "purge depend on the clock"
    )
    synced: str | None = None
    try:
        done = ctx.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    except (OSError, subprocess.SubprocessError):  # no timedatectl, or no systemd to answer it
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip() in ("yes", "no"):
        synced = done.stdout.strip()
    if synced == "no":
        return failed("clock", f"clock reads {stamp} but is NOT synchronised with NTP", ntp_remedy)
    if not EARLIEST_PLAUSIBLE_YEAR <= now.year < LATEST_PLAUSIBLE_YEAR:
        return failed("clock", f"clock reads {stamp}: not a plausible date", ntp_remedy)
    if synced == "yes":
        return passed("clock", f"{stamp}, synchronised with NTP")
    return passed("clock", f"{stamp} (plausible; NTP state unknown: timedatectl not available)")


def check_disk(ctx: SelftestContext) -> CheckResult:
    folder = ctx.cfg.store.path.parent
    try:
        usage = shutil.disk_usage(folder)
    except OSError as exc:
        return failed(
            "disk", f"cannot examine {folder}: {exc.strerror}", "create the data directory (examgate provision init)"
        )
    free_mb = usage.free / 1e6
    need_mb = ctx.cfg.store.min_free_mb
    detail = (
        f"{free_mb:,.0f} MB free of {usage.total / 1e6:,.0f} MB on the data partition ({folder}); need {need_mb} MB"
    )
    if free_mb < need_mb:
        return failed(
            "disk",
            detail,
            "free space on the data partition (old exports, logs: `journalctl --vacuum-size=100M`), "
            "run `examgate privacy purge-expired`, or use a larger SD card",
        )
    return passed("disk", detail)


def _root_on_service_data(folder: Path) -> CheckResult | None:
    """Opening the database as root would leave root-owned -wal/-shm files the service then cannot write."""
    try:
        owner = folder.stat().st_uid
    except OSError:
        return None
    if os.geteuid() == 0 and owner != 0:
        return failed(
            "store",
            f"not opened: running as root, and {folder} belongs to uid {owner} (root-owned database files "
            "would lock the service out)",
            "run the self-test as the service user: `sudo -u examgate examgate selftest`",
        )
    return None


def check_store(ctx: SelftestContext) -> CheckResult:
    """The store opens (migrating if needed) and its audit chain verifies."""
    from edge.store import open_store  # noqa: PLC0415
    from edge.store.db import SCHEMA_VERSION  # noqa: PLC0415

    refused = _root_on_service_data(ctx.cfg.store.path.parent)
    if refused is not None:
        return refused
    store = open_store(ctx.cfg.store.path, ctx.cfg.store.synchronous)
    try:
        report = store.verify_audit()
        backlog = store.outbox_backlog()
    finally:
        store.close()
    if not report.ok:
        return failed(
            "store",
            f"audit chain BROKEN: {'; '.join(report.problems[:3])}",
            "stop the gate, copy the data directory for the centre and report it: the audit log was altered",
        )
    return passed(
        "store",
        f"{ctx.cfg.store.path.name}: schema v{SCHEMA_VERSION}, {report.rows} audit row(s) verified, "
        f"{backlog} event(s) waiting to be sent",
    )


def check_roster(ctx: SelftestContext) -> CheckResult:
    """Today's session exists and has candidates."""
    from edge.store import Store  # noqa: PLC0415

    refused = _root_on_service_data(ctx.cfg.store.path.parent)
    if refused is not None:
        return replace(refused, name="roster")
    store = Store.open(ctx.cfg.store.path, read_only=True)
    try:
        session = ctx.cfg.lane.session_id or store.open_session_id()
        count = store.roster_digest(session).count if session else 0
    finally:
        store.close()
    remedy = "import today's roster: `examgate roster import FILE --session ID` (or send it from the centre)"
    if session is None:
        return failed("roster", "no open exam session", remedy)
    if count == 0:
        return failed("roster", f"session {session} has no candidates", remedy)
    return passed("roster", f"session {session}: {count} candidate(s) on the roster")


def check_temperature(ctx: SelftestContext) -> CheckResult:
    try:
        raw = ctx.thermal_path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return skipped("temperature", f"no CPU thermal sensor at {ctx.thermal_path} (not a Raspberry Pi)")
    except OSError as exc:
        return failed(
            "temperature", f"cannot read {ctx.thermal_path}: {exc.strerror}", "check the kernel's thermal driver"
        )
    try:
        celsius = int(raw) / 1000
    except ValueError:
        return failed("temperature", f"{ctx.thermal_path} holds {raw[:20]!r}", "check the kernel's thermal driver")
    detail = f"CPU {celsius:.1f} °C (limit {ctx.max_temp_c:.0f} °C)"
    if celsius >= ctx.max_temp_c:
        return failed(
            "temperature",
            detail,
            "the Pi is throttling: fit a heatsink or fan, keep the case out of direct sun, check its ventilation",
        )
    return passed("temperature", detail)
