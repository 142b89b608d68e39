"""The measurements the whole article shares, and the page data every figure reads.

`measure(run)` returns
- `data`: what the page's shared runtime reads (`data/figure-data.json`): sizes, per model
  its names, axes (ranges and violins) and fitted normal, the explorer's inputs with their
  codes, the judge's threshold, and the probes that check each TF.js file;
- `numbers`: every cross-figure measurement the prose quotes (for `metrics.json`; see
  training/evaluation.py), and the decoded pictures the figures' stills are made of.

Format choices (the page must stay small): violins are densities on a 96-point grid,
rounded to 4 significant digits; input images are 1,024 bytes (32x32 uint8, white on
black), base64-encoded.
"""
from __future__ import annotations

import base64
import copy
from pathlib import Path

import numpy as np
import torch

from training.config import IMAGE_SIZE, LABELS, LATENT_DIM, MNIST_SIZE, MODELS, PAD, TITLES
from training.evaluation import (axis_ranges, axis_summary, encode, fitted_normal, judge_on_non_digits, measure_all,
                                 sig, spread)
from training.inputs import BOX, HIRES, INK, PEN, ood_images
from training.judge import THRESHOLD

DIGITS_PER_CLASS = 2
PROBE_PROJECTIONS = 4


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


def measure(run) -> dict:
    """{"data": the page's shared data, "numbers": the shared measurements} of the main pair
    (`run.models`, `run.judge`); keeps the training codes and the pictures on `run` for the
    figures computed after it."""
    models, (_, _, x_test, y_test) = {m: run.models[m] for m in MODELS}, run.mnist
    codes = {m: run.codes(m) for m in MODELS}
    test_codes = {m: encode(models[m], x_test) for m in MODELS}
    per_model = {m: model_summary(models[m], codes[m], LABELS[m], TITLES[m]) for m in MODELS}
    ranges = {m: axis_ranges(codes[m]) for m in MODELS}

    inputs = explorer_inputs(x_test, y_test)
    read = input_codes(models, inputs)
    for item in inputs:
        item["pixels"] = as_bytes(item.pop("image"))
        item.update(read[item["id"]])

    numbers, run.pictures = measure_all(models, run.judge, codes, {m: c[0] for m, c in test_codes.items()},
                                        y_test.numpy(), ranges, inputs, run.seed)
    numbers["target_entropy_784"] = round(target_entropy(x_test), 4)
    sigma = np.exp(0.5 * test_codes["vae"][1])
    numbers["sigma"] = {"median": round(float(np.median(sigma)), 4),
                        "per_axis": sig(np.median(sigma, 0)), "prior": 1.0}
    numbers["spread"] = {m: spread(codes[m], ranges[m]) for m in MODELS}
    numbers["judge_fooled"] = judge_on_non_digits(models, run.judge, ranges, IMAGE_SIZE, PAD, run.seed)
    run.pictures["noise"] = numbers["judge_fooled"].pop("grid")
    framing = {"mnist_size": MNIST_SIZE, "box": BOX, "drawing_size": HIRES, "pen": PEN, "ink": INK}
    data = {"latent_dim": LATENT_DIM, "image_size": IMAGE_SIZE, "framing": framing,
            "model_order": list(MODELS), "models": per_model, "inputs": inputs,
            "judge": {"threshold": THRESHOLD}, "probes": probes(models, run.judge, x_test[:1])}
    return {"data": data, "numbers": numbers}


def save_pictures(pictures: dict, path: Path) -> None:
    """Writes `measure`'s pictures (nested dicts of arrays) to one .npz file, keys joined by '/'."""
    flat = {}

    def walk(prefix: str, node):
        for k, v in node.items():
            walk(f"{prefix}{k}/", v) if isinstance(v, dict) else flat.__setitem__(prefix + k, np.asarray(v))
    walk("", pictures)
    with open(path, "wb") as f:
        np.savez(f, **flat)


def load_pictures(path: Path) -> dict:
    """The nested dicts `save_pictures` wrote."""
    out = {}
    with np.load(path, allow_pickle=False) as stored:
        for key in stored.files:
            *parents, leaf = key.split("/")
            node = out
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = stored[key]
    return out
