"""The embedder families the gate can run (``vision.embedder``) and what each one is fed (issue 13).

- ``dlib_resnet_v1``: dlib's face-recognition ResNet, 150x150 chip in dlib's layout fitted to BlazeFace's eyes, nose
  tip and mouth centre (``edge.vision.align.align_face``). Model card ``models/cards/face_embedder.md``.
- ``mobilefacenet``: MobileFaceNet trained with the ArcFace loss, 112x112 chip on the ArcFace 5-point template (the
  layout of its MS1M training faces). The five points come from the 468-point face mesh (``face_landmark.tflite``):
  the centre of each eye's contour, the nose tip and the two mouth corners; BlazeFace has no mouth corners, and on
  ``asian_dev`` (held-out half B) the mesh points gave AUC 0.9996 / TAR@FAR 0.1% 0.937 against 0.9960 / 0.846 with
  BlazeFace's 4 points (``bench/face_models.py``). Model card ``models/cards/face_embedder_mobilefacenet.md``.

Both give 128-D vectors, but on different scales: each family has its own thresholds file, and embeddings of two
families are never compared (``edge.vision.pipeline.similarity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

EmbedderName = Literal["dlib_resnet_v1", "mobilefacenet"]
Points = npt.NDArray[np.float64]

# insightface's ArcFace template for 112x112 chips: right eye, left eye, nose tip, right and left mouth corner
# ("right" = the person's right = the image's left), pixels.
ARCFACE_112_XY = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
# 468-point mesh indices: the 8 contour points of each eye, the nose tip, the mouth corners.
MESH_RIGHT_EYE = (33, 133, 159, 145, 158, 153, 160, 144)
MESH_LEFT_EYE = (263, 362, 386, 374, 385, 380, 387, 373)
MESH_NOSE_TIP, MESH_MOUTH_RIGHT, MESH_MOUTH_LEFT = 1, 61, 291


@dataclass(frozen=True)
class EmbedderFamily:
    name: EmbedderName
    default_file_name: str  # the model file in models_dir when vision.embedder_file_name is not set
    thresholds_file_name: str  # the family's default operating point in models_dir
    chip_px: int  # the square chip the model takes (pixels)
    uses_face_mesh: bool  # the chip's landmarks come from the 468-point mesh


FAMILIES: dict[str, EmbedderFamily] = {
    "dlib_resnet_v1": EmbedderFamily(
        "dlib_resnet_v1", "face_embedder_dlib_resnet_v1_fp32.tflite", "thresholds_dlib_resnet_v1.toml", 150, False
    ),
    "mobilefacenet": EmbedderFamily(
        "mobilefacenet", "face_embedder_mobilefacenet_fp32.tflite", "thresholds.toml", 112, True
    ),
}


def family_of_file(file_name: str) -> EmbedderFamily | None:
    """The family whose files are named ``face_embedder_<name>_*.tflite``, or None for any other name."""
    for family in FAMILIES.values():
        if file_name.startswith(f"face_embedder_{family.name}_"):
            return family
    return None


def arcface_points(mesh_xy: Points) -> Points:
    """The 5 ArcFace landmarks (rows as in ``ARCFACE_112_XY``) from a (468, 2) mesh in image pixels."""
    eyes = [mesh_xy[list(MESH_RIGHT_EYE)].mean(axis=0), mesh_xy[list(MESH_LEFT_EYE)].mean(axis=0)]
    return np.vstack([*eyes, mesh_xy[MESH_NOSE_TIP], mesh_xy[MESH_MOUTH_RIGHT], mesh_xy[MESH_MOUTH_LEFT]])
