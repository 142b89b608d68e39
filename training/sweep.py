"""Beyond one setting: families of AEs and VAEs over latent sizes and betas, trained by
the main pair's recipe and measured like it, so that the article can say whether what
it shows is a property of autoencoders or of one setting.

training/config.py lists the families' configs (the main pair among them);
`measure_sweep` scores each trained model with the judge: reconstruction (from the mean code), rate (the VAE's KL),
how its codes spread against N(0, I), and how recognisable its samples are under each sampler of
training/evaluation.py.
"""
from __future__ import annotations

import numpy as np

from .config import TrainConfig
from .evaluation import SAMPLERS, encode, fitted_normal, sampling
from .figure_data import axis_summary

DRAWS = 8      # of each sampler's draws, the first DRAWS are kept as pictures
ACTIVE = 0.01   # a VAE's latent value is active when its means vary more than this over the
                # data (the "active units" of Burda et al. 2016, arXiv:1509.00519)

def measure_sweep(configs: list[TrainConfig], models: dict, metrics: dict, judge, x_train,
                  seed: int = 0) -> tuple[list[dict], dict]:
    """One entry per model: its settings, test reconstruction and rate, the spread of its
    training codes, and for each sampler the share of recognisable draws and their class
    entropy; and per model and sampler the first DRAWS draws (`images`, the judge's `labels`
    and how `sure` it is of them)."""
    entries, draws = [], {}
    for config in configs:
        model = models[config.name]
        codes, logvar = encode(model, x_train)
        d = config.model.latent_dim
        ranges = np.array([axis_summary(codes[:, i])["range"] for i in range(d)])   # as the explorer's axes
        scores = sampling({config.name: model}, judge, {config.name: codes}, {config.name: ranges}, seed)
        m = metrics[config.name]
        entries.append({
            "name": config.name, "model": "vae" if config.model.variational else "ae", "latent_dim": d,
            "beta": config.beta if config.model.variational else None,
            "test_recon_bce_784": m["test_recon_bce_784"], "test_kl": m.get("test_kl"),
            "test_neg_elbo_784": m.get("test_neg_elbo_784"),
            "active": active_units(codes, logvar) if config.model.variational else None,
            "spread": spread(codes),
            "sampling": {kind: {"recognisable": scores[f"{config.name}_{kind}"]["recognisable"],
                                "class_entropy": scores[f"{config.name}_{kind}"]["class_entropy"]}
                         for kind in SAMPLERS}})
        draws[config.name] = {kind: {key: scores[f"{config.name}_{kind}"]["grid"][key][:DRAWS]
                                     for key in ("images", "labels", "sure")} for kind in SAMPLERS}
    return entries, draws


def active_units(codes, logvar) -> dict:
    """How many latent values a VAE uses (`units`: its means vary over the data by more than
    `threshold`), and the median sigma of q(z|x) on the others (None if it uses all)."""
    active = codes.var(0) > ACTIVE
    idle = np.exp(0.5 * logvar[:, ~active])
    return {"units": int(active.sum()), "threshold": ACTIVE,
            "idle_sigma": round(float(np.median(idle)), 4) if idle.size else None}


def spread(codes) -> dict:
    """How the codes (N, D) sit against N(0, I): the smallest and largest standard deviation
    over the axes (`sd`) and the largest distance of their mean from zero along an axis
    (`off`), from the same fitted normal as the 'fitted' sampler."""
    mean, chol = fitted_normal(codes)
    sd = np.sqrt((chol ** 2).sum(1))
    return {"sd": [float(sd.min()), float(sd.max())], "off": float(np.abs(mean).max())}
