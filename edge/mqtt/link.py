"""The gate's MQTT link: one connection carrying presence, the outbox publisher, commands and anti-passback."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import paho.mqtt.client as mqtt

from edge.mqtt.antipassback import AdmissionLedger, AntiPassback
from edge.mqtt.commands import CommandLedger, CommandProcessor, CommandReply, CommandTarget, IncomingCommand
from edge.mqtt.connection import MqttConnection, Will, publish_properties
from edge.mqtt.publisher import Outbox, OutboxPublisher, PublisherMetrics
from edge.mqtt.settings import MqttSettings
from edge.mqtt.status import make_status, software_versions
from edge.mqtt.topics import (
    admissions_filter,
    command_filter,
    default_reply_topic,
    parse_topic,
    reply_prefix,
    status_topic,
)

log = logging.getLogger(__name__)


class GateStore(Outbox, CommandLedger, AdmissionLedger, Protocol):
    """Everything the link needs from ``edge.store.Store``."""


class _SiteSection(Protocol):
    @property
    def site_id(self) -> str: ...
    @property
    def gate_id(self) -> str: ...


class _StoreSection(Protocol):
    @property
    def path(self) -> Path: ...


class LinkConfig(Protocol):
    """What the link reads from the gate's configuration (``edge.config.AppConfig`` has it)."""

    @property
    def mqtt(self) -> MqttSettings | None: ...
    @property
    def site(self) -> _SiteSection: ...
    @property
    def store(self) -> _StoreSection: ...
    def digest(self) -> str: ...


class GateLink:
    """``start()`` connects in the background and keeps reconnecting; ``stop()`` publishes ``stopped``.

    Presence: the retained ``online`` status at each connect, refreshed every ``status_interval_s`` with the outbox
    backlog (the centre's heartbeat: an idle gate between sessions is still seen, and its backlog is known)."""

    def __init__(
        self,
        settings: MqttSettings,
        store: GateStore,
        target: CommandTarget,
        *,
        site_id: str,
        gate_id: str,
        config_hash: str | None = None,
        versions: dict[str, str] | None = None,
        store_path: Path | None = None,
    ) -> None:
        self.site_id = site_id
        self.gate_id = gate_id
        self._settings = settings
        self._versions = software_versions(versions)
        self.config_hash = config_hash
        self._status_topic = status_topic(site_id, gate_id)
        will = Will(self._status_topic, make_status("offline", site_id, gate_id, config_hash=config_hash).payload())
        self.connection = MqttConnection(
            settings,
            settings.effective_client_id(site_id, gate_id),
            will=will,
            on_connected=self._on_connected,
            on_message=self._on_message,
        )
        self.publisher = OutboxPublisher(
            store, self.connection, settings, site_id=site_id, gate_id=gate_id, store_path=store_path
        )
        self.commands = CommandProcessor(settings, target, store, site_id=site_id, gate_id=gate_id)
        self.anti_passback = AntiPassback(store, site_id=site_id, gate_id=gate_id)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqtt-cmd")
        self._reply_prefix = reply_prefix(site_id, gate_id)
        self._store = store
        self._stopping = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="mqtt-status", daemon=True)

    def start(self) -> None:
        self.connection.start()
        self.publisher.start()
        self._heartbeat.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self._heartbeat.is_alive():
            self._heartbeat.join(timeout_s)
        self.publisher.stop(timeout_s)
        self._worker.shutdown(wait=True, cancel_futures=True)
        stopped = make_status(
            "stopped", self.site_id, self.gate_id, versions=self._versions, config_hash=self.config_hash
        )
        self.connection.stop(final=(self._status_topic, stopped.payload()), timeout_s=timeout_s)

    def wake(self) -> None:
        self.publisher.wake()

    def metrics(self) -> PublisherMetrics:
        return self.publisher.metrics()

    def online_status(self) -> bytes:
        """The retained ``online`` payload: versions, config hash and the outbox backlog now."""
        try:
            backlog: int | None = self._store.outbox_backlog()
        except Exception:  # noqa: BLE001 - presence must not fail on a busy or broken store; the fault is reported elsewhere
            backlog = None
        status = make_status(
            "online",
            self.site_id,
            self.gate_id,
            versions=self._versions,
            config_hash=self.config_hash,
            outbox_backlog=backlog,
        )
        return status.payload()

    def _beat(self) -> None:
        while not self._stopping.wait(self._settings.status_interval_s):
            if self.connection.connected.is_set():
                self.connection.publish(self._status_topic, self.online_status(), retain=True)

    # ------------------------------------------------------------------ connection hooks (network thread)
    def _on_connected(self, connection: MqttConnection) -> None:
        connection.publish(self._status_topic, self.online_status(), retain=True)
        connection.subscribe(command_filter(self.site_id, self.gate_id))
        if self._settings.anti_passback:
            # No Local: the broker does not echo this gate's own admissions back to it
            connection.subscribe(admissions_filter(self.site_id), no_local=True)

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        parts = parse_topic(message.topic)
        if parts is None or parts.site_id != self.site_id or parts.name is None:
            return
        if parts.kind == "events" and parts.name == "candidate.admitted" and parts.gate_id != self.gate_id:
            self.anti_passback.handle(bytes(message.payload))
        elif parts.kind == "cmd" and parts.gate_id == self.gate_id:
            self._worker.submit(self._run_command, parts.name, message)

    # ------------------------------------------------------------------ commands (worker thread)
    def _run_command(self, name: str, message: mqtt.MQTTMessage) -> None:
        props = message.properties
        user = dict(getattr(props, "UserProperty", []) or [])
        response_topic = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        try:
            if response_topic is not None and not str(response_topic).startswith(self._reply_prefix):
                reply = self.commands.reject_reply_topic(name, str(response_topic), self._reply_prefix)
                response_topic = None
            else:
                reply = self.commands.process(
                    IncomingCommand(name, message.topic, bytes(message.payload), user.get("sig"))
                )
        except Exception:
            log.exception("command %s failed unexpectedly", name[:64])
            return
        self._send_reply(reply, response_topic or default_reply_topic(self.site_id, self.gate_id, name), correlation)

    def _send_reply(self, reply: CommandReply, topic: str, correlation: bytes | None) -> None:
        props = publish_properties(correlation=correlation, expiry_s=self._settings.message_expiry_s)
        if not self.connection.publish(topic, reply.model_dump_json().encode(), properties=props):
            log.warning("reply to %s could not be queued; the sender may resend the same command_id", reply.name)


def link_from_config(
    cfg: LinkConfig, store: GateStore, target: CommandTarget, versions: dict[str, str] | None = None
) -> GateLink | None:
    """The gate's link as configured, or None when ``[mqtt]`` is absent or disabled (events then just queue)."""
    if cfg.mqtt is None or not cfg.mqtt.enabled:
        return None
    return GateLink(
        cfg.mqtt,
        store,
        target,
        site_id=cfg.site.site_id,
        gate_id=cfg.site.gate_id,
        config_hash=cfg.digest(),
        versions=versions,
        store_path=cfg.store.path,
    )
