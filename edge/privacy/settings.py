"""The ``[privacy]`` settings: how long face images are kept and the key that encrypts them at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    retention_days: Annotated[int, Field(ge=1, le=365)] = 30
    key_file: Path | None = Field(default=None, description="32-byte key for face images at rest (0600)")
