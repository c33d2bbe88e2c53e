"""``[pad]`` config section (issue 12): presentation-attack detection mode, thresholds and the active challenge.

- ``mode = "off"``: PAD does not run.
- ``mode = "signal"``: PAD runs, its scores are recorded with the decision, the decision is unchanged.
- ``mode = "enforce"``: a face scoring below ``threshold`` goes to review (PAD_SUSPECTED), below
  ``attack_threshold`` it fails (E_PAD_ATTACK); missing PAD models send every candidate to review (PAD_UNAVAILABLE).
  Both thresholds come from ``models/thresholds_pad.toml`` (versioned, checked against the PAD models:
  edge/vision/pad/thresholds.py) unless set here.
Scores: ``bona_fide_score`` 0..1, higher = more likely live (see docs/face.md).

Multi-frame signals (recorded in every mode but off, when an attempt captured 2 frames or more): ``nonrigid_motion``
and ``planar_residual``, both higher = more likely live. ``motion_rule = true`` (enforce only) caps at review
(PAD_SUSPECTED) a sequence that moves as one rigid plane: ``nonrigid_motion < min_nonrigid_motion`` AND
``planar_residual < min_planar_residual`` (eye-distance units). Off by default: a still live candidate also barely
moves, and the defaults come from simulated frames only (docs/face.md), not from live or attack video.

Active challenge (``challenge = true``, with ``mode`` signal or enforce, card taps only): the kiosk asks for a random
action (turn the head left / right, blink) and the lane watches for up to ``challenge_timeout_s``. ``enforce``: a
failed challenge caps the outcome at review (PAD_CHALLENGE_FAILED); ``signal``: recorded only. A missing face
landmark model is PAD_UNAVAILABLE, like a missing PAD model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_THRESHOLD = 0.8  # the CLI's default; the gate's comes from models/thresholds_pad.toml (same value)
DEFAULT_ATTACK_THRESHOLD = 0.05  # used only when PAD has no thresholds file (off or unavailable: review anyway)


class PadSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["off", "signal", "enforce"] = "off"
    threshold: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="override of the thresholds file's review threshold (a site's own measurement)"
    )
    attack_threshold: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="override of the thresholds file's attack threshold"
    )
    thresholds_file: Path | None = Field(
        default=None, description="PAD operating point; unset: <models>/thresholds_pad.toml"
    )
    challenge: bool = Field(
        default=False, description="ask for a random action (turn head, blink) on a card tap; needs mode != off"
    )
    challenge_timeout_s: Annotated[float, Field(gt=0, le=30)] = Field(
        default=4.0, description="how long the lane watches for the asked action"
    )
    motion_rule: bool = Field(
        default=False, description="enforce: a sequence moving as one rigid plane goes to review (PAD_SUSPECTED)"
    )
    min_nonrigid_motion: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.03, description="motion rule: below this (and below min_planar_residual) = rigid; higher = live"
    )
    min_planar_residual: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.012, description="motion rule: below this (and below min_nonrigid_motion) = planar; higher = live"
    )
    num_threads: Annotated[int, Field(ge=1, le=4)] = 1

    @model_validator(mode="after")
    def _ordered(self) -> PadSettings:
        if self.threshold is not None and self.attack_threshold is not None and self.attack_threshold > self.threshold:
            raise ValueError(f"attack_threshold ({self.attack_threshold}) must be <= threshold ({self.threshold})")
        return self
