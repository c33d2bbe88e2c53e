"""Configuration: the example validates; every kind of mistake is reported with its dotted path and a remedy."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lane_helpers import gate_toml

from edge.config import AppConfig, load_config, masked_dump
from edge.errors import ConfigError
from edge.startup import check_startup, startup_problems
from edge.store import RosterRow, Store

MINIMAL = gate_toml("S1", "t1", db="data/examgate.db")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "examgate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env or {})
    return dict(info.value.problems)


def test_example_config_is_valid(repo_root: Path) -> None:
    cfg = load_config(repo_root / "config" / "examgate.example.toml", {})
    assert cfg.reader.kind == "pn532"
    assert cfg.turnstile.kind == "gpio"
    assert cfg.mqtt is not None and cfg.mqtt.broker_url.startswith("mqtts://")


def test_minimal_config_resolves_relative_paths(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), {})
    assert cfg.store.path == (tmp_path / "data" / "examgate.db").resolve()
    assert cfg.turnstile.kind == "simulated"
    assert cfg.policy.max_face_attempts == 3


def test_config_is_frozen(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), {})
    with pytest.raises(Exception, match="frozen"):
        cfg.site.gate_id = "x"  # type: ignore[misc]


def test_unknown_key_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + '\n[turnstile]\nkind = "simulated"\npulse_msec = 5\n')
    assert "turnstile.pulse_msec" in found
    assert "unknown key" in found["turnstile.pulse_msec"]


def test_bad_value_gives_bound_and_value(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + '\n[turnstile]\nkind = "simulated"\npulse_ms = -5\n')
    assert found["turnstile.pulse_ms"] == "must be > 0, got -5"


def test_unknown_device_kind(tmp_path: Path) -> None:
    text = MINIMAL.replace('kind = "folder"', 'kind = "webcam"')
    found = problems(tmp_path, text)
    assert "kind must be one of" in found["camera"]


def test_missing_section_and_thresholds_rules(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL.replace('[site]\nsite_id = "S1"\ngate_id = "lane-1"\n', ""))
    assert found["site"] == "required: add this key"
    both = MINIMAL.replace("[policy]\n", '[policy]\nthresholds_file = "t.toml"\n')
    assert "exactly one" in next(iter(problems(tmp_path, both).values()))
    inverted = MINIMAL.replace("match = 0.6, review = 0.5", "match = 0.4, review = 0.5")
    assert any("must be <= match" in why for why in problems(tmp_path, inverted).values())


def test_site_id_must_be_topic_safe(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL.replace('site_id = "S1"', 'site_id = "S1/#"'))
    assert "site.site_id" in found


def test_env_overrides(tmp_path: Path) -> None:
    env = {
        "EXAMGATE_SITE__GATE_ID": "12",
        "EXAMGATE_LANE__SESSION_ID": "20240601",
        "EXAMGATE_LANE__PASSAGE_TIMEOUT_S": "4.5",
        "EXAMGATE_POLICY__ANTI_PASSBACK": "false",
        "OTHER": "x",
    }
    cfg = load_config(write(tmp_path, MINIMAL), env)
    assert cfg.site.gate_id == "12"
    assert cfg.lane.session_id == "20240601"
    assert cfg.lane.passage_timeout_s == 4.5
    assert cfg.policy.anti_passback is False
    bad = problems(tmp_path, MINIMAL, {"EXAMGATE_LANE__PASSAGE_TIMEOUT_S": "soon"})
    assert "lane.passage_timeout_s" in bad


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[site\nsite_id="), {})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", {})


def test_masked_dump_hides_secrets(tmp_path: Path) -> None:
    text = MINIMAL + '\n[mqtt]\nbroker_url = "mqtt://127.0.0.1:1883"\nusername = "gate1"\npassword = "hunter2"\n'
    cfg = load_config(write(tmp_path, text), {})
    dumped = masked_dump(cfg)
    assert dumped["mqtt"]["password"] == "***"
    assert "hunter2" not in str(dumped)
    assert isinstance(cfg, AppConfig)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def gate_ready(tmp_path: Path, session: str = "S-2026") -> None:
    """What the daemon needs beyond the file: the data folder and a session with a roster in the store."""
    (tmp_path / "data").mkdir(exist_ok=True)
    store = Store.open(tmp_path / "data" / "examgate.db")
    try:
        store.replace_roster(session, [RosterRow("C1", "001099012345", "Nguyễn Văn An")])
    finally:
        store.close()


def test_config_check_cli(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    good = run_cli("config", "check", str(write(tmp_path, MINIMAL)))
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout
    bad = run_cli("config", "check", str(write(tmp_path, MINIMAL + '\n[turnstile]\nkind="gpio"\npulse_ms=-5\nfoo=1\n')))
    assert bad.returncode == 1
    assert "turnstile.pulse_ms: must be > 0, got -5" in bad.stdout
    assert "turnstile.foo: unknown key" in bad.stdout


def test_mqtt_and_api_packages_never_import_the_config() -> None:
    """Issue 11: settings sit with their capability; only entry points and wiring compose ``edge.config``."""
    root = Path(__file__).resolve().parents[2] / "edge"
    offenders = []
    for package in ("mqtt", "api", "policy", "privacy"):
        for path in sorted((root / package).rglob("*.py")):
            if path.name == "cli.py" or path.name == "serve.py":
                continue  # a package's command / serving module is an entry point
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "edge.config":
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


# ---------------------------------------------------------------- start-up validation (issue 14 fault 6)
WITH_FILE = MINIMAL.replace(
    'thresholds = { version = "t1", match = 0.6, review = 0.5 }', 'thresholds_file = "models/thresholds.toml"'
)


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMGATE_")}
    return env | extra


def check(config: Path, **env: str) -> tuple[int, str]:
    done = run_cli("config", "check", str(config), env=cli_env(**env))
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout


def test_a_ready_gate_passes(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    code, out = check(write(tmp_path, MINIMAL))
    assert code == 0, out
    assert startup_problems(load_config(tmp_path / "examgate.toml", {}), {}) == []


def test_missing_thresholds_file_fails_like_the_daemon(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    config = write(tmp_path, WITH_FILE)
    code, out = check(config)
    assert code == 1
    assert "policy.thresholds_file:" in out
    assert "does not exist" in out
    with pytest.raises(ConfigError) as info:  # the daemon's own gate (run_daemon calls check_startup)
        check_startup(load_config(config, {}), {})
    assert info.value.problems[0][0] == "policy.thresholds_file"


def test_thresholds_file_that_is_a_directory(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    (tmp_path / "models" / "thresholds.toml").mkdir(parents=True)
    code, out = check(write(tmp_path, WITH_FILE))
    assert code == 1
    assert "is a directory" in out


def test_empty_store_path_override_names_the_variable(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    code, out = check(write(tmp_path, MINIMAL), EXAMGATE_STORE__PATH="")
    assert code == 1
    assert "store.path: is empty" in out
    assert "EXAMGATE_STORE__PATH" in out


def test_store_path_that_is_a_directory_names_the_variable(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    code, out = check(write(tmp_path, MINIMAL), EXAMGATE_STORE__PATH=str(tmp_path / "data"))
    assert code == 1
    assert "is a directory" in out
    assert "EXAMGATE_STORE__PATH" in out


def test_config_file_that_is_a_directory(tmp_path: Path) -> None:
    code, out = check(tmp_path)
    assert code == 1
    assert "is a directory" in out


def test_unknown_session_is_an_error(tmp_path: Path) -> None:
    gate_ready(tmp_path, session="S-2026")
    code, out = check(write(tmp_path, MINIMAL + '[lane]\nsession_id = "S-1999"\n'))
    assert code == 1
    assert "lane.session_id: no session 'S-1999'" in out
    code, out = check(write(tmp_path, MINIMAL), EXAMGATE_LANE__SESSION_ID="S-1999")
    assert code == 1
    assert "EXAMGATE_LANE__SESSION_ID" in out


def test_no_database_and_no_session_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    code, out = check(write(tmp_path, MINIMAL))
    assert code == 1
    assert "lane.session_id: no exam session to admit for" in out
    assert not (tmp_path / "data" / "examgate.db").exists()  # the check writes nothing


@pytest.mark.parametrize("session", ["", "../../etc", "a" * 65, "phiên-1"])
def test_session_id_follows_the_store_rule(tmp_path: Path, session: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, MINIMAL), {"EXAMGATE_LANE__SESSION_ID": session})
    ((dotted, why),) = info.value.problems
    assert dotted == "lane.session_id"
    assert "not valid" in why
    assert "EXAMGATE_LANE__SESSION_ID" in why


def test_config_show_takes_the_file_like_check(tmp_path: Path) -> None:
    done = run_cli("config", "show", str(write(tmp_path, MINIMAL)), env=cli_env())
    assert done.returncode == 0, done.stderr
    assert '"site_id": "S1"' in done.stdout


def test_an_unsafe_data_key_is_a_startup_problem(tmp_path: Path) -> None:
    gate_ready(tmp_path)
    key = tmp_path / "data.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    config = write(tmp_path, MINIMAL + f'[privacy]\nkey_file = "{key}"\n')
    code, out = check(config)
    assert code == 1
    assert "privacy.key_file:" in out and "group or others can access it" in out
    key.chmod(0o600)
    code, out = check(config)
    assert code == 0, out
