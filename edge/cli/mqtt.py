"""CLI: `examgate ingest` (reference central subscriber), `examgate events tail` and `examgate events asyncapi`."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from edge.central.cli import require_ingest_target, run_postgres_ingest
from edge.cliflags import Flag, add_flags, keywords
from edge.mqtt.asyncapi import committed_asyncapi_path, render_asyncapi
from edge.mqtt.connection import build_client, unreachable
from edge.mqtt.ingest import EventSink, Ingestor
from edge.mqtt.settings import MqttSettings
from edge.mqtt.tail import format_event
from edge.mqtt.topics import events_filter

SubParsers = argparse._SubParsersAction
_REPO_ROOT = Path(__file__).resolve().parents[2]


# The broker flags besides --broker, each with the MqttSettings field it sets.
_SETTINGS_FLAGS = (
    Flag("--ca", "ca_file", {"type": Path, "help": "CA bundle for the broker certificate"}),
    Flag("--cert", "cert_file", {"type": Path, "help": "client certificate (mTLS)"}),
    Flag("--key", "key_file", {"type": Path, "help": "client key (mTLS)"}),
    Flag("--username", "username"),
    Flag("--password-file", "password_file", {"type": Path}),
    Flag("--client-id", "client_id"),
    Flag(
        "--allow-plaintext-remote",
        "allow_plaintext_remote",
        {"action": "store_true", "help": "allow mqtt:// to a non-loopback host"},
    ),
)


def _broker_args(parser: argparse.ArgumentParser, *, broker_required: bool = True) -> None:
    parser.add_argument("--broker", required=broker_required, help="mqtt://host:port or mqtts://host:port")
    add_flags(parser, _SETTINGS_FLAGS)
    parser.add_argument("--count", type=int, help="exit after this many messages")
    parser.add_argument("--timeout-s", type=float, help="exit after this many seconds")


def settings_from_args(args: argparse.Namespace) -> MqttSettings:
    """``E_MQTT_URL`` for a bad --broker, ``E_MQTT_CONFIG`` for bad TLS/credential options."""
    return MqttSettings.from_options(broker_url=args.broker, **keywords(args, _SETTINGS_FLAGS))


def _deadline(args: argparse.Namespace) -> float | None:
    return time.monotonic() + args.timeout_s if args.timeout_s else None


def cmd_tail(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    client = build_client(settings, args.client_id or "")
    topic_filter = events_filter(args.site)
    done = threading.Event()
    seen = 0
    lock = threading.Lock()

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            print(f"connect refused: {reason}", file=sys.stderr)
            return
        c.subscribe(topic_filter, qos=1)

    def on_message(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        nonlocal seen
        print(format_event(bytes(message.payload), message.topic), flush=True)
        with lock:
            seen += 1
            if args.count and seen >= args.count:
                done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    client.on_subscribe = lambda *_a: print(f"subscribed to {topic_filter}", file=sys.stderr, flush=True)
    address = settings.address
    try:
        client.connect(address.host, address.port, keepalive=settings.keepalive_s)
    except ConnectionRefusedError:
        raise unreachable(address, "connection refused (nothing listens on that port)") from None
    except OSError as exc:
        raise unreachable(address, exc.strerror or str(exc)) from None
    client.loop_start()
    try:
        deadline = _deadline(args)
        while not done.wait(0.2):
            if deadline is not None and time.monotonic() > deadline:
                break
    finally:
        client.disconnect()
        client.loop_stop()
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.postgres or args.mode == "migrate":
        return run_postgres_ingest(args, settings_from_args)
    require_ingest_target(args)
    settings = settings_from_args(args)
    sink = EventSink(args.db)
    ingestor = Ingestor(settings, sink, args.group, client_id=args.client_id)
    ingestor.start()
    deadline = _deadline(args)
    if ingestor.subscribed.wait(settings.connect_timeout_s):
        print(f"subscribed to {ingestor.topic_filter}", file=sys.stderr, flush=True)
    try:
        with ingestor.processed:
            while not (args.count and ingestor.received >= args.count):
                if deadline is not None and time.monotonic() > deadline:
                    break
                ingestor.processed.wait(0.5)
    finally:
        ingestor.stop()
        summary = {
            "stored": sink.stored,
            "duplicates": sink.duplicates,
            "rejected": sink.rejected,
            "total_in_db": sink.count(),
        }
        sink.close()
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    text = render_asyncapi()
    path = committed_asyncapi_path(_REPO_ROOT)
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} differs from the models: run `examgate events asyncapi --write`", file=sys.stderr)
            return 1
        print(f"{path}: up to date")
        return 0
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    """Top-level ``ingest``."""
    ingest = sub.add_parser(
        "ingest", help="central subscriber: events → PostgreSQL (--postgres) or SQLite (--db), deduplicated by event_id"
    )
    ingest.add_argument("mode", nargs="?", choices=("migrate",), help="`migrate`: only bring the PostgreSQL schema up")
    _broker_args(ingest, broker_required=False)
    target = ingest.add_mutually_exclusive_group()
    target.add_argument("--db", type=Path, help="SQLite file to store events in (reference subscriber)")
    target.add_argument("--postgres", metavar="DSN", help="PostgreSQL DSN (docs/central.md)")
    ingest.add_argument("--group", default="examgate-ingest", help="shared-subscription group name")
    ingest.add_argument("--batch", type=int, default=500, help="PostgreSQL: messages per transaction (default 500)")
    ingest.add_argument(
        "--safety-net",
        action="store_true",
        help="PostgreSQL: one extra worker on a plain persistent subscription that keeps events published while a "
        "restarted broker has lost the share group's subscriptions (docs/central.md)",
    )
    ingest.set_defaults(func=cmd_ingest)


def register_events_commands(events_sub: SubParsers[argparse.ArgumentParser]) -> None:
    """``events tail`` and ``events asyncapi`` under the lead's ``events`` group."""
    tail = events_sub.add_parser("tail", help="print live events, one line each, IDs masked")
    _broker_args(tail)
    tail.add_argument("--site", help="only this site")
    tail.set_defaults(func=cmd_tail)
    asyncapi = events_sub.add_parser("asyncapi", help="print the AsyncAPI 3 document of the MQTT interface")
    group = asyncapi.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite schemas/asyncapi.json")
    group.add_argument("--check", action="store_true", help="exit 1 if schemas/asyncapi.json is out of date")
    asyncapi.set_defaults(func=cmd_asyncapi)
