"""Typed MQTT errors (codes are stable and documented in docs/mqtt.md)."""

from __future__ import annotations

from edge.errors import ExamGateError


class MqttError(ExamGateError):
    code = "E_MQTT_FAILED"
    remedy = "check the broker address, credentials and TLS files in the [mqtt] section, then the broker's log"


class MqttConfigError(MqttError):
    code = "E_MQTT_CONFIG"
    remedy = "fix the [mqtt] section of the config file and run `examgate config check FILE`"


class CommandError(ExamGateError):
    """A command was refused; nothing was changed. ``code`` goes into the reply."""

    code = "E_CMD_INVALID"
    remedy = "fix the command payload to match the documented schema (docs/mqtt.md) and send it with a new command_id"
