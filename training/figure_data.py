"""Figure data for the page, computed from the trained models.

Written into the site as
- `data/figure-data.json`: sizes, per-axis violins and ranges, the Random button's normal
  per model, PCA summary, and the explorer's inputs with their codes;
- `data/pca.bin`: the 2-D PCA projection of every training code of both models.

Format choices (the page must stay small):
- PCA points are quantised to 10 bits per coordinate over one shared extent (both
  plots use the same scale): at any plot width below 1,000 px that is finer than a
  pixel. They are stored as little-endian uint16, AE then VAE, x/y interleaved,
  followed by one uint8 label per point. Points are in one seeded random order so
  that drawing in file order mixes the classes instead of painting 9s over 0s.
- Violins are densities on a 96-point grid, rounded to 4 significant digits.
- Input images are 1,024 bytes (32x32 uint8, white on black), base64-encoded.
"""
from __future__ import annotations

import base64

import numpy as np
import torch
from sklearn.decomposition import PCA

from .config import IMAGE_SIZE, LATENT_DIM, MNIST_SIZE, MODELS
from .inputs import BOX, HIRES, PEN, ood_images

PCA_LEVELS = 1024
VIOLIN_POINTS = 96
DIGITS_PER_CLASS = 2


@torch.no_grad()
def encode(model, x: torch.Tensor, batch_size: int = 2000) -> np.ndarray:
    """(N, 1, 32, 32) -> (N, latent_dim) float32 codes (the VAE's means)."""
    model.eval()
    return torch.cat([model.encode(x[i:i + batch_size])[0]
                      for i in range(0, len(x), batch_size)]).numpy()


def sig(a, digits: int = 4) -> list:
    """Round to `digits` significant digits for compact JSON."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def pca_projection(codes: dict[str, np.ndarray], labels: np.ndarray, seed: int = 0):
    """PCA to 2-D per model, one shared square extent; returns (summary, bytes)."""
    proj, summary = {}, {}
    for name in MODELS:
        pca = PCA(n_components=2, random_state=seed).fit(codes[name])
        proj[name] = pca.transform(codes[name]).astype(np.float32)
        summary[name] = {"explained_variance_ratio": sig(pca.explained_variance_ratio_)}
    lim = float(max(np.abs(p).max() for p in proj.values())) * 1.02
    extent = [-lim, lim]
    order = np.random.default_rng(seed).permutation(len(labels))
    parts = []
    for name in MODELS:
        q = np.round((proj[name][order] + lim) / (2 * lim) * (PCA_LEVELS - 1))
        parts.append(np.clip(q, 0, PCA_LEVELS - 1).astype("<u2").tobytes())
    parts.append(labels[order].astype(np.uint8).tobytes())
    return {"file": "data/pca.bin", "count": int(len(labels)), "levels": PCA_LEVELS,
            "extent": extent, "models": list(MODELS), **summary}, b"".join(parts)


def dequantise_pca(summary: dict, blob: bytes) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Inverse of `pca_projection`'s encoding: ({model: (N, 2)}, labels (N,))."""
    n, lo, hi = summary["count"], *summary["extent"]
    coords = np.frombuffer(blob, "<u2", count=2 * n * len(summary["models"]))
    coords = lo + coords.astype(np.float64) / (summary["levels"] - 1) * (hi - lo)
    out = {m: coords[i * 2 * n:(i + 1) * 2 * n].reshape(n, 2) for i, m in enumerate(summary["models"])}
    return out, np.frombuffer(blob, np.uint8, offset=4 * n * len(summary["models"]))


def axis_summary(values: np.ndarray) -> dict:
    """Range the explorer shows and a smoothed density for the violin, for one axis."""
    lo, hi = np.quantile(values, [0.001, 0.999])
    span = hi - lo
    lo, hi = lo - 0.3 * span, hi + 0.3 * span          # room to wander outside the data
    grid = np.linspace(lo, hi, VIOLIN_POINTS)
    bw = 1.06 * values.std() * len(values) ** -0.2      # Silverman's rule
    hist, edges = np.histogram(values, bins=512, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    dens = (hist[None, :] * np.exp(-0.5 * ((grid[:, None] - centres[None, :]) / bw) ** 2)).sum(1)
    dens /= len(values) * bw * np.sqrt(2 * np.pi)
    return {"range": sig([lo, hi]), "grid": sig(grid), "density": sig(dens)}


def figure_data(models: dict, x_train, y_train, x_test, y_test, seed: int = 0):
    """Everything the page's figures need; returns (figures dict, pca bytes)."""
    codes = {name: encode(models[name], x_train) for name in MODELS}
    pca_summary, pca_bytes = pca_projection(codes, y_train.numpy(), seed)
    per_model = {}
    for name in MODELS:
        c = codes[name]
        variational = models[name].args.variational
        per_model[name] = {
            "axes": [axis_summary(c[:, i]) for i in range(LATENT_DIM)],
            # Random samples from the VAE's prior, and from a normal fitted to the AE's codes
            "random": {"mean": sig(np.zeros(LATENT_DIM) if variational else c.mean(0)),
                       "std": sig(np.ones(LATENT_DIM) if variational else c.std(0))},
        }
    inputs = []
    y = y_test.numpy()
    for digit in range(10):
        for idx in np.flatnonzero(y == digit)[:DIGITS_PER_CLASS]:
            inputs.append({"id": f"digit-{digit}-{idx}", "name": f"digit {digit}", "kind": "digit",
                           "image": x_test[idx:idx + 1]})
    for name, (label, img) in ood_images().items():
        inputs.append({"id": name, "name": label, "kind": "ood",
                       "image": torch.from_numpy(img.astype(np.float32) / 255)[None, None]})
    for item in inputs:
        img = item.pop("image")
        item["pixels"] = base64.b64encode((img * 255).round().byte().numpy().tobytes()).decode()
        item["codes"] = {name: sig(encode(models[name], img)[0], 6) for name in MODELS}
    # how the page frames a reader's drawing: the same steps and sizes as inputs.py
    framing = {"mnist_size": MNIST_SIZE, "box": BOX, "drawing_size": HIRES, "pen": PEN}
    return {"latent_dim": LATENT_DIM, "image_size": IMAGE_SIZE, "framing": framing, "models": per_model,
            "pca": pca_summary, "inputs": inputs}, pca_bytes
