"""`examgate selftest` against simulated devices, a real mosquitto and a virtual PN532 on a pty: the good config
passes, and every failure mode names the failing check, its remedy and exits 1."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from ops_helpers import MOSQUITTO, REPO, LocalBroker, free_port, make_sim_gate
from PIL import Image

from edge.cli.main import main
from edge.config import load_config
from edge.selftest.checks_broker import check_broker
from edge.selftest.checks_devices import check_reader, check_turnstile
from edge.selftest.checks_system import check_clock, check_disk, check_temperature
from edge.selftest.model import CheckResult, SelftestContext
from edge.selftest.runner import run_check, run_checks
from edge.vision.settings import VisionSettings
from firmware_bridge.sim.virtual_pn532 import VirtualPn532

needs_mosquitto = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto not installed (apt-get install mosquitto)")


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalBroker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")
    b = LocalBroker()
    yield b
    b.stop()


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, str]]]:
    code = main(["selftest", "--json", *argv])
    results = json.loads(capsys.readouterr().out)
    for row in results:
        assert set(row) == {"name", "status", "detail", "remedy"}
        assert row["status"] in ("pass", "fail", "skip")
        if row["status"] == "fail":
            assert row["remedy"], row
    return code, {row["name"]: row for row in results}


def linked_models(folder: Path) -> Path:
    """A models folder of symlinks to the repo's models, with its own SHA256SUMS."""
    folder.mkdir()
    for path in (REPO / "models").glob("*.tflite"):
        (folder / path.name).symlink_to(path)
    (folder / "SHA256SUMS").write_text((REPO / "models" / "SHA256SUMS").read_text())
    return folder


def selftest_with_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *, missing: str = "", corrupt: str = ""
) -> tuple[int, dict[str, dict[str, str]]]:
    """`selftest` on a simulated gate whose models folder lacks the file ``missing`` or has ``corrupt`` altered."""
    models = linked_models(tmp_path / "models")
    if missing:
        (models / missing).unlink()
    if corrupt:
        data = bytearray((models / corrupt).read_bytes())
        data[-1] ^= 0xFF  # one flipped bit pattern in the last byte
        (models / corrupt).unlink()
        (models / corrupt).write_bytes(bytes(data))
    config = make_sim_gate(tmp_path, extra=f'[vision]\nmodels_dir = "{models}"\n')
    return run_cli(["--config", str(config)], capsys)


def ctx_for(config: Path, **kwargs: object) -> SelftestContext:
    return SelftestContext(load_config(config, environ={}), **kwargs)  # type: ignore[arg-type]


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


# ------------------------------------------------------------------ whole runs through the CLI
@needs_mosquitto
def test_good_simulated_gate_passes(tmp_path: Path, broker: LocalBroker, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path, extra=f'[mqtt]\nbroker_url = "{broker.url}"\n')
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 0, rows
    expected = {"clock", "disk", "store", "roster", "models", "camera", "reader", "turnstile", "broker", "temperature"}
    assert set(rows) == expected | {"csca"}
    assert rows["csca"]["status"] == "skip"  # a simulated reader checks no chip signatures
    for name in expected - {"temperature"}:
        assert rows[name]["status"] == "pass", rows[name]
    assert "round trip" in rows["broker"]["detail"]
    assert "1 face(s)" in rows["camera"]["detail"]
    assert "relay not clicked" in rows["turnstile"]["detail"]


def test_no_mqtt_section_is_a_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = run_cli(["--config", str(make_sim_gate(tmp_path))], capsys)
    assert code == 0
    assert rows["broker"]["status"] == "skip"
    assert "not configured" in rows["broker"]["detail"]


def test_missing_camera_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    for image in (tmp_path / "camera").iterdir():
        image.unlink()
    (tmp_path / "camera").rmdir()
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 1
    assert rows["camera"]["status"] == "fail"
    assert "E_CAMERA_FOLDER_MISSING" in rows["camera"]["detail"]
    assert rows["reader"]["status"] == "pass"  # the other checks still ran


def test_camera_without_a_face(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path)
    (tmp_path / "camera" / "live.jpg").unlink()
    Image.new("RGB", (320, 240), (90, 120, 90)).save(tmp_path / "camera" / "wall.png")
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 1
    assert rows["camera"]["status"] == "fail" and "no face" in rows["camera"]["detail"]
    assert "stand in front of the camera" in rows["camera"]["remedy"]


def test_missing_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = selftest_with_models(tmp_path, capsys, missing="face_embedder_dlib_resnet_v1_fp16.tflite")
    assert code == 1
    assert rows["models"]["status"] == "fail"
    assert "face_embedder_dlib_resnet_v1_fp16.tflite is missing" in rows["models"]["detail"]
    assert rows["camera"]["status"] == "pass"  # the detector is still there


def test_wrong_model_hash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = selftest_with_models(tmp_path, capsys, corrupt="face_detection_short_range.tflite")
    assert code == 1
    assert rows["models"]["status"] == "fail"
    assert "face_detection_short_range.tflite does not match its SHA-256" in rows["models"]["detail"]


