"""Centre load test: G simulated gates → loopback mosquitto → 1/2/4 PostgreSQL ingest workers, with baselines.

    python bench/central.py [--gates 300] [--events-per-gate 4500] [--workers 1,2,4] [--batch 500] [--safety-net 2]

Starts a throw-away PostgreSQL (Debian's binaries) and a mosquitto on free loopback ports. Each gate is a paho
MQTT 5 client with its own client id publishing QoS 1 events (~650 B, a decision-like payload) in a
bounded in-flight window; the gates are spread over 4 publisher processes and publish at once.
Figures per run: events/s stored (first publish → last row committed), end-to-end lag p50/p95 (received_at −
occurred_at, the event's own creation time), worker CPU per 1k events (user+sys of the worker processes), lost and
duplicate counts. Baselines in the same run: (a) a bare shared-subscription subscriber (auto-ack, count only),
(b) bare COPY of the same rows into the same events table. ``--safety-net W`` adds one run of W workers plus the
safety-net worker (docs/central.md), which receives and inserts every event a second time: its cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "central"), str(REPO / "tests" / "mqtt")]

from mqtt_broker import Mosquitto  # noqa: E402

from edge.central import db  # noqa: E402
from edge.central.demo import ingest_argv  # noqa: E402
from edge.central.throwaway import PgCluster  # noqa: E402
from edge.events.models import CandidateAdmitted, Subject  # noqa: E402
from edge.mqtt.topics import event_topic  # noqa: E402

SITE = "bench-site"
RUNNER = REPO / "tests" / "central" / "ingest_runner.py"


def _event(gate: str, n: int) -> tuple[str, bytes, str]:
    ev = CandidateAdmitted(
        site_id=SITE,
        gate_id=gate,
        session_id="S-bench",
        attempt_id=f"att-{gate}-{n}",
        subject=Subject(candidate_id=f"{n:06d}", id_masked="0010******45"),
        thresholds_version="t-2026.1",
        match_threshold=0.6,
        review_threshold=0.5,
        model_version="mfn-2.0",
        face_score=0.8731,
        passive_auth="ok",
        clone_check="aa_ok",
        access_protocol="pace",
        timings_ms={"read_ms": 812.5, "face_ms": 143.2, "total_ms": 1190.0},
    )
    return event_topic(SITE, gate, ev.event_type), ev.model_dump_json().encode(), ev.event_id


def _publisher(port: int, gates: list[str], per_gate: int, start_at: float, window: int, out: Any) -> None:
    clients = []
    for g in gates:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{g}", protocol=MQTTProtocolVersion.MQTTv5)
        c.max_inflight_messages_set(window)
        c.connect("127.0.0.1", port, keepalive=60)
        c.loop_start()
        clients.append((g, c))
    while time.time() < start_at:
        time.sleep(0.005)
    pending: list[mqtt.MQTTMessageInfo] = []
    sent = 0
    for n in range(per_gate):
        for g, c in clients:
            topic, payload, _ = _event(g, n)
            pending.append(c.publish(topic, payload, qos=1))
            sent += 1
        if len(pending) > window * len(clients):
            for info in pending:
                info.wait_for_publish(30)
            pending.clear()
    for info in pending:
        info.wait_for_publish(30)
    for _, c in clients:
        c.disconnect()
        c.loop_stop()
    out.put(sent)


def publish_all(port: int, gates: int, per_gate: int, procs: int = 4, window: int = 20) -> tuple[float, int]:
    names = [f"gate-{i:03d}" for i in range(gates)]
    q: Any = mp.Queue()
    start_at = time.time() + 1.5 + gates * 0.004
    ps = [
        mp.Process(target=_publisher, args=(port, names[i::procs], per_gate, start_at, window, q)) for i in range(procs)
    ]
    for p in ps:
        p.start()
    sent = sum(q.get(timeout=3600) for _ in ps)
    for p in ps:
        p.join()
    return start_at, sent


def bare_subscriber(broker: Mosquitto, gates: int, per_gate: int) -> dict[str, float]:
    total = gates * per_gate
    got = 0
    first = last = 0.0

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        nonlocal got, last
        got += 1
        last = time.time()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare-sub", protocol=MQTTProtocolVersion.MQTTv5)
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("$share/bare/examgate/v1/+/+/events/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    first, sent = publish_all(broker.port, gates, per_gate)
    deadline = time.time() + 120
    while got < total and time.time() < deadline:
        time.sleep(0.05)
    sub.unsubscribe("$share/bare/examgate/v1/+/+/events/#")
    sub.disconnect()
    sub.loop_stop()
    return {"events": got, "sent": sent, "seconds": round(last - first, 2), "events_per_s": round(got / (last - first))}


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(broker: Mosquitto, dsn: str, group: str, client_id: str, batch: int, *extra: str) -> subprocess.Popen[str]:
    argv = [*ingest_argv(broker.url, dsn, group, client_id), "--batch", str(batch), *extra]
    return subprocess.Popen(
        [sys.executable, str(RUNNER), *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
    )


def ingest_run(
    broker: Mosquitto, dsn: str, workers: int, gates: int, per_gate: int, batch: int, *, safety_net: bool = False
) -> dict[str, Any]:
    total = gates * per_gate
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE events")
        conn.commit()
    group = f"ing{workers}-{uuid.uuid4().hex[:4]}"
    procs = [_worker(broker, dsn, group, f"{group}-{n}", batch) for n in range(workers)]
    # the safety net exits once it has handled every event (stored or found already stored)
    net = (
        _worker(broker, dsn, group, f"{group}-net", batch, "--safety-net", "--count", str(total))
        if safety_net
        else None
    )
    time.sleep(2.0)  # connected and subscribed
    every = [*procs, *([net] if net else [])]
    cpu0 = sum(_cpu_s(p.pid) for p in every)
    first, sent = publish_all(broker.port, gates, per_gate)
    deadline = time.time() + 600
    count = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.time() < deadline:
            count = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]
            if count >= total:
                break
            time.sleep(0.1)
        done = time.time()
        net_cpu_s = 0.0
        if net is not None:
            while net.poll() is None and time.time() < deadline:  # the safety net's last batch
                net_cpu_s = _cpu_s(net.pid)
                time.sleep(0.1)
        net_done = time.time()
        cpu = sum(_cpu_s(p.pid) for p in procs) + net_cpu_s - cpu0
        lag = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - occurred_at)),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - occurred_at)),"
            " count(DISTINCT event_id) FROM events"
        ).fetchone()
    summaries = []
    for p in procs:
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    net_summary = None
    if net is not None:
        if net.poll() is None:  # it did not see every event (its broker queue overflowed): stop it, count what it saw
            net.send_signal(signal.SIGTERM)
        net_summary = json.loads(net.communicate(timeout=30)[0].strip().splitlines()[-1])
    assert lag is not None
    return {
        "workers": workers,
        "safety_net": None
        if net_summary is None
        else {
            "stored": net_summary["stored"],
            "already_stored": net_summary["duplicates"],
            "handled_share": round((net_summary["stored"] + net_summary["duplicates"]) / total, 3),
            "seconds_after_last_row": round(net_done - done, 2),
        },
        "sent": sent,
        "stored": count,
        "lost": total - int(lag[2]),
        "duplicate_rows": count - int(lag[2]),
        "redelivered_duplicates": sum(s["duplicates"] for s in summaries),
        "seconds": round(done - first, 2),
        "events_per_s": round(count / (done - first)),
        "lag_p50_ms": round(float(lag[0]) * 1000),
        "lag_p95_ms": round(float(lag[1]) * 1000),
        "worker_cpu_s_per_1k": round(cpu / count * 1000, 3),
        "per_worker_stored": [s["stored"] for s in summaries],
    }


def bare_copy(dsn: str, gates: int, per_gate: int) -> dict[str, Any]:
    rows = []
    for g in range(gates):
        for n in range(per_gate):
            _, payload, event_id = _event(f"gate-{g:03d}", n)
            data = json.loads(payload)
            rows.append(
                (event_id, data["event_type"], SITE, data["gate_id"], "S-bench", data["occurred_at"], payload.decode())
            )
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE events")
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY events (event_id, event_type, site_id, gate_id, session_id, occurred_at, payload) FROM STDIN"
            ) as copy,
        ):
            for r in rows:
                copy.write_row(r)
        conn.commit()
        seconds = time.perf_counter() - t0
    return {"rows": len(rows), "seconds": round(seconds, 2), "rows_per_s": round(len(rows) / seconds)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gates", type=int, default=300)
    ap.add_argument("--events-per-gate", type=int, default=4500)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument(
        "--safety-net", type=int, default=2, metavar="W", help="one run of W workers + safety net (0: none)"
    )
    args = ap.parse_args()
    pg = PgCluster()
    pg.start()
    broker = Mosquitto()
    broker.start()
    results: dict[str, Any] = {"gates": args.gates, "events_per_gate": args.events_per_gate, "cpus": os.cpu_count()}
    try:
        dsn = pg.create_db("bench")
        db.migrate(dsn)
        with psycopg.connect(dsn) as conn:
            db.ensure_partitions(conn, {db.month_start(dt.datetime.now(dt.UTC))})
            conn.commit()
        results["bare_subscriber"] = bare_subscriber(broker, args.gates, args.events_per_gate)
        print(json.dumps({"bare_subscriber": results["bare_subscriber"]}), flush=True)
        results["bare_copy"] = bare_copy(dsn, args.gates, args.events_per_gate)
        print(json.dumps({"bare_copy": results["bare_copy"]}), flush=True)
        runs = []
        plan = [(int(x), False) for x in args.workers.split(",")] + (
            [(args.safety_net, True)] if args.safety_net else []
        )
        for w, net in plan:
            run = ingest_run(broker, dsn, w, args.gates, args.events_per_gate, args.batch, safety_net=net)
            run["ratio_to_bare_subscriber"] = round(run["events_per_s"] / results["bare_subscriber"]["events_per_s"], 2)
            print(json.dumps(run), flush=True)
            runs.append(run)
        results["ingest"] = runs
    finally:
        broker.cleanup()
        pg.cleanup()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
