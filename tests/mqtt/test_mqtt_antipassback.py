"""Two gates of one site over a real broker: remote admissions recorded; a partitioned double admission flagged."""

from __future__ import annotations

import json
from pathlib import Path

from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, Collector, StoreTarget, admit_locally, admitted_event, wait_until

from edge.mqtt.antipassback import AntiPassback
from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings
from edge.store import Store


def gate_link(broker: Mosquitto, store: Store, gate_id: str) -> GateLink:
    settings = MqttSettings(broker_url=broker.url, client_id=f"apb-{gate_id}", backoff_max_s=2)
    link = GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id=gate_id)
    link.start()
    assert link.connection.wait_ready(10)
    return link


def test_two_gates_share_admissions_and_flag_a_partitioned_double_admission(broker: Mosquitto, tmp_path: Path) -> None:
    store_a = Store.open(tmp_path / "a.db", synchronous="NORMAL")
    store_b = Store.open(tmp_path / "b.db", synchronous="NORMAL")
    for store in (store_a, store_b):
        store.ensure_session("S1")
    conflicts = Collector("127.0.0.1", broker.port, f"examgate/v1/{SITE}/+/events/admission.conflict")
    link_a = gate_link(broker, store_a, "gate-a")
    link_b = gate_link(broker, store_b, "gate-b")
    links = [link_a, link_b]
    try:
        # connected: an admission at A is known at B within moments
        first = admit_locally(store_a, "C001", "gate-a", "S1")
        assert wait_until(lambda: store_b.admission_of("S1", "C001") == ("gate-a", first.event_id), 10)
        assert link_b.anti_passback.remote_recorded == 1

        # partition: B is cut off; the same candidate is admitted at both gates
        link_b.stop()
        links.remove(link_b)
        at_a = admit_locally(store_a, "C002", "gate-a", "S1")
        assert wait_until(lambda: store_a.outbox_backlog() == 0, 10)
        at_b = admit_locally(store_b, "C002", "gate-b", "S1")

        # B comes back (same client id: its persistent session held A's admission)
        link_b = gate_link(broker, store_b, "gate-b")
        links.append(link_b)
        assert conflicts.wait_for(lambda m: len(m) >= 2, 15), (link_a.anti_passback.conflicts, link_b.metrics())
        assert wait_until(lambda: store_a.outbox_backlog() == 0 and store_b.outbox_backlog() == 0, 10)
    finally:
        for link in links:
            link.stop()
        conflicts.close()
    events = [json.loads(m.payload) for m in conflicts.snapshot()]
    assert sorted(e["gate_id"] for e in events) == ["gate-a", "gate-b"]
    for event in events:
        assert event["subject"]["candidate_id"] == "C002"
        assert {event["first_event_id"], event["second_event_id"]} == {at_a.event_id, at_b.event_id}
        assert event["session_id"] == "S1"
    # each gate keeps its own first record; the first candidate caused no conflict
    assert store_a.admission_of("S1", "C002") == ("gate-a", at_a.event_id)
    assert store_b.admission_of("S1", "C002") == ("gate-b", at_b.event_id)
    assert link_a.anti_passback.conflicts == 1
    store_a.close()
    store_b.close()


def test_redelivered_and_other_session_admissions_are_ignored(broker: Mosquitto, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db", synchronous="NORMAL")
    store.ensure_session("S9")
    apb = AntiPassback(store, site_id=SITE, gate_id="gate-c")
    remote = admitted_event("C9", "gate-d", "S9")
    payload = remote.model_dump_json().encode()
    assert apb.handle(payload) is None
    assert apb.handle(payload) is None  # at-least-once redelivery: no conflict
    assert apb.handle(admitted_event("C9", "gate-d", "OTHER").model_dump_json().encode()) is None
    assert apb.handle(admitted_event("C9", "gate-c", "S9").model_dump_json().encode()) is None  # own echo
    assert apb.handle(b"{broken") is None
    assert apb.remote_recorded == 1
    assert apb.conflicts == 0
    assert store.admission_of("S9", "C9") == ("gate-d", remote.event_id)
    store.close()
