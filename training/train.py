"""Train one model (AE or VAE), evaluate it on the test set, keep a checkpoint.

A checkpoint is one dict: model weights, model args, the full training config, the
config's hash, and the test metrics. It is written atomically (temp file + rename),
reused only when its config hash matches the requested config exactly, and retrained
when it is missing, stale, unreadable, or when the caller asks to.
"""
from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .config import PAD, TrainConfig
from .errors import TrainingError
from .models import Autoencoder, kl_divergence, loss_terms, recon_bce


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def checkpoint_path(ckpt_dir: Path, config: TrainConfig) -> Path:
    return Path(ckpt_dir) / config.checkpoint_name()


def save_atomic(obj, path: Path) -> None:
    """torch.save to a temp file in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: Path, config: TrainConfig, log=print):
    """(model, metrics) from `path` if it exists and matches `config`, else None."""
    if not path.exists():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if ckpt["config_hash"] != config.digest():
            log(f"checkpoint {path.name}: config differs, retraining")
            return None
        model = Autoencoder(TrainConfig.from_dict(ckpt["config"]).model)
        model.load_state_dict(ckpt["model"])
    except Exception as e:  # truncated file, wrong format, missing keys...
        log(f"checkpoint {path.name} cannot be loaded ({type(e).__name__}: {e}); retraining")
        return None
    return model.eval(), ckpt["metrics"]


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

    For the VAE the reconstruction term is the ELBO's: decoded from one sample of
    q(z|x) per image (fixed seed); `test_mse` is of the reconstruction from the mean
    code, which is what the article shows.
    """
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    crop = (slice(None), slice(None), slice(PAD, -PAD), slice(PAD, -PAD))
    sums = {"recon": 0.0, "kl": 0.0, "sq": 0.0}
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device)
        mu, logvar = model.encode(xb)
        z = mu
        if logvar is not None:
            eps = torch.randn(mu.shape, generator=gen, device=device)
            z = model.reparameterize(mu, logvar, eps)
            sums["kl"] += kl_divergence(mu, logvar).sum().item()
        sums["recon"] += recon_bce(model.decoder(z)[crop], xb[crop]).sum().item()
        sums["sq"] += (model.decode(mu)[crop] - xb[crop]).pow(2).mean((1, 2, 3)).sum().item()
    n = len(x)
    m = {"test_recon_bce_784": sums["recon"] / n, "test_mse": sums["sq"] / n}
    if model.args.variational:
        m["test_kl"] = sums["kl"] / n
        m["test_neg_elbo_784"] = m["test_recon_bce_784"] + m["test_kl"]
    return {k: round(v, 6) for k, v in m.items()}


def train(config: TrainConfig, x_train, x_test, device: torch.device, log=tqdm.write,
          progress: bool = True, position: int = 0):
    """Trains from scratch; returns (model on cpu in eval mode, metrics).
    `position` is the line of the progress bar when several models train at once."""
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = Autoencoder(config.model).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = config.epochs * -(-len(x_train) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps)
    kind = config.name.upper()
    x_train_dev = x_train.to(device)
    start = time.perf_counter()
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=gen).to(device)
        bar = tqdm(range(0, len(order), config.batch_size), desc=f"{kind} epoch {epoch}/{config.epochs}",
                   leave=False, disable=not progress, unit="batch", position=position)
        running = None
        for i in bar:
            xb = x_train_dev[order[i:i + config.batch_size]]          # (B, 1, 32, 32)
            loss, recon, kl = loss_terms(model, xb, config.beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            bar.set_postfix(loss=f"{running:.1f}")
        if epoch == config.epochs:
            round_weights(model)
        metrics = evaluate(model, x_test, seed=config.seed)
        history.append({"epoch": epoch, "train_loss": round(running, 4), **metrics})
        log(f"{kind} epoch {epoch:2d}/{config.epochs}: train loss {running:7.2f} | "
            + " | ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    metrics = {**metrics, "train_seconds": round(time.perf_counter() - start, 2),
               "epochs": config.epochs, "train_images": len(x_train), "test_images": len(x_test),
               "parameters": sum(p.numel() for p in model.parameters()),
               "device": device.type, "history": history}
    return model.cpu().eval(), metrics


def train_or_load(config: TrainConfig, data, ckpt_dir: Path, device: torch.device,
                  retrain: bool = False, log=tqdm.write, progress: bool = True, position: int = 0):
    """The checkpoint for `config` if it is good and `retrain` is False, else a fresh run.

    Returns (model, metrics, trained) where `trained` says whether training ran.
    `data` is a zero-argument callable returning (x_train, x_test), called only if needed.
    """
    path = checkpoint_path(ckpt_dir, config)
    if not retrain:
        loaded = load_checkpoint(path, config, log)
        if loaded is not None:
            return (*loaded, False)
    x_train, x_test = data()
    model, metrics = train(config, x_train, x_test, device, log, progress, position)
    save_atomic({"model": model.state_dict(), "model_args": config.to_dict()["model"],
                 "config": config.to_dict(), "config_hash": config.digest(), "metrics": metrics},
                path)
    return model, metrics, True


def _train_worker(config: dict, data_dir: str, ckpt_dir: str, device: str, threads: int,
                  progress: bool, position: int) -> None:
    """One model's training in its own process: load the data, train, write the checkpoint."""
    import ctypes
    import signal
    import sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    try:  # die with the parent, so that a killed build leaves no training behind (Linux)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass
    from .data import load_mnist
    torch.set_num_threads(threads)
    config = TrainConfig.from_dict(config)
    x_train, _, x_test, _ = load_mnist(Path(data_dir), config.train_limit, config.test_limit)
    log = functools.partial(tqdm.write, file=sys.stderr)
    train_or_load(config, lambda: (x_train, x_test), Path(ckpt_dir), torch.device(device),
                  retrain=True, log=log, progress=progress, position=position)


def train_models(configs: list[TrainConfig], data_dir: Path, ckpt_dir: Path, device: torch.device,
                 retrain: bool = False, log=tqdm.write, progress: bool = True) -> dict:
    """{name: (model, metrics, trained)} for each config: good checkpoints are reused, the
    other models are trained at the same time, one process each, sharing the CPU cores.

    Small models train faster this way than one after the other with all cores each:
    most of their operations are too small to keep several threads busy.
    """
    import multiprocessing
    results, todo = {}, []
    for config in configs:
        loaded = None if retrain else load_checkpoint(checkpoint_path(ckpt_dir, config), config, log)
        if loaded is None:
            todo.append(config)
        else:
            results[config.name] = (*loaded, False)
    threads = max(1, torch.get_num_threads() // max(1, len(todo)))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_train_worker, name=f"train-{c.name}", daemon=True,
                         args=(c.to_dict(), str(data_dir), str(ckpt_dir), device.type, threads,
                               progress, i)) for i, c in enumerate(todo)]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
    for config, p in zip(todo, procs):
        loaded = load_checkpoint(checkpoint_path(ckpt_dir, config), config, log)
        if p.exitcode != 0 or loaded is None:
            raise TrainingError(f"training the {config.name.upper()} failed (exit code {p.exitcode}); "
                               f"its error is printed above")
        results[config.name] = (*loaded, True)
    return results
