"""Typed provisioning failures (codes E_PROVISION_…)."""

from __future__ import annotations

from edge.errors import ExamGateError


class ProvisionError(ExamGateError):
    code = "E_PROVISION_FAILED"
    remedy = "read the message, fix the cause and run the same `examgate provision` command again (it is idempotent)"
