"""The PAD operating point (models/thresholds_pad.toml) is checked against the PAD models it was set for."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from edge.vision.models import SUMS_FILE_NAME, repo_models_dir
from edge.vision.pad.gate import GatePad
from edge.vision.pad.passive import PASSIVE_MODELS, PassivePad
from edge.vision.pad.settings import PadSettings
from edge.vision.pad.thresholds import PAD_THRESHOLDS_FILE_NAME, load_pad_thresholds, resolve_pad_thresholds
from edge.vision.settings import VisionSettings
from edge.vision.thresholds import ThresholdsError

FACE = Path(__file__).resolve().parents[1] / "data" / "faces" / "obama.jpg"
SHIPPED = repo_models_dir() / PAD_THRESHOLDS_FILE_NAME


def test_shipped_thresholds_are_for_the_shipped_pad_models() -> None:
    shipped = load_pad_thresholds(SHIPPED)
    assert shipped.model_version == PassivePad(repo_models_dir()).model_version
    assert 0 <= shipped.attack_threshold <= shipped.threshold <= 1
    assert shipped.version.startswith("pad-") and shipped.set_on


def test_config_overrides_are_versioned_as_site_values() -> None:
    shipped = load_pad_thresholds(SHIPPED)
    assert resolve_pad_thresholds(PadSettings(), repo_models_dir()) == shipped
    site = resolve_pad_thresholds(PadSettings(threshold=0.6), repo_models_dir())
    assert (site.threshold, site.attack_threshold) == (0.6, shipped.attack_threshold)
    assert site.version.startswith(f"{shipped.version}+site-") and site.model_version == shipped.model_version
    other = resolve_pad_thresholds(PadSettings(threshold=0.6, attack_threshold=0.1), repo_models_dir())
    assert other.version != site.version
    with pytest.raises(ValidationError, match="attack_threshold"):
        PadSettings(threshold=0.1, attack_threshold=0.5)
    with pytest.raises(ThresholdsError, match="attack_threshold") as info:  # below the file's attack threshold
        resolve_pad_thresholds(PadSettings(threshold=0.01), repo_models_dir())
    assert info.value.code == "E_THRESHOLDS_INVALID"
    pad = GatePad(VisionSettings(), PadSettings(mode="enforce", attack_threshold=0.9))  # the gate starts degraded
    assert pad.error is not None and pad.error.code == "E_THRESHOLDS_INVALID" and pad(face()) == (None, True)


def models_copy(folder: Path, thresholds_text: str | None) -> Path:
    folder.mkdir()
    names = [VisionSettings().detector_file_name, SUMS_FILE_NAME, *(f for f, _ in PASSIVE_MODELS.values())]
    for name in names:
        shutil.copy(repo_models_dir() / name, folder / name)
    if thresholds_text is not None:
        (folder / PAD_THRESHOLDS_FILE_NAME).write_text(thresholds_text)
    return folder


def face() -> np.ndarray:
    return np.asarray(Image.open(FACE).convert("RGB"))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (SHIPPED.read_text().replace("minifasnet_v2+minifasnet_v1se@", "minifasnet_v2+minifasnet_v1se@0"), None),
        (None, "E_THRESHOLDS_INVALID"),  # no file
        ("version = \n", "E_THRESHOLDS_INVALID"),  # not TOML
        (SHIPPED.read_text().replace("threshold = 0.8", "threshold = 1.8"), "E_THRESHOLDS_INVALID"),
    ],
)
def test_thresholds_for_other_models_or_broken_make_pad_unavailable(
    tmp_path: Path, text: str | None, code: str | None
) -> None:
    folder = models_copy(tmp_path / "m", text)
    pad = GatePad(VisionSettings(), PadSettings(mode="enforce"), folder)
    assert pad.error is not None
    assert pad.error.code == (code or "E_THRESHOLDS_MODEL_MISMATCH")
    assert pad(face()) == (None, True)  # unavailable: the policy sends the candidate to review
    assert pad.thresholds_version is None


def test_intact_copy_scores_and_names_its_thresholds(tmp_path: Path) -> None:
    folder = models_copy(tmp_path / "m", SHIPPED.read_text())
    pad = GatePad(VisionSettings(), PadSettings(mode="enforce"), folder)
    score, unavailable = pad(face())
    assert pad.error is None and not unavailable and score is not None
    assert pad.thresholds_version == load_pad_thresholds(SHIPPED).version


def test_the_policy_takes_the_lane_pads_operating_point(tmp_path: Path) -> None:
    from edge.config import Thresholds, sample_config  # noqa: PLC0415
    from edge.wiring import policy_params  # noqa: PLC0415

    cfg = sample_config(tmp_path).model_copy(update={"pad": PadSettings(mode="enforce", attack_threshold=0.2)})
    pad = GatePad(cfg.vision, cfg.pad)
    params = policy_params(cfg, Thresholds(version="t1", match=0.6, review=0.5), pad)
    shipped = load_pad_thresholds(SHIPPED)
    assert (params.pad_threshold, params.pad_attack_threshold) == (shipped.threshold, 0.2)
