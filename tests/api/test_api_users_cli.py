"""`examgate users add|passwd|disable|list` on a real config file and database."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from lane_helpers import gate_toml

from edge.api import cli
from edge.api.accounts import AccountStore
from edge.api.errors import AccountError
from edge.api.settings import ApiSettings

CONFIG = gate_toml("demo-site", "t", db="examgate.db")


def run(argv: list[str], stdin: str = "") -> tuple[int, list[dict[str, object]]]:
    parser = argparse.ArgumentParser(prog="examgate")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdin", io.StringIO(stdin))
        mp.setattr("sys.stdout", out)
        code = args.func(args)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "examgate.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_add_passwd_disable_list(config: Path) -> None:
    cfg = ["--config", str(config)]
    code, out = run(["users", "add", "giamthi1", "--role", "proctor", "--password-stdin", *cfg], "mat-khau-dai-1\n")
    assert code == 0 and out == [{"username": "giamthi1", "role": "proctor", "created": True}]
    accounts = AccountStore(config.parent / "examgate.db")
    assert accounts.login("giamthi1", "mat-khau-dai-1", "cli-test", ApiSettings()).principal is not None
    code, _ = run(["users", "passwd", "giamthi1", "--password-stdin", *cfg], "mat-khau-moi-22\n")
    assert code == 0
    assert accounts.login("giamthi1", "mat-khau-dai-1", "cli-test", ApiSettings()).principal is None
    assert accounts.login("giamthi1", "mat-khau-moi-22", "cli-test", ApiSettings()).principal is not None
    code, _ = run(["users", "disable", "giamthi1", *cfg])
    assert code == 0
    assert accounts.login("giamthi1", "mat-khau-moi-22", "cli-test", ApiSettings()).principal is None
    code, out = run(["users", "list", *cfg])
    assert out == [{"username": "giamthi1", "role": "proctor", "disabled": True}]
    assert accounts.users()[0].disabled
    accounts.close()


def test_prompted_passwords_must_match(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["first-password-1", "other-password-2"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    with pytest.raises(AccountError) as err:
        run(["users", "add", "giamthi2", "--role", "viewer", "--config", str(config)])
    assert err.value.code == "E_ACCOUNT_PASSWORD_MISMATCH"


def test_bad_role_and_weak_password_are_refused(config: Path) -> None:
    with pytest.raises(SystemExit):
        run(["users", "add", "giamthi3", "--role", "admin", "--password-stdin", "--config", str(config)], "x" * 12)
    with pytest.raises(AccountError) as err:
        run(["users", "add", "giamthi3", "--role", "viewer", "--password-stdin", "--config", str(config)], "short\n")
    assert err.value.code == "E_ACCOUNT_WEAK_PASSWORD"
    with pytest.raises(AccountError) as err:
        run(["users", "passwd", "nobody", "--password-stdin", "--config", str(config)], "long-enough-pass\n")
    assert err.value.code == "E_ACCOUNT_UNKNOWN"
