"""Figure: beyond one setting. Families of AEs and VAEs over latent sizes and betas, trained by
the main pair's recipe and measured like it, so that the article can say whether what it
shows is a property of autoencoders or of one setting.

training/config.py lists the families' configs (the main pair among them); `measure_sweep`
scores each trained model with the judge: reconstruction (from the mean code), rate (the
VAE's KL), how its codes spread against N(0, I), its active latent values, and how
recognisable its samples are under each sampler of training/evaluation.py. The build draws
the chart and, per latent size, pictures of each sampler's first draws.
"""
from __future__ import annotations

import math
from pathlib import Path

from article.render import points
from figures import CLOSE, cells

DRAWS_KEPT = 8     # of each sampler's draws, the first DRAWS_KEPT are kept as pictures
DRAW_COLUMNS = 4


def measure_sweep(configs: list, models: dict, metrics: dict, judge, x_train,
                  seed: int = 0) -> tuple[list[dict], dict]:
    """One entry per model: its settings, test reconstruction and rate, the spread of its
    training codes, and for each sampler the share of recognisable draws and their class
    entropy; and per model and sampler the first DRAWS_KEPT draws (`images`, the judge's `labels`
    and how `sure` it is of them)."""
    from training.config import SAMPLERS
    from training.evaluation import active_units, axis_ranges, encode, sampling, spread
    entries, draws = [], {}
    for config in configs:
        model = models[config.name]
        codes, logvar = encode(model, x_train)
        d = config.model.latent_dim
        ranges = axis_ranges(codes)                                     # as the explorer's axes
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
        draws[config.name] = {kind: {key: scores[f"{config.name}_{kind}"]["grid"][key][:DRAWS_KEPT]
                                     for key in ("images", "labels", "sure")} for kind in SAMPLERS}
    return entries, draws


LINE_STYLES = {"prior": "-", "fitted": "--", "mixture": ":"}   # per sampler, in the chart


SWEEP_SHAPES = {"wide": ((1, 3), (12, 3.9)), "narrow": ((3, 1), (4.4, 10.5))}   # panels, inches


def by_size(entries: list[dict], main: dict) -> list[dict]:
    """The sweep's AEs and its VAEs with the main beta, by latent size."""
    return sorted((e for e in entries if e["model"] == "ae" or e["beta"] == main["beta"]),
                  key=lambda e: e["latent_dim"])


def render_sweep(entries: list[dict], main: dict, path: Path, shape: str = "wide") -> None:
    """Three panels: recognisable samples against latent size per sampler, reconstruction
    against latent size, and the VAEs of the main latent size as a rate-distortion curve;
    side by side ('wide') or one above the other for phones ('narrow').
    `main` is {"latent_dim", "beta"} of the main pair, marked in the panels."""
    import matplotlib.pyplot as plt

    from figures.pictures import COLOURS, save_small
    from training.config import SAMPLER_NAMES, SAMPLERS
    pairs = by_size(entries, main)
    dims = sorted({e["latent_dim"] for e in pairs})
    grid, size = SWEEP_SHAPES[shape]
    fig, axes = plt.subplots(*grid, figsize=size, dpi=110)
    ax = axes[0]
    for kind, model in ((k, m) for k in SAMPLERS for m in ("vae", "ae")):
        label, colour, style = f"{model.upper()}, {SAMPLER_NAMES[kind]}", COLOURS["models"][model], LINE_STYLES[kind]
        xs = [e["latent_dim"] for e in pairs if e["model"] == model]
        ys = [100 * e["sampling"][kind]["recognisable"] for e in pairs if e["model"] == model]
        ax.plot(xs, ys, style, color=colour, marker="o", ms=4, label=label)
    ax.set(xscale="log", xticks=dims, xticklabels=dims, ylim=(0, 100), xlabel="latent values",
           ylabel="recognisable samples (%)", title="Sampling")
    ax.minorticks_off()
    ax.legend(fontsize=7.5, frameon=False, ncol=2, loc="lower left")
    ax = axes[1]
    for model in ("ae", "vae"):
        colour = COLOURS["models"][model]
        xs = [e["latent_dim"] for e in pairs if e["model"] == model]
        ax.plot(xs, [e["test_recon_bce_784"] for e in pairs if e["model"] == model], "-o", ms=4,
                color=colour, label=model.upper())
    ax.set(xscale="log", xticks=dims, xticklabels=dims, xlabel="latent values",
           ylabel="test cross-entropy (nats)", title="Reconstruction")
    ax.minorticks_off()
    ax.legend(fontsize=8, frameon=False)
    ax = axes[2]
    betas = sorted((e for e in entries if e["model"] == "vae" and e["latent_dim"] == main["latent_dim"]),
                   key=lambda e: e["beta"])
    ax.plot([e["test_kl"] for e in betas], [e["test_recon_bce_784"] for e in betas], "-o", ms=4, color=COLOURS["models"]["vae"])
    for k, e in enumerate(betas):                       # labels alternately above and below the curve
        mark = e["beta"] == main["beta"]
        ax.annotate(f"β = {e['beta']:g}" + (" (main)" if mark else ""), (e["test_kl"], e["test_recon_bce_784"]),
                    textcoords="offset points", xytext=(6, 5 if k % 2 else -13), fontsize=8,
                    weight="bold" if mark else "normal")
    ax.margins(x=0.15, y=0.12)                          # room for the labels at the ends
    ax.set(xlabel="rate: KL (nats)", ylabel="distortion: cross-entropy (nats)",
           title=f"VAEs with {main['latent_dim']} latent values")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save_small(fig, path)


