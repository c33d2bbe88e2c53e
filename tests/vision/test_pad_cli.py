"""``examgate face pad`` / ``pad-evaluate`` through the real parser, detector and TFLite models (issue 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from vision_helpers import run_face_cli

from edge.vision.models import repo_models_dir
from edge.vision.pad.crop import PadCropOutsideError, PadFaceTooSmallError, check_box

REPO = Path(__file__).resolve().parents[2]
FACES = REPO / "tests/data/faces"
ROW_KEYS = {"image", "bona_fide_score", "decision", "signals", "model", "timings_ms"}


def _pad(paths: list[str], capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, Any]]:
    code, rows = run_face_cli(["face", "pad", *paths, *extra, "--json"], capsys)
    assert code == 0
    return rows


def test_contract_fields_order_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(FACES / "obama.jpg"), str(FACES / "biden.jpg")]
    rows = _pad(paths, capsys)
    assert [r["image"] for r in rows] == paths
    for r in rows:
        assert set(r) >= ROW_KEYS
        assert 0.0 <= r["bona_fide_score"] <= 1.0
        assert r["decision"] in ("bona_fide", "attack")
        assert r["model"].startswith("minifasnet_v2+minifasnet_v1se@")
        assert set(r["signals"]["passive"]) == {"minifasnet_v2", "minifasnet_v1se"}


def test_no_face_and_missing_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((300, 300, 3), 128, np.uint8)).save(grey)
    rows = _pad([str(grey), str(tmp_path / "absent.jpg")], capsys)
    assert [r["decision"] for r in rows] == ["no_face", "no_face"]
    assert rows[0]["error"]["code"] == "E_NO_FACE" and rows[0]["bona_fide_score"] == 0.0
    assert rows[1]["error"]["code"] == "E_IMAGE_NOT_FOUND"


def test_two_faces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = Image.open(FACES / "obama.jpg").convert("RGB"), Image.open(FACES / "biden.jpg").convert("RGB")
    canvas = Image.new("RGB", (a.width + b.width + 40, max(a.height, b.height)), (90, 90, 90))
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width + 40, 0))
    canvas.save(tmp_path / "two.png")
    (row,) = _pad([str(tmp_path / "two.png")], capsys)
    assert row["decision"] == "no_face" and row["error"]["code"] == "E_PAD_MULTIPLE_FACES"


def test_face_cut_by_border(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = Image.open(FACES / "obama.jpg").convert("RGB")
    # keep the left 52 % of the photo: the right half of the face is outside the image
    img.crop((0, 0, int(img.width * 0.52), img.height)).save(tmp_path / "cut.png")
    (row,) = _pad([str(tmp_path / "cut.png")], capsys)
    assert row["decision"] == "no_face" and row["error"]["code"] == "E_PAD_CROP_OUTSIDE"


def test_box_rules() -> None:
    with pytest.raises(PadFaceTooSmallError):
        check_box(640, 480, (100, 100, 20, 24))
    with pytest.raises(PadCropOutsideError):
        check_box(640, 480, (600, 100, 100, 100))  # 60 % of the box is right of the image
    check_box(640, 480, (100, 100, 100, 100))


def test_grayscale_and_exif_rotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = Image.open(FACES / "obama.jpg").convert("RGB")
    img.convert("L").save(tmp_path / "grey.png")
    rotated = img.rotate(90, expand=True)  # stored sideways, EXIF says "rotate 270 CW to display" (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated.save(tmp_path / "exif6.jpg", exif=exif, quality=95)
    img.save(tmp_path / "upright.jpg", quality=95)
    grey, exif_row, upright = _pad([str(tmp_path / n) for n in ("grey.png", "exif6.jpg", "upright.jpg")], capsys)
    assert grey["decision"] in ("bona_fide", "attack") and grey["signals"]["grayscale"] is True
    assert exif_row["decision"] == upright["decision"]
    assert abs(exif_row["bona_fide_score"] - upright["bona_fide_score"]) < 0.05


def test_frame_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = Image.open(FACES / "obama.jpg").convert("RGB")
    seq, one, mixed = tmp_path / "seq", tmp_path / "one", tmp_path / "mixed"
    for d in (seq, one, mixed):
        d.mkdir()
    for i in range(3):  # the same photo shifted: a rigid, planar motion
        Image.fromarray(np.roll(np.asarray(img), 4 * i, axis=1)).save(seq / f"f{i}.png")
    img.save(one / "f0.png")
    img.save(mixed / "f0.png")
    img.resize((img.width // 2, img.height // 2)).save(mixed / "f1.png")
    rows = _pad([], capsys, "--frames", str(seq), "--frames", str(one), "--frames", str(mixed))
    assert [r["image"] for r in rows] == [str(seq), str(one), str(mixed)]
    assert rows[0]["decision"] in ("bona_fide", "attack") and rows[0]["signals"]["frames"] == 3
    assert rows[0]["signals"]["nonrigid_motion"] < 0.02  # a shifted photo does not deform
    assert rows[0]["signals"]["blink"] < 0.1  # nor does it blink
    assert 0.15 < rows[0]["signals"]["ear_min"] <= rows[0]["signals"]["ear_max"] < 0.45  # eyes open
    assert rows[1]["error"]["code"] == "E_PAD_ONE_FRAME"
    assert rows[2]["error"]["code"] == "E_PAD_FRAME_SIZES"


def test_missing_model_file_is_typed_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("face_detection_short_range.tflite", "thresholds.toml", "SHA256SUMS"):
        shutil.copy(repo_models_dir() / name, tmp_path / name)
    code, err = run_face_cli(["face", "pad", str(FACES / "obama.jpg"), "--models-dir", str(tmp_path), "--json"], capsys)
    assert code == 2 and err["code"] == "E_PAD_MODEL_MISSING"


def test_pad_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grey = tmp_path / "flat.png"
    Image.fromarray(np.full((300, 300, 3), 128, np.uint8)).save(grey)
    for n in ("obama.jpg", "biden.jpg", "obama2.jpg"):
        shutil.copy(FACES / n, tmp_path / n)
    (tmp_path / "labels.csv").write_text(
        "image,label,species\nobama.jpg,bona_fide,\nbiden.jpg,attack,print\nobama2.jpg,attack,screen\nflat.png,attack,print\n"
    )
    code, report = run_face_cli(
        ["face", "pad-evaluate", "--labels", str(tmp_path / "labels.csv"), "--out", str(tmp_path / "o"), "--json"],
        capsys,
    )
    assert code == 0
    op = report["operating_point"]
    assert set(op["apcer_per_species"]) == {"print", "screen"}
    assert op["apcer"] == max(op["apcer_per_species"].values())
    assert op["acer"] == pytest.approx((op["apcer"] + op["bpcer"]) / 2)
    assert report["bpcer_at_apcer_1pct"]["apcer"] <= 0.01
    assert (tmp_path / "o/det.png").stat().st_size > 1000
    assert json.loads((tmp_path / "o/report.json").read_text())["model"] == report["model"]


def test_missing_landmark_model_is_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in (
        "face_detection_short_range.tflite",
        "thresholds.toml",
        "pad_minifasnet_v2_s2.7.tflite",
        "pad_minifasnet_v1se_s4.0.tflite",
        "SHA256SUMS",
    ):
        shutil.copy(repo_models_dir() / name, tmp_path / name)
    code, err = run_face_cli(["face", "pad", str(FACES / "obama.jpg"), "--models-dir", str(tmp_path), "--json"], capsys)
    assert code == 2 and err["code"] == "E_PAD_MODEL_MISSING" and "landmark" in err["message"]


def test_face_mesh_lands_on_the_eyes() -> None:
    from edge.vision.pad.landmarks import FaceLandmarker, eye_aspect_ratio  # noqa: PLC0415
    from edge.vision.pipeline import FacePipeline  # noqa: PLC0415

    pipeline, lm = FacePipeline(), FaceLandmarker(repo_models_dir())
    for name in ("obama.jpg", "biden.jpg", "obama2.jpg"):
        rgb = pipeline.decode(FACES / name)
        faces, _ = pipeline.detector.detect(rgb)
        mesh = lm.mesh(rgb, faces[0])
        assert mesh.face_presence > 0.9
        right = mesh.points_xy[[33, 133]].mean(axis=0)
        left = mesh.points_xy[[263, 362]].mean(axis=0)
        eye_px = faces[0].eye_distance_px
        assert np.linalg.norm(right - faces[0].keypoints_xy[0]) < 0.15 * eye_px
        assert np.linalg.norm(left - faces[0].keypoints_xy[1]) < 0.15 * eye_px
        assert 0.15 < eye_aspect_ratio(mesh.points_xy) < 0.45
