"""The judge: a small MNIST classifier that the build trains only to score images.

It reads what the autoencoders decode (random codes, reconstructions, walks through the
latent space) and says which digit it sees and how sure it is. An image counts as
*recognisable* when the judge gives one class a probability of at least THRESHOLD; the
article's sampling numbers are shares of recognisable images. The judge never shapes the
autoencoders, and the page ships it too, so the reader sees the same verdicts.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

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
def read(judge: Judge, images: torch.Tensor, batch_size: int = 2000) -> np.ndarray:
    """Class probabilities (N, 10) for images (N, 1, 32, 32) in [0, 1], white ink on black,
    on the judge's device."""
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


def train_judge(config: JudgeConfig, x_train, y_train, x_test, y_test, device: torch.device,
                log=tqdm.write, progress: bool = True, position: int = 0):
    """Trains from scratch; returns (judge on cpu in eval mode, metrics)."""
    from .train import diverged, round_weights
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    judge = Judge(config).to(device)
    opt = torch.optim.Adam(judge.parameters(), lr=config.lr)
    steps = config.epochs * -(-len(x_train) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps, pct_start=0.25)
    x, y = x_train.to(device), y_train.to(device)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        judge.train()
        order = torch.randperm(len(x), generator=gen).to(device)
        bar = tqdm(range(0, len(x), config.batch_size), desc=f"judge epoch {epoch}/{config.epochs}",
                   leave=False, disable=not progress, unit="batch", position=position)
        for i in bar:
            idx = order[i:i + config.batch_size]
            loss = F.cross_entropy(judge(x[idx]), y[idx])
            if not math.isfinite(loss.item()):
                raise diverged(config, epoch, loss.item())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    round_weights(judge)
    judge = judge.cpu().eval()
    probs = read(judge, x_test)
    metrics = {"test_accuracy": round(float((probs.argmax(1) == y_test.numpy()).mean()), 6),
               "test_recognisable": score(probs)["recognisable"],
               "train_seconds": round(time.perf_counter() - start, 2), "epochs": config.epochs,
               "train_images": len(x_train), "test_images": len(x_test),
               "parameters": sum(p.numel() for p in judge.parameters()), "device": device.type}
    log(f"judge: test accuracy {metrics['test_accuracy']:.4f}")
    return judge, metrics