def render_sweep_draws(entries: list[dict], draws: dict, main: dict, out_dir: Path) -> dict:
    """For the AE and the main-beta VAE at each latent size, one grid of DRAW_COLUMNS columns
    per sampler the dice figure shows (img/sweep-NAME-SAMPLER.png); returns the judge's verdicts on them,
    {NAME: {SAMPLER: {"labels", "sure"}}}."""
    import numpy as np

    from figures.dice.data import SHOWN
    from figures.pictures import save_grid
    verdicts = {}
    for e in by_size(entries, main):
        for model, kind in (name.split("_") for name in SHOWN):
            if model == e["model"]:
                d = draws[e["name"]][kind]
                save_grid(d["images"], out_dir / f"sweep-{e['name']}-{kind}.png", DRAW_COLUMNS)
                verdicts.setdefault(e["name"], {})[kind] = {"columns": DRAW_COLUMNS, "labels": np.asarray(d["labels"]).tolist(),
                                                           "sure": np.round(np.asarray(d["sure"], float), 4).tolist()}
    return verdicts


def measure_seeds(run) -> list[dict]:
    """The main pair and its retrainings with other seeds (`run.seeds`; training/config.py:
    replicas), each pair measured like the main one and with the same dice: per training seed,
    each sampler's share of recognisable draws and their class entropy per model (keys as
    in metrics.json's "sampling": "vae_prior", ...), the VAE's test -ELBO and both models' test
    reconstruction cross-entropy (nats over 784 pixels)."""
    from training.config import MODELS
    from training.evaluation import axis_ranges, sampling
    pairs = {run.seed: {m: m for m in MODELS}}
    for name in run.seeds:
        config = run.configs[name]
        pairs.setdefault(config.seed, {})["vae" if config.model.variational else "ae"] = name
    out = []
    for seed, names in sorted(pairs.items()):
        names = {m: names[m] for m in MODELS}
        codes = {m: run.codes(n) for m, n in names.items()}
        scores = sampling({m: run.models[n] for m, n in names.items()}, run.judge, codes,
                          {m: axis_ranges(c) for m, c in codes.items()}, run.seed)
        out.append({"seed": seed,
                    "sampling": {k: {"recognisable": v["recognisable"], "class_entropy": v["class_entropy"]}
                                 for k, v in scores.items()},
                    "test_neg_elbo_784": run.metrics[names["vae"]]["test_neg_elbo_784"],
                    "test_recon_bce_784": {m: run.metrics[n]["test_recon_bce_784"] for m, n in names.items()}})
    return out


def compute(run) -> dict:
    configs = [run.configs[n] for n in run.sweep]
    entries, draws = measure_sweep(configs, run.models, run.metrics, run.judge, run.mnist[0], run.seed)
    main = main_of(run.configs["vae"].to_dict())
    numbers = {"sweep": entries, "seeds": measure_seeds(run)}
    if not entries:
        return {"numbers": numbers, "draws": {}}
    render_sweep(entries, main, run.path("img", "sweep.png"))
    render_sweep(entries, main, run.path("img", "sweep-narrow.png"), "narrow")
    return {"numbers": numbers, "draws": render_sweep_draws(entries, draws, main, run.folder / "img")}


def main_of(vae: dict) -> dict:
    """{"latent_dim", "beta"} of the main VAE (its config as a dict): the sweep's reference point."""
    return {"latent_dim": vae["model"]["latent_dim"], "beta": vae["beta"]}


