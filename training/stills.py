"""Static PNG stills of the interactive figures, for readers without JavaScript.

`render_stills` is called by build.py with the figure data it just computed and the
trained models; the PNGs land in the site's img/ folder next to the hand-made diagrams.
Colours come from article/palette.json, the one place the project keeps them.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .config import MODELS, REPO, TITLES  # noqa: E402
from .figure_data import dequantise_pca  # noqa: E402

PALETTE = json.loads((REPO / "article" / "palette.json").read_text())
STEPS = 9        # decodes per latent axis in the explorer still
SPREAD = 2.5     # the sweep covers mean ± SPREAD standard deviations of each axis


def render_pca(data: dict, pca_bytes: bytes, path: Path) -> None:
    """Both models' 2-D PCA scatter side by side, same scale, coloured by digit."""
    points, labels = dequantise_pca(data["pca"], pca_bytes)
    colours = np.array(PALETTE["digits"])[labels]
    lo, hi = data["pca"]["extent"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), dpi=110, sharex=True, sharey=True)
    for ax, name in zip(axes, MODELS):
        ax.scatter(points[name][:, 0], points[name][:, 1], c=colours, s=1.5, linewidths=0,
                   alpha=0.6, rasterized=True)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal", title=TITLES[name],
               xlabel="first principal component")
        ax.axhline(0, color="#999", lw=0.5)
        ax.axvline(0, color="#999", lw=0.5)
    axes[0].set_ylabel("second principal component")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=str(d))
               for d, c in enumerate(PALETTE["digits"])]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, title="digit")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path)
    plt.close(fig)


@torch.no_grad()
def sweep(model, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Decodes along each latent axis, others held at the mean: (latent_dim, STEPS, H, W)."""
    dim = len(mean)
    z = np.tile(mean, (dim, STEPS, 1)).astype(np.float32)            # (dim, STEPS, dim)
    for i in range(dim):
        z[i, :, i] = mean[i] + np.linspace(-SPREAD, SPREAD, STEPS) * std[i]
    model.eval()
    images = model.decode(torch.from_numpy(z.reshape(-1, dim)))      # (dim*STEPS, 1, H, W)
    return images.numpy().reshape(dim, STEPS, *images.shape[-2:])


def render_explorer(data: dict, models: dict, path: Path) -> None:
    """For each model, one row of decodes per latent axis: what dragging one point does."""
    dim = data["latent_dim"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.55 * dim + 1), dpi=110)
    for ax, name in zip(axes, ("vae", "ae")):
        rnd = data["models"][name]["random"]
        grid = sweep(models[name], np.array(rnd["mean"]), np.array(rnd["std"]))
        grid = np.pad(grid, ((0, 0), (0, 0), (1, 1), (1, 1)))          # a white gutter
        rows = [np.concatenate(list(row), axis=1) for row in grid]
        ax.imshow(1 - np.concatenate(rows, axis=0), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")                          # black ink on white
        size = grid.shape[-1]
        ax.set_yticks([size * (i + 0.5) for i in range(dim)], [f"z{i + 1}" for i in range(dim)])
        ax.set_xticks([size * 0.5, size * (STEPS - 0.5)], [f"−{SPREAD} sd", f"+{SPREAD} sd"])
        ax.set_title(TITLES[name])
        ax.tick_params(length=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render_stills(data: dict, pca_bytes: bytes, models: dict, out_dir: Path) -> None:
    """Writes pca.png and explorer.png into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    render_pca(data, pca_bytes, out_dir / "pca.png")
    render_explorer(data, models, out_dir / "explorer.png")
