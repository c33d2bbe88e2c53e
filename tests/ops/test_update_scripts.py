"""provisioning/update/update.sh and rollback.sh against a temp prefix with fake release trees and a fake systemctl.

A fake release's `examgate` stands in for the daemon starting under systemd: it migrates the database to the
release's schema version, or refuses a newer database like the real store (E_STORE_SCHEMA_NEWER). The database is a
real ExamGate store; backups are checked with SQLite. One test builds a real venv with pip from a local wheel.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from ops_helpers import REPO

from edge.events.models import CandidateRejected, Subject
from edge.store import Store
from edge.store.db import SCHEMA_VERSION

UPDATE = REPO / "provisioning" / "update" / "update.sh"
ROLLBACK = REPO / "provisioning" / "update" / "rollback.sh"

FAKE_EXAMGATE = """#!/usr/bin/env bash
set -euo pipefail
case "${1:-}" in
  --version) echo "examgate @VERSION@" ;;
  fake-start)
    exec "@PYTHON@" - "$2" @SCHEMA@ <<'EOF'
import sqlite3, sys, datetime
db, schema = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
have = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
if have > schema:
    sys.exit(f"E_STORE_SCHEMA_NEWER: the database is schema version {have}, newer than this software ({schema})")
for v in range(have + 1, schema + 1):
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (v, datetime.datetime.now().isoformat()))
conn.commit()
EOF
    ;;
  *) exit 64 ;;
esac
"""

FAKE_SYSTEMCTL = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case "$1" in
  stop) [ -e "$FAKE_DIR/stuck" ] && exit 1; exit 0 ;;
  start)
    current=$(basename "$(readlink "$GATE_PREFIX/current")")
    "$GATE_PREFIX/current/venv/bin/examgate" fake-start "$GATE_DB" || exit 1
    [ -e "$FAKE_DIR/crash-$current" ] && exit 1
    exit 0 ;;
  is-active) exit 0 ;;
esac
exit 0
"""


@dataclass
class Site:
    root: Path
    prefix: Path
    db: Path
    backups: Path
    log: Path
    env: dict[str, str]

    def stage(self, version: str, schema: int) -> Path:
        """A built release as update.sh leaves it (venv with examgate, .schema, .complete)."""
        rel = self.prefix / "releases" / version
        (rel / "venv" / "bin").mkdir(parents=True)
        script = rel / "venv" / "bin" / "examgate"
        text = FAKE_EXAMGATE.replace("@VERSION@", version).replace("@SCHEMA@", str(schema))
        script.write_text(text.replace("@PYTHON@", sys.executable))
        script.chmod(0o755)
        (rel / ".schema").write_text(f"{schema}\n")
        (rel / ".complete").touch()
        return rel

    def run(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(script), *args], env=self.env, capture_output=True, text=True, check=False)

    def link(self, name: str) -> str | None:
        path = self.prefix / name
        return os.readlink(path) if path.is_symlink() else None

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def db_version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])
    finally:
        conn.close()


def decisions(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {a for (a,) in conn.execute("SELECT attempt_id FROM decisions")}
    finally:
        conn.close()


def decide(db: Path, attempt: str) -> None:
    """Write one decision through the real store, even when the file's schema is newer (raw insert then)."""
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO attempts (attempt_id, credential, started_at) VALUES (?, 'chip', '2026-11-25T00:00:00.000Z')",
        (attempt,),
    )
    conn.execute(
        "INSERT INTO decisions (attempt_id, outcome, reason_codes, thresholds_version, event_id, decided_at) "
        "VALUES (?, 'fail', '[]', 't1', ?, '2026-11-25T00:00:00.000Z')",
        (attempt, f"E-{attempt}"),
    )
    conn.commit()
    conn.close()


@pytest.fixture
def site(tmp_path: Path) -> Site:
    prefix = tmp_path / "opt" / "examgate"
    prefix.mkdir(parents=True)
    data = tmp_path / "var" / "lib" / "examgate"
    data.mkdir(parents=True)
    db = data / "examgate.db"
    store = Store.open(db)
    store.record_decision(
        CandidateRejected(
            site_id="S1",
            gate_id="lane-1",
            attempt_id="A-before",
            subject=Subject(),
            thresholds_version="t1",
            match_threshold=0.6,
            review_threshold=0.5,
        )
    )
    store.close()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL)
    (bin_dir / "systemctl").chmod(0o755)
    log = tmp_path / "systemctl.log"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GATE_PREFIX": str(prefix),
        "GATE_DB": str(db),
        "GATE_SYSTEMCTL": str(bin_dir / "systemctl"),
        "GATE_PYTHON": sys.executable,
        "GATE_SETTLE_S": "0",
        "FAKE_LOG": str(log),
        "FAKE_DIR": str(tmp_path),
    }
    return Site(tmp_path, prefix, db, data / "backups", log, env)


