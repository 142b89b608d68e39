"""Figure data for the page, and the measurements behind the article's claims, computed
from the trained models and the judge.

`figure_data` returns
- the data the page's figures read (`data/figure-data.json`): sizes, per model its axes
  (ranges and violins), fitted normal, PCA and probes, the explorer's inputs with their
  codes, and the dice grids' verdicts;
- the measurements (for `metrics.json`; see training/evaluation.py);
- the map's points (`data/pca.bin`);
- the pictures the stills are made of (dice grids, traversals).

Format choices (the page must stay small):
- Map points: MAP_POINTS training codes (a seeded random sample, in random order so that
  drawing in file order mixes the classes) projected onto each model's own first two
  principal components, quantised to 10 bits per coordinate over that model's extent:
  little-endian uint16, model by model, x/y interleaved, then one uint8 label per point.
- Violins are densities on a 96-point grid, rounded to 4 significant digits.
- Input images are 1,024 bytes (32x32 uint8, white on black), base64-encoded.
"""
from __future__ import annotations

import base64
import copy

import numpy as np
import torch
from sklearn.decomposition import PCA

from .config import IMAGE_SIZE, LABELS, LATENT_DIM, MNIST_SIZE, MODELS, PAD, TITLES, variant_label
from .evaluation import encode, fitted_normal, measure
from .inputs import BOX, HIRES, INK, PEN, ood_images
from .judge import THRESHOLD

PCA_LEVELS = 1024
MAP_POINTS = 30_000
VIOLIN_POINTS = 96
DIGITS_PER_CLASS = 2
ROOM = 0.5            # the axes reach this share of the codes' span beyond them on each side
DICE_RANGE = 3.0      # ... and at least +-3, so that N(0, I) draws are rarely clipped
PROBE_PROJECTIONS = 4


def sig(a, digits: int = 4) -> list:
    """Round to `digits` significant digits for compact JSON."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def same_neighbour(points: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point has the same label."""
    from sklearn.neighbors import NearestNeighbors
    nearest = NearestNeighbors(n_neighbors=2).fit(points).kneighbors(points, return_distance=False)[:, 1]
    return round(float((labels[nearest] == labels).mean()), 4)


def pca_projection(codes: dict[str, np.ndarray], labels: np.ndarray, seed: int = 0,
                   points: int = MAP_POINTS) -> tuple[dict, dict, bytes, dict]:
    """PCA to 2-D per model (fitted on every code); returns ({model: pca summary},
    map summary, bytes of `points` quantised projections and their labels, and per model
    how often a map point's nearest neighbour shows the same digit, in 2-D and in the
    full latent space)."""
    order = np.random.default_rng(seed).permutation(len(labels))[:points]
    per_model, parts, neighbours = {}, [], {}
    for name in codes:
        pca = PCA(n_components=2, random_state=seed).fit(codes[name])
        proj = pca.transform(codes[name][order])
        neighbours[name] = {"neighbours_2d": same_neighbour(proj, labels[order]),
                            "neighbours_4d": same_neighbour(codes[name][order], labels[order])}
        lo, hi = proj.min(0), proj.max(0)
        lo, hi = lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)
        q = np.round((proj - lo) / (hi - lo) * (PCA_LEVELS - 1))
        parts.append(np.clip(q, 0, PCA_LEVELS - 1).astype("<u2").tobytes())
        per_model[name] = {"mean": sig(pca.mean_, 6), "components": [sig(c, 6) for c in pca.components_],
                           "explained": sig(pca.explained_variance_ratio_),
                           "extent": [sig([lo[0], hi[0]], 6), sig([lo[1], hi[1]], 6)]}
    parts.append(labels[order].astype(np.uint8).tobytes())
    summary = {"file": "data/pca.bin", "count": int(len(order)), "of": int(len(labels)),
               "levels": PCA_LEVELS, "models": list(codes)}
    return per_model, summary, b"".join(parts), neighbours


def dequantise_pca(summary: dict, models: dict, blob: bytes) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Inverse of `pca_projection`'s encoding: ({model: (N, 2)}, labels (N,))."""
    n, levels = summary["count"], summary["levels"]
    coords = np.frombuffer(blob, "<u2", count=2 * n * len(summary["models"])).astype(np.float64)
    out = {}
    for i, m in enumerate(summary["models"]):
        (x0, x1), (y0, y1) = models[m]["pca"]["extent"]
        q = coords[i * 2 * n:(i + 1) * 2 * n].reshape(n, 2) / (levels - 1)
        out[m] = np.stack([x0 + q[:, 0] * (x1 - x0), y0 + q[:, 1] * (y1 - y0)], 1)
    return out, np.frombuffer(blob, np.uint8, offset=4 * n * len(summary["models"]))


