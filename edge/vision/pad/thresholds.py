"""The PAD operating point, versioned beside the face thresholds: ``models/thresholds_pad.toml``.

The file names the PAD model it was set for (``model_version``, as ``PassivePad`` derives it from the model files)
and a ``version`` the decision events carry (``pad_thresholds_version``). ``[pad] threshold`` / ``attack_threshold``
in the gate's config override the file's values for a site that has measured its own attack set; the version then
says so (``<file version>+site-<sha8 of the two values>``). A file set for another PAD model is refused
(``E_THRESHOLDS_MODEL_MISMATCH``): the gate then runs PAD as unavailable and sends candidates to review.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.errors import ExamGateError
from edge.tomlfile import load_toml_model, validation_problems
from edge.vision.pad.settings import PadSettings
from edge.vision.thresholds import ThresholdsError

PAD_THRESHOLDS_FILE_NAME = "thresholds_pad.toml"


class PadThresholdsMismatchError(ExamGateError):
    code = "E_THRESHOLDS_MODEL_MISMATCH"
    remedy = (
        "the PAD thresholds were set for other PAD model files: restore models/ from the release, or measure the "
        "site's attack set with `examgate face pad-evaluate` and write a thresholds_pad.toml for these models"
    )


class PadThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, description="carried by the decision events as pad_thresholds_version")
    model_version: str | None = Field(description="PAD model name@sha8 the values were set for; null: not checked")
    threshold: float = Field(ge=0, le=1, description="bona fide score below this: review (PAD_SUSPECTED)")
    attack_threshold: float = Field(ge=0, le=1, description="below this: fail (E_PAD_ATTACK)")
    set_on: str = Field(default="", description="what the values were measured on, in words")

    @model_validator(mode="after")
    def _ordered(self) -> PadThresholds:
        if self.attack_threshold > self.threshold:
            raise ValueError(f"attack_threshold ({self.attack_threshold}) must be <= threshold ({self.threshold})")
        return self

    def check_model(self, model_version: str) -> None:
        if self.model_version is not None and self.model_version != model_version:
            raise PadThresholdsMismatchError(
                f"PAD thresholds {self.version} were set for {self.model_version}; the loaded models are "
                f"{model_version}"
            )


def _invalid(message: str) -> ThresholdsError:
    return ThresholdsError(message, remedy="restore models/thresholds_pad.toml from the release")


def load_pad_thresholds(path: Path) -> PadThresholds:
    return load_toml_model(path, PadThresholds, "PAD thresholds", _invalid, _invalid)


def resolve_pad_thresholds(pad: PadSettings, folder: Path) -> PadThresholds:
    """The file's operating point (``[pad] thresholds_file``, else ``thresholds_pad.toml`` in the models ``folder``),
    with the config's explicit ``threshold`` / ``attack_threshold`` on top."""
    path = pad.thresholds_file or folder / PAD_THRESHOLDS_FILE_NAME
    loaded = load_pad_thresholds(path)
    if pad.threshold is None and pad.attack_threshold is None:
        return loaded
    threshold = loaded.threshold if pad.threshold is None else pad.threshold
    attack = loaded.attack_threshold if pad.attack_threshold is None else pad.attack_threshold
    sha8 = hashlib.sha256(f"{threshold!r}/{attack!r}".encode()).hexdigest()[:8]
    values = {"threshold": threshold, "attack_threshold": attack, "version": f"{loaded.version}+site-{sha8}"}
    try:
        return PadThresholds.model_validate({**loaded.model_dump(), **values})
    except ValidationError as exc:  # e.g. [pad] threshold set alone below the file's attack_threshold
        raise ThresholdsError(
            f"[pad] thresholds with {path.name}: {validation_problems(exc)}",
            remedy="set both [pad] threshold and attack_threshold (attack_threshold <= threshold), or neither",
        ) from None
