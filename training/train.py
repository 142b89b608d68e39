"""Train one model (AE or VAE), evaluate it on the test set, keep a checkpoint.

A checkpoint is one dict, as in nanoGPT: the weights, the full training config the
model is rebuilt from, its key (config + training code) and the test metrics. It is written atomically (temp file + rename) and reused only when its key
matches and its weights and metrics are finite. `train_models` is the one path that
decides between reusing and training: it trains what is missing, several models at a
time, each in a process of its own (`training/worker.py`).
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .config import REPO, JudgeConfig, TrainConfig
from .errors import UserError
from .models import Autoencoder, digit, kl_divergence, loss_terms, recon_bce


def model_for(config: TrainConfig | JudgeConfig) -> torch.nn.Module:
    """A freshly initialised model of the kind `config` trains."""
    if isinstance(config, JudgeConfig):
        from .judge import Judge
        return Judge(config)
    return Autoencoder(config.model)


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


def affine_uint8(w: np.ndarray) -> np.ndarray:
    """Round a float32 array to the 256-level grid the tensorflowjs converter stores it on,
    and return the values TF.js decodes from it (v * scale + min, in float64 -> float32).

    Mirrors tensorflowjs.quantization.quantize_weights: the grid spans [min, max], nudged
    so that 0 is exactly representable when the range covers it (as in TF Lite).
    """
    lo, hi = np.float64(w.min()), np.float64(w.max())
    if lo == hi:
        return w.copy()
    scale = (hi - lo) / 255
    if lo <= 0 <= hi:
        lo = -np.round((0 - lo) / scale) * scale
        hi = 255 * scale + lo
    q = np.round((w.clip(lo, hi) - lo) / scale).astype(np.uint8)
    return (q.astype(np.float64) * scale + lo).astype(np.float32)


@torch.no_grad()
def round_weights(model) -> None:
    """Round every parameter to what the site stores (config.WEIGHT_DTYPE: uint8)."""
    for p in model.parameters():
        p.copy_(torch.from_numpy(affine_uint8(p.detach().cpu().numpy())))


@torch.no_grad()
def evaluate(model: Autoencoder, x: torch.Tensor, batch_size: int = 1000, seed: int = 0) -> dict:
    """Test metrics in nats per image over the central 28x28 pixels (padding excluded).

    `test_recon_bce_784` is the cross-entropy of the reconstruction from the code the
    page decodes (the VAE's mean). For the VAE, `test_elbo_recon_784` is the ELBO's
    reconstruction term, decoded from one sample of q(z|x) per image (fixed seed), and
    `test_neg_elbo_784` = that + `test_kl`.
    """
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    sums = {"recon": 0.0, "sampled": 0.0, "kl": 0.0, "sq": 0.0}
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device)
        target = digit(xb)                                            # (B, 784)
        mu, logvar = model.encode(xb)
        logits = model.decoder.digit(mu)
        sums["recon"] += recon_bce(logits, target).sum().item()
        sums["sq"] += (torch.sigmoid(logits) - target).pow(2).mean(1).sum().item()
        if logvar is not None:
            eps = torch.randn(mu.shape, generator=gen, device=device)
            z = model.reparameterize(mu, logvar, eps)
            sums["sampled"] += recon_bce(model.decoder.digit(z), target).sum().item()
            sums["kl"] += kl_divergence(mu, logvar).sum().item()
    n = len(x)
    m = {"test_recon_bce_784": sums["recon"] / n, "test_mse": sums["sq"] / n}
    if model.args.variational:
        m["test_elbo_recon_784"] = sums["sampled"] / n
        m["test_kl"] = sums["kl"] / n
        m["test_neg_elbo_784"] = m["test_elbo_recon_784"] + m["test_kl"]
    return {k: round(v, 6) for k, v in m.items()}


def diverged(config: TrainConfig | JudgeConfig, epoch: int, loss) -> UserError:
    """The one-line report of a training whose loss stopped being a finite number."""
    if isinstance(config, JudgeConfig):
        return UserError(f"the judge's training diverged in epoch {epoch} (loss {loss}): its settings "
                         f"in training/config.py are broken")
    return UserError(
        f"{config.name.upper()} training diverged in epoch {epoch} (loss {loss}): the learning "
        f"rate {config.lr:g} or beta {config.beta:g} is probably too large; try the defaults "
        f"(--lr {TrainConfig.lr:g} --beta {TrainConfig.beta:g})")


def train(config: TrainConfig, x_train, x_test, device: torch.device, log=tqdm.write,
          progress: bool = True, position: int = 0):
    """Trains from scratch; returns (model on cpu in eval mode, metrics). Stops with a
    UserError at the first non-finite loss. `position` is the line of the progress bar
    when several models train at once.

    The recipe: Adam with a one-cycle schedule, and (config.mean_start) the decoder's
    output bias starting at the logits of the mean training image, so that training begins
    from the average digit instead of grey noise. With it, short VAE runs that used to
    collapse (KL -> 0) keep a rate, and the final loss is lower.
    """
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = Autoencoder(config.model).to(device)
    x_train_dev = x_train.to(device)
    targets = digit(x_train_dev).contiguous()                            # (N, 784)
    if config.mean_start:
        with torch.no_grad():
            mean = targets.mean(0).clamp(1e-3, 1 - 1e-3)
            model.decoder.net[-1].bias.copy_(torch.log(mean) - torch.log1p(-mean))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = config.epochs * -(-len(x_train) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps)
    kind = config.name.upper()
    start = time.perf_counter()
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=gen).to(device)
        bar = tqdm(range(0, len(order), config.batch_size), desc=f"{kind} epoch {epoch}/{config.epochs}",
                   leave=False, disable=not progress, unit="batch", position=position)
        sums, batches = {"loss": 0.0, "recon": 0.0, "kl": 0.0}, 0
        for i in bar:
            idx = order[i:i + config.batch_size]
            loss, recon, kl = loss_terms(model, x_train_dev[idx], config.beta, targets[idx])   # (B, 1, 32, 32)
            value = loss.item()
            if not math.isfinite(value):
                raise diverged(config, epoch, value)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            sums["loss"] += value
            sums["recon"] += recon.item()
            sums["kl"] += kl.item()
            batches += 1
            bar.set_postfix(loss=f"{sums['loss'] / batches:.1f}")
        epoch_means = {f"train_{k}": round(v / batches, 4) for k, v in sums.items()}
        history.append({"epoch": epoch, **epoch_means})
        log(f"{kind} epoch {epoch:2d}/{config.epochs}: " + " | ".join(f"{k} {v:.4g}" for k, v in epoch_means.items()))
    round_weights(model)
    metrics = evaluate(model, x_test, seed=config.seed)
    if not all_finite(model, metrics):
        raise diverged(config, config.epochs, "not finite")
    metrics = {**metrics, "train_seconds": round(time.perf_counter() - start, 2),
               "epochs": config.epochs, "train_images": len(x_train), "test_images": len(x_test),
               "parameters": sum(p.numel() for p in model.parameters()),
               "device": device.type, "history": history}
    return model.cpu().eval(), metrics


def save_checkpoint(model: torch.nn.Module, metrics: dict, config: TrainConfig | JudgeConfig, path: Path) -> None:
    save_atomic({"model": model.state_dict(), "kind": config.kind, "config": config.to_dict(),
                 "key": config.key(), "metrics": metrics}, path)


def _child_setup(parent: int, libc) -> None:
    """Runs in each training process before it starts Python: Ctrl-C is the parent's to
    handle (SIG_IGN survives exec), and the process dies with the parent (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)              # PR_SET_PDEATHSIG
    if os.getppid() != parent:                     # the parent died before prctl took effect
        os._exit(1)


def train_models(configs: dict[str, TrainConfig | JudgeConfig], data_dir: Path, ckpt_dir: Path, device: str,
                 retrain: bool = False, log=tqdm.write, progress: bool = True) -> dict:
    """{key: (model, metrics, trained)} for each config in `configs` ({key: config}): good
    checkpoints are reused (unless `retrain`), the other models are trained in as many
    processes as there are CPU cores, each training its share one model after the other
    (one thread each: small models train faster side by side than one after the other with
    every core); keys that share a config share one run. The first failure stops every
    training and raises its UserError; a killed build takes its training processes with it."""
    paths = {key: Path(ckpt_dir) / config.checkpoint_name() for key, config in configs.items()}
    done, todo = {}, {}
    for key, config in configs.items():
        if paths[key] in done or paths[key] in todo:
            continue
        loaded = None if retrain else load_checkpoint(paths[key], config, log)
        if loaded is None:
            todo[paths[key]] = config
        else:
            done[paths[key]] = (*loaded, False)
    cores = os.cpu_count() or 1
    lanes = [[] for _ in range(max(1, min(len(todo), cores)))]
    work = [0.0] * len(lanes)
    for path, config in todo.items():            # each model to the least busy lane
        k = work.index(min(work))
        lanes[k].append({"kind": config.kind, "config": config.to_dict(), "path": str(path)})
        work[k] += 1 / 3 if config.kind == "judge" else 1
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        libc = None
    parent, running = os.getpid(), []
    try:
        for position, jobs in enumerate(lanes):
            if not jobs:
                continue
            lane = {"jobs": jobs, "data_dir": str(data_dir), "device": device, "progress": progress,
                    "threads": max(1, cores // len(lanes)), "position": position}
            running.append((jobs, subprocess.Popen(
                [sys.executable, "-m", "training.worker", json.dumps(lane)], cwd=REPO,
                stdout=subprocess.PIPE, text=True, preexec_fn=lambda: _child_setup(parent, libc))))
        while running:
            time.sleep(0.05)
            for jobs, proc in list(running):
                if proc.poll() is None:
                    continue
                running.remove((jobs, proc))
                said = proc.stdout.read().strip()
                if proc.returncode:
                    raise UserError(said or f"a training process failed (exit code {proc.returncode}); "
                                    f"its error is printed above")
                for job in jobs:
                    path = Path(job["path"])
                    config, name = todo[path], todo[path].name.upper()
                    loaded = load_checkpoint(path, config, log)
                    if loaded is None:
                        raise UserError(f"training the {name} left no checkpoint this build can use in "
                                        f"{ckpt_dir} (see the line above; was the code changed during the "
                                        f"build?): run the build again")
                    done[path] = (*loaded, True)
    finally:
        for _, proc in running:
            proc.kill()
            proc.wait()
    return {key: done[paths[key]] for key in configs}
