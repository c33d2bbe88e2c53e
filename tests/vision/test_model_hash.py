"""A model file must be the one models/SHA256SUMS (and its model card) describe, or the vision stack refuses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from vision_helpers import run_face_cli

from edge.vision.models import SUMS_FILE_NAME, ModelHashError, listed_sha256, model_path, repo_models_dir, verified
from edge.vision.pipeline import FacePipeline
from edge.vision.settings import VisionSettings

FACE_MODELS = (VisionSettings().detector_file_name, VisionSettings().embedder_file_name)


def models_copy(folder: Path, *, sums: bool = True) -> Path:
    folder.mkdir()
    for name in (*FACE_MODELS, "thresholds.toml", *((SUMS_FILE_NAME,) if sums else ())):
        shutil.copy(repo_models_dir() / name, folder / name)
    return folder


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_shipped_models_match_their_sums() -> None:
    listed = listed_sha256(repo_models_dir())
    for name in FACE_MODELS:
        assert name in listed
        assert verified(repo_models_dir() / name) == repo_models_dir() / name


def test_a_copy_with_its_sums_loads(tmp_path: Path) -> None:
    folder = models_copy(tmp_path / "m")
    pipeline = FacePipeline(VisionSettings(models_dir=folder))
    assert pipeline.detector_path == folder / FACE_MODELS[0]


@pytest.mark.parametrize("name", FACE_MODELS)
def test_one_flipped_byte_is_refused(tmp_path: Path, name: str) -> None:
    folder = models_copy(tmp_path / "m")
    flip_one_byte(folder / name)
    with pytest.raises(ModelHashError) as info:
        model_path(name, VisionSettings(models_dir=folder))
    assert info.value.code == "E_MODEL_HASH"
    assert name in str(info.value) and "does not match" in str(info.value)
    assert "SHA256SUMS" in info.value.remedy


def test_an_unlisted_model_or_a_folder_without_sums_is_refused(tmp_path: Path) -> None:
    folder = models_copy(tmp_path / "m")
    sums = folder / SUMS_FILE_NAME
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if FACE_MODELS[1] not in line))
    with pytest.raises(ModelHashError, match="not listed"):
        model_path(FACE_MODELS[1], VisionSettings(models_dir=folder))
    model_path(FACE_MODELS[0], VisionSettings(models_dir=folder))  # the detector is still listed and intact
    bare = models_copy(tmp_path / "bare", sums=False)
    with pytest.raises(ModelHashError, match="not listed"):
        FacePipeline(VisionSettings(models_dir=bare))


def test_cli_reports_the_hash_error(tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = models_copy(tmp_path / "m")
    flip_one_byte(folder / FACE_MODELS[0])
    argv = ["face", "detect", str(faces_dir / "obama.jpg"), "--models-dir", str(folder), "--json"]
    status, out = run_face_cli(argv, capsys)
    assert status == 2
    assert out["code"] == "E_MODEL_HASH" and out["remedy"]


def test_an_unreadable_sums_file_is_the_typed_error(tmp_path: Path) -> None:
    folder = models_copy(tmp_path / "m", sums=False)
    (folder / SUMS_FILE_NAME).mkdir()  # e.g. a broken copy: not a file
    with pytest.raises(ModelHashError, match="cannot be read"):
        model_path(FACE_MODELS[0], VisionSettings(models_dir=folder))
