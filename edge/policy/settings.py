"""The policy's settings: similarity thresholds and what each chip-check result means at this gate.

They sit with the policy (a capability) so that the MQTT commands and the config both use them without importing
each other; ``edge.config`` composes them into the gate's configuration.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.events.models import Verdict
from edge.settings_types import NonEmptyPath


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Section):
    """Similarity thresholds (cosine, higher = more alike). Calibrated on data, never constants in code."""

    version: Annotated[str, Field(min_length=1)]
    match: Annotated[float, Field(ge=-1, le=1)]
    review: Annotated[float, Field(ge=-1, le=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.match:
            raise ValueError(f"review ({self.review}) must be <= match ({self.match})")
        return self


class PassiveAuthPolicy(_Section):
    """What each passive-authentication result means at this gate."""

    valid: Verdict = "accept"
    invalid: Verdict = "reject"
    no_trust_anchor: Verdict = "review"
    expired: Verdict = "review"
    not_checked: Verdict = "review"


class CloneCheckPolicy(_Section):
    """What each chip/active-authentication (anti-clone) result means at this gate."""

    valid: Verdict = "accept"
    failed: Verdict = "reject"
    not_supported: Verdict = "accept"
    not_checked: Verdict = "accept"


class PolicyConfig(_Section):
    thresholds: Thresholds | None = Field(default=None, description="inline thresholds; or use thresholds_file")
    thresholds_file: NonEmptyPath | None = Field(default=None, description="TOML written by `examgate face calibrate`")
    max_face_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    anti_passback: bool = True
    passive_auth: PassiveAuthPolicy = PassiveAuthPolicy()
    clone_check: CloneCheckPolicy = CloneCheckPolicy()

    @model_validator(mode="after")
    def _one_source(self) -> PolicyConfig:
        if (self.thresholds is None) == (self.thresholds_file is None):
            raise ValueError("set exactly one of policy.thresholds or policy.thresholds_file")
        return self