def axis_summary(values: np.ndarray) -> dict:
    """Range the explorer shows (the codes' span with room beyond, and at least
    +-DICE_RANGE) and a smoothed density for the violin, for one axis."""
    lo, hi = np.quantile(values, [0.001, 0.999])
    span = hi - lo
    lo, hi = min(lo - ROOM * span, -DICE_RANGE), max(hi + ROOM * span, DICE_RANGE)
    grid = np.linspace(lo, hi, VIOLIN_POINTS)
    bw = 1.06 * values.std() * len(values) ** -0.2      # Silverman's rule
    hist, edges = np.histogram(values, bins=512, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    dens = (hist[None, :] * np.exp(-0.5 * ((grid[:, None] - centres[None, :]) / bw) ** 2)).sum(1)
    dens /= len(values) * bw * np.sqrt(2 * np.pi)
    return {"range": sig([lo, hi]), "grid": sig(grid), "density": sig(dens)}


def projections(values: np.ndarray) -> list[float]:
    """PROBE_PROJECTIONS fixed weighted sums of a flat output, as models.js computes them:
    p_j = sum_k out_k sin((k + 1)(j + 1))."""
    k = np.arange(1, len(values) + 1, dtype=np.float64)
    return [float(np.sum(values.astype(np.float64) * np.sin(k * j))) for j in range(1, PROBE_PROJECTIONS + 1)]


@torch.no_grad()
def probes(models: dict, judge, image: torch.Tensor, labels: dict = LABELS) -> dict:
    """For each TF.js model the page loads: an input and what PyTorch computes for it (the
    decoders' outputs as projections), so that the page can tell a damaged file. Computed
    on the CPU in float32, as the exported weights are."""
    models = {m: copy.deepcopy(model).cpu() for m, model in models.items()}
    judge = None if judge is None else copy.deepcopy(judge).cpu()
    out = {}
    z = np.linspace(-1.5, 1.5, LATENT_DIM, dtype=np.float32)
    for m, model in models.items():
        mu, logvar = model.encode(image)
        code = mu if logvar is None else torch.cat([mu, logvar], 1)
        out[f"{m}-encoder"] = {"input": sig(image.numpy(), 6), "output": sig(code.numpy(), 7),
                               "label": f"{labels[m]} encoder"}
        pixels = model.decode(torch.from_numpy(z)[None]).numpy().ravel()
        out[f"{m}-decoder"] = {"input": sig(z), "output": projections(pixels), "project": True,
                               "label": f"{labels[m]} decoder"}
    if judge is not None:
        probs = torch.softmax(judge(image), 1).numpy()
        out["judge"] = {"input": sig(image.numpy(), 6), "output": sig(probs, 7), "label": "judge"}
    return out


def target_entropy(x: torch.Tensor) -> float:
    """Mean over images of the binary entropy of their grey levels, in nats over the central
    28x28 pixels: the least cross-entropy any model could reach on them."""
    t = x[:, :, PAD:-PAD, PAD:-PAD].double().clamp(1e-12, 1 - 1e-12)
    return float(-(t * t.log() + (1 - t) * (1 - t).log()).flatten(1).sum(1).mean())


def as_bytes(img: torch.Tensor) -> str:
    return base64.b64encode((img * 255).round().byte().numpy().tobytes()).decode()


def explorer_inputs(x_test, y_test) -> list[dict]:
    """The explorer's inputs: DIGITS_PER_CLASS test digits of each class, then the shapes the
    models never saw; each {id, name, kind, image (1, 1, 32, 32)}. A digit's name says which
    test image it is (its index in MNIST's test set, from 0), so no two inputs share a name."""
    inputs = []
    y = y_test.numpy()
    for digit in range(10):
        for idx in np.flatnonzero(y == digit)[:DIGITS_PER_CLASS]:
            inputs.append({"id": f"digit-{digit}-{idx}", "name": f"digit {digit}, test #{idx}", "kind": "digit",
                           "image": x_test[idx:idx + 1]})
    for name, (label, img) in ood_images().items():
        inputs.append({"id": name, "name": label, "kind": "ood",
                       "image": torch.from_numpy(img.astype(np.float32) / 255)[None, None]})
    return inputs


def input_codes(models: dict, inputs: list[dict]) -> dict:
    """{input id: {"codes": {model: code}, "logvar": {model: log-variances}}} (the latter for
    the VAEs only)."""
    out = {}
    for item in inputs:
        codes, logvars = {}, {}
        for m, model in models.items():
            mu, logvar = encode(model, item["image"])
            codes[m] = sig(mu[0], 6)
            if logvar is not None:
                logvars[m] = sig(logvar[0], 6)
        out[item["id"]] = {"codes": codes, "logvar": logvars}
    return out


def model_summary(model, codes: np.ndarray, label: str, title: str) -> dict:
    """What the explorer needs to show a model: its names, its axes (ranges and violins) and
    the normal fitted to its training codes."""
    mean, chol = fitted_normal(codes)
    return {"label": label, "title": title, "variational": model.args.variational,
            "axes": [axis_summary(codes[:, i]) for i in range(codes.shape[1])],
            "fitted": {"mean": sig(mean, 6), "chol": [sig(r, 6) for r in chol]}}


def figure_data(models: dict, judge, x_train, y_train, x_test, y_test, seed: int = 0):
    """Everything the page's figures need and every measurement the article quotes;
    returns (figure data, measurements, pca bytes, pictures)."""
    codes = {m: encode(models[m], x_train)[0] for m in MODELS}
    test_codes, test_logvar = {}, None
    for m in MODELS:
        test_codes[m], logvar = encode(models[m], x_test)
        test_logvar = logvar if logvar is not None else test_logvar
    pca, pca_summary, pca_bytes, neighbours = pca_projection(codes, y_train.numpy(), seed)
    per_model = {m: {**model_summary(models[m], codes[m], LABELS[m], TITLES[m]), "pca": pca[m]} for m in MODELS}
    ranges = {m: np.array([a["range"] for a in per_model[m]["axes"]]) for m in MODELS}

    inputs = explorer_inputs(x_test, y_test)
    read = input_codes({m: models[m] for m in MODELS}, inputs)
    for item in inputs:
        item["pixels"] = as_bytes(item.pop("image"))
        item.update(read[item["id"]])

    numbers, pictures = measure(models, judge, codes, test_codes, y_test.numpy(), ranges, inputs, seed)
    numbers["target_entropy_784"] = round(target_entropy(x_test), 4)
    numbers["map"] = neighbours
    sigma = np.exp(0.5 * test_logvar)
    numbers["sigma"] = {"median": round(float(np.median(sigma)), 4),
                        "per_axis": sig(np.median(sigma, 0)), "prior": 1.0}
    dice = {k: {"model": s["model"], "kind": s["kind"], "labels": pictures["grids"][k]["labels"].tolist(),
                "sure": sig(pictures["grids"][k]["sure"], 3)} for k, s in numbers["sampling"].items()}
    framing = {"mnist_size": MNIST_SIZE, "box": BOX, "drawing_size": HIRES, "pen": PEN, "ink": INK}
    data = {"latent_dim": LATENT_DIM, "image_size": IMAGE_SIZE, "framing": framing,
            "model_order": ["vae", "ae"], "models": per_model, "pca": pca_summary, "inputs": inputs,
            "judge": {"threshold": THRESHOLD}, "dice": dice,
            "probes": probes(models, judge, x_test[:1])}
    return data, numbers, pca_bytes, pictures


def betas_data(models: dict, betas: dict, x_train, x_test, y_test) -> dict:
    """The explorer's other VAEs (`models`, by name, trained with `betas[name]`): their
    summaries, their codes of the explorer's inputs, and the probes of their TF.js files."""
    inputs = explorer_inputs(x_test, y_test)
    return {"models": {n: {**model_summary(m, encode(m, x_train)[0], variant_label(betas[n]),
                                           f"{TITLES['vae']}, β = {betas[n]:g}"), "beta": betas[n]}
                       for n, m in models.items()},
            "inputs": input_codes(models, inputs),
            "probes": probes(models, None, x_test[:1], {n: variant_label(b) for n, b in betas.items()})}
