"""Write the demo's SIMULATED presentation attack: a print recapture of a demo face.

    .venv/bin/python demo/make_recapture.py

The impostor of the demo's PAD step holds Phúc's card (Phúc is absent) and shows the camera a print of his card photo.
Nothing was printed: the image is a seeded digital imitation made with the same print simulation as the dev attack
set (``tests/data/pad/make_simulated.py``), so it shows the lane's behaviour, not how well PAD catches real prints.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SIMULATION = HERE.parent / "tests" / "data" / "pad" / "make_simulated.py"
SOURCE = HERE / "faces" / "person05" / "img16.jpg"
OUT = HERE / "faces" / "person05" / "sim_print_img16.jpg"
SEED = 20261204


def _simulation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_simulated", SIMULATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    rgb = np.asarray(Image.open(SOURCE).convert("RGB"))
    recapture = _simulation().simulated_print(rgb, np.random.default_rng(SEED))
    Image.fromarray(recapture).save(OUT, quality=90)


if __name__ == "__main__":
    main()
