"""The ``[privacy]`` settings: how long each category of personal data is kept, the key that encrypts face images at
rest (and the keys it replaced), and the notice shown to candidates before any capture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Days = Annotated[int, Field(ge=1, le=3650)]


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    retention_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=30, description="face images of review/fail cases (and, unless set apart, published events)"
    )
    key_file: Path | None = Field(default=None, description="32-byte key for face images at rest (0600)")
    previous_key_files: tuple[Path, ...] = Field(
        default=(), description="keys replaced by `examgate privacy rotate-key`: open images left under them"
    )
    events_retention_days: Days | None = Field(
        default=None, description="published events in the outbox; default retention_days"
    )
    roster_retention_days: Days = Field(default=90, description="roster rows and photos, counted from the session")
    attempt_retention_days: Days = Field(
        default=365,
        description="attempts, decisions, reviews, assisted admissions, admissions (the audit chain keeps masked IDs "
        "and hashes only)",
    )
    notice_file: Path | None = Field(
        default=None, description="the notice shown before capture (TOML); default: the bundled Vietnamese notice"
    )

    @property
    def events_days(self) -> int:
        return self.events_retention_days or self.retention_days