def test_first_install_then_update_with_backup(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    first = site.run(UPDATE, "1.0")
    assert first.returncode == 0, first.stderr
    assert site.link("current") == "releases/1.0"
    assert site.link("previous") is None
    assert site.link("venv") == "current/venv"
    assert (site.prefix / "venv" / "bin" / "examgate").exists()  # the path systemd's ExecStart uses
    assert site.calls() == ["stop examgate.service", "start examgate.service", "is-active --quiet examgate.service"]

    site.stage("2.0", SCHEMA_VERSION + 1)
    second = site.run(UPDATE, "2.0")
    assert second.returncode == 0, second.stderr
    assert site.link("current") == "releases/2.0" and site.link("previous") == "releases/1.0"
    assert db_version(site.db) == SCHEMA_VERSION + 1  # migrated on start
    backup = Path((site.prefix / "releases" / "2.0" / ".db-backup").read_text().strip())
    assert backup.parent == site.backups and backup.name.startswith("examgate-before-2.0-")
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert db_version(backup) == SCHEMA_VERSION and decisions(backup) == {"A-before"}
    assert sqlite3.connect(backup).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list(site.prefix.glob(".*.new"))  # no half-made switch left behind


def test_rollback_across_a_schema_change_restores_the_backup(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.stage("2.0", SCHEMA_VERSION + 1)
    assert site.run(UPDATE, "1.0").returncode == 0
    assert site.run(UPDATE, "2.0").returncode == 0
    decide(site.db, "A-on-2.0")  # recorded after the update, in the newer schema
    back = site.run(ROLLBACK)
    assert back.returncode == 0, back.stderr
    assert "restored" in back.stdout
    assert site.link("current") == "releases/1.0" and site.link("previous") == "releases/2.0"
    assert db_version(site.db) == SCHEMA_VERSION  # 1.0 can open it (the fake start would refuse a newer one)
    assert decisions(site.db) == {"A-before"}
    aside = sorted(site.backups.glob("examgate-rolled-back-from-2.0-*.db"))
    assert len(aside) == 1 and decisions(aside[0]) == {"A-before", "A-on-2.0"}  # nothing deleted
    assert not Path(f"{site.db}-wal").exists() or Path(f"{site.db}-wal").stat().st_size == 0
    assert site.calls()[-2:] == ["start examgate.service", "is-active --quiet examgate.service"]


def test_rollback_without_schema_change_keeps_the_database(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.stage("1.1", SCHEMA_VERSION)
    assert site.run(UPDATE, "1.0").returncode == 0
    assert site.run(UPDATE, "1.1").returncode == 0
    decide(site.db, "A-on-1.1")
    back = site.run(ROLLBACK)
    assert back.returncode == 0, back.stderr
    assert "kept as it is" in back.stdout
    assert decisions(site.db) == {"A-before", "A-on-1.1"}  # nothing recorded since the update is lost
    assert site.link("current") == "releases/1.0"


def test_rolling_back_onto_a_newer_database_without_backup_is_refused(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.stage("2.0", SCHEMA_VERSION + 1)
    assert site.run(UPDATE, "1.0").returncode == 0
    assert site.run(UPDATE, "2.0").returncode == 0
    (site.prefix / "releases" / "2.0" / ".db-backup").write_text("")
    back = site.run(ROLLBACK)
    assert back.returncode == 3
    assert "no backup is recorded" in back.stderr and "remedy:" in back.stderr
    assert site.link("current") == "releases/2.0"  # nothing switched


def test_a_release_that_does_not_come_up_is_rolled_back_automatically(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.stage("2.0", SCHEMA_VERSION + 1)
    assert site.run(UPDATE, "1.0").returncode == 0
    (site.root / "crash-2.0").touch()  # 2.0 migrates the database, then dies at start
    result = site.run(UPDATE, "2.0")
    assert result.returncode == 1
    assert "rolling back" in result.stdout
    assert site.link("current") == "releases/1.0"
    assert db_version(site.db) == SCHEMA_VERSION  # the backup was restored, so 1.0 starts again
    assert decisions(site.db) == {"A-before"}
    assert site.calls()[-2:] == ["start examgate.service", "is-active --quiet examgate.service"]


def test_old_releases_are_pruned_but_current_and_previous_kept(site: Site) -> None:
    site.env["GATE_KEEP"] = "2"
    for version in ("1.0", "1.1", "1.2", "1.3"):
        site.stage(version, SCHEMA_VERSION)
        assert site.run(UPDATE, version).returncode == 0
    assert sorted(p.name for p in (site.prefix / "releases").iterdir()) == ["1.2", "1.3"]
    assert site.link("previous") == "releases/1.2"


def test_usage_errors(site: Site) -> None:
    assert site.run(UPDATE).returncode == 2
    assert site.run(UPDATE, "../etc").returncode == 2
    missing = site.run(UPDATE, "9.9")  # neither staged nor pip arguments given
    assert missing.returncode == 2 and "not built" in missing.stderr
    site.stage("1.0", SCHEMA_VERSION)
    assert site.run(UPDATE, "1.0").returncode == 0
    again = site.run(UPDATE, "1.0")
    assert again.returncode == 3 and "already the current release" in again.stderr
    nothing = site.run(ROLLBACK)
    assert nothing.returncode == 3 and "no previous release" in nothing.stderr


def test_a_service_that_cannot_be_stopped_blocks_the_switch(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.stage("2.0", SCHEMA_VERSION + 1)
    assert site.run(UPDATE, "1.0").returncode == 0
    (site.root / "stuck").touch()
    result = site.run(UPDATE, "2.0")
    assert result.returncode == 3 and "cannot be stopped" in result.stderr
    assert site.link("current") == "releases/1.0"
    assert db_version(site.db) == SCHEMA_VERSION


def test_legacy_in_place_venv_is_moved_aside(site: Site) -> None:
    (site.prefix / "venv" / "bin").mkdir(parents=True)
    site.stage("1.0", SCHEMA_VERSION)
    assert site.run(UPDATE, "1.0").returncode == 0
    assert (site.prefix / "venv.pre-releases" / "bin").is_dir()
    assert site.link("venv") == "current/venv"


# ------------------------------------------------------------------ a real build: venv + pip, offline
def tiny_wheel(folder: Path, version: str) -> Path:
    """A wheel holding `edge.store.db.SCHEMA_VERSION` and an `examgate` console script (enough for update.sh)."""
    name = f"examgate-{version}-py3-none-any.whl"
    dist = f"examgate-{version}.dist-info"
    files = {
        "edge/__init__.py": "",
        "edge/store/__init__.py": "",
        "edge/store/db.py": f"SCHEMA_VERSION = {SCHEMA_VERSION}\n",
        "edge/cli.py": f"def main():\n    print('examgate {version}')\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: examgate\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": "[console_scripts]\nexamgate = edge.cli:main\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / name
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_real_build_with_pip_from_a_local_wheel(site: Site) -> None:
    wheels = site.root / "wheels"
    wheels.mkdir()
    tiny_wheel(wheels, "3.0")
    result = site.run(UPDATE, "3.0", "--no-index", "--find-links", str(wheels), "examgate==3.0")
    rel = site.prefix / "releases" / "3.0"
    # the tiny wheel's `examgate` ignores the fake systemctl's `fake-start` and exits 0: the service "comes up"
    assert (rel / ".complete").exists(), result.stdout + result.stderr
    assert (rel / ".schema").read_text().strip() == str(SCHEMA_VERSION)
    built = subprocess.run([str(rel / "venv" / "bin" / "examgate")], capture_output=True, text=True, check=True)
    assert built.stdout == "examgate 3.0\n"
    assert "examgate 3.0" in result.stdout  # the smoke test ran
    assert result.returncode == 0 and site.link("current") == "releases/3.0"


def test_failed_build_changes_nothing(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    assert site.run(UPDATE, "1.0").returncode == 0
    empty = site.root / "empty-wheelhouse"
    empty.mkdir()
    result = site.run(UPDATE, "4.0", "--no-index", "--find-links", str(empty), "examgate==4.0")
    assert result.returncode == 3
    assert "nothing was changed" in result.stderr
    assert not (site.prefix / "releases" / "4.0").exists()
    assert site.link("current") == "releases/1.0"
    assert "stop examgate.service" not in site.calls()[3:]  # the service was never stopped for it


def model_folder(folder: Path) -> Path:
    folder.mkdir()
    lines = []
    for name, data in (("detector.tflite", b"d" * 100), ("embedder.tflite", b"e" * 200)):
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    (folder / "thresholds.toml").write_text('version = "t1"\n')
    return folder


def test_release_models_are_copied_and_verified(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    site.env["GATE_MODELS"] = str(model_folder(site.root / "models-1.0"))
    result = site.run(UPDATE, "1.0")
    assert result.returncode == 0, result.stderr
    models = site.prefix / "current" / "models"  # what [vision] models_dir points at
    assert sorted(p.name for p in models.iterdir()) == [
        "SHA256SUMS",
        "detector.tflite",
        "embedder.tflite",
        "thresholds.toml",
    ]
    assert "verified against SHA256SUMS" in result.stdout


def test_damaged_models_stop_the_update_before_anything_changes(site: Site) -> None:
    site.stage("1.0", SCHEMA_VERSION)
    assert site.run(UPDATE, "1.0").returncode == 0
    site.stage("2.0", SCHEMA_VERSION)
    source = model_folder(site.root / "models-2.0")
    (source / "embedder.tflite").write_bytes(b"x" * 200)  # damaged in transit
    site.env["GATE_MODELS"] = str(source)
    calls = len(site.calls())
    result = site.run(UPDATE, "2.0")
    assert result.returncode == 3 and "do not match their SHA256SUMS" in result.stderr
    assert site.link("current") == "releases/1.0"
    assert len(site.calls()) == calls  # the service was not even stopped
