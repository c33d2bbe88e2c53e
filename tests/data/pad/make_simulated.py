"""Write the SIMULATED dev attack set: print- and screen-recapture imitations of the committed test faces.

    python tests/data/pad/make_simulated.py

Sources: the three photos in tests/data/faces/ (see their LICENSE-NOTES.md). Nothing here was printed or shown on
a screen: every "attack" is a digital imitation (seeded), so figures on this set say little about real attacks.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
FACES = HERE.parent / "faces"
SOURCES = ("obama.jpg", "obama2.jpg", "biden.jpg")


def _frame(photo: np.ndarray, border: int, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """The photo inside a border (paper margin / screen bezel) on a cluttered background, slightly tilted."""
    h, w = photo.shape[:2]
    framed = cv2.copyMakeBorder(photo, border, border, border, border, cv2.BORDER_CONSTANT, value=colour)
    bg = rng.integers(40, 140, (int(h * 1.5), int(w * 1.5), 3), dtype=np.uint8)
    bg = cv2.GaussianBlur(bg, (0, 0), 8)
    fh, fw = framed.shape[:2]
    src = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    ox, oy = (bg.shape[1] - fw) / 2, (bg.shape[0] - fh) / 2
    jitter = rng.uniform(-0.04, 0.04, (4, 2)) * [fw, fh]
    dst = np.float32(src + np.array([ox, oy]) + jitter)
    warp = cv2.warpPerspective(framed, cv2.getPerspectiveTransform(src, dst), (bg.shape[1], bg.shape[0]))
    mask = cv2.warpPerspective(
        np.full((fh, fw), 255, np.uint8), cv2.getPerspectiveTransform(src, dst), warp.shape[1::-1]
    )
    return np.where(mask[..., None] > 0, warp, bg)


def simulated_print(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = rgb.astype(np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = 0.6 * x + 0.4 * grey  # inkjet gamut: less saturation
    x = x * 0.85 + 30 + rng.normal(0, 6, x.shape)  # paper white, lower contrast, paper grain
    x = x * np.array([1.04, 1.0, 0.9])  # warm indoor light on paper
    x = cv2.GaussianBlur(np.clip(x, 0, 255).astype(np.uint8), (0, 0), 1.2)
    return _frame(x, border=max(8, rgb.shape[1] // 12), colour=(235, 232, 220), rng=rng)


def simulated_screen(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    big = cv2.resize(rgb, (w * 3, h * 3), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    sub = np.zeros_like(big)
    for c in range(3):  # RGB sub-pixel stripes
        sub[:, c::3, c] = 1.0
    big = big * (0.35 + 0.65 * sub) * 1.3
    yy, xx = np.mgrid[0 : h * 3, 0 : w * 3]
    moire = 1 + 0.08 * np.sin(2 * np.pi * (xx * 0.031 + yy * 0.017 + rng.uniform()))
    big = big * moire[..., None] * np.array([0.92, 0.98, 1.1])  # cold backlight
    shot = cv2.resize(np.clip(big, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_AREA)
    return _frame(shot, border=max(6, w // 20), colour=(15, 15, 18), rng=rng)


def main() -> None:
    rows = []
    for i, name in enumerate(SOURCES):
        rgb = np.asarray(Image.open(FACES / name).convert("RGB"))
        rows.append((f"../faces/{name}", "bona_fide", ""))
        for kind, fn in (("print", simulated_print), ("screen", simulated_screen)):
            out = f"sim_{kind}_{Path(name).stem}.jpg"
            Image.fromarray(fn(rgb, np.random.default_rng(20261203 + i))).save(HERE / out, quality=90)
            rows.append((out, "attack", kind))
    with (HERE / "labels_simulated.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(("image", "label", "species"))
        w.writerows(rows)


if __name__ == "__main__":
    main()
