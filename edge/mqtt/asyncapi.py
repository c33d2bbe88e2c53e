"""AsyncAPI 3.0 description of the MQTT interface, generated from the event, command, status and reply models.

``schemas/asyncapi.json`` is this document, committed; a test fails when the models drift from it
(regenerate with ``examgate events asyncapi --write``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from edge.events.models import SCHEMA_VERSION, AnyEvent
from edge.mqtt.commands import COMMAND_MODELS, CommandReply
from edge.mqtt.status import GateStatus

ASYNCAPI_FILE = "asyncapi.json"
_REF = "#/components/schemas/{model}"


def _event_models() -> list[type[BaseModel]]:
    union = get_args(AnyEvent)[0]
    return list(get_args(union))


def _event_type(model: type[BaseModel]) -> str:
    return str(model.model_fields["event_type"].default)


def _params(*names: str) -> dict[str, Any]:
    described = {
        "site_id": "exam centre id (config site.site_id)",
        "gate_id": "lane id; equals the gate's MQTT identity (certificate CN or username)",
        "event_type": "the event's event_type",
        "name": "command name",
        "reply_name": "chosen by the sender of the command (its MQTT 5 response topic)",
    }
    return {n: {"description": described[n]} for n in names}


def asyncapi_document(broker_host: str = "broker.example.org:8883") -> dict[str, Any]:
    """The AsyncAPI 3.0 document (plain JSON-able dict, deterministic)."""
    events = _event_models()
    commands = sorted(set(COMMAND_MODELS.values()), key=lambda m: m.__name__)
    entries: list[tuple[type[BaseModel], Any]] = [(m, "serialization") for m in events]
    entries += [(m, "validation") for m in commands]
    entries += [(GateStatus, "serialization"), (CommandReply, "serialization")]
    _keys, top = models_json_schema(entries, ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))

    messages: dict[str, Any] = {}
    for model in events:
        event_type = _event_type(model)
        messages[model.__name__] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or event_type).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=model.__name__)},
            "headers": {
                "type": "object",
                "description": "MQTT 5 user properties",
                "properties": {"event_id": {"type": "string", "description": "same as payload event_id"}},
            },
            "bindings": {"mqtt": {"contentType": "application/json", "bindingVersion": "0.2.0"}},
        }
    for name, model in sorted(COMMAND_MODELS.items()):
        messages[f"cmd_{name.replace('.', '_')}"] = {
            "name": name,
            "title": f"command {name}",
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=model.__name__)},
            "correlationId": {"location": "$message.header#/correlationData"},
            "bindings": {"mqtt": {"bindingVersion": "0.2.0", "responseTopic": "examgate/v1/{site}/{gate}/reply/…"}},
        }
    messages["GateStatus"] = {
        "name": "status",
        "contentType": "application/json",
        "payload": {"$ref": _REF.format(model="GateStatus")},
    }
    messages["CommandReply"] = {
        "name": "reply",
        "contentType": "application/json",
        "payload": {"$ref": _REF.format(model="CommandReply")},
        "correlationId": {"location": "$message.header#/correlationData"},
    }

    def refs(names: list[str]) -> dict[str, Any]:
        return {n: {"$ref": f"#/components/messages/{n}"} for n in names}

    event_names = [m.__name__ for m in events]
    command_names = [f"cmd_{n.replace('.', '_')}" for n in sorted(COMMAND_MODELS)]
    channels: dict[str, Any] = {
        "events": {
            "address": "examgate/v1/{site_id}/{gate_id}/events/{event_type}",
            "description": "QoS 1, at least once: receivers deduplicate by event_id. In outbox order per gate.",
            "parameters": {
                **_params("site_id", "gate_id"),
                "event_type": {"enum": [_event_type(m) for m in events], "description": "the event's event_type"},
            },
            "messages": refs(event_names),
        },
        "status": {
            "address": "examgate/v1/{site_id}/{gate_id}/status",
            "description": "retained presence: online (birth, with versions and config hash), offline (Last Will), "
            "stopped (clean shutdown)",
            "parameters": _params("site_id", "gate_id"),
            "messages": refs(["GateStatus"]),
        },
        "commands": {
            "address": "examgate/v1/{site_id}/{gate_id}/cmd/{name}",
            "description": "requests to one gate; MQTT 5 response topic (under …/reply/) + correlation data",
            "parameters": {
                **_params("site_id", "gate_id"),
                "name": {"enum": sorted(COMMAND_MODELS), "description": "command name"},
            },
            "messages": refs(command_names),
        },
        "replies": {
            "address": "examgate/v1/{site_id}/{gate_id}/reply/{reply_name}",
            "parameters": _params("site_id", "gate_id", "reply_name"),
            "messages": refs(["CommandReply"]),
        },
    }
    qos1 = {"mqtt": {"qos": 1, "bindingVersion": "0.2.0"}}
    operations: dict[str, Any] = {
        "publishEvents": {
            "action": "send",
            "channel": {"$ref": "#/channels/events"},
            "bindings": qos1,
            "messages": [{"$ref": f"#/channels/events/messages/{n}"} for n in event_names],
        },
        "publishStatus": {
            "action": "send",
            "channel": {"$ref": "#/channels/status"},
            "bindings": {"mqtt": {"qos": 1, "retain": True, "bindingVersion": "0.2.0"}},
        },
        "receiveCommands": {
            "action": "receive",
            "channel": {"$ref": "#/channels/commands"},
            "bindings": qos1,
            "reply": {"channel": {"$ref": "#/channels/replies"}},
        },
        "receiveSiteAdmissions": {
            "action": "receive",
            "channel": {"$ref": "#/channels/events"},
            "summary": "anti-passback: every gate reads examgate/v1/{site_id}/+/events/candidate.admitted",
            "messages": [{"$ref": "#/channels/events/messages/CandidateAdmitted"}],
        },
    }
    return {
        "asyncapi": "3.0.0",
        "id": f"urn:examgate:mqtt:{SCHEMA_VERSION}",
        "info": {
            "title": "ExamGate gate ↔ centre MQTT 5 interface",
            "version": SCHEMA_VERSION,
            "description": "Events from exam-centre gates, their presence, and commands to them. See docs/mqtt.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "central": {
                "host": broker_host,
                "protocol": "mqtts",
                "protocolVersion": "5",
                "description": "TLS 1.2+; a gate authenticates with its client certificate (CN = gate_id) or "
                "username/password",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_asyncapi() -> str:
    return json.dumps(asyncapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_asyncapi_path(repo_root: Path) -> Path:
    return repo_root / "schemas" / ASYNCAPI_FILE
