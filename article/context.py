"""The numbers the article quotes, computed from what the build measured.

Templates only format; every sum, ratio and unit conversion the prose relies on is made
here, from the metrics, the figure data and the sizes in training/config.py.
"""
from __future__ import annotations

import datetime
import math
from pathlib import Path

from training.config import FLOAT_BITS, IMAGE_SIZE, LATENT_DIM, MNIST_SIZE, MODELS, PIXEL_BITS

NATS_PER_BIT = math.log(2)
MIB = 1 << 20


def info_theory(metrics: dict) -> dict:
    """Storage of an image and of a code, and what the VAE's rate says, in bits."""
    image_bits = IMAGE_SIZE * IMAGE_SIZE * PIXEL_BITS
    digit_bits = MNIST_SIZE * MNIST_SIZE * PIXEL_BITS        # without the zero padding
    latent_bits = LATENT_DIM * FLOAT_BITS
    train_images = metrics["vae"]["train_images"]
    return {"image_size": IMAGE_SIZE, "pixel_bits": PIXEL_BITS, "latent_dim": LATENT_DIM,
            "float_bits": FLOAT_BITS, "mnist_size": MNIST_SIZE, "mnist_pixels": MNIST_SIZE * MNIST_SIZE,
            "image_bits": image_bits, "digit_bits": digit_bits, "latent_bits": latent_bits,
            "ratio": digit_bits / latent_bits, "saved": 1 - latent_bits / digit_bits,
            "kl_bits": metrics["vae"]["test_kl"] / NATS_PER_BIT,
            "kinds": round(2 ** (metrics["vae"]["test_kl"] / NATS_PER_BIT)),
            "index_bits": math.ceil(math.log2(train_images)) if train_images > 1 else 1}


def page_context(metrics: dict, data: dict, config: dict, site: Path) -> dict:
    """Everything index.html.j2 reads. `site` is the folder being assembled (for sizes)."""
    public = {k: {m: v for m, v in metrics[k].items() if m != "history"} for k in MODELS}
    spans = {m: max(hi - lo for lo, hi in (a["range"] for a in data["models"][m]["axes"])) for m in MODELS}
    model_bytes = sum(p.stat().st_size for p in (site / "models").rglob("*") if p.is_file())
    return {"metrics": public, "history": {k: metrics[k].get("history", []) for k in MODELS},
            "data": {k: v for k, v in data.items() if k != "inputs"}, "inputs": data["inputs"],
            "info": info_theory(metrics), "config": config, "spans": spans,
            "model_mib": model_bytes / MIB,
            "stills": sorted(p.name for p in (site / "img").glob("*")),
            "date": datetime.date.today()}
