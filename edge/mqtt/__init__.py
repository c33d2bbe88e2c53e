"""MQTT 5 link to the central broker: durable outbox publisher, presence, commands, site-wide anti-passback."""
