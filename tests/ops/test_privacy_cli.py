"""`examgate privacy purge --candidate` and `examgate privacy purge-expired` through the real entry point."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ops_helpers import PERSONAL_ID, make_sim_gate

from edge.cli.main import build_parser, main
from edge.cli.privacy import cmd_purge_expired
from edge.privacy import EvidenceVault
from edge.privacy.keys import key_id_of
from edge.store import Store


def seed_evidence(db: Path, expires_in_days: int) -> None:
    store = Store.open(db)
    key = os.urandom(32)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=30 - expires_in_days)
    vault = EvidenceVault(store, key, 30, key_id_of(key), clock=lambda: now)
    store.record_attempt("A1", "SES-OPS", "C1", "0010******45", "chip")
    vault.put("A1", "roster", b"\xff\xd8fake-jpeg")
    store.close()


def test_purge_candidate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    seed_evidence(tmp_path / "gate.db", expires_in_days=10)
    argv = ["privacy", "purge", "--candidate", PERSONAL_ID, "--operator", "dpo:lan", "--json", "--config", str(config)]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out) == {"id_masked": "0010******45", "images": 1, "roster_rows": 1}
    assert PERSONAL_ID not in out
    conn = sqlite3.connect(tmp_path / "gate.db")
    assert conn.execute("SELECT COUNT(*) FROM roster").fetchone()[0] == 0
    actor, details = conn.execute(
        "SELECT actor, details FROM audit_log WHERE action = 'privacy.purge_candidate'"
    ).fetchone()
    assert actor == "dpo:lan" and "0010******45" in details
    verify = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "audit", "verify", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize("bad", ["12345", "00109901234X", "0010990123456"])
def test_purge_candidate_refuses_malformed_id(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    code = main(["privacy", "purge", "--candidate", bad, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 3
    assert "E_PRIVACY_ID_INVALID" in err
    assert bad not in err  # even a malformed ID is not echoed in full


def test_purge_expired_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    seed_evidence(tmp_path / "gate.db", expires_in_days=-1)  # expired yesterday
    assert main(["privacy", "purge-expired", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 1
    assert main(["privacy", "purge-expired", "--config", str(config)]) == 0
    assert "deleted 0 face image(s)" in capsys.readouterr().out


def test_purge_expired_keeps_unexpired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    seed_evidence(tmp_path / "gate.db", expires_in_days=5)
    assert main(["privacy", "purge-expired", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 0
    conn = sqlite3.connect(tmp_path / "gate.db")
    assert conn.execute("SELECT COUNT(*) FROM face_evidence").fetchone()[0] == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="checks what happens when root runs it")
def test_root_does_not_open_the_service_users_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    os.chown(tmp_path, 65534, 65534)
    assert main(["privacy", "purge-expired", "--config", str(config)]) == 3
    assert "E_PRIVACY_RUN_AS_SERVICE_USER" in capsys.readouterr().err


def test_retention_unit_command_line_parses(repo_root: Path) -> None:
    """The nightly unit's ExecStart names a command this CLI has (it never needs the data key)."""
    unit = (repo_root / "systemd" / "examgate-retention.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = exec_start.split("=", 1)[1].split()[1:]
    args = build_parser().parse_args(argv)
    assert args.func is cmd_purge_expired
    assert "LoadCredential" not in unit  # purge-expired works without the key, as the unit is written
