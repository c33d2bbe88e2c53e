"""The centre's side: PostgreSQL ingest (MQTT 5 shared subscriptions), gate presence, export. See docs/central.md."""
