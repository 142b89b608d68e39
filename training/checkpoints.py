"""Checkpoints: one dict per model, as in nanoGPT: the weights, the full training config the
model is rebuilt from, its key (config + training code) and the test metrics. Written
atomically (temp file + rename) and reused only when the key matches and the weights and
metrics are finite.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from .config import JudgeConfig, TrainConfig
from .judge import Judge
from .models import Autoencoder


def model_for(config: TrainConfig | JudgeConfig) -> torch.nn.Module:
    """A freshly initialised model of the kind `config` trains."""
    return Judge(config) if isinstance(config, JudgeConfig) else Autoencoder(config.model)


def save_atomic(obj, path: Path) -> None:
    """torch.save to a temp file in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def all_finite(model: torch.nn.Module, metrics: dict) -> bool:
    return (all(torch.isfinite(p).all() for p in model.state_dict().values())
            and all(math.isfinite(v) for v in metrics.values() if isinstance(v, (int, float))))


def save_checkpoint(model: torch.nn.Module, metrics: dict, config: TrainConfig | JudgeConfig, path: Path) -> None:
    save_atomic({"model": model.state_dict(), "kind": config.kind, "config": config.to_dict(),
                 "key": config.key(), "metrics": metrics}, path)


def load_checkpoint(path: Path, config: TrainConfig | JudgeConfig, log=print):
    """(model, metrics) from `path` if it holds a good model for `config`, else None
    (and a line in the log saying why, when a file was there)."""
    if not path.exists():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if ckpt["key"] != config.key():
            log(f"checkpoint {path.name} was made by other settings or code; retraining")
            return None
        model = model_for(type(config).from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["model"])
        metrics = ckpt["metrics"]
    except Exception as e:  # truncated file, wrong format, missing keys...
        log(f"checkpoint {path.name} cannot be loaded ({type(e).__name__}: {e}); retraining")
        return None
    if not all_finite(model, metrics):
        log(f"checkpoint {path.name} holds non-finite weights or metrics; retraining")
        return None
    return model.eval(), metrics
