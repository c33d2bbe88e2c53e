"""PNG figures of the face tools (calibration DET and histogram, PAD DET).

matplotlib (Agg backend) is imported only when a figure is drawn: a dev/ops extra, not needed on the device.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def png_figure(path: Path, figsize: tuple[float, float]) -> Iterator[Any]:
    """The axes of a new figure; on leaving the block the figure is laid out, written to ``path`` (100 dpi), closed."""
    import matplotlib  # noqa: PLC0415 - dev/ops extra, not needed on the device

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=figsize)
    try:
        yield ax
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
