"""The one training loop (`fit`), for the autoencoders and the judge alike.

Adam with a one-cycle learning-rate schedule over seeded shuffles of the training set;
the first non-finite loss stops training with one line naming the model and the epoch.
At the end the weights are rounded to the 8-bit grid the site ships (training/quantise.py),
and the model is evaluated on the test set. `train_models` (training/pool.py) decides what
to train and runs this in processes of their own.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoints import all_finite
from .config import JudgeConfig, TrainConfig
from .errors import UserError
from .judge import Judge, read, score
from .models import Autoencoder, digit, kl_divergence, loss_terms, recon_bce
from .quantise import round_weights


def diverged(config: TrainConfig | JudgeConfig, epoch: int, loss) -> UserError:
    """The one-line report of a training whose loss stopped being a finite number."""
    if isinstance(config, JudgeConfig):
        return UserError(f"the judge's training diverged in epoch {epoch} (loss {loss}): its settings "
                         f"in training/config.py are broken")
    return UserError(
        f"{config.name.upper()} training diverged in epoch {epoch} (loss {loss}): the learning "
        f"rate {config.lr:g} or beta {config.beta:g} is probably too large; try the defaults "
        f"(--lr {TrainConfig.lr:g} --beta {TrainConfig.beta:g})")


@torch.no_grad()
def evaluate(model, x: torch.Tensor, batch_size: int = 1000, seed: int = 0) -> dict:
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


def judge_metrics(judge, x_test: torch.Tensor, y_test: torch.Tensor) -> dict:
    """The judge's test accuracy and its share of test digits it is sure of."""
    probs = read(judge, x_test)
    return {"test_accuracy": round(float((probs.argmax(1) == y_test.numpy()).mean()), 6),
            "test_recognisable": score(probs)["recognisable"]}


def fit(model: torch.nn.Module, config: TrainConfig | JudgeConfig, n: int,
        losses: Callable[[torch.Tensor], dict[str, torch.Tensor]], log=tqdm.write, progress: bool = True,
        position: int = 0, pct_start: float = 0.3) -> list[dict]:
    """Trains `model` in place for config.epochs over `n` examples; `losses(idx)` gives the
    batch's mean losses for the example indices `idx` (a dict whose first entry, 'loss', is
    minimised). Returns the per-epoch means of every entry. `position` is the progress
    bar's line when several models train at once."""
    gen = torch.Generator().manual_seed(config.seed)
    device = next(model.parameters()).device
    model.to(memory_format=torch.channels_last)   # NHWC convolutions train faster on CPU
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    steps = config.epochs * -(-n // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps, pct_start=pct_start)
    name = "judge" if isinstance(config, JudgeConfig) else config.name.upper()
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen).to(device)
        bar = tqdm(range(0, n, config.batch_size), desc=f"{name} epoch {epoch}/{config.epochs}",
                   leave=False, disable=not progress, unit="batch", position=position)
        sums, batches = {}, 0
        for i in bar:
            terms = losses(order[i:i + config.batch_size])
            value = terms["loss"].item()
            if not math.isfinite(value):
                raise diverged(config, epoch, value)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            opt.step()
            sched.step()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + (value if k == "loss" else v.item())
            batches += 1
            bar.set_postfix(loss=f"{sums['loss'] / batches:.1f}", refresh=False)   # the bar redraws at its own pace
        means = {f"train_{k}": round(v / batches, 4) for k, v in sums.items()}
        history.append({"epoch": epoch, **means})
        log(f"{name} epoch {epoch:2d}/{config.epochs}: " + " | ".join(f"{k} {v:.4g}" for k, v in means.items()))
    model.to(memory_format=torch.contiguous_format)
    round_weights(model)
    return history


def train(config: TrainConfig, x_train, x_test, device: torch.device, log=tqdm.write,
          progress: bool = True, position: int = 0):
    """Trains an AE or a VAE from scratch; returns (model on cpu in eval mode, metrics).

    The recipe: `fit`, and (config.mean_start) the decoder's output bias starting at the
    logits of the mean training image, so that training begins from the average digit
    instead of grey noise. With it, short VAE runs that used to collapse (KL -> 0) keep a
    rate, and the final loss is lower.
    """
    torch.manual_seed(config.seed)
    model = Autoencoder(config.model).to(device)
    x = x_train.to(device)
    targets = digit(x).contiguous()                                      # (N, 784)
    if config.mean_start:
        with torch.no_grad():
            mean = targets.mean(0).clamp(1e-3, 1 - 1e-3)
            model.decoder.net[-1].bias.copy_(torch.log(mean) - torch.log1p(-mean))

    def losses(idx):
        loss, recon, kl = loss_terms(model, x[idx], config.beta, targets[idx])   # (B, 1, 32, 32)
        return {"loss": loss, "recon": recon, "kl": kl}

    start = time.perf_counter()
    history = fit(model, config, len(x), losses, log, progress, position)
    metrics = evaluate(model, x_test, seed=config.seed)
    if not all_finite(model, metrics):
        raise diverged(config, config.epochs, "not finite")
    metrics = {**metrics, "train_seconds": round(time.perf_counter() - start, 2),
               "epochs": config.epochs, "train_images": len(x_train), "test_images": len(x_test),
               "parameters": sum(p.numel() for p in model.parameters()),
               "device": device.type, "history": history}
    return model.cpu().eval(), metrics


def train_judge(config: JudgeConfig, x_train, y_train, x_test, y_test, device: torch.device,
                log=tqdm.write, progress: bool = True, position: int = 0):
    """Trains the judge from scratch; returns (judge on cpu in eval mode, metrics)."""
    torch.manual_seed(config.seed)
    judge = Judge(config).to(device)
    x, y = x_train.to(device), y_train.to(device)
    start = time.perf_counter()
    history = fit(judge, config, len(x), lambda idx: {"loss": F.cross_entropy(judge(x[idx]), y[idx])},
                  log, progress, position, pct_start=0.25)
    judge = judge.cpu().eval()
    metrics = {**judge_metrics(judge, x_test, y_test), "train_seconds": round(time.perf_counter() - start, 2),
               "epochs": config.epochs, "train_images": len(x_train), "test_images": len(x_test),
               "parameters": sum(p.numel() for p in judge.parameters()), "device": device.type,
               "history": history}
    log(f"judge: test accuracy {metrics['test_accuracy']:.4f}")
    return judge, metrics
