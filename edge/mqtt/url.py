"""The one broker-URL parser: ``mqtt://HOST[:PORT]`` (plain TCP, default 1883) or ``mqtts://HOST[:PORT]`` (TLS, 8883).

Every place that reads a broker URL (the ``[mqtt]`` settings, ``demo --broker``, ``events tail``, ``ingest``) calls
:func:`parse_broker_url`; a bad URL is an :class:`MqttUrlError` (``E_MQTT_URL``) that says what is wrong with it.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from edge.mqtt.errors import MqttConfigError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_URL_REMEDY = "give the broker as mqtt://HOST:PORT (plain TCP) or mqtts://HOST:PORT (TLS), with a port 1-65535"


class MqttUrlError(MqttConfigError):
    code = "E_MQTT_URL"
    remedy = _URL_REMEDY


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BrokerAddress(BaseModel):
    model_config = ConfigDict(frozen=True)

    tls: bool
    host: str
    port: int

    @property
    def scheme(self) -> Literal["mqtt", "mqtts"]:
        return "mqtts" if self.tls else "mqtt"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """The broker's address, or :class:`MqttUrlError` naming what is wrong with ``url``."""
    if not isinstance(url, str) or not url.strip():
        raise MqttUrlError("broker URL is empty")
    text = url.strip()
    if "://" not in text:
        raise MqttUrlError(f"broker URL must start with mqtt:// or mqtts://, got {text!r}")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise MqttUrlError(f"broker URL cannot be read ({exc}): {text!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise MqttUrlError(f"broker URL must start with mqtt:// or mqtts://, got {text!r}")
    if parts.username is not None or parts.password is not None:
        raise MqttUrlError(
            "put credentials in mqtt.username / mqtt.password_file, not in the URL",
            remedy="remove USER:PASSWORD@ from the URL and set mqtt.username / mqtt.password_file",
        )
    if not parts.hostname:
        raise MqttUrlError(f"broker URL has no host: {text!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MqttUrlError(f"broker URL must be scheme://host:port only, got {text!r}")
    try:
        port = parts.port
    except ValueError:
        raise MqttUrlError(f"broker URL has a bad port (1-65535): {text!r}") from None
    if port == 0:
        raise MqttUrlError(f"broker URL has a bad port (1-65535): {text!r}")
    return BrokerAddress(tls=scheme == "mqtts", host=parts.hostname, port=port or DEFAULT_PORTS[scheme])
