"""Drawing helpers the figures' data code shares: image grids and small chart PNGs.

Grids are plain PNGs of the decoded pixels, black ink on white, one 32x32 cell per image
and no gaps, so that the page can scale them up crisply and lay its own labels over each
cell (the `grid` macro of article/templates/_macros.j2). Colours come from
article/palette.json (training.config.PALETTE).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from training.config import GRID_COLUMNS, PALETTE  # noqa: E402

COLOURS = json.loads(PALETTE.read_text())


GREYS = 16   # grey levels of a grid's PNG: at a cell's size the eye sees no more, and they take half the bytes of 256
GREY_STEP = 255 // (GREYS - 1)


def ink(sheet: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] (white ink on black) -> uint8 pixels of the same shape, black ink on
    white, in GREYS levels of grey (multiples of GREY_STEP below white)."""
    return (255 - np.round(sheet * (GREYS - 1)) * GREY_STEP).astype(np.uint8)


def save_grid(images: np.ndarray, path: Path, columns: int = GRID_COLUMNS) -> None:
    """(N, H, W) intensities in [0, 1] (white ink on black) -> one PNG, rows of `columns`
    cells, black ink on white, in GREYS levels of grey."""
    n, h, w = images.shape
    rows = -(-n // columns)
    sheet = np.zeros((rows * h, columns * w))
    for k, img in enumerate(images):
        r, c = divmod(k, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    Image.fromarray(ink(sheet), "L").save(path, optimize=True)


def save_small(fig, path: Path, colours: int = 64) -> None:
    """Saves a chart as a PNG of at most `colours` colours: a third of the bytes, no visible loss."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    Image.open(buffer).convert("RGB").quantize(colours).save(path, optimize=True)
