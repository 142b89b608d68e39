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


# how much of a kept colour its tints hold, the rest white: a dot, dots of alpha 0.6 alone and
# overlapping, and the soft edges of marks
TINTS = (1.0, 0.84, 0.6, 0.3)


def save_small(fig, path: Path, colours: int = 64, keep: list[str] = ()) -> None:
    """Saves a chart as a PNG of at most `colours` colours: a third of the bytes, no visible loss.
    `keep`: colours ("#rrggbb") that must stay told apart, such as one per class: the palette is
    then each of them with its TINTS towards white, and greys for the rest (a palette of the
    chart's own most common colours merged two of the ten digits' colours into one)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    image = Image.open(buffer).convert("RGB")
    if keep:
        rgb = np.array([[int(c[k:k + 2], 16) for k in (1, 3, 5)] for c in keep], dtype=np.float64)
        tints = [255 - a * (255 - rgb) for a in TINTS]
        greys = np.repeat(np.linspace(0, 255, colours - len(keep) * len(TINTS))[:, None], 3, axis=1)
        palette = Image.new("P", (1, 1))
        palette.putpalette(np.round(np.concatenate([*tints, greys])).astype(np.uint8).ravel().tolist())
        image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    else:
        image = image.quantize(colours)
    image.save(path, optimize=True)