def context(page: dict, stored: dict | None) -> dict | None:
    if not stored:
        return None
    return sweep(stored["numbers"]["sweep"], main_of(page["config"]["vae"]), stored["draws"], page["data"]["judge"]["threshold"])


def sweep(entries: list[dict], main: dict, draws: dict | None = None, threshold: float | None = None) -> dict | None:
    """The sweep's table and the trends its prose states: per latent size the AE and the VAE
    with the main beta, and the main latent size's VAEs by beta. `draws` holds the judge's
    verdicts on the first draws shown per model and sampler ({name: {sampler: {columns, labels,
    sure}}}), `threshold` the judge's."""
    if not entries:
        return None
    by = {(e["model"], e["latent_dim"], e["beta"]): e for e in entries}
    dims = sorted({e["latent_dim"] for e in entries})
    pairs = [{"d": d, "ae": by.get(("ae", d, None)), "vae": by.get(("vae", d, main["beta"]))} for d in dims]
    pairs = [p for p in pairs if p["ae"] and p["vae"]]
    betas = sorted((e for e in entries if e["model"] == "vae" and e["latent_dim"] == main["latent_dim"]),
                   key=lambda e: e["beta"])
    share = lambda e, kind: e["sampling"][kind]["recognisable"]   # noqa: E731
    out = {"rows": sorted(entries, key=lambda e: (e["model"] != "ae", e["latent_dim"], e["beta"] or 0)),
           "pairs": pairs, "betas": betas, "main": main}
    if len(pairs) >= 2:
        lo, hi = pairs[0], pairs[-1]
        out.update(lo=lo, hi=hi,
                   vae_prior_span=(min(share(p["vae"], "prior") for p in pairs), max(share(p["vae"], "prior") for p in pairs)),
                   ae_prior_span=(min(share(p["ae"], "prior") for p in pairs), max(share(p["ae"], "prior") for p in pairs)),
                   mixture_close=sum(share(p["ae"], "mixture") >= share(p["vae"], "prior") - CLOSE for p in pairs),
                   # from the cross-entropies as the page prints them (one decimal), so that a reader's
                   # subtraction agrees
                   lo_gap=round(round(lo["vae"]["test_recon_bce_784"], 1) - round(lo["ae"]["test_recon_bce_784"], 1), 1),
                   hi_gap=round(round(hi["vae"]["test_recon_bce_784"], 1) - round(hi["ae"]["test_recon_bce_784"], 1), 1))
        out["gap_grows"] = out["hi_gap"] > out["lo_gap"]
        recon = {m: [p[m]["test_recon_bce_784"] for p in pairs] for m in ("ae", "vae")}
        out["recon_improves"] = all(b < a for r in recon.values() for a, b in zip(r, r[1:]))   # at every step
        # the same dice over all sizes: the VAE's prior holds up better than the AE's N(0, I)
        (vae_lo, vae_hi), (ae_lo, ae_hi) = out["vae_prior_span"], out["ae_prior_span"]
        out["vae_steadier"] = vae_lo > ae_lo + CLOSE and vae_hi - vae_lo < ae_hi - ae_lo
        out.update(vae_prior_move=points(vae_hi, vae_lo), ae_prior_move=points(ae_hi, ae_lo))   # in points
        peak = max(pairs, key=lambda p: share(p["ae"], "prior"))
        # in points, as the page prints the shares
        margins = [points(share(p["ae"], "mixture"), share(p["vae"], "prior")) for p in pairs]
        out.update(one_normal_fails=share(hi["ae"], "fitted") < share(peak["ae"], "prior") - CLOSE
                   and share(hi["ae"], "mixture") > share(hi["ae"], "fitted") + CLOSE,
                   # the AE's codes against the dice's unit spread: wider on every axis at the
                   # smallest size, narrower on every axis at the largest; and whether fitting a
                   # normal to them helps at the smallest size
                   lo_wider=lo["ae"]["spread"]["sd"][0] > 1, hi_narrower=hi["ae"]["spread"]["sd"][1] < 1,
                   lo_fitted_helps=share(lo["ae"], "fitted") > share(lo["ae"], "prior") + CLOSE,
                   lo_fitted_gain=points(share(lo["ae"], "fitted"), share(lo["ae"], "prior")),
                   ae_prior_peak=peak["d"],
                   # the other sizes whose share is within the yardstick of the peak's
                   ae_prior_level=[p["d"] for p in pairs if p is not peak
                                   and share(p["ae"], "prior") >= share(peak["ae"], "prior") - CLOSE],
                   ae_prior_falls=share(hi["ae"], "prior") < share(peak["ae"], "prior") - CLOSE,
                   # the sizes at which the same N(0, I) dice clearly favour the VAE
                   dice_favour_vae=[p for p in pairs if share(p["ae"], "prior") < share(p["vae"], "prior") - CLOSE],
                   # the sizes at which a mixture fitted to the AE's codes beats the VAE's prior by more
                   # than CLOSE, how many, and the others
                   mixture_beats=sum(m > 100 * CLOSE for m in margins), mixture_margin=(min(margins), max(margins)),
                   mixture_short=[p["d"] for p, m in zip(pairs, margins) if m <= 100 * CLOSE])
        sides = {"fewer" if p["d"] < main["latent_dim"] else "more" for p in out["dice_favour_vae"]
                 if p["d"] != main["latent_dim"]}
        out["favour_sides"] = " or ".join(side for side in ("fewer", "more") if side in sides)   # than the main size
    out["active_threshold"] = next((e["active"]["threshold"] for e in entries if e["active"]), None)
    if betas:
        best = max(betas, key=lambda e: share(e, "prior"))
        idle = [e for e in betas if e["active"]["units"] < e["latent_dim"]]
        if idle:                                   # the largest beta that leaves values unused
            e = idle[-1]
            out["idle"] = {"beta": e["beta"], "name": e["name"], "units": e["active"]["units"],
                           "unused": e["latent_dim"] - e["active"]["units"], "sigma": e["active"]["idle_sigma"]}
        out.update(beta_lo=betas[0], beta_hi=betas[-1], beta_best=best["beta"],
                   # ahead of every other beta by more than the yardstick
                   beta_best_clear=all(share(best, "prior") > share(e, "prior") + CLOSE for e in betas if e is not best),
                   beta_prior_span=(min(share(e, "prior") for e in betas), share(best, "prior")))
        out["tune"] = tuning(betas, main, by.get(("ae", main["latent_dim"], None)))
    if draws:                                  # per latent size, the strips of draws the page shows
        out["draws"] = [{"d": p["d"], "cells": [
            {"model": m, "kind": kind, "img": f"img/sweep-{p[m]['name']}-{kind}.png",
             "share": p[m]["sampling"][kind]["recognisable"], "marks": cells(v["labels"], v["sure"], threshold),
             "columns": v["columns"], "rows": math.ceil(len(v["labels"]) / v["columns"])}
            for m in ("vae", "ae") for kind, v in draws.get(p[m]["name"], {}).items()]} for p in pairs]
    two = next((p for p in pairs if p["d"] == 2), None)
    if two and main["latent_dim"] != 2:
        ref = next(p for p in pairs if p["d"] == main["latent_dim"])
        out["two"] = {"ae": two["ae"], "vae": ref["vae"],
                      "recon_as_good": two["ae"]["test_recon_bce_784"] <= ref["vae"]["test_recon_bce_784"]}
    return out


