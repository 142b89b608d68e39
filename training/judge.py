"""The judge: a small MNIST classifier that the build trains only to score images.

It reads what the autoencoders decode (random codes, reconstructions, walks through the
latent space) and says which digit it sees and how sure it is. An image counts as
*recognisable* when the judge gives one class a probability of at least THRESHOLD; the
article's sampling numbers are shares of recognisable images. The judge never shapes the
autoencoders, and the page ships it too, so the reader sees the same verdicts.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import IMAGE_SIZE, JudgeConfig

THRESHOLD = 0.9   # least probability of the top class for an image to count as recognisable
CLASSES = 10


class Judge(nn.Module):
    """Two 5x5 convolutions, each followed by 2x2 max-pooling, then two dense layers."""

    def __init__(self, config: JudgeConfig):
        super().__init__()
        c1, c2 = config.channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),      # (B, c1, 16, 16)
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # (B, c2, 8, 8)
            nn.Flatten(),                                                    # CHW order
            nn.Linear(c2 * (IMAGE_SIZE // 4) ** 2, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, CLASSES))

    def forward(self, x):                           # (B, 1, 32, 32) -> logits (B, 10)
        return self.net(x)


def device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def read(judge: Judge, images: torch.Tensor, batch_size: int = 250) -> np.ndarray:
    """Class probabilities (N, 10) for images (N, 1, 32, 32) in [0, 1], white ink on black,
    on the judge's device. Batches of 250: on a CPU the full-size 5x5 convolutions run about
    2.5 times faster than in batches of 2,000, whose activations (65 MB) overflow the cache."""
    judge.eval()
    return torch.cat([F.softmax(judge(images[i:i + batch_size].to(device_of(judge))), 1).cpu()
                      for i in range(0, len(images), batch_size)]).numpy()


def score(probs: np.ndarray) -> dict:
    """Share of recognisable images, the entropy (nats) of the classes the judge gives
    them, and the count per class."""
    ok = probs.max(1) >= THRESHOLD
    counts = np.bincount(probs.argmax(1)[ok], minlength=CLASSES)
    p = counts[counts > 0] / max(1, counts.sum())
    return {"recognisable": round(float(ok.mean()), 4), "class_entropy": round(max(0.0, float(-(p * np.log(p)).sum())), 4),
            "draws": int(len(probs)), "counts": counts.tolist()}
