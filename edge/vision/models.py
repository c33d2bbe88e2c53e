"""Where the face models live at run time, and the model version string derived from their bytes.

Lookup order: (1) ``VisionSettings.models_dir`` when set, (2) ``<repo>/models`` next to the ``edge`` package
(an editable install or a checkout). Nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from edge.errors import ExamGateError
from edge.vision.embedders import FAMILIES
from edge.vision.settings import VisionSettings

SUMS_FILE_NAME = "SHA256SUMS"
_DETECTOR_TAGS = {"face_detection_short_range": "blazeface_sr", "face_detection_full_range_sparse": "blazeface_fr"}


class ModelMissingError(ExamGateError):
    code = "E_MODEL_MISSING"
    remedy = (
        "put the model files in vision.models_dir (or <repo>/models); the detector comes from "
        "`python models/fetch_detector.py`, the embedder from the conversion described in models/MODEL_CARD.md"
    )


class ModelLoadError(ExamGateError):
    code = "E_MODEL_LOAD_FAILED"
    remedy = "the model file is damaged or the runtime is missing; compare it with models/SHA256SUMS and reinstall"


class ModelHashError(ExamGateError):
    code = "E_MODEL_HASH"
    remedy = (
        "the model file is not the one its model card and models/SHA256SUMS describe: reinstall the release's "
        "models/ folder; a model of your own needs its line in SHA256SUMS (and a model card) before the gate uses it"
    )


def repo_models_dir() -> Path:
    """``<repo>/models`` for a checkout or editable install (``edge/`` sits at the repo root)."""
    return Path(__file__).resolve().parents[2] / "models"


def models_dir(settings: VisionSettings | None = None) -> Path:
    """The folder that holds the models: the explicit setting, else ``<repo>/models``."""
    if settings is not None and settings.models_dir is not None:
        folder = settings.models_dir
        if not folder.is_dir():
            raise ModelMissingError(f"vision.models_dir {folder} is not a folder")
        return folder
    folder = repo_models_dir()
    if not folder.is_dir():
        raise ModelMissingError(f"no models folder: vision.models_dir is unset and {folder} does not exist")
    return folder


def model_path(file_name: str, settings: VisionSettings | None = None) -> Path:
    """Path of one model file, checked against ``SHA256SUMS`` beside it (``verified``); raises
    ``ModelMissingError`` when absent, ``ModelHashError`` when it is not the listed file."""
    path = models_dir(settings) / file_name
    if not path.is_file():
        raise ModelMissingError(f"model file not found: {path}")
    return verified(path)


def listed_sha256(folder: Path) -> dict[str, str]:
    """``file name -> SHA-256`` from ``folder/SHA256SUMS`` (``sha256sum`` format); empty when the file is absent."""
    try:
        text = (folder / SUMS_FILE_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:  # unreadable: no model can be vouched for
        raise ModelHashError(f"{folder / SUMS_FILE_NAME} cannot be read: {type(exc).__name__}") from None
    sums: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def verified(path: Path) -> Path:
    """``path`` when its SHA-256 is the one ``SHA256SUMS`` in its folder lists for it; else ``ModelHashError``.

    A file that is not listed (or a folder without ``SHA256SUMS``) is refused too: the gate runs only models whose
    provenance is recorded. Hashed once per (file, size, mtime) and process (``file_sha256``).
    """
    want = listed_sha256(path.parent).get(path.name)
    if want is None:
        raise ModelHashError(f"{path.name} is not listed in {path.parent / SUMS_FILE_NAME}")
    try:
        got = file_sha256(path)
    except OSError as exc:
        raise ModelHashError(f"{path.name} cannot be read: {type(exc).__name__}") from None
    if got != want:
        raise ModelHashError(
            f"{path.name} does not match {SUMS_FILE_NAME}: SHA-256 {got[:12]}…, listed {want[:12]}… "
            "(damaged or replaced)"
        )
    return path


def default_thresholds_path(settings: VisionSettings | None = None) -> Path:
    """The committed operating point of the configured embedder family (``models/thresholds.toml`` for the default,
    MobileFaceNet; ``models/thresholds_dlib_resnet_v1.toml`` for the dlib ResNet: ``edge.vision.embedders``)."""
    settings = settings or VisionSettings()
    return models_dir(settings) / FAMILIES[settings.embedder].thresholds_file_name


def population_thresholds_path(population: str, settings: VisionSettings | None = None) -> Path:
    """The committed operating point for one population (docs/face.md): ``asian`` is the family's default file (the
    gate's candidates); ``other``: for the dlib ResNet ``models/thresholds_other.toml`` (Western DEV faces only; not
    for Vietnamese sites), for MobileFaceNet its default file (calibrated on both populations at once)."""
    if population == "asian":
        return default_thresholds_path(settings)
    if population == "other":
        if settings is not None and settings.embedder != "dlib_resnet_v1":
            return default_thresholds_path(settings)  # calibrated on Asian and Western faces together
        return models_dir(settings) / "thresholds_other.toml"
    raise ValueError(f"unknown population {population!r} (asian, other)")


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(path.resolve(), st.st_size, st.st_mtime_ns)


def model_version(embedder: Path, detector: Path) -> str:
    """``dlib_resnet_v1_fp32+blazeface_sr@<sha8>``; sha8 = first 8 hex of SHA-256 over both files' SHA-256s.

    The names come from the files: ``face_embedder_<tag>.tflite`` gives ``<tag>``; the detector's file stem is
    mapped to a short tag (``blazeface_sr`` for the short-range BlazeFace).
    """
    embedder_tag = embedder.stem.removeprefix("face_embedder_")
    detector_tag = _DETECTOR_TAGS.get(detector.stem, detector.stem)
    combined = hashlib.sha256(f"{file_sha256(embedder)}\n{file_sha256(detector)}\n".encode()).hexdigest()
    return f"{embedder_tag}+{detector_tag}@{combined[:8]}"
