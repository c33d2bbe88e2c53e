"""The `examgate` command line."""
