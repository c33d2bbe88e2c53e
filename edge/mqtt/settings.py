"""``[mqtt]`` settings: broker URL, identity, TLS, delivery limits. Frozen; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from edge.mqtt.errors import MqttConfigError
from edge.mqtt.url import BrokerAddress, MqttUrlError, is_loopback, parse_broker_url

CommandName = Literal[
    "roster.replace", "roster.upsert", "thresholds.set", "gate.lock", "gate.unlock", "ping", "diagnostics"
]
COMMAND_NAMES: tuple[CommandName, ...] = (
    "roster.replace",
    "roster.upsert",
    "thresholds.set",
    "gate.lock",
    "gate.unlock",
    "ping",
    "diagnostics",
)
__all__ = ["COMMAND_NAMES", "BrokerAddress", "CommandName", "MqttSettings", "is_loopback", "parse_broker_url"]


class MqttSettings(BaseModel):
    """How the gate reaches the central broker. Plain TCP is only allowed to loopback unless explicitly enabled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    broker_url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://host:port")
    client_id: str | None = Field(default=None, description="default: examgate-{site_id}-{gate_id}")
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = Field(default=None, description="file holding the password (0600); not with password")
    ca_file: Path | None = Field(default=None, description="CA bundle that signed the broker certificate")
    cert_file: Path | None = Field(default=None, description="client certificate (mTLS); CN = gate identity")
    key_file: Path | None = Field(default=None, description="client private key (mTLS)")
    allow_plaintext_remote: bool = Field(
        default=False, description="allow mqtt:// (no TLS) to a non-loopback host; never in production"
    )
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    max_inflight: Annotated[int, Field(ge=1, le=100)] = 50
    message_expiry_s: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="MQTT 5 message expiry on events; unset = never expire (recommended)"
    )
    session_expiry_s: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(
        default=86_400, description="broker keeps the gate's subscriptions and queued messages this long offline"
    )
    backoff_min_s: Annotated[int, Field(ge=1, le=3600)] = 1
    backoff_max_s: Annotated[int, Field(ge=1, le=3600)] = 60
    reconnect_jitter_s: Annotated[float, Field(ge=0, le=600)] = Field(
        default=2.0, description="random extra wait (0..this) before reconnecting after a lost connection"
    )
    backlog_alarm_events: Annotated[int, Field(ge=1)] = 10_000
    status_interval_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=60.0,
        description="the retained `online` status is refreshed this often with the outbox backlog (a heartbeat: "
        "keep it well under the centre's offline_after_s, 120 s by default)",
    )
    disk_budget_mb: Annotated[int, Field(ge=1)] = 1024
    fetch_batch: Annotated[int, Field(ge=1, le=10_000)] = 200
    command_max_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024
    command_hmac_key_file: Path | None = Field(
        default=None, description="if set, every command must carry user property `sig` = HMAC-SHA256(topic|payload)"
    )
    commands_enabled: tuple[CommandName, ...] = COMMAND_NAMES
    anti_passback: bool = Field(default=True, description="subscribe to the site's admissions and flag conflicts")

    @field_validator("broker_url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parse_broker_url(value)
        except MqttUrlError as exc:  # pydantic lists ValueErrors with the key; config check shows them
            raise ValueError(f"{exc.message} ({exc.remedy})") from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> MqttSettings:
        address = self.address
        if not address.tls and not is_loopback(address.host) and not self.allow_plaintext_remote:
            raise ValueError(
                f"plain mqtt:// to {address.host} sends events and credentials in clear: use mqtts:// "
                "(with ca_file) or set allow_plaintext_remote = true for a lab network"
            )
        if self.password is not None and self.password_file is not None:
            raise ValueError("set password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and self.username is None:
            raise ValueError("a password needs a username")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mTLS needs both)")
        if not address.tls and (self.ca_file or self.cert_file):
            raise ValueError("ca_file/cert_file/key_file need an mqtts:// broker_url")
        if self.backoff_min_s > self.backoff_max_s:
            raise ValueError(f"backoff_min_s ({self.backoff_min_s}) must be <= backoff_max_s ({self.backoff_max_s})")
        return self

    @classmethod
    def from_options(cls, **options: Any) -> MqttSettings:
        """Settings from command-line options: a bad URL is ``E_MQTT_URL``, anything else ``E_MQTT_CONFIG``."""
        if "broker_url" in options:
            parse_broker_url(options["broker_url"])
        try:
            return cls(**options)
        except ValidationError as exc:
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False))
            raise MqttConfigError(
                f"invalid broker options: {problems}", remedy="fix the --broker/TLS options"
            ) from None

    @property
    def address(self) -> BrokerAddress:
        return parse_broker_url(self.broker_url)

    def effective_client_id(self, site_id: str, gate_id: str) -> str:
        return self.client_id or f"examgate-{site_id}-{gate_id}"

    def resolved_password(self) -> str | None:
        """The password from ``password`` or ``password_file`` (trailing newline stripped)."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is None:
            return None
        try:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise MqttConfigError(
                f"cannot read mqtt.password_file {self.password_file}: {exc.strerror}",
                remedy="create the file (mode 0600, owned by the examgate user) or fix mqtt.password_file",
            ) from exc

    def hmac_key(self) -> bytes | None:
        if self.command_hmac_key_file is None:
            return None
        try:
            key = self.command_hmac_key_file.read_bytes().strip()
        except OSError as exc:
            raise MqttConfigError(
                f"cannot read mqtt.command_hmac_key_file {self.command_hmac_key_file}: {exc.strerror}",
                remedy="provision the command key file (0600) or unset mqtt.command_hmac_key_file",
            ) from exc
        if len(key) < 16:
            raise MqttConfigError(
                "mqtt.command_hmac_key_file holds fewer than 16 bytes",
                remedy="write at least 32 random bytes (e.g. `openssl rand -hex 32`) into the key file",
            )
        return key
