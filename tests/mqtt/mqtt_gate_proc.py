"""A gate's MQTT link in its own process (for kill -9 tests): runs until SIGTERM/SIGKILL."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from mqtt_helpers import StoreTarget

from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings
from edge.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--site", default="site-1")
    parser.add_argument("--gate", default="gate-k")
    parser.add_argument("--max-inflight", type=int, default=10)
    args = parser.parse_args()
    store = Store.open(args.db, synchronous="NORMAL")
    settings = MqttSettings(
        broker_url=args.url, client_id=f"proc-{args.gate}", max_inflight=args.max_inflight, keepalive_s=5
    )
    link = GateLink(settings, store, StoreTarget(store), site_id=args.site, gate_id=args.gate)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    link.start()
    print("started", flush=True)
    done.wait()
    link.stop()
    store.close()


if __name__ == "__main__":
    main()
