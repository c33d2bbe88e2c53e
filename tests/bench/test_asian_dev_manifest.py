"""The Asian DEV set's provenance manifest and rebuild script (issue 13), without network.

The manifest rows need no data; the checks against the set itself skip without ../shared; the rebuild path runs
against a throw-away local git repository holding generated images (no photo).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "bench" / "datasets"
MANIFEST = DATASETS / "asian_dev_manifest.csv"
REBUILD = DATASETS / "rebuild_asian_dev.py"
DERIVE = DATASETS / "derive_asian_dev_manifest.py"
FIELDS = ["image", "identity", "population", "source_repo", "commit", "source_path", "licence", "transform", "sha256"]
POPULATIONS = {"chinese", "taiwanese", "korean", "japanese", "thai", "vietnamese"}
WARNING = "evaluation use only"


def _rows(path: Path = MANIFEST) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def _set_dir(shared_dir: Path) -> Path:
    folder = shared_dir / "data" / "faces" / "asian_dev"
    if not (folder / "LICENSE-NOTES.md").is_file():
        pytest.skip(f"the asian_dev set is not in {shared_dir.name}/data/faces/")
    return folder


def test_every_row_names_its_source_and_licence() -> None:
    rows = _rows()
    assert len(rows) == 220
    assert list(rows[0]) == FIELDS
    assert len({r["image"] for r in rows}) == len(rows)
    for r in rows:
        assert re.fullmatch(r"img\d{3}\.(jpg|png)", r["image"]), r
        assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", r["source_repo"]), r
        assert re.fullmatch(r"[0-9a-f]{40}", r["commit"]), r
        assert r["source_path"] and r["source_path"] != "UNMAPPED", r
        assert WARNING in r["licence"], r
        assert r["population"] in POPULATIONS, r
        assert r["transform"] in {"copy", "jpeg_q90", "rgb_png"}, r
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"]), r


def test_shared_set_matches_the_manifest(shared_dir: Path) -> None:
    result = _run(REBUILD, "--check", str(_set_dir(shared_dir)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "220/220 images verified, 0 mismatch(es)" in result.stdout
    assert WARNING in result.stdout


def test_manifest_is_what_the_set_notes_give(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "manifest.csv"
    result = _run(DERIVE, "--set", str(_set_dir(shared_dir)), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "220 images, 0 without a source" in result.stdout
    assert out.read_bytes() == MANIFEST.read_bytes()


def test_check_lists_every_mismatch(shared_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "asian_dev"
    folder.mkdir()
    for src in _set_dir(shared_dir).iterdir():
        os.symlink(src, folder / src.name)
    (folder / "img007.jpg").unlink()
    (folder / "img007.jpg").write_bytes(b"not the photo")
    (folder / "img120.jpg").unlink()
    (folder / "pairs.csv").unlink()
    (folder / "pairs.csv").write_text("image_a,image_b,same\n", encoding="utf-8")
    result = _run(REBUILD, "--check", str(folder))
    assert result.returncode == 1
    mismatches = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert len(mismatches) == 3, result.stdout
    assert any("img007.jpg: sha256" in line for line in mismatches)
    assert any("img120.jpg: missing" in line for line in mismatches)
    assert any(line.startswith("MISMATCH pairs.csv:") for line in mismatches)
    assert "218/220 images verified" in result.stdout


def _image_bytes(fmt: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_rebuild_fetches_converts_and_verifies(tmp_path: Path) -> None:
    source = tmp_path / "remotes" / "someone+faces"
    (source / "people").mkdir(parents=True)
    files = {  # source path -> (set name, identity, transform, bytes)
        "people/a 1.png": ("img001.png", "kr_a", "copy", _image_bytes("PNG", (40, 40), (200, 10, 10))),
        "people/a2.jpg": ("img002.jpg", "kr_a", "jpeg_q90", _image_bytes("PNG", (1600, 1000), (10, 200, 10))),
        "people/b.gif": ("img003.png", "kr_b", "rgb_png", _image_bytes("GIF", (30, 20), (10, 10, 200))),
        "people/c.png": ("img004.png", "kr_c", "copy", _image_bytes("PNG", (20, 20), (90, 90, 90))),
        "people/d.png": ("img005.png", "kr_d", "copy", _image_bytes("PNG", (20, 30), (50, 90, 90))),
    }
    for path, (_, _, _, data) in files.items():
        (source / path).write_bytes(data)
    _git(source, "init", "-q")
    _git(source, "add", ".")
    _git(source, "commit", "-q", "-m", "faces")
    commit = _git(source, "rev-parse", "HEAD")
    manifest = tmp_path / "manifest.csv"
    placeholder = "0" * 64
    with manifest.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for path, (image, identity, how, data) in files.items():
            digest = hashlib.sha256(data).hexdigest() if how == "copy" else placeholder
            writer.writerow([image, identity, "korean", "someone/faces", commit, path, WARNING, how, digest])
    out = tmp_path / "out"
    remote = f"file://{tmp_path / 'remotes'}/{{owner}}+{{name}}"

    result = _run(REBUILD, "--out", str(out), "--manifest", str(manifest), "--remote", remote)

    assert result.returncode == 1, result.stdout + result.stderr  # the two converted rows carry a placeholder hash
    assert WARNING in result.stdout
    mismatches = sorted(line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("MISMATCH"))
    assert mismatches == ["MISMATCH img002.jpg", "MISMATCH img003.png"]
    with Image.open(out / "img002.jpg") as img:
        assert (img.format, img.size) == ("JPEG", (1280, 800))
    with Image.open(out / "img003.png") as img:
        assert (img.format, img.mode, img.size) == ("PNG", "RGB", (30, 20))
    assert (out / "identities.csv").read_text(encoding="utf-8").splitlines()[1:3] == [
        "img001.png,kr_a",
        "img002.jpg,kr_a",
    ]
    pairs = list(csv.DictReader(io.StringIO((out / "pairs.csv").read_text(encoding="utf-8"))))
    assert sum(p["same"] == "1" for p in pairs) == 1
    assert sum(p["same"] == "0" for p in pairs) == 3

    fixed = manifest.read_text(encoding="utf-8")
    for image in ("img002.jpg", "img003.png"):
        digest = hashlib.sha256((out / image).read_bytes()).hexdigest()
        line = next(x for x in fixed.splitlines() if x.startswith(image))
        fixed = fixed.replace(line, line.replace(placeholder, digest))
    manifest.write_text(fixed, encoding="utf-8")
    result = _run(REBUILD, "--check", str(out), "--manifest", str(manifest))
    assert result.returncode == 0, result.stdout
    assert "5/5 images verified, 0 mismatch(es)" in result.stdout
