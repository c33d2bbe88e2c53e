"""``examgate central demo`` (``make central-demo``): the centre's side on one machine, everything throw-away.

PostgreSQL from Debian's package in a temporary cluster, an embedded mosquitto, two ingest workers in one share
group and the safety-net worker (docs/central.md), the province dashboard, and the demo gate (``examgate demo
--broker``) publishing a session. Prints the dashboard address and a one-time login, then runs until Ctrl-C (or
``--exit-after-s``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from edge.api.accounts import AccountStore
from edge.central import db
from edge.central.throwaway import PgCluster, free_port
from edge.demo.broker import EmbeddedBroker
from edge.store import open_store

USER = "tinh.demo"


def ingest_argv(broker_url: str, dsn: str, group: str, client_id: str, *, safety_net: bool = False) -> list[str]:
    """The ``examgate ingest`` arguments of one PostgreSQL worker (the central demo and the bench start them)."""
    argv = ["ingest", "--broker", broker_url, "--postgres", dsn, "--group", group, "--client-id", client_id]
    return [*argv, "--safety-net"] if safety_net else argv


def _examgate(*argv: str) -> list[str]:
    return [sys.executable, "-m", "edge.cli.main", *argv]


def _wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
        time.sleep(0.2)
    return False


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="examgate-central-demo-"))
    pg = PgCluster()
    pg.start()
    broker = EmbeddedBroker()
    broker.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        dsn = pg.create_db("examgate")
        db.migrate(dsn)
        accounts_path = work / "centre-accounts.db"
        open_store(accounts_path).close()
        password = secrets.token_urlsafe(12)
        accounts = AccountStore(accounts_path)
        accounts.add_user(USER, "viewer", password, actor="central-demo")
        accounts.close()
        for n, net in ((1, False), (2, False), (3, True)):  # two workers in the share group + the safety net
            argv = ingest_argv(broker.url, dsn, "demo", f"ingest-{'safety-net' if net else n}", safety_net=net)
            procs.append(subprocess.Popen(_examgate(*argv), stdout=subprocess.DEVNULL))
        port = args.port or free_port()
        dash = ["central", "dashboard", "--postgres", dsn, "--accounts", str(accounts_path), "--port", str(port)]
        procs.append(subprocess.Popen(_examgate(*dash)))
        url = f"http://127.0.0.1:{port}/"
        if not _wait_http(url + "healthz", 20):
            print("the dashboard did not start", file=sys.stderr)
            return 1
        print(json.dumps({"dashboard": url, "username": USER, "password": password, "postgres": dsn}), flush=True)
        gate = subprocess.run(
            _examgate("demo", "--broker", broker.url, "--workdir", str(work / "gate"), "--site", "demo-site"),
            stdout=subprocess.DEVNULL,
            check=False,
        )
        time.sleep(2.0)  # the workers' last batch
        with db.connect(dsn) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT gate_id) FROM events").fetchone()
        stored = int(row[0]) if row else 0  # type: ignore[call-overload]
        print(json.dumps({"demo_gate_exit": gate.returncode, "events_stored": stored}), flush=True)
        deadline = time.monotonic() + args.exit_after_s if args.exit_after_s is not None else None
        print("Ctrl-C stops the demo", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.5)
        return 0 if gate.returncode == 0 and stored > 0 else 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        broker.stop()
        pg.cleanup()
