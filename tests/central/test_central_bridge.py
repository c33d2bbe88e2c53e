"""deploy/central/bridge.conf between two real mosquitto processes: events up into the provincial ingest, commands
down, and the centre keeps working while the provincial link is down (queued events arrive after it is back); and the
same bridge over mutual TLS into the province's certificate listener, confined by deploy/central/acl-bridge."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from central_helpers import SITE, close, publish, publisher, scalar, status_event, wait_until, worker
from mqtt_broker import Mosquitto

from edge.central import db
from edge.mqtt.topics import command_topic, events_filter

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "central"
BRIDGE = DEPLOY / "bridge.conf"
BRIDGE_ACL = DEPLOY / "acl-bridge"
TLS_FILES = ("bridge_cafile", "bridge_certfile", "bridge_keyfile")


def bridged_centre(province: Mosquitto, centre_id: str = "qng01", *, tls: bool = False) -> Mosquitto:
    """A centre broker whose config is the test config plus the committed bridge, pointed at the province's plain
    loopback listener (address swapped, TLS lines dropped) or, with ``tls``, at its mTLS listener with the province
    CA's certificate for ``examgate-bridge-<centre_id>`` (TLS lines kept, file paths swapped).
    Topic lines as committed."""
    centre = Mosquitto()
    bridge_cert, bridge_key = province.pki.client(f"examgate-bridge-{centre_id}")
    tls_paths = dict(zip(TLS_FILES, (province.pki.ca, bridge_cert, bridge_key), strict=True))
    lines = []
    for raw in BRIDGE.read_text().splitlines():
        line = raw
        key = raw.split(" ", 1)[0]
        if key == "address":
            line = f"address 127.0.0.1:{province.tls_port if tls else province.port}"
        elif key in tls_paths:
            if not tls:
                continue
            line = f"{key} {tls_paths[key]}"
        elif key == "bridge_tls_version" and not tls:
            continue
        elif key == "restart_timeout":
            line = "restart_timeout 3 5"  # after the provincial ingest re-subscribed (docs/central.md)
        lines.append(line.replace("CENTRE_ID", centre_id))
    centre.config.write_text(centre.config.read_text() + "\n" + "\n".join(lines) + "\n")
    centre.start()
    return centre


class Listener:
    def __init__(self, port: int, topic: str) -> None:
        self.got: list[bytes] = []
        self.ready = threading.Event()
        self.client = publisher(port, client_id=f"lst-{uuid.uuid4().hex[:6]}")
        self.client.on_message = lambda _c, _u, m: self.got.append(bytes(m.payload))
        self.client.on_subscribe = lambda *_a: self.ready.set()
        self.client.subscribe(topic, qos=1)
        assert self.ready.wait(5)


def test_bridge_over_mutual_tls_is_confined_to_its_centre(pg_dsn: str) -> None:
    """The committed bridge with its TLS lines, into the province's certificate listener: the province's ACL is the
    committed sample plus the committed bridge block, so the centre's own events go up and its commands come down,
    while an event a gate at the centre writes under another centre's topic is dropped at the province."""
    province = Mosquitto(pki_clients=("central-ops", "ingest", f"examgate-bridge-{SITE}"))
    acl = province.dir / "acl"
    acl.write_text(acl.read_text() + "\n" + BRIDGE_ACL.read_text().replace("CENTRE_ID", SITE))
    province.start()
    centre = bridged_centre(province, SITE, tls=True)
    try:
        db.migrate(pg_dsn)
        ing = worker(province, pg_dsn, "prov", "prov")
        cmd = Listener(centre.port, command_topic(SITE, "gate-a", "+").replace("/+", "/#"))
        gate = publisher(centre.port, client_id="gate-a-sim")
        ops = publisher(province.port, client_id="ops")
        try:
            assert wait_until(lambda: "examgate-bridge" in province.log_text(), 10), centre.log_text()[-2000:]
            own = [status_event(i) for i in range(20)]
            foreign = status_event(99, site_id="other-centre")
            publish(gate, foreign)  # forwarded by the bridge's topic line, refused by the province's ACL
            for ev in own:
                publish(gate, ev)
            assert wait_until(lambda: ing.counters.snapshot()["stored"] >= 20, 15), province.log_text()[-2000:]
            ops.publish(command_topic(SITE, "gate-a", "ping"), b'{"command_id": "c2"}', qos=1).wait_for_publish(5)
            assert wait_until(lambda: cmd.got == [b'{"command_id": "c2"}'], 10)
            time.sleep(0.5)
        finally:
            for client in (gate, ops, cmd.client):
                close(client)
            ing.stop()
    finally:
        centre.cleanup()
        province.cleanup()
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 20
    assert scalar(pg_dsn, "SELECT count(*) FROM events WHERE site_id = 'other-centre'") == 0


def test_bridge_events_up_commands_down_and_link_drop(private_broker: Callable[[], Mosquitto], pg_dsn: str) -> None:
    province = private_broker()
    centre = bridged_centre(province)
    try:
        db.migrate(pg_dsn)
        ing = worker(province, pg_dsn, "prov", "prov")
        local = Listener(centre.port, events_filter())  # a consumer at the centre itself
        cmd = Listener(centre.port, command_topic(SITE, "gate-a", "+").replace("/+", "/#"))
        gate = publisher(centre.port, client_id="gate-a-sim")
        time.sleep(1.0)  # the bridge connects
        first = [status_event(i) for i in range(50)]
        for ev in first:
            publish(gate, ev)
        assert wait_until(lambda: ing.counters.snapshot()["stored"] >= 50, 15), province.log_text()[-2000:]
        ops = publisher(province.port, client_id="ops")
        ops.publish(command_topic(SITE, "gate-a", "ping"), b'{"command_id": "c1"}', qos=1).wait_for_publish(5)
        assert wait_until(lambda: cmd.got == [b'{"command_id": "c1"}'], 10)
        close(ops)

        province.stop()  # the provincial link drops
        second = [status_event(i, gate_id="gate-b") for i in range(100)]
        for ev in second:
            publish(gate, ev)  # the centre broker still takes the gates' events
        assert wait_until(lambda: len(local.got) >= 150, 10)  # and local consumers still get them
        province.start()
        assert wait_until(lambda: ing.counters.snapshot()["stored"] >= 150, 30), centre.log_text()[-2000:]
        close(gate)
        close(local.client)
        close(cmd.client)
        ing.stop()
    finally:
        centre.cleanup()
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 150
