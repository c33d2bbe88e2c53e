"""One paho-mqtt 2.x client (MQTT 5) with TLS/auth, Last Will, auto-reconnect and per-message PUBACK callbacks.

paho may run ``on_publish`` before ``publish()`` has returned the mid (loopback broker, network thread). paho holds
its own out-message lock while calling ``on_publish`` and while queuing in ``publish()``, so we must not block in
``on_publish`` on a lock held across ``publish()``. Instead an ack that arrives before its mid is registered is
parked in ``_early`` and claimed by the publishing thread right after ``publish()`` returns. Every publish goes
through :meth:`MqttConnection.publish`, so every parked ack is claimed (no stale entry can match a reused mid).
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.mqtt.errors import MqttConfigError, MqttError
from edge.mqtt.settings import MqttSettings
from edge.mqtt.url import BrokerAddress

log = logging.getLogger(__name__)

AckCallback = Callable[[int], None]
"""Called once with the PUBACK reason code value (< 0x80 = accepted by the broker)."""

SUCCESS_LIMIT = 0x80


class MqttUnreachableError(MqttError):
    """The broker refused the connection or did not answer (nothing listens there, it is down, or a firewall)."""

    code = "E_MQTT_UNREACHABLE"
    remedy = (
        "start the broker (e.g. `systemctl start mosquitto`), check the host and port in the URL and that a firewall "
        "lets the gate reach it; events wait in the outbox until it does"
    )


def unreachable(address: BrokerAddress, why: str) -> MqttUnreachableError:
    return MqttUnreachableError(f"broker {address.url} is unreachable: {why}")


def probe_broker(address: BrokerAddress, timeout_s: float = 3.0) -> None:
    """Open and close one TCP connection to the broker: :class:`MqttUnreachableError` when that fails."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout_s):
            pass
    except ConnectionRefusedError:
        raise unreachable(address, "connection refused (nothing listens on that port)") from None
    except TimeoutError:
        raise unreachable(address, f"no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise unreachable(address, exc.strerror or str(exc)) from None


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True
    qos: int = 1


def publish_properties(
    *,
    content_type: str | None = "application/json",
    expiry_s: int | None = None,
    user: dict[str, str] | None = None,
    response_topic: str | None = None,
    correlation: bytes | None = None,
) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if content_type:
        props.ContentType = content_type
    if expiry_s is not None:
        props.MessageExpiryInterval = expiry_s
    if user:
        props.UserProperty = list(user.items())
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    return props


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """TLS 1.2+ with server verification (CA file or the system store) and the optional client certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if settings.ca_file is not None:
            ctx.load_verify_locations(cafile=str(settings.ca_file))
        if settings.cert_file is not None and settings.key_file is not None:
            ctx.load_cert_chain(certfile=str(settings.cert_file), keyfile=str(settings.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise MqttConfigError(
            f"cannot load the MQTT TLS files: {exc}",
            remedy="check mqtt.ca_file / cert_file / key_file exist, are PEM and readable by the examgate user",
        ) from exc
    return ctx


def build_client(settings: MqttSettings, client_id: str, will: Will | None = None) -> mqtt.Client:
    """A configured but unconnected client: MQTT 5, bounded queue, exponential reconnect backoff."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5, reconnect_on_failure=True
    )
    address = settings.address
    if address.tls:
        client.tls_set_context(tls_context(settings))
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.resolved_password())
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain, properties=publish_properties())
    client.reconnect_delay_set(settings.backoff_min_s, settings.backoff_max_s)
    client.max_inflight_messages_set(settings.max_inflight)
    # Bounded: the backlog lives in SQLite, paho only ever holds the in-flight window plus replies/status.
    client.max_queued_messages_set(settings.max_inflight * 2 + 32)
    client.connect_timeout = settings.connect_timeout_s
    return client


def connect_properties(settings: MqttSettings) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = settings.session_expiry_s
    return props


def connect_in_background(client: mqtt.Client, settings: MqttSettings, *, clean_start: bool) -> None:
    """Start paho's network thread towards ``settings.address``; it keeps reconnecting with backoff until stopped."""
    address = settings.address
    client.connect_async(
        address.host,
        address.port,
        keepalive=settings.keepalive_s,
        clean_start=clean_start,
        properties=connect_properties(settings),
    )
    client.loop_start()


