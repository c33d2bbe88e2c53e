"""The ``examgate face`` CLI contract: JSON shapes, --pairs order, null similarity, error JSON, calibrate output."""

from __future__ import annotations

import io
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from vision_helpers import run_face_cli

from edge.devices import RgbImage
from edge.vision.pipeline import FacePipeline
from edge.vision.settings import VisionSettings

ROW_KEYS = {"image_a", "image_b", "similarity", "decision", "reasons", "timings_ms"}


@pytest.fixture
def images(tmp_path: Path, faces_dir: Path, gradient: RgbImage) -> Path:
    for name in ("obama.jpg", "obama2.jpg", "biden.jpg"):
        shutil.copy(faces_dir / name, tmp_path / name)
    Image.fromarray(gradient).save(tmp_path / "wall.png")
    (tmp_path / "broken.jpg").write_bytes((faces_dir / "obama.jpg").read_bytes()[:2000])
    return tmp_path


def test_compare_two_images(embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, row = run_face_cli(
        ["face", "compare", str(images / "obama.jpg"), str(images / "obama2.jpg"), "--json"], capsys
    )
    assert code == 0
    assert set(row) == ROW_KEYS
    assert row["image_a"] == str(images / "obama.jpg")
    assert isinstance(row["similarity"], float)
    assert row["decision"] in ("match", "review")
    assert row["reasons"] == []
    assert row["timings_ms"]["embed_ms"] > 0


def test_compare_pairs_keeps_order_and_survives_bad_rows(
    embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = images / "pairs.csv"
    pairs.write_text(
        "image_a,image_b,same\n"
        "obama.jpg,obama2.jpg,1\n"
        "obama.jpg,biden.jpg,0\n"
        "obama.jpg,wall.png,0\n"
        "missing.jpg,obama.jpg,1\n"
        "broken.jpg,biden.jpg,0\n"
        "obama2.jpg,biden.jpg,\n"
    )
    code, rows = run_face_cli(["face", "compare", "--pairs", str(pairs), "--json"], capsys)
    assert code == 0
    assert [(r["image_a"], r["image_b"]) for r in rows] == [
        ("obama.jpg", "obama2.jpg"),
        ("obama.jpg", "biden.jpg"),
        ("obama.jpg", "wall.png"),
        ("missing.jpg", "obama.jpg"),
        ("broken.jpg", "biden.jpg"),
        ("obama2.jpg", "biden.jpg"),
    ]
    assert all(set(r) == ROW_KEYS for r in rows)
    genuine, impostor, wall, missing, broken, unlabelled = rows
    assert genuine["similarity"] > impostor["similarity"]
    assert impostor["decision"] == "no_match"
    assert unlabelled["decision"] == "no_match"
    assert wall == {**wall, "similarity": None, "decision": "no_face"}
    assert "E_NO_FACE" in wall["reasons"]
    assert missing["similarity"] is None
    assert missing["decision"] == "no_face"
    assert missing["reasons"] == ["E_IMAGE_NOT_FOUND"]
    assert broken["decision"] == "no_face"
    assert broken["reasons"] in (["E_IMAGE_TRUNCATED"], ["E_IMAGE_UNREADABLE"])


def test_detect_json(pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_face_cli(["face", "detect", str(images / "obama.jpg"), "--json"], capsys)
    assert code == 0
    assert (out["width"], out["height"]) == (364, 412)
    assert len(out["faces"]) == 1
    face = out["faces"][0]
    assert set(face["keypoints"]) == {"right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"}
    assert face["box"]["width"] > 100
    assert out["reasons"] == []
    assert out["quality"]["eye_distance_px"] > 40
    code, out = run_face_cli(["face", "detect", str(images / "wall.png"), "--json"], capsys)
    assert code == 0
    assert out["faces"] == []
    assert out["reasons"] == ["E_NO_FACE"]


def test_embed_json(embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_face_cli(["face", "embed", str(images / "biden.jpg"), "--json"], capsys)
    assert code == 0
    vector = np.array(out["embedding"])
    assert vector.shape == (128,)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)
    assert out["model_version"].startswith("mobilefacenet_fp32+blazeface_sr@")  # the default family


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["face", "detect", "{d}/missing.jpg"], "E_IMAGE_NOT_FOUND"),
        (["face", "detect", "{d}"], "E_IMAGE_NOT_A_FILE"),
        (["face", "embed", "{d}/wall.png"], "E_NO_FACE"),
        (["face", "compare", "{d}/obama.jpg", "{d}/broken.jpg"], "E_IMAGE_TRUNCATED"),
        (["face", "compare", "--pairs", "{d}/nope.csv"], "E_PAIRS_INVALID"),
        (
            ["face", "compare", "{d}/obama.jpg", "{d}/obama2.jpg", "--thresholds", "{d}/wall.png"],
            "E_THRESHOLDS_INVALID",
        ),
        (["face", "detect", "{d}/obama.jpg", "--models-dir", "{d}"], "E_MODEL_MISSING"),
    ],
)
def test_errors_print_code_message_remedy(
    embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    status, out = run_face_cli([a.format(d=images) for a in argv] + ["--json"], capsys)
    assert status != 0
    assert set(out) == {"code", "message", "remedy"}
    assert out["code"] == code
    assert out["remedy"]


def test_config_vision_section_is_validated(
    pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = images / "examgate.toml"
    cfg.write_text("[vision]\nframe_window_s = -1\n")
    status, out = run_face_cli(["face", "detect", str(images / "obama.jpg"), "--config", str(cfg), "--json"], capsys)
    assert status != 0
    assert out["code"] == "E_CONFIG_INVALID"
    assert "vision.frame_window_s" in out["message"]


def test_calibrate_writes_thresholds_and_plots(
    embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two people, flipped copies as extra genuine images
    for name in ("obama", "obama2", "biden"):
        img = Image.open(images / f"{name}.jpg")
        img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(images / f"{name}_flip.jpg")
    (images / "identities.csv").write_text(
        "image,identity\nobama.jpg,o\nobama2.jpg,o\nobama_flip.jpg,o\nobama2_flip.jpg,o\nbiden.jpg,b\nbiden_flip.jpg,b\n"
    )
    out_file = images / "site" / "thresholds.toml"
    argv = ["face", "calibrate", "--identities", str(images / "identities.csv"), "--target-far", "0.001"]
    status, out = run_face_cli([*argv, "--out", str(out_file), "--json"], capsys)
    assert status == 0
    data = tomllib.loads(out_file.read_text())
    assert set(data) == {"version", "match", "review", "metric", "model_version", "calibration"}
    assert set(data["calibration"]) == {
        "target_far",
        "pairs_file",
        "n_genuine",
        "n_impostor",
        "far_at_match",
        "frr_at_match",
        "created_at",
    }
    assert data["metric"] == "cosine"
    assert data["version"] == out["version"]
    assert data["version"].startswith("cal-")
    assert data["calibration"]["n_genuine"] == 7  # C(4,2) + C(2,2)
    assert data["calibration"]["n_impostor"] == 8
    assert data["calibration"]["far_at_match"] == 0.0
    assert data["review"] <= data["match"]
    assert data["model_version"] == FacePipeline.shared(VisionSettings()).model_version  # the CLI's default family
    for png in out["plots"]:
        assert Image.open(io.BytesIO(Path(png).read_bytes())).format == "PNG"
    assert sorted(Path(p).name for p in out["plots"]) == ["thresholds_det.png", "thresholds_hist.png"]


def test_compare_refuses_thresholds_of_other_models(
    embedding_pipeline: FacePipeline, images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = (Path(__file__).resolve().parents[2] / "models" / "thresholds_dlib_resnet_v1.toml").read_text()
    other = images / "other.toml"
    other.write_text(committed.replace(embedding_pipeline.model_version, "dlib_resnet_v1_int8+blazeface_sr@0badc0de"))
    argv = ["face", "compare", str(images / "obama.jpg"), str(images / "biden.jpg"), "--thresholds", str(other)]
    status, out = run_face_cli([*argv, "--json"], capsys)
    assert status != 0
    assert out["code"] == "E_THRESHOLDS_MODEL_MISMATCH"
