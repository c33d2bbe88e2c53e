"""The versioned thresholds file (``thresholds.toml``): load, validate, render, and map a score to a decision.

Format (exact keys): top-level ``version = "cal-YYYYMMDD-<8 hex>"``, ``match``, ``review``, ``metric = "cosine"``,
``model_version``, and a ``[calibration]`` table (target_far, pairs_file, n_genuine, n_impostor, far_at_match,
frr_at_match, created_at). The 8 hex are the start of the SHA-256 of the file's content without the version line.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.errors import ExamGateError
from edge.tomlfile import load_toml_model

Decision = Literal["match", "review", "no_match"]
_VERSION_RE = re.compile(r"^cal-\d{8}-[0-9a-f]{8}$")


class ThresholdsError(ExamGateError):
    code = "E_THRESHOLDS_INVALID"
    remedy = "regenerate the file with `examgate face calibrate` or restore models/thresholds.toml"


class CalibrationInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target_far: float = Field(gt=0.0, lt=1.0)
    pairs_file: str
    n_genuine: int = Field(ge=0)
    n_impostor: int = Field(ge=0)
    far_at_match: float = Field(ge=0.0, le=1.0)
    frr_at_match: float = Field(ge=0.0, le=1.0)
    created_at: str


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(pattern=_VERSION_RE.pattern)
    match: float = Field(ge=-1.0, le=1.0)
    review: float = Field(ge=-1.0, le=1.0)
    metric: Literal["cosine"] = "cosine"
    model_version: str
    calibration: CalibrationInfo

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.match:
            raise ValueError(f"review ({self.review}) must not exceed match ({self.match})")
        return self

    def decide(self, similarity: float) -> Decision:
        if similarity >= self.match:
            return "match"
        if similarity >= self.review:
            return "review"
        return "no_match"


def check_model_version(thresholds: Thresholds, model_version: str) -> None:
    """Refuse thresholds calibrated for other model files (an empty ``model_version`` in them is not checked)."""
    if thresholds.model_version and thresholds.model_version != model_version:
        raise ThresholdsError(
            f"thresholds {thresholds.version} were calibrated for {thresholds.model_version}, "
            f"the models here are {model_version}",
            code="E_THRESHOLDS_MODEL_MISMATCH",
            remedy="re-run `examgate face calibrate` with these models, or restore the model files they were made for",
        )


def load_thresholds(path: Path) -> Thresholds:
    return load_toml_model(path, Thresholds, "thresholds", ThresholdsError, ThresholdsError)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # JSON string escapes are valid TOML basic-string escapes for the ASCII-safe text written here.
    return json.dumps(str(value), ensure_ascii=True)


def render_thresholds(
    *,
    match: float,
    review: float,
    model_version: str,
    calibration: dict[str, object],
    date_yyyymmdd: str,
    notes: list[str] | None = None,
) -> str:
    """TOML text with the version id computed from the rest of the content; ``notes`` become comments."""
    body_lines = [
        *(f"# {note}" for note in notes or []),
        f"match = {_toml_value(match)}",
        f"review = {_toml_value(review)}",
        'metric = "cosine"',
        f"model_version = {_toml_value(model_version)}",
        "",
        "[calibration]",
        *(f"{key} = {_toml_value(val)}" for key, val in calibration.items()),
    ]
    body = "\n".join(body_lines) + "\n"
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    text = f'version = "cal-{date_yyyymmdd}-{digest}"\n{body}'
    Thresholds.model_validate(tomllib.loads(text))  # never write a file we could not load
    return text
