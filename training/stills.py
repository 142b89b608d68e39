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

from .config import GRID_COLUMNS, REPO  # noqa: E402
from .figure_data import dequantise_pca  # noqa: E402

PALETTE = json.loads((REPO / "article" / "palette.json").read_text())


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
    save_small(fig, path)


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


SAMPLER_STYLE = {("vae", "prior"): ("VAE, N(0, I)", "#1f77b4", "-"), ("ae", "prior"): ("AE, N(0, I)", "#d62728", "-"),
                 ("ae", "fitted"): ("AE, fitted normal", "#d62728", "--"),
                 ("ae", "mixture"): ("AE, fitted mixture", "#d62728", ":"),
                 ("vae", "fitted"): ("VAE, fitted normal", "#1f77b4", "--"),
                 ("vae", "mixture"): ("VAE, fitted mixture", "#1f77b4", ":")}


SWEEP_SHAPES = {"wide": ((1, 3), (12, 3.9)), "narrow": ((3, 1), (4.4, 10.5))}   # panels, inches


def by_size(entries: list[dict], main: dict) -> list[dict]:
    """The sweep's AEs and its VAEs with the main beta, by latent size."""
    return sorted((e for e in entries if e["model"] == "ae" or e["beta"] == main["beta"]),
                  key=lambda e: e["latent_dim"])


def render_sweep(entries: list[dict], main: dict, path: Path, shape: str = "wide") -> None:
    """Three panels: recognisable samples against latent size per sampler, reconstruction
    against latent size, and the VAEs of the main latent size as a rate-distortion curve;
    side by side ('wide') or one above the other for phones ('narrow').
    `main` is {"latent_dim", "beta"} of the main pair, marked in the panels."""
    pairs = by_size(entries, main)
    dims = sorted({e["latent_dim"] for e in pairs})
    grid, size = SWEEP_SHAPES[shape]
    fig, axes = plt.subplots(*grid, figsize=size, dpi=110)
    ax = axes[0]
    for (model, kind), (label, colour, style) in SAMPLER_STYLE.items():
        xs = [e["latent_dim"] for e in pairs if e["model"] == model]
        ys = [100 * e["sampling"][kind]["recognisable"] for e in pairs if e["model"] == model]
        ax.plot(xs, ys, style, color=colour, marker="o", ms=4, label=label)
    ax.set(xscale="log", xticks=dims, xticklabels=dims, ylim=(0, 100), xlabel="latent values",
           ylabel="recognisable samples (%)", title="Sampling")
    ax.minorticks_off()
    ax.legend(fontsize=7.5, frameon=False, ncol=2, loc="lower left")
    ax = axes[1]
    for model, colour in (("ae", "#d62728"), ("vae", "#1f77b4")):
        xs = [e["latent_dim"] for e in pairs if e["model"] == model]
        ax.plot(xs, [e["test_recon_bce_784"] for e in pairs if e["model"] == model], "-o", ms=4,
                color=colour, label=model.upper())
    ax.set(xscale="log", xticks=dims, xticklabels=dims, xlabel="latent values",
           ylabel="test cross-entropy (nats)", title="Reconstruction")
    ax.minorticks_off()
    ax.legend(fontsize=8, frameon=False)
    ax = axes[2]
    betas = sorted((e for e in entries if e["model"] == "vae" and e["latent_dim"] == main["latent_dim"]),
                   key=lambda e: e["beta"])
    ax.plot([e["test_kl"] for e in betas], [e["test_recon_bce_784"] for e in betas], "-o", ms=4, color="#1f77b4")
    for k, e in enumerate(betas):                       # labels alternately above and below the curve
        mark = e["beta"] == main["beta"]
        ax.annotate(f"β = {e['beta']:g}" + (" (main)" if mark else ""), (e["test_kl"], e["test_recon_bce_784"]),
                    textcoords="offset points", xytext=(6, 5 if k % 2 else -13), fontsize=8,
                    weight="bold" if mark else "normal")
    ax.margins(x=0.15, y=0.12)                          # room for the labels at the ends
    ax.set(xlabel="rate: KL (nats)", ylabel="distortion: cross-entropy (nats)",
           title=f"VAEs with {main['latent_dim']} latent values")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save_small(fig, path)


# The sweep's draws the page shows for each latent size: (model, sampler), as Figure 8's grids
DRAWS_SHOWN = (("vae", "prior"), ("ae", "prior"), ("ae", "fitted"), ("ae", "mixture"))
DRAW_COLUMNS = 4


def render_sweep_draws(entries: list[dict], draws: dict, main: dict, out_dir: Path) -> dict:
    """For the AE and the main-beta VAE at each latent size, one grid of DRAW_COLUMNS columns
    per sampler of DRAWS_SHOWN (img/sweep-NAME-SAMPLER.png); returns the judge's verdicts on them,
    {NAME: {SAMPLER: {"labels", "sure"}}}."""
    verdicts = {}
    for e in by_size(entries, main):
        for model, kind in DRAWS_SHOWN:
            if model == e["model"]:
                d = draws[e["name"]][kind]
                save_grid(d["images"], out_dir / f"sweep-{e['name']}-{kind}.png", DRAW_COLUMNS)
                verdicts.setdefault(e["name"], {})[kind] = {"columns": DRAW_COLUMNS, "labels": np.asarray(d["labels"]).tolist(),
                                                           "sure": np.round(np.asarray(d["sure"], float), 4).tolist()}
    return verdicts


def save_small(fig, path: Path, colours: int = 64) -> None:
    """Saves a chart as a PNG of at most `colours` colours: a third of the bytes, no visible loss."""
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    Image.open(buffer).convert("RGB").quantize(colours).save(path, optimize=True)
