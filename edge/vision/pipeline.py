"""One image -> detected, aligned, quality-checked face -> embedding. Models load once per process.

``FacePipeline.shared(settings)`` returns the process-wide instance for those settings; the embedder is loaded on
first use, so detection works (and is testable) without the embedder file.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from edge.devices import RgbImage
from edge.vision.align import AlignedFace, align_face, warp_to_template
from edge.vision.detect import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE, Detection, FaceDetector
from edge.vision.embed import Embedding, FaceEmbedder
from edge.vision.embedders import ARCFACE_112_XY, FAMILIES, arcface_points
from edge.vision.image import ImageUnreadableError, decode_image
from edge.vision.match import EmbeddingMismatchError, cosine_similarity
from edge.vision.models import model_path, model_version, models_dir
from edge.vision.pad.landmarks import FaceLandmarker
from edge.vision.quality import (
    E_MULTIPLE_FACES,
    E_NO_FACE,
    FaceQuality,
    GateProfile,
    assess,
    count_significant_faces,
)
from edge.vision.settings import VisionSettings


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


@dataclass(frozen=True)
class FaceAnalysis:
    """What the pipeline found in one image. ``face`` is the largest face; ``reasons`` lists failed gates."""

    image_size_wh: tuple[int, int]
    detections: tuple[Detection, ...]
    face: Detection | None
    aligned: AlignedFace | None
    quality: FaceQuality | None
    reasons: tuple[str, ...]
    retry: str  # "", "padded" or "tiled": which detector retry found the face
    timings_ms: dict[str, float] = field(default_factory=dict)
    embed_chip: RgbImage | None = None  # the embedder's own chip when it is not ``aligned`` (edge.vision.embedders)

    @property
    def has_face(self) -> bool:
        return self.aligned is not None

    @property
    def usable(self) -> bool:
        """A face was found and it passed every gate of its profile."""
        return self.aligned is not None and not self.reasons


@dataclass(frozen=True)
class ModelEmbedding:
    """An embedding with the ``model_version`` that made it: both families give 128 values, so only the tag tells
    a dlib ResNet vector from a MobileFaceNet one."""

    vector: Embedding
    model_version: str


def similarity(a: ModelEmbedding, b: ModelEmbedding) -> float:
    """Cosine similarity of two embeddings of one model; ``EmbeddingMismatchError`` across models or sizes."""
    if a.model_version != b.model_version:
        raise EmbeddingMismatchError(f"embeddings of {a.model_version} and {b.model_version}: different models")
    return cosine_similarity(a.vector, b.vector)


class FacePipeline:
    """Detector + aligner + gates + embedder sharing one configuration."""

    _shared: ClassVar[dict[VisionSettings, FacePipeline]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: VisionSettings | None = None) -> None:
        self.settings = settings or VisionSettings()
        self.detector_path: Path = model_path(self.settings.detector_file_name, self.settings)
        self.detector = FaceDetector(
            self.detector_path,
            min_score=self.settings.detect_min_score,
            pad_retry_fraction=self.settings.detect_pad_retry_fraction,
        )
        self.family = FAMILIES[self.settings.embedder]
        self._embedder: FaceEmbedder | None = None
        self._embedder_lock = threading.Lock()
        self._landmarker: FaceLandmarker | None = None

    @classmethod
    def shared(cls, settings: VisionSettings | None = None) -> FacePipeline:
        """The process-wide pipeline for ``settings`` (created on first call)."""
        key = settings or VisionSettings()
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(key)
            return cls._shared[key]

    # ------------------------------------------------------------------ embedder
    @property
    def embedder_path(self) -> Path:
        return model_path(self.settings.embedder_file_name, self.settings)

    @property
    def embedder(self) -> FaceEmbedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = FaceEmbedder(self.embedder_path, num_threads=self.settings.embed_num_threads)
            return self._embedder

    @property
    def landmarker(self) -> FaceLandmarker:
        """The 468-point face mesh for embedders trained on 5-point chips (loaded on first use)."""
        with self._embedder_lock:
            if self._landmarker is None:
                self._landmarker = FaceLandmarker(
                    models_dir(self.settings), num_threads=self.settings.embed_num_threads
                )
            return self._landmarker

    @property
    def model_version(self) -> str:
        return model_version(self.embedder_path, self.detector_path)

    def _embed_chip(self, image: RgbImage, face: Detection) -> RgbImage:
        """The ArcFace 112 px chip: eye centres, nose tip and mouth corners from the face mesh; where the mesh does
        not see a face, BlazeFace's eyes, nose and mouth centre onto the template (its mouth corners averaged)."""
        mesh = self.landmarker.mesh(image, face)
        if mesh.face_presence >= 0.5:
            return warp_to_template(image, arcface_points(mesh.points_xy), ARCFACE_112_XY, self.family.chip_px).chip
        keypoints = face.keypoints_xy[[RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH]]
        template = np.vstack([ARCFACE_112_XY[:3], ARCFACE_112_XY[3:].mean(axis=0)])
        return warp_to_template(image, keypoints, template, self.family.chip_px).chip

    # ------------------------------------------------------------------ steps
    def decode(self, source: bytes | str | Path) -> RgbImage:
        return decode_image(
            source,
            max_pixels=self.settings.max_image_pixels,
            min_side_px=self.settings.min_image_side_px,
            max_side_px=self.settings.max_decode_side_px,
        )

    def analyse(self, image: RgbImage, profile: GateProfile) -> FaceAnalysis:
        """Detect, align the largest face and run the quality gates of ``profile``.

        ``image`` must be H x W x 3 uint8 RGB (else ``ImageUnreadableError``).
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 1:
            raise ImageUnreadableError(
                f"frame must be H x W x 3 uint8 RGB, got shape {image.shape} dtype {image.dtype}",
                remedy="configure the camera for RGB888 frames",
            )
        timings: dict[str, float] = {}
        height, width = image.shape[:2]
        start = time.perf_counter()
        # Tiles only for still photos: at the gate a face that small means "step closer", not a search.
        detections, retry = self.detector.detect(image, tiles=profile is GateProfile.REFERENCE)
        timings["detect_ms"] = _ms_since(start)
        if not detections:
            return FaceAnalysis((width, height), (), None, None, None, (E_NO_FACE,), retry, timings)
        face = detections[0]
        start = time.perf_counter()
        try:
            aligned = align_face(image, face)
        except ValueError:  # degenerate keypoints: nothing to align, treat as no usable face
            return FaceAnalysis((width, height), tuple(detections), None, None, None, (E_NO_FACE,), retry, timings)
        timings["align_ms"] = _ms_since(start)
        start = time.perf_counter()
        quality = assess(face, aligned, self.settings, profile)
        reasons = list(quality.reasons)
        if count_significant_faces(detections, self.settings) > 1:
            reasons.insert(0, E_MULTIPLE_FACES)
        timings["quality_ms"] = _ms_since(start)
        embed_chip = None
        if self.family.uses_face_mesh:
            start = time.perf_counter()
            embed_chip = self._embed_chip(image, face)
            timings["mesh_align_ms"] = _ms_since(start)
        return FaceAnalysis(
            (width, height), tuple(detections), face, aligned, quality, tuple(reasons), retry, timings, embed_chip
        )

    def embed_tagged(self, analysis: FaceAnalysis) -> ModelEmbedding:
        """The embedding tagged with this pipeline's ``model_version``, for ``similarity``."""
        return ModelEmbedding(self.embed(analysis)[0], self.model_version)

    def embed(self, analysis: FaceAnalysis) -> tuple[Embedding, float]:
        """Embedding of the analysed face and the time it took (ms). The face must exist."""
        if analysis.aligned is None:
            raise ValueError("no face to embed")
        chip = analysis.embed_chip if self.family.uses_face_mesh else analysis.aligned.chip
        if chip is None:
            raise ValueError("no chip for this embedder: the face was analysed for another embedder family")
        start = time.perf_counter()
        vector = self.embedder.embed(chip)
        return vector, _ms_since(start)
