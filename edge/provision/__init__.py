"""`examgate provision …`: turn a fresh Raspberry Pi OS install into a gate lane (user, keys, config, units)."""
