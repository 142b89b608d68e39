"""One place for the facts the whole project shares: sizes, names, defaults.

Everything else (training, figure data, export, the page) reads them from here;
the page receives them through the figure data the build writes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

LATENT_DIM = 4        # latent values per image: the four axes of the explorer
IMAGE_SIZE = 32       # MNIST's 28x28 digits, zero-padded by 2 pixels on each side
MNIST_SIZE = 28
PAD = (IMAGE_SIZE - MNIST_SIZE) // 2
PIXEL_BITS = 8        # grey levels of the source images: 2**8
FLOAT_BITS = 32       # bits of one latent value as the models store it (float32)
MODELS = ("ae", "vae")
# The site stores each weight tensor as uint8 on an affine grid (a quarter of float32's
# bytes). Training rounds the final weights to that grid itself, so that metrics, figures
# and the browser all use the very same model.
WEIGHT_DTYPE = "uint8"

REPO = Path(__file__).resolve().parent.parent
DATA_ENV = "MNIST_DIR"  # environment variable naming the folder with the MNIST archives


@dataclass(frozen=True)
class ModelArgs:
    """Architecture; identical for the AE and the VAE except `variational`."""
    latent_dim: int = LATENT_DIM
    channels: tuple[int, ...] = (8, 16, 32)   # conv widths at 16x16, 8x8, 4x4
    hidden: int = 64                           # dense layer between convs and latent
    decoder_hidden: tuple[int, ...] = (128, 256, 256)  # widths of the decoder's hidden layers
    variational: bool = False                  # VAE: encoder gives mean and log-variance


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes the trained weights. Its hash names the checkpoint."""
    model: ModelArgs = field(default_factory=ModelArgs)
    epochs: int = 16
    batch_size: int = 128
    lr: float = 2e-3              # peak learning rate of the one-cycle schedule
    beta: float = 1.0             # weight of the KL term (VAE only; 1 = the ELBO)
    seed: int = 0
    train_limit: int = 0          # use only the first N training images (0 = all 60,000)
    test_limit: int = 0           # use only the first N test images (0 = all 10,000)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        m = dict(d["model"])
        m["channels"], m["decoder_hidden"] = tuple(m["channels"]), tuple(m["decoder_hidden"])
        return cls(**{**d, "model": ModelArgs(**m)})

    @property
    def name(self) -> str:
        return "vae" if self.model.variational else "ae"

    def checkpoint_name(self) -> str:
        """File name of this config's checkpoint: the model's name and the config's hash."""
        return f"{self.name}-{self.digest()}.pt"

    def digest(self) -> str:
        """Stable short hash of the config: equal configs and only they share it."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
