"""Pictures the build draws: the image grids the page shows to every reader (dice rolls,
traversals) and still images of the interactive figures for readers without JavaScript.

Grids are plain PNGs of the decoded pixels, black ink on white, one 32x32 cell per image
and no gaps, so that the page can scale them up crisply and lay its own labels over each
cell. Colours of the map still come from article/palette.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from .config import REPO  # noqa: E402
from .figure_data import dequantise_pca  # noqa: E402

PALETTE = json.loads((REPO / "article" / "palette.json").read_text())
GRID_COLUMNS = 10


def save_grid(images: np.ndarray, path: Path, columns: int = GRID_COLUMNS) -> None:
    """(N, H, W) intensities in [0, 1] (white ink on black) -> one PNG, rows of `columns`
    cells, black ink on white."""
    n, h, w = images.shape
    rows = -(-n // columns)
    sheet = np.zeros((rows * h, columns * w))
    for k, img in enumerate(images):
        r, c = divmod(k, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    Image.fromarray((255 - np.round(255 * sheet)).astype(np.uint8), "L").save(path, optimize=True)


def render_map(data: dict, pca_bytes: bytes, path: Path) -> None:
    """Both models' 2-D PCA maps side by side, each at its own scale, coloured by digit."""
    points, labels = dequantise_pca(data["pca"], data["models"], pca_bytes)
    colours = np.array(PALETTE["digits"])[labels]
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), dpi=110)
    for ax, name in zip(axes, data["model_order"]):
        (x0, x1), (y0, y1) = data["models"][name]["pca"]["extent"]
        ax.scatter(points[name][:, 0], points[name][:, 1], c=colours, s=1.5, linewidths=0,
                   alpha=0.6, rasterized=True)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), title=data["models"][name]["title"],
               xlabel="first principal component", ylabel="second principal component")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=str(d))
               for d, c in enumerate(PALETTE["digits"])]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, title="digit")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def render_stills(data: dict, pca_bytes: bytes, pictures: dict, out_dir: Path) -> None:
    """Writes map.png, dice-NAME.png for each sampler and traversal-MODEL.png for each model
    into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    render_map(data, pca_bytes, out_dir / "map.png")
    for name, grid in pictures["grids"].items():
        save_grid(grid["images"], out_dir / f"dice-{name}.png")
    for model, images in pictures["traversals"].items():
        dim, steps = images.shape[:2]
        save_grid(images.reshape(dim * steps, *images.shape[2:]), out_dir / f"traversal-{model}.png", steps)
