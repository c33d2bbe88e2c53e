"""The second embedder family (issue 13): MobileFaceNet on the ArcFace 112 px chip from the face mesh, real inference,
its own calibrated operating point, and no mixing with the dlib ResNet's thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vision_helpers import run_face_cli

from edge.vision.embedders import FAMILIES
from edge.vision.models import default_thresholds_path, repo_models_dir
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import GateProfile
from edge.vision.settings import VisionSettings
from edge.vision.thresholds import load_thresholds

MFN = VisionSettings(embedder="mobilefacenet")


@pytest.fixture(scope="module")
def mfn() -> FacePipeline:
    return FacePipeline(MFN)


def embed(pipeline: FacePipeline, path: Path) -> np.ndarray:
    analysis = pipeline.analyse(pipeline.decode(path), GateProfile.REFERENCE)
    assert analysis.embed_chip is not None and analysis.embed_chip.shape == (112, 112, 3)
    return pipeline.embed(analysis)[0]


def test_the_family_picks_its_file_chip_and_thresholds() -> None:
    assert MFN.embedder_file_name == FAMILIES["mobilefacenet"].default_file_name
    assert VisionSettings(embedder="mobilefacenet", embedder_file_name="x.tflite").embedder_file_name == "x.tflite"
    assert VisionSettings().embedder == "mobilefacenet"  # the default family (docs/face.md)
    assert default_thresholds_path(MFN) == repo_models_dir() / "thresholds.toml"
    dlib = VisionSettings(embedder="dlib_resnet_v1")
    assert default_thresholds_path(dlib) == repo_models_dir() / "thresholds_dlib_resnet_v1.toml"


def test_same_person_scores_above_match_and_others_below_review(mfn: FacePipeline, faces_dir: Path) -> None:
    thresholds = load_thresholds(default_thresholds_path(MFN))
    assert thresholds.model_version == mfn.model_version  # the shipped file was calibrated for these model files
    a, b, other = (embed(mfn, faces_dir / n) for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    assert a.shape == (128,) and abs(float(np.linalg.norm(a)) - 1.0) < 1e-4
    assert float(a @ b) >= thresholds.match
    assert float(a @ other) < thresholds.review
    assert mfn.model_version.startswith("mobilefacenet_fp32+blazeface_sr@")


def test_the_chip_is_on_the_arcface_template(mfn: FacePipeline, faces_dir: Path) -> None:
    """The eyes of the 112 px chip sit where the ArcFace template puts them (within a few pixels)."""
    again = mfn.analyse(
        mfn.analyse(mfn.decode(faces_dir / "obama.jpg"), GateProfile.REFERENCE).embed_chip, GateProfile.REFERENCE
    )  # type: ignore[arg-type]
    assert again.face is not None
    from edge.vision.detect import LEFT_EYE, RIGHT_EYE  # noqa: PLC0415
    from edge.vision.embedders import ARCFACE_112_XY  # noqa: PLC0415

    eyes = again.face.keypoints_xy[[RIGHT_EYE, LEFT_EYE]]
    assert float(np.abs(eyes - ARCFACE_112_XY[:2]).max()) < 6.0


def test_cli_compares_with_the_familys_thresholds(
    tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mfn.toml"
    config.write_text('[vision]\nembedder = "mobilefacenet"\n')
    pairs = [("obama.jpg", "obama2.jpg", "match"), ("obama.jpg", "biden.jpg", "no_match")]
    for a, b, decision in pairs:
        argv = ["face", "compare", str(faces_dir / a), str(faces_dir / b), "--config", str(config), "--json"]
        status, out = run_face_cli(argv, capsys)
        assert status == 0 and out["decision"] == decision, out
    # the dlib ResNet's operating point with MobileFaceNet embeddings is refused, not silently misapplied
    argv = ["face", "compare", str(faces_dir / "obama.jpg"), str(faces_dir / "obama2.jpg"), "--config", str(config)]
    dlib_file = repo_models_dir() / "thresholds_dlib_resnet_v1.toml"
    status, out = run_face_cli([*argv, "--thresholds", str(dlib_file), "--json"], capsys)
    assert status != 0 and out["code"] == "E_THRESHOLDS_MODEL_MISMATCH"


def test_a_missing_face_mesh_fails_the_verifier_at_start(tmp_path: Path) -> None:
    """MobileFaceNet's chip needs the face mesh: without it the verifier fails when it is built (the gate then
    starts degraded), not at the first candidate."""
    import shutil  # noqa: PLC0415

    from edge.vision.models import ModelMissingError  # noqa: PLC0415
    from edge.vision.verifier import TfliteFaceVerifier  # noqa: PLC0415

    folder = tmp_path / "m"
    folder.mkdir()
    for name in (MFN.detector_file_name, MFN.embedder_file_name, "thresholds.toml", "SHA256SUMS"):
        shutil.copy(repo_models_dir() / name, folder / name)
    settings = VisionSettings(embedder="mobilefacenet", models_dir=folder)
    with pytest.raises(ModelMissingError) as info:
        TfliteFaceVerifier(load_thresholds(folder / "thresholds.toml"), settings)
    assert "face_landmark" in str(info.value)
