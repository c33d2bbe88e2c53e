"""Typed privacy failures (codes E_PRIVACY_…)."""

from __future__ import annotations

from edge.errors import ExamGateError, error_factory


class PrivacyError(ExamGateError):
    code = "E_PRIVACY_FAILED"
    remedy = "read the message; see docs/operations.md (privacy at rest)"


key_missing = error_factory(
    PrivacyError,
    code="E_PRIVACY_KEY_MISSING",
    remedy="set privacy.key_file (or run under systemd with LoadCredential=data-key); "
    "`examgate provision init` creates /etc/examgate/credentials/data.key",
)
key_permissions = error_factory(
    PrivacyError,
    code="E_PRIVACY_KEY_PERMISSIONS",
    remedy="make the key readable by its owner only: `chmod 600 KEYFILE` (root-owned; systemd hands it over)",
)
key_invalid = error_factory(
    PrivacyError,
    code="E_PRIVACY_KEY_INVALID",
    remedy="the key file must hold 32 bytes: raw, 64 hex digits or base64 "
    "(`head -c 32 /dev/urandom > KEYFILE && chmod 600 KEYFILE`)",
)
decrypt_failed = error_factory(
    PrivacyError,
    code="E_PRIVACY_DECRYPT",
    remedy="the image was encrypted with another key or its row was altered: load the key it names "
    "(key id in the message); if the key is right, the row is damaged — the image cannot be recovered",
)
bad_personal_id = error_factory(
    PrivacyError,
    code="E_PRIVACY_ID_INVALID",
    remedy="pass the person's ID number as printed on the card: 12 digits (CCCD) or 9 digits (old CMND)",
)
