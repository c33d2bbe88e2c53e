"""Settings of the face pipeline: the ``[vision]`` section of the device config.

Every field carries its unit in its name. Two gate profiles exist: the live-capture gates (a camera at gate
distance) and the reference-photo gates (chip DG2 and roster photos: small, sharp-enough, frontal). See docs/face.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.vision.embedders import FAMILIES, EmbedderName, family_of_file

# The value kinds that recur below, each with its bounds stated once.
Score = Annotated[float, Field(gt=0.0, lt=1.0)]  # a detector confidence, 0..1 with both ends excluded
Floor = Annotated[float, Field(ge=0.0)]  # a lower gate on a measure that cannot be negative (pixels, variance)
YawCeilingDeg = Annotated[float, Field(gt=0.0, le=90.0)]  # the largest |estimated yaw| a gate lets through
Luma = Annotated[float, Field(ge=0.0, le=255.0)]  # a mean 8-bit grey level


class VisionSettings(BaseModel):
    """Thresholds and knobs of detection, alignment, quality gates, embedding and multi-frame selection."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # ------------------------------------------------------------------ model files / runtime
    models_dir: Path | None = Field(
        default=None,
        description="Folder holding the .tflite models and thresholds.toml; unset = <repo>/models next to the package.",
    )
    embedder: EmbedderName = Field(
        default="mobilefacenet",
        description="Embedder family (edge/vision/embedders.py): its model file, chip alignment and thresholds file.",
    )
    embedder_file_name: str = Field(
        default="face_embedder_mobilefacenet_fp32.tflite",
        description="Embedder model file inside models_dir; unset = the embedder family's fp32 file.",
    )
    detector_file_name: str = Field(
        default="face_detection_short_range.tflite", description="Detector model file inside models_dir."
    )
    embed_num_threads: int = Field(default=1, ge=1, le=16, description="TFLite interpreter threads (count).")

    # ------------------------------------------------------------------ image decoding
    max_image_pixels: int = Field(
        default=40_000_000,
        ge=1,
        description="Images with more pixels (width x height) are refused before their pixels are decoded.",
    )
    min_image_side_px: int = Field(
        default=32, ge=1, description="Images with a shorter side than this (pixels) are refused as too small."
    )
    max_decode_side_px: int = Field(
        default=2048,
        ge=256,
        description="Larger images are decoded at reduced size so that their longer side fits (pixels); bounds memory.",
    )

    # ------------------------------------------------------------------ detection
    detect_min_score: Score = Field(
        default=0.5, description="Detector confidence floor (0..1) for a face to be reported."
    )
    detect_pad_retry_fraction: float = Field(
        default=0.5,
        ge=0.0,
        le=2.0,
        description="When no face is found, pad each side by this fraction of the image size and retry (0 = off).",
    )
    multiple_faces_min_score: Score = Field(
        default=0.7, description="A second face counts for E_MULTIPLE_FACES above this score (0..1)."
    )
    multiple_faces_min_size_ratio: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="...and when its inter-eye distance is at least this fraction of the main face's (ratio).",
    )

    # ------------------------------------------------------------------ live-capture gates
    live_min_eye_distance_px: Floor = Field(
        default=40.0, description="Live face: inter-eye distance below this (pixels) is E_FACE_TOO_SMALL."
    )
    live_min_sharpness_var: Floor = Field(
        default=40.0,
        description="Live face: variance of the Laplacian of the 150 px grey chip below this is E_FACE_BLURRED.",
    )
    live_max_abs_yaw_deg: YawCeilingDeg = Field(
        default=35.0, description="Live face: |estimated yaw| above this (degrees) is E_FACE_POSE."
    )
    # ------------------------------------------------------------------ reference-photo gates (chip / roster)
    reference_min_eye_distance_px: Floor = Field(
        default=16.0,
        description="Reference photo: inter-eye distance below this (pixels) is E_FACE_TOO_SMALL (chips are small).",
    )
    reference_min_sharpness_var: Floor = Field(
        default=5.0, description="Reference photo: Laplacian-variance floor of the chip (upscaled photos are soft)."
    )
    reference_max_abs_yaw_deg: YawCeilingDeg = Field(
        default=45.0, description="Reference photo: |estimated yaw| ceiling (degrees)."
    )
    # ------------------------------------------------------------------ shared gates
    min_face_luma: Luma = Field(default=40.0, description="Mean face luma (0..255) below this is E_FACE_TOO_DARK.")
    max_face_luma: Luma = Field(default=220.0, description="Mean face luma (0..255) above this is E_FACE_TOO_BRIGHT.")
    yaw_nose_depth_ratio: float = Field(
        default=0.5,
        gt=0.0,
        description="Nose-tip depth in front of the eye line as a fraction of the eye distance (ratio), for yaw.",
    )

    # ------------------------------------------------------------------ multi-frame
    frame_window_s: float = Field(
        default=1.5, gt=0.0, le=10.0, description="Only live frames this recent (seconds, vs the newest) are used."
    )
    max_frames_embedded: int = Field(
        default=3, ge=1, le=30, description="At most this many best-quality live frames are embedded (count)."
    )

    @model_validator(mode="before")
    @classmethod
    def _family_file(cls, data: Any) -> Any:
        """Without an explicit ``embedder_file_name``, the chosen family's own model file."""
        if not isinstance(data, dict):
            return data
        if "embedder_file_name" not in data:
            family = FAMILIES.get(data.get("embedder", "mobilefacenet"))
            return {**data, "embedder_file_name": family.default_file_name} if family is not None else data
        named = family_of_file(str(data["embedder_file_name"]))  # face_embedder_<family>_….tflite
        if named is not None and "embedder" not in data:
            return {**data, "embedder": named.name}
        if named is not None and data["embedder"] != named.name:
            raise ValueError(
                f"embedder_file_name {data['embedder_file_name']} is a {named.name} model, but embedder = "
                f"{data['embedder']!r}: set one of them only, or both to the same family"
            )
        return data

    @model_validator(mode="after")
    def _luma_order(self) -> VisionSettings:
        if self.min_face_luma >= self.max_face_luma:
            raise ValueError(f"min_face_luma ({self.min_face_luma}) must be below max_face_luma ({self.max_face_luma})")
        return self
