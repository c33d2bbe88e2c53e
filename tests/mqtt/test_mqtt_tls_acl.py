"""TLS 1.2+ with server verification, mTLS identities, password auth and the ACL, against a real mosquitto."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from mqtt_broker import MOSQUITTO, Mosquitto
from mqtt_helpers import SITE, Collector, StoreTarget, admit_locally, status_event, wait_until
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.events.models import Event
from edge.mqtt.connection import MqttConnection
from edge.mqtt.ingest import EventSink, Ingestor
from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings
from edge.store import Store


def tls_link(broker: Mosquitto, store: Store, gate_id: str, cert_name: str) -> GateLink:
    cert, key = broker.pki.client(cert_name)
    settings = MqttSettings(
        broker_url=broker.tls_url,
        client_id=f"tls-{gate_id}",
        ca_file=broker.pki.ca,
        cert_file=cert,
        key_file=key,
        backoff_min_s=1,
        backoff_max_s=1,
    )
    return GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id=gate_id)


def outbox(path: Path, events: Iterable[Event]) -> Store:
    """A gate store at ``path`` with ``events`` waiting in its outbox."""
    store = Store.open(path, synchronous="NORMAL")
    for event in events:
        store.append_event(event)
    return store


@contextmanager
def running(link: GateLink, *then_close: Collector | Store) -> Iterator[GateLink]:
    """``link`` started; on the way out stopped, then ``then_close`` closed in that order."""
    link.start()
    try:
        yield link
    finally:
        link.stop()
        for thing in then_close:
            thing.close()


def ops_collector(broker: Mosquitto, topic_filter: str) -> Collector:
    cert, key = broker.pki.client("central-ops")
    return Collector("127.0.0.1", broker.tls_port, topic_filter, tls=(broker.pki.ca, cert, key))


def test_mtls_gate_publishes_its_own_events(broker: Mosquitto, tmp_path: Path) -> None:
    store = outbox(tmp_path / "g.db", (status_event(i) for i in range(5)))
    central = ops_collector(broker, f"examgate/v1/{SITE}/gate-a/#")
    with running(tls_link(broker, store, "gate-a", "gate-a"), central, store) as link:
        assert wait_until(lambda: store.outbox_backlog() == 0, 10), (link.metrics(), broker.log_text()[-1500:])
        assert central.wait_for(lambda m: sum("/events/" in x.topic for x in m) >= 5, 5)
        assert central.wait_for(lambda m: any(x.topic.endswith("/status") for x in m), 5)


def test_acl_stops_a_gate_publishing_as_another_gate(broker: Mosquitto, tmp_path: Path) -> None:
    """Certificate says gate-a, config says gate-b: the broker refuses every event; nothing is marked sent."""
    store = outbox(tmp_path / "g.db", (status_event(i, gate_id="gate-b") for i in range(3)))
    central = ops_collector(broker, f"examgate/v1/{SITE}/gate-b/events/#")
    with running(tls_link(broker, store, "gate-b", "gate-a"), central) as link:
        assert wait_until(lambda: link.metrics().failed >= 3, 10), link.metrics()
        assert store.outbox_backlog() == 3
        assert central.snapshot() == []
    pending = store.outbox_pending(10)
    assert len(pending) == 3
    store.close()


def test_client_without_certificate_is_refused(broker: Mosquitto) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.tls_set_context(ssl.create_default_context(cafile=str(broker.pki.ca)))
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()

    def attempt() -> None:
        client.connect("127.0.0.1", broker.tls_port)
        client.loop_start()
        for _ in range(50):  # TLS 1.3: the refusal can arrive after the handshake, on the first read
            if connected.wait(0.05):
                break
        client.loop_stop()
        if not connected.is_set():
            raise OSError("connection closed by the broker")

    with pytest.raises((ssl.SSLError, OSError)):
        attempt()
    assert not connected.is_set()


def test_gate_rejects_a_broker_it_cannot_verify(broker: Mosquitto, tmp_path: Path) -> None:
    """Wrong CA (here: a client certificate used as trust anchor) → the gate never connects."""
    store = Store.open(tmp_path / "g.db", synchronous="NORMAL")
    cert, key = broker.pki.client("gate-a")
    settings = MqttSettings(
        broker_url=broker.tls_url, client_id="tls-bad-ca", ca_file=cert, cert_file=cert, key_file=key
    )
    with running(GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id="gate-a"), store) as link:
        assert not link.connection.wait_connected(2)


def test_username_password_over_tls(broker: Mosquitto, tmp_path: Path) -> None:
    store = outbox(tmp_path / "p.db", [status_event(1, gate_id="gate-p")])
    pw_file = tmp_path / "pw"
    pw_file.write_text(broker.passwords["gate-p"] + "\n")
    settings = MqttSettings(
        broker_url=broker.pw_url, client_id="pw-gate-p", ca_file=broker.pki.ca, username="gate-p", password_file=pw_file
    )
    central = Collector(
        "127.0.0.1",
        broker.pw_port,
        f"examgate/v1/{SITE}/gate-p/events/#",
        ca=broker.pki.ca,
        userpass=("central-ops", broker.passwords["central-ops"]),
    )
    with running(GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id="gate-p"), central, store) as link:
        assert wait_until(lambda: store.outbox_backlog() == 0, 10), link.metrics()
        assert central.wait_for(lambda m: len(m) == 1, 5)
        assert json.loads(central.snapshot()[0].payload)["gate_id"] == "gate-p"


def test_wrong_password_is_refused(broker: Mosquitto, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "p.db", synchronous="NORMAL")
    settings = MqttSettings(
        broker_url=broker.pw_url, client_id="pw-bad", ca_file=broker.pki.ca, username="gate-p", password="wrong"
    )
    with running(GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id="gate-p"), store) as link:
        assert not link.connection.wait_connected(2)
        assert link.connection.last_connect_reason is not None
        assert "authori" in link.connection.last_connect_reason.lower() or "bad" in (
            link.connection.last_connect_reason.lower()
        )


def test_sample_central_config_runs_and_enforces_identity(tmp_path: Path) -> None:
    """deploy/central/mosquitto.conf (paths/ports substituted) starts; gates publish only as themselves."""
    if MOSQUITTO is None:
        pytest.skip("mosquitto binary not installed")
    sample = Mosquitto(sample=True)
    try:
        sample.start()
        store = outbox(tmp_path / "s.db", [status_event(1, gate_id="gate-b")])
        with running(tls_link(sample, store, "gate-b", "gate-b")) as good:
            assert wait_until(lambda: store.outbox_backlog() == 0, 10), (good.metrics(), sample.log_text()[-1500:])
        store.append_event(status_event(2, gate_id="gate-b"))
        with running(tls_link(sample, store, "gate-b", "gate-a")) as impostor:
            assert wait_until(lambda: impostor.metrics().failed >= 1, 10)
            assert store.outbox_backlog() == 1
        store.close()
    finally:
        sample.cleanup()


def test_ingest_identity_reads_shared_events_and_cannot_command(broker: Mosquitto, tmp_path: Path) -> None:
    """The committed ACL lets `ingest` consume via $share and nothing else."""
    pw_file = tmp_path / "ingest.pw"
    pw_file.write_text(broker.passwords["ingest"])
    settings = MqttSettings(
        broker_url=broker.pw_url, ca_file=broker.pki.ca, username="ingest", password_file=pw_file, client_id="ing-acl"
    )
    sink = EventSink(tmp_path / "central.db")
    ingestor = Ingestor(settings, sink, "acl-grp")
    ingestor.start()
    gate_store = outbox(tmp_path / "g.db", [status_event(7, gate_id="gate-a")])
    link = tls_link(broker, gate_store, "gate-a", "gate-a")
    try:
        assert ingestor.subscribed.wait(10)
        link.start()
        assert wait_until(lambda: sink.count() == 1, 10), broker.log_text()[-1500:]
        # the ingest identity may not send commands
        refused: list[int] = []
        done = threading.Event()
        conn = MqttConnection(settings.model_copy(update={"client_id": "ing-acl-2"}), "ing-acl-2")
        conn.start()
        assert conn.wait_connected(10)
        conn.publish(
            f"examgate/v1/{SITE}/gate-a/cmd/gate.lock", b"{}", on_ack=lambda r: (refused.append(r), done.set())
        )
        assert done.wait(5)
        conn.stop()
        assert refused == [0x87]
    finally:
        link.stop()
        ingestor.stop()
        sink.close()
        gate_store.close()


def test_anti_passback_works_through_the_acl(broker: Mosquitto, tmp_path: Path) -> None:
    """Gates on the mTLS listener (ACL enforced) still see each other's admissions."""
    stores = {g: Store.open(tmp_path / f"{g}.db", synchronous="NORMAL") for g in ("gate-a", "gate-b")}
    links = {g: tls_link(broker, stores[g], g, g) for g in stores}
    try:
        for g, link in links.items():
            stores[g].ensure_session("S5")
            link.start()
            assert link.connection.wait_ready(10)
        event = admit_locally(stores["gate-a"], "C500", "gate-a", "S5")
        assert wait_until(lambda: stores["gate-b"].admission_of("S5", "C500") == ("gate-a", event.event_id), 10), (
            broker.log_text()[-1500:]
        )
    finally:
        for link in links.values():
            link.stop()
        for store in stores.values():
            store.close()
