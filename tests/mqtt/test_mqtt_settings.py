"""[mqtt] settings validation and topic helpers (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.mqtt.errors import MqttConfigError
from edge.mqtt.settings import MqttSettings, parse_broker_url
from edge.mqtt.topics import (
    admissions_filter,
    command_topic,
    event_topic,
    parse_topic,
    shared_events_filter,
    status_topic,
)


def test_defaults_are_loopback_plaintext() -> None:
    s = MqttSettings()
    assert s.address.host == "127.0.0.1"
    assert s.address.port == 1883
    assert not s.address.tls
    assert s.effective_client_id("site", "g1") == "examgate-site-g1"


@pytest.mark.parametrize(
    ("url", "tls", "port"),
    [("mqtts://broker.example.vn", True, 8883), ("mqtt://localhost:2000", False, 2000), ("mqtts://[::1]:9", True, 9)],
)
def test_broker_urls(url: str, tls: bool, port: int) -> None:
    address = parse_broker_url(url)
    assert (address.tls, address.port) == (tls, port)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"broker_url": "mqtt://10.0.0.5:1883"}, "plain mqtt://"),
        ({"broker_url": "http://x"}, "mqtt:// or mqtts://"),
        ({"broker_url": "mqtts://u:p@host"}, "credentials"),
        ({"broker_url": "mqtts://host:99999"}, "bad port"),
        ({"password": "x"}, "needs a username"),
        ({"username": "u", "password": "x", "password_file": Path("/x")}, "not both"),
        ({"broker_url": "mqtts://h", "cert_file": Path("c.pem")}, "go together"),
        ({"ca_file": Path("ca.pem")}, "need an mqtts://"),
        ({"backoff_min_s": 10, "backoff_max_s": 5}, "backoff_min_s"),
        ({"max_inflight": 1000}, "less than or equal to 100"),
        ({"brokr_url": "mqtt://localhost"}, "Extra inputs"),
        ({"commands_enabled": ["format.disk"]}, "Input should be"),
    ],
)
def test_invalid_settings_are_rejected_with_a_reason(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        MqttSettings.model_validate(kwargs)
    assert fragment in str(info.value)


def test_plaintext_remote_needs_explicit_opt_in() -> None:
    s = MqttSettings(broker_url="mqtt://10.0.0.5", allow_plaintext_remote=True)
    assert s.address.host == "10.0.0.5"


def test_password_file_and_secret_masking(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    s = MqttSettings(username="gate", password_file=pw)
    assert s.resolved_password() == "s3cret"
    inline = MqttSettings(username="gate", password="inline-secret")
    assert "inline-secret" not in repr(inline)
    assert inline.resolved_password() == "inline-secret"
    missing = MqttSettings(username="gate", password_file=tmp_path / "absent")
    with pytest.raises(MqttConfigError) as info:
        missing.resolved_password()
    assert info.value.code == "E_MQTT_CONFIG"


def test_short_hmac_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_bytes(b"short")
    with pytest.raises(MqttConfigError):
        MqttSettings(command_hmac_key_file=key).hmac_key()


def test_settings_are_frozen() -> None:
    s = MqttSettings()
    with pytest.raises(ValidationError):
        s.keepalive_s = 5  # type: ignore[misc]


def test_topics_round_trip() -> None:
    assert event_topic("s1", "g1", "candidate.admitted") == "examgate/v1/s1/g1/events/candidate.admitted"
    assert status_topic("s1", "g1") == "examgate/v1/s1/g1/status"
    assert command_topic("s1", "g1", "roster.replace") == "examgate/v1/s1/g1/cmd/roster.replace"
    assert admissions_filter("s1") == "examgate/v1/s1/+/events/candidate.admitted"
    assert shared_events_filter("ingest") == "$share/ingest/examgate/v1/+/+/events/#"
    parts = parse_topic("examgate/v1/s1/g1/events/device.fault")
    assert parts is not None
    assert (parts.site_id, parts.gate_id, parts.kind, parts.name) == (
        "s1",
        "g1",
        "events",
        "device.fault",
    )
    assert parse_topic("examgate/v1/s1/g1/status") is not None
    assert parse_topic("other/v1/s1/g1/status") is None
    assert parse_topic("examgate/v1/s1/g1/events") is None


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#"])
def test_topic_segments_are_checked(bad: str) -> None:
    with pytest.raises(ValueError, match="topic segment"):
        event_topic(bad, "g", "x")