def test_no_sums_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = selftest_with_models(tmp_path, capsys, missing="SHA256SUMS")
    assert code == 1
    assert rows["models"]["status"] == "fail" and "SHA256SUMS is missing" in rows["models"]["detail"]


def test_full_disk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path, min_free_mb=1_000_000_000)
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 1
    assert rows["disk"]["status"] == "fail"
    assert "need 1000000000 MB" in rows["disk"]["detail"]
    assert "purge-expired" in rows["disk"]["remedy"]


def test_unreachable_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # bound then released: nothing listens there
    config = make_sim_gate(tmp_path, extra=f'[mqtt]\nbroker_url = "mqtt://127.0.0.1:{port}"\n')
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 1
    assert rows["broker"]["status"] == "fail"
    assert f"127.0.0.1:{port} unreachable" in rows["broker"]["detail"]
    assert "broker address" in rows["broker"]["remedy"]


@needs_mosquitto
def test_broker_acl_without_selftest_topic(tmp_path: Path) -> None:
    """Publishing is allowed but reading back is not: the check says so instead of passing."""
    acl = "pattern write examgate/v1/+/+/selftest/#\n"
    b = LocalBroker(acl=acl)
    try:
        config = make_sim_gate(tmp_path / "gate", extra=f'[mqtt]\nbroker_url = "{b.url}"\n')
        ctx = ctx_for(config, broker_timeout_s=1.5)
        result = run_check("broker", check_broker, ctx)
    finally:
        b.stop()
    assert result.status == "fail"
    assert "did not come back" in result.detail
    assert "selftest/#" in result.remedy


def test_bad_config_is_one_failed_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[site]\nsite_id = 'x'\n")
    code, rows = run_cli(["--config", str(config)], capsys)
    assert code == 1
    assert list(rows) == ["config"]
    assert rows["config"]["status"] == "fail"
    assert "site.gate_id: required" in rows["config"]["detail"]
    assert "examgate config check" in rows["config"]["remedy"]


