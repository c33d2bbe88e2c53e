"""Processed MQTT commands and their replies (idempotency): ``CommandLog`` satisfies the ``CommandLedger``."""

from __future__ import annotations

from edge.clock import iso_ms
from edge.store import audit as audit_chain
from edge.store.db import Database


class CommandLog:
    db: Database

    def command_reply(self, command_id: str) -> str | None:
        rows = self.db.read("SELECT reply FROM processed_commands WHERE command_id = ?", (command_id,))
        return str(rows[0][0]) if rows else None

    def record_command(self, command_id: str, name: str, reply: str, actor: str) -> bool:
        """Remember a processed command and its reply (idempotency). False if it was already recorded."""
        with self.db.write() as c:
            cur = c.execute(
                "INSERT INTO processed_commands (command_id, name, reply, processed_at) VALUES (?,?,?,?) "
                "ON CONFLICT(command_id) DO NOTHING",
                (command_id, name, reply, iso_ms()),
            )
            if cur.rowcount == 1:
                audit_chain.append(c, iso_ms(), actor, f"command.{name}", {"command_id": command_id})
            return cur.rowcount == 1