def prior_misfit(entry: dict) -> float:
    """How far a model's codes are from N(0, I), axis by axis: the largest of the distances of
    their standard deviations from 1 and of their mean from 0."""
    sd, off = entry["spread"]["sd"], entry["spread"]["off"]
    return max(abs(sd[0] - 1), abs(sd[1] - 1), off)


def tuning(betas: list[dict], main: dict, ae: dict | None) -> dict | None:
    """What changing beta does on this recipe, from the VAEs of the main latent size sorted by
    beta: `up` (the largest beta, if above the main one and it lowers the rate and raises the
    distortion), `down` (the smallest, if below and it does the opposite), whether `down`'s
    codes fit the prior less closely than the main VAE's, and whether the AE of that size
    reconstructs better than every one of them."""
    ref = next((e for e in betas if e["beta"] == main["beta"]), None)
    if ref is None:
        return None
    rate, dist = (lambda e: e["test_kl"]), (lambda e: e["test_recon_bce_784"])   # noqa: E731
    hi, lo = betas[-1], betas[0]
    up = hi if hi["beta"] > ref["beta"] and rate(hi) < rate(ref) and dist(hi) > dist(ref) else None
    down = lo if lo["beta"] < ref["beta"] and rate(lo) > rate(ref) and dist(lo) < dist(ref) else None
    if not (up or down):
        return None
    return {"main": ref, "up": up, "down": down, "ae": ae,
            "down_looser": bool(down) and prior_misfit(down) > prior_misfit(ref),
            "ae_best": ae is not None and all(dist(ae) < dist(e) for e in betas)}