class MqttConnection:
    """Owns a paho client and its network thread; tracks PUBACKs per message; re-subscribes on every connect."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        will: Will | None = None,
        on_connected: Callable[[MqttConnection], None] | None = None,
        on_message: Callable[[mqtt.MQTTMessage], None] | None = None,
        clean_start: bool = False,
    ) -> None:
        self.settings = settings
        self.client = build_client(settings, client_id, will)
        self._on_connected = on_connected
        self._on_message = on_message
        self._clean_start = clean_start
        self._lock = threading.Lock()
        self._pending: dict[int, AckCallback | None] = {}
        self._early: dict[int, int] = {}
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # every subscription of the current connection acknowledged
        self._sub_pending: set[int] = set()
        self.last_connect_reason: str | None = None
        self.connects = 0
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_publish = self._handle_publish
        self.client.on_message = self._handle_message
        self.client.on_subscribe = self._handle_subscribe
        self.client.on_connect_fail = self._handle_connect_fail
        self.connect_failures = 0
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff until :meth:`stop`."""
        connect_in_background(self.client, self.settings, clean_start=self._clean_start)
        self._started = True

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)

    def stop(self, final: tuple[str, bytes] | None = None, timeout_s: float = 5.0) -> None:
        """Optionally publish a last retained message (e.g. ``stopped``), then disconnect cleanly (no Last Will)."""
        if not self._started:
            return
        if final is not None and self.connected.is_set():
            done = threading.Event()
            if self.publish(final[0], final[1], retain=True, on_ack=lambda _rc: done.set()):
                done.wait(timeout_s)
        self.client.disconnect()
        self.client.loop_stop()
        self._started = False
        self.connected.clear()

    # ------------------------------------------------------------------ publishing
    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
        on_ack: AckCallback | None = None,
    ) -> bool:
        """Hand one message to paho. False when paho refused it (queue full); the caller retries later."""
        info = self.client.publish(
            topic, payload, qos=qos, retain=retain, properties=properties or publish_properties()
        )
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.warning("mqtt publish refused by client: %s", mqtt.error_string(info.rc))
            return False
        if qos == 0:
            return True
        with self._lock:
            early = self._early.pop(info.mid, None)
            if early is None:
                self._pending[info.mid] = on_ack
        if early is not None and on_ack is not None:
            on_ack(early)
        return True

    def in_flight(self) -> int:
        with self._lock:
            return len(self._pending)

    def subscribe(self, topic_filter: str, qos: int = 1, *, no_local: bool = False) -> None:
        with self._lock:
            rc, mid = self.client.subscribe(topic_filter, options=SubscribeOptions(qos=qos, noLocal=no_local))
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
                raise MqttError(f"subscribe to {topic_filter} failed: {mqtt.error_string(rc)}")
            self._sub_pending.add(mid)
            self.subscribed.clear()

    def wait_ready(self, timeout_s: float) -> bool:
        """Connected and every subscription acknowledged by the broker."""
        deadline = time.monotonic() + timeout_s
        return self.connected.wait(timeout_s) and self.subscribed.wait(max(0.0, deadline - time.monotonic()))

    def unreachable_error(self) -> MqttUnreachableError | None:
        """Why the broker was never reached (refused by TCP or by CONNACK), or None once it was."""
        if self.connects:
            return None
        if self.last_connect_reason is not None:
            return unreachable(self.settings.address, f"the broker refused the connection ({self.last_connect_reason})")
        if self.connect_failures:
            return unreachable(self.settings.address, f"{self.connect_failures} connection attempt(s) failed")
        return unreachable(self.settings.address, "no connection was made")

    # ------------------------------------------------------------------ paho callbacks (network thread)
    def _handle_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        self.connect_failures += 1

    def _handle_connect(
        self, _c: mqtt.Client, _u: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode, _p: Properties | None
    ) -> None:
        self.last_connect_reason = str(reason)
        if reason.is_failure:
            log.warning("mqtt connect refused: %s", reason)
            return
        self.connects += 1
        log.info("mqtt connected (%s)", reason)
        with self._lock:
            self._sub_pending.clear()
        if self._on_connected is not None:
            try:
                self._on_connected(self)
            except Exception:
                log.exception("mqtt on_connected hook failed")
        with self._lock:
            if not self._sub_pending:
                self.subscribed.set()
        self.connected.set()

    def _handle_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Properties | None
    ) -> None:
        refused = [r for r in reasons if r.is_failure]
        if refused:
            log.warning("mqtt subscription refused by the broker: %s", refused)
        with self._lock:
            self._sub_pending.discard(mid)
            if not self._sub_pending:
                self.subscribed.set()

    def _handle_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: mqtt.DisconnectFlags, reason: ReasonCode, _p: Properties | None
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        log.info("mqtt disconnected (%s)", reason)
        if self._started and reason.value != 0 and self.settings.reconnect_jitter_s > 0:
            # spread the reconnect storm when a whole region comes back at once (paho's own backoff has no jitter);
            # this runs on paho's network thread, which has nothing else to do while disconnected
            time.sleep(random.uniform(0, self.settings.reconnect_jitter_s))

    def _handle_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Properties) -> None:
        with self._lock:
            if mid in self._pending:
                callback = self._pending.pop(mid)
            else:
                self._early[mid] = reason.value
                return
        if callback is not None:
            callback(reason.value)

    def _handle_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(message)
        except Exception:
            log.exception("mqtt message handler failed on %s", message.topic)