def test_human_output_lists_remedies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_sim_gate(tmp_path, min_free_mb=1_000_000_000)
    assert main(["selftest", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  disk" in out and "remedy: free space" in out
    assert "PASS  store" in out and "1 failed" in out


# ------------------------------------------------------------------ single checks with injected host facts
def test_store_with_tampered_audit(tmp_path: Path) -> None:
    config = make_sim_gate(tmp_path)
    conn = sqlite3.connect(tmp_path / "gate.db")
    conn.execute("UPDATE audit_log SET details = '{}' WHERE seq = 1")
    conn.commit()
    conn.close()
    results = by_name(run_checks(ctx_for(config)))
    assert results["store"].status == "fail"
    assert "audit chain BROKEN" in results["store"].detail


def test_no_roster(tmp_path: Path) -> None:
    results = by_name(run_checks(ctx_for(make_sim_gate(tmp_path, roster=False))))
    assert results["roster"].status == "fail"
    assert "roster import" in results["roster"].remedy


def test_missing_cards_folder(tmp_path: Path) -> None:
    config = make_sim_gate(tmp_path)
    for path in (tmp_path / "cards").iterdir():
        path.unlink()
    (tmp_path / "cards").rmdir()
    results = by_name(run_checks(ctx_for(config)))
    assert results["reader"].status == "fail"
    assert "E_SIM_FIXTURE_INVALID" in results["reader"].detail


def completed(stdout: str, returncode: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["timedatectl"], returncode, stdout, "")


@pytest.mark.parametrize(
    ("answer", "now", "status"),
    [
        (completed("yes\n"), dt.datetime(2026, 11, 25, tzinfo=dt.UTC), "pass"),
        (completed("no\n"), dt.datetime(2026, 11, 25, tzinfo=dt.UTC), "fail"),
        (None, dt.datetime(2026, 11, 25, tzinfo=dt.UTC), "pass"),  # no timedatectl: year sanity only
        (None, dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "fail"),
        (completed("", returncode=1), dt.datetime(2019, 6, 1, tzinfo=dt.UTC), "fail"),  # no systemd answering
    ],
)
def test_clock(tmp_path: Path, answer: subprocess.CompletedProcess[str] | None, now: dt.datetime, status: str) -> None:
    def run(_argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        if answer is None:
            raise FileNotFoundError("timedatectl")
        return answer

    ctx = ctx_for(make_sim_gate(tmp_path, roster=False), run=run, now=lambda: now)
    result = check_clock(ctx)
    assert result.status == status, result
    if status == "fail":
        assert "timedatectl" in result.remedy


@pytest.mark.parametrize(("millideg", "status"), [("45123\n", "pass"), ("85000\n", "fail"), ("garbage", "fail")])
def test_temperature(tmp_path: Path, millideg: str, status: str) -> None:
    sensor = tmp_path / "temp"
    sensor.write_text(millideg)
    result = check_temperature(ctx_for(make_sim_gate(tmp_path, roster=False), thermal_path=sensor))
    assert result.status == status
    if millideg.startswith("45"):
        assert "45.1 °C" in result.detail


def test_turnstile_actuate_pulses_simulated_relay(tmp_path: Path) -> None:
    result = check_turnstile(ctx_for(make_sim_gate(tmp_path, roster=False), actuate=True))
    assert result.status == "pass"
    assert "entry relay pulsed once" in result.detail


def test_gpio_turnstile_with_open_fire_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gpiozero's mock pins float high through the pull-up: the normally-closed fire loop reads OPEN."""
    pytest.importorskip("gpiozero")
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    config = make_sim_gate(tmp_path, roster=False)
    text = config.read_text().replace('[turnstile]\nkind = "simulated"', '[turnstile]\nkind = "gpio"')
    config.write_text(text)
    result = run_check("turnstile", check_turnstile, ctx_for(config, actuate=True))
    assert result.status == "fail"
    assert "fire loop OPEN" in result.detail
    assert "failure mode fail_secure" in result.detail


def test_pn532_reader_on_virtual_module(tmp_path: Path) -> None:
    with VirtualPn532() as sim:  # no card in the field
        config = make_sim_gate(tmp_path, roster=False)
        text = config.read_text().replace(
            f'kind = "simulated"\ncards_dir = "{tmp_path / "cards"}"', f'kind = "pn532"\nport = "{sim.slave_path}"'
        )
        config.write_text(text)
        result = check_reader(ctx_for(config))
    assert result.status == "pass", result
    assert "IC 0x32 firmware 1.6" in result.detail
    assert "no card in the field" in result.detail


def test_pn532_absent_is_a_clear_failure(tmp_path: Path) -> None:
    config = make_sim_gate(tmp_path, roster=False)
    text = config.read_text().replace(
        f'kind = "simulated"\ncards_dir = "{tmp_path / "cards"}"', f'kind = "pn532"\nport = "{tmp_path / "ttyNONE"}"'
    )
    config.write_text(text)
    result = run_check("reader", check_reader, ctx_for(config))
    assert result.status == "fail"
    assert result.detail.startswith("E_")  # a typed error code, not a traceback
    assert result.remedy


def test_a_crashing_check_does_not_hide_the_others(tmp_path: Path) -> None:
    def boom(_ctx: SelftestContext) -> CheckResult:
        raise RuntimeError("bug")

    results = run_checks(ctx_for(make_sim_gate(tmp_path, roster=False)), [("boom", boom), ("disk", check_disk)])
    assert [r.status for r in results] == ["fail", "pass"]
    assert "unexpected RuntimeError" in results[0].detail


def test_gpio_turnstile_actuate_pulses_the_entry_relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On gpiozero's mock pins with the fire loop closed: --actuate closes the entry relay once, then opens it."""
    gpiozero = pytest.importorskip("gpiozero")
    from gpiozero.pins.mock import MockFactory, MockPin  # noqa: PLC0415 - optional dependency

    class ClosedContactPin(MockPin):  # type: ignore[misc]
        """A normally-closed contact to GND: low whatever the pull-up."""

        def _set_pull(self, value: str) -> None:
            super()._set_pull(value)
            self.drive_low()

    factory = MockFactory(pin_class=MockPin)
    factory.pin(24, pin_class=ClosedContactPin)  # the fire loop is closed: no fire
    monkeypatch.setattr(gpiozero.Device, "pin_factory", factory)
    config = make_sim_gate(tmp_path, roster=False)
    config.write_text(
        config.read_text().replace('[turnstile]\nkind = "simulated"', '[turnstile]\nkind = "gpio"\npulse_ms = 100')
    )
    try:
        quiet = run_check("turnstile", check_turnstile, ctx_for(config))
        assert quiet.status == "pass" and "relay not clicked" in quiet.detail
        assert not any(s.state for s in factory.pin(17).states)  # no --actuate: the relay never moved
        result = run_check("turnstile", check_turnstile, ctx_for(config, actuate=True))
    finally:
        factory.reset()
    assert result.status == "pass", result
    assert "failure mode fail_secure" in result.detail
    assert "relay engaged, then released" in result.detail


@pytest.mark.skipif(os.geteuid() != 0, reason="checks what happens when root runs the self-test")
def test_root_does_not_touch_the_service_users_database(tmp_path: Path) -> None:
    config = make_sim_gate(tmp_path)
    os.chown(tmp_path, 65534, 65534)  # the data folder belongs to the service user
    before = sorted(p.name for p in tmp_path.iterdir())
    results = by_name(run_checks(ctx_for(config)))
    assert results["store"].status == "fail" and "sudo -u examgate" in results["store"].remedy
    assert results["roster"].status == "fail"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no root-owned -wal/-shm left behind


def test_camera_check_runs_the_embedder_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = VisionSettings().embedder_file_name  # the configured embedder
    code, rows = selftest_with_models(tmp_path, capsys, missing=missing)
    assert code == 1
    assert rows["camera"]["status"] == "fail" and "E_MODEL_MISSING" in rows["camera"]["detail"]
    assert rows["models"]["status"] == "fail"
    good, rows = run_cli(["--config", str(make_sim_gate(tmp_path / "good"))], capsys)
    assert good == 0 and "embedding" in rows["camera"]["detail"]
