"""One broker-URL parser (issue 14 fault 5): bad URLs are E_MQTT_URL everywhere, a dead broker E_MQTT_UNREACHABLE."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from edge.mqtt.connection import MqttConnection, MqttUnreachableError, probe_broker
from edge.mqtt.errors import MqttConfigError
from edge.mqtt.settings import MqttSettings
from edge.mqtt.url import BrokerAddress, MqttUrlError, parse_broker_url

BAD_URLS = [
    ("garbage", "must start with mqtt:// or mqtts://"),
    ("", "empty"),
    ("mqtt://", "no host"),
    ("mqtt://:1883", "no host"),
    ("http://x", "must start with mqtt:// or mqtts://"),
    ("mqtt://127.0.0.1:99999", "bad port"),
    ("mqtt://127.0.0.1:0", "bad port"),
    ("mqtt://127.0.0.1:abc", "bad port"),
    ("mqtt://[::1", "cannot be read"),
    ("mqtt://h:1/topic", "scheme://host:port only"),
    ("mqtts://user:pw@h", "credentials"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("url", "fragment"), BAD_URLS)
def test_bad_urls_are_typed_errors_with_a_remedy(url: str, fragment: str) -> None:
    with pytest.raises(MqttUrlError) as info:
        parse_broker_url(url)
    assert info.value.code == "E_MQTT_URL"
    assert fragment in info.value.message
    assert "mqtt://HOST:PORT" in info.value.remedy or "mqtt.username" in info.value.remedy
    assert isinstance(info.value, MqttConfigError)  # callers that catch config errors still do


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://localhost", BrokerAddress(tls=False, host="localhost", port=1883)),
        ("MQTTS://broker.example.vn", BrokerAddress(tls=True, host="broker.example.vn", port=8883)),
        ("mqtts://[::1]:9", BrokerAddress(tls=True, host="::1", port=9)),
        (" mqtt://127.0.0.1:65535 ", BrokerAddress(tls=False, host="127.0.0.1", port=65535)),
    ],
)
def test_good_urls(url: str, expected: BrokerAddress) -> None:
    assert parse_broker_url(url) == expected


def test_address_url_round_trips() -> None:
    assert parse_broker_url("mqtts://[::1]:9").url == "mqtts://[::1]:9"
    assert parse_broker_url("mqtt://h").url == "mqtt://h:1883"


def test_settings_from_options_use_the_same_parser() -> None:
    with pytest.raises(MqttUrlError):
        MqttSettings.from_options(broker_url="mqtt://")
    with pytest.raises(MqttConfigError) as info:
        MqttSettings.from_options(broker_url="mqtt://10.0.0.5:1883")
    assert info.value.code == "E_MQTT_CONFIG"
    assert "plain mqtt://" in info.value.message


def test_a_refused_port_is_unreachable_with_code_and_remedy() -> None:
    address = parse_broker_url(f"mqtt://127.0.0.1:{free_port()}")
    with pytest.raises(MqttUnreachableError) as info:
        probe_broker(address, timeout_s=2)
    assert info.value.code == "E_MQTT_UNREACHABLE"
    assert "refused" in info.value.message
    assert "start the broker" in info.value.remedy


def test_a_connection_that_never_succeeded_says_why() -> None:
    settings = MqttSettings(broker_url=f"mqtt://127.0.0.1:{free_port()}", backoff_min_s=1, backoff_max_s=1)
    connection = MqttConnection(settings, "url-test")
    connection.start()
    try:
        deadline = time.monotonic() + 10
        while connection.connect_failures == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        connection.stop(timeout_s=1)
    error = connection.unreachable_error()
    assert error is not None
    assert error.code == "E_MQTT_UNREACHABLE"
    assert "attempt(s) failed" in error.message


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("command", [["events", "tail"], ["ingest", "--db", "unused.db"]])
@pytest.mark.parametrize("url", ["garbage", "mqtt://", "http://x", "mqtt://127.0.0.1:99999"])
def test_cli_bad_broker_url_is_a_clear_error(command: list[str], url: str) -> None:
    done = run_cli(*command, "--broker", url, "--timeout-s", "1")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "error: E_MQTT_URL:" in done.stderr
    assert "remedy:" in done.stderr


def test_events_tail_on_a_dead_broker_says_so() -> None:
    done = run_cli("events", "tail", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--timeout-s", "1")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "error: E_MQTT_UNREACHABLE:" in done.stderr
    assert "remedy: start the broker" in done.stderr
