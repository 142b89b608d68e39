"""The numbers the article quotes, computed from what the build measured.

Templates only format; every sum, ratio, share and unit conversion the prose relies on
is made here, from the metrics, the figure data and the sizes in training/config.py.
"""
from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import figures
from article.outline import FIGURES
from article.render import points
from figures import CLOSE
from training.config import (FLOAT_BITS, GRID_COLUMNS, IMAGE_SIZE, LATENT_DIM, MIXTURE, MIXTURE_FIT, MNIST_SIZE,
                             MODELS, PIXEL_BITS, SAMPLER_NAMES)

NATS_PER_BIT = math.log(2)
MIB = 1 << 20
STRANGER_TAIL = 0.01  # a stranger's value is far out when fewer than this share of codes lie beyond it
EVENER = 0.05        # nats of class entropy
ROLL_BATCH = 100     # codes per roll of many (the opening figure's and the explorer's "Roll 100")


def info_theory(metrics: dict) -> dict:
    """Storage of an image and of a code, and what the VAE's rate says, in bits."""
    image_bits = IMAGE_SIZE * IMAGE_SIZE * PIXEL_BITS
    digit_bits = MNIST_SIZE * MNIST_SIZE * PIXEL_BITS        # without the zero padding
    latent_bits = LATENT_DIM * FLOAT_BITS
    train_images = metrics["vae"]["train_images"]
    kl_bits = metrics["vae"]["test_kl"] / NATS_PER_BIT
    index_bits = math.log2(max(train_images, 2))       # to single out one training image of them all
    return {"image_size": IMAGE_SIZE, "pixel_bits": PIXEL_BITS, "latent_dim": LATENT_DIM,
            "float_bits": FLOAT_BITS, "mnist_size": MNIST_SIZE, "mnist_pixels": MNIST_SIZE * MNIST_SIZE,
            "image_bits": image_bits, "digit_bits": digit_bits, "latent_bits": latent_bits,
            "ratio": digit_bits / latent_bits, "saved": 1 - latent_bits / digit_bits,
            "kl_bits": kl_bits, "kinds": float(f"{2 ** kl_bits:.2g}"),   # an upper bound: two digits
            "index_bits": index_bits, "margin_bits": index_bits - kl_bits}


def strangers(metrics: dict, data: dict) -> list[dict]:
    """Per input the models never saw, per model: the judge's reading of its reconstruction
    and how many of its values lie outside the central part of the training codes."""
    threshold = data["judge"]["threshold"]
    out = []
    for item in data["inputs"]:
        if item["kind"] != "ood":
            continue
        per_model = {}
        for m, r in metrics["strangers"][item["id"]].items():
            far = sum(not STRANGER_TAIL <= p <= 1 - STRANGER_TAIL for p in r["percentiles"])
            per_model[m] = {**r, "ok": r["sure"] >= threshold, "far": far}
        out.append({"id": item["id"], "name": item["name"], "models": per_model})
    return out


def edges_story(edges: dict) -> str:
    """How the decoders fare beyond the training codes: 'both keep' (each loses under 10
    points of recognisable digits), 'vae keeps more', 'ae keeps more', or 'both lose'."""
    drop = {m: edges[m]["inside"] - edges[m]["edge"] for m in MODELS}
    if max(drop.values()) < 0.1:
        return "both keep"
    if abs(drop["vae"] - drop["ae"]) <= CLOSE:
        return "both lose"
    return "vae keeps more" if drop["vae"] < drop["ae"] else "ae keeps more"


def compare(a: float, b: float) -> str:
    """'about the same as', 'more than' or 'less than': how share a stands to share b."""
    return "about the same as" if abs(a - b) <= CLOSE else ("more than" if a > b else "less than")


def binomial_sd(share: float, n: int) -> float:
    """How far a share counted over `n` draws strays, about, from the true one: its binomial
    standard deviation, as a share."""
    return math.sqrt(share * (1 - share) / n)


def over_seeds(seeds: list[dict]) -> dict | None:
    """The main pair over its training seeds (metrics.json's "seeds"): how many, and per key of
    "sampling" (e.g. "vae_prior") the least and the largest share of recognisable draws, the
    same for the VAE's test -ELBO (nats), the points by which the VAE's prior beats the AE's
    N(0, I) draws on each seed (`gaps`), which of the two is ahead by more than CLOSE on every
    seed (`lead`: "vae", "ae", or None), how the AE's N(0, I) draws stand to the VAE's prior seed
    by seed (`prior_counts`: {verdict of `compare`: seeds}), how the AE's fitted samplers stand
    to the VAE's prior on every seed (`vs`: a verdict of `compare`, or "mixed"), the VAE's extra
    reconstruction cost over the AE's as a share (`recon_cost`: least, largest), whether the
    VAE's prior mixes the classes more evenly than the AE's N(0, I) draws on every seed
    (`vae_evener`), and whether a normal fitted to the AE's codes stands to its N(0, I) draws
    alike on every seed (`fitted_alike`)."""
    if len(seeds) < 2:
        return None
    span = lambda values: (min(values), max(values))   # noqa: E731
    gaps = [points(e["sampling"]["vae_prior"]["recognisable"], e["sampling"]["ae_prior"]["recognisable"])
            for e in seeds]
    prior = [compare(e["sampling"]["ae_prior"]["recognisable"], e["sampling"]["vae_prior"]["recognisable"]) for e in seeds]
    lead = "vae" if set(prior) == {"less than"} else "ae" if set(prior) == {"more than"} else None
    recon = [e["test_recon_bce_784"]["vae"] / e["test_recon_bce_784"]["ae"] - 1 for e in seeds]
    verdicts = {k: {compare(e["sampling"][k]["recognisable"], e["sampling"]["vae_prior"]["recognisable"]) for e in seeds}
                for k in ("ae_fitted", "ae_mixture")}
    return {"n": len(seeds), "others": [e["seed"] for e in seeds[1:]],
            "vs": {k: v.pop() if len(v) == 1 else "mixed" for k, v in verdicts.items()},
            "share": {k: span([e["sampling"][k]["recognisable"] for e in seeds]) for k in seeds[0]["sampling"]},
            "neg_elbo": span([e["test_neg_elbo_784"] for e in seeds]), "gaps": gaps, "lead": lead, "rows": seeds,
            "prior_counts": {v: prior.count(v) for v in sorted(set(prior))}, "recon_cost": span(recon),
            "fitted_alike": len({compare(e["sampling"]["ae_fitted"]["recognisable"], e["sampling"]["ae_prior"]["recognisable"])
                                 for e in seeds}) == 1,
            "vae_evener": all(e["sampling"]["vae_prior"]["class_entropy"]
                              > e["sampling"]["ae_prior"]["class_entropy"] + EVENER for e in seeds)}


def model_sizes(site: Path) -> tuple[int, int]:
    """Bytes of the TF.js models a site's page loads for its figures (the main pair's encoders
    and decoders, the judge), and of those it loads only when a reader asks (the beta family)."""
    main = {*(f"{m}-{part}" for m in MODELS for part in ("encoder", "decoder")), "judge"}
    sizes = {d.name: sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) for d in (site / "models").iterdir()}
    return sum(v for k, v in sizes.items() if k in main), sum(v for k, v in sizes.items() if k not in main)


def page_context(public: dict, metrics: dict, data: dict, config: dict, site: Path, stored: dict) -> dict:
    """Everything index.html.j2 reads: `public` is metrics.json as the site publishes it,
    `metrics` the same with the training histories, `data` the page's figure data, `config`
    the main models' training configs. `site` is the folder being assembled; `stored` what
    each figure's `compute` returned (figures/__init__.py), by figure name."""
    s = public["sampling"]
    ae, vae = public["ae"], public["vae"]
    model_bytes, family_bytes = model_sizes(site)
    # the figure data, small, which every figure waits for; the wasm and the first decoder are fetched
    # after the first paint (js/main.js), so that they do not compete with the first screen
    preload = ["data/figure-data.json"]
    figs = figures.contexts(FIGURES, {"metrics": public, "data": data, "config": config}, stored)
    counts = s["ae_prior"]["counts"]
    top = max(range(len(counts)), key=counts.__getitem__)
    stranger_rows = strangers(public, data)
    p_vae = s["vae_prior"]["recognisable"]
    roll_sd = binomial_sd(p_vae, ROLL_BATCH)
    stranger_cells = [r for item in stranger_rows for r in item["models"].values()]
    derived = {
        # the AE's N(0, I) draws: their most common digit, its share, and whether that is
        # more than twice what ten even classes would give
        "ae_lean": {"digit": top, "share": counts[top] / max(1, sum(counts)),
                    "skewed": counts[top] / max(1, sum(counts)) > 2 / len(counts)},
        "recon_gap": vae["test_recon_bce_784"] - ae["test_recon_bce_784"],
        "recon_gap_share": vae["test_recon_bce_784"] / ae["test_recon_bce_784"] - 1,
        "sample_gap": vae["test_elbo_recon_784"] - vae["test_recon_bce_784"],
        "noise_narrow": public["sigma"]["median"] < 0.2,          # a fifth of the prior's standard deviation
        # the VAE's means spread like N(0, I): per axis an SD within 0.1 of 1, a centre within 0.1 of 0
        "vae_fits_prior": max(abs(public["spread"]["vae"]["sd"][0] - 1), abs(public["spread"]["vae"]["sd"][1] - 1),
                              public["spread"]["vae"]["off"]) <= 0.1,
        "prior_vs": compare(s["ae_prior"]["recognisable"], s["vae_prior"]["recognisable"]),
        "fitted_vs": compare(s["ae_fitted"]["recognisable"], s["vae_prior"]["recognisable"]),
        "mixture_vs": compare(s["ae_mixture"]["recognisable"], s["vae_prior"]["recognisable"]),
        # halfway between the codes of two test digits of different classes (the explorer's walk)
        "walk_vs": compare(public["midpoints"]["ae"]["recognisable"], public["midpoints"]["vae"]["recognisable"]),
        "edges": edges_story(public["edges"]),
        "vae_mixture_better": s["vae_mixture"]["recognisable"] > s["vae_prior"]["recognisable"] + CLOSE,
        "explained": {m: sum(data["models"][m]["pca"]["explained"]) for m in MODELS},
        # the explorer's axes, which the dice's draws are clipped to: per model the lowest start and highest end
        "axis_span": {m: (min(a["range"][0] for a in data["models"][m]["axes"]),
                          max(a["range"][1] for a in data["models"][m]["axes"])) for m in MODELS},
        # the full latent space keeps more same-digit neighbours than the map, for both models
        "more_in_full": all(public["map"][m]["neighbours_4d"] >= public["map"][m]["neighbours_2d"] for m in MODELS),
        "vae_outputs": 2 * LATENT_DIM,
        "axes_on_one_digit": sum(t["single"] for t in figs["traversals"].values()),
        "spread": public["spread"],
        "fitted_vs_prior": compare(s["ae_fitted"]["recognisable"], s["ae_prior"]["recognisable"]),
        # class entropies (nats) that differ by more than EVENER tell a more even mix of digits
        "fitted_evener": s["ae_fitted"]["class_entropy"] > s["ae_prior"]["class_entropy"] + EVENER,
        "vae_evener": s["vae_prior"]["class_entropy"] > s["ae_prior"]["class_entropy"] + EVENER,
        "even_entropy": math.log(10),            # nats of ten equally common digits
        # the judge is sure of more than CLOSE of the noise images or of some model's far decodes
        # the strangers' reconstructions the judge is sure of a digit in, of all of them, and
        # whether any stranger's code has a value beyond the central part of the training codes
        "strangers_read": sum(r["ok"] for r in stranger_cells),
        "strangers_cells": len(stranger_cells),
        "strangers_far": any(r["far"] for r in stranger_cells),
        # a count of ROLL_BATCH draws (the explorer's Roll 100) strays from the build's share by about
        # its binomial standard deviation (percentage points, at the VAE's share); is that as much as
        # the gap between the models?
        "roll_sd": round(100 * roll_sd),
        "roll_hides_gap": abs(p_vae - s["ae_prior"]["recognisable"]) < 2 * roll_sd,
        # the training figure's shares of its few draws, in percentage points
        "train_share_sd": (100 * binomial_sd(figs["train"]["end"]["vae-1"]["recognisable"], figs["train"]["draws"])
                           if figs.get("train") else None),
        "judge_fooled_often": max(public["judge_fooled"]["noise"], *public["judge_fooled"]["far"].values()) > CLOSE,
    }
    seeds = over_seeds(public.get("seeds", []))
    # the yardstick for "about the same" (CLOSE), against what moves a share: counting (the binomial
    # standard deviation of a share of the build's draws, and of the difference of two such shares)
    # and training (how far the AE's N(0, I) share moved between seeds), all in percentage points
    draws = s["vae_prior"]["draws"]
    count_sd = 100 * binomial_sd(p_vae, draws)
    derived["yardstick"] = {"draws": draws, "count_sd": count_sd, "diff_sd": math.sqrt(2) * count_sd,
                            "seed_move": points(*reversed(seeds["share"]["ae_prior"])) if seeds else None}
    # the latent sizes of the sweep (one run each) at which the VAE's prior beats the AE's N(0, I) draws by
    # more than it does on any seed of the main size: gaps that training seeds alone do not explain
    widest = max(seeds["gaps"]) if seeds else 100 * CLOSE
    gaps = [{"d": p["d"], "gap": points(p["vae"]["sampling"]["prior"]["recognisable"],
                                        p["ae"]["sampling"]["prior"]["recognisable"])}
            for p in (figs.get("sweep") or {}).get("pairs", []) if p["d"] != LATENT_DIM]
    derived["wider_gaps"] = [g for g in gaps if g["gap"] > widest]
    # ... and whether it beats them by more than CLOSE at every size, on every seed at the main size
    derived["vae_ahead_every_size"] = bool(gaps) and min(g["gap"] for g in gaps) > 100 * CLOSE and (
        seeds["lead"] == "vae" if seeds else derived["prior_vs"] == "less than")
    # the sizes at which the AE's N(0, I) share is below the share of pure noise the judge is sure of
    derived["ae_dice_below_noise"] = [p["d"] for p in (figs.get("sweep") or {}).get("pairs", [])
                                      if p["ae"]["sampling"]["prior"]["recognisable"] < public["judge_fooled"]["noise"]]
    return {**figs, "metrics": public, "history": {k: metrics[k].get("history", []) for k in MODELS},
            "data": {k: v for k, v in data.items() if k != "inputs"}, "inputs": data["inputs"],
            "info": info_theory(public), "seeds": seeds, "config": config, "d": derived, "strangers": stranger_rows,
            "stranger_central": round(100 * (1 - 2 * STRANGER_TAIL)),
            "fig": {f.name: k for k, f in enumerate(FIGURES, 1)}, "sampler_names": SAMPLER_NAMES,
            "mixture": {"components": MIXTURE, "fit": min(MIXTURE_FIT, public["ae"]["train_images"])},
            "grid_columns": GRID_COLUMNS, "roll_batch": ROLL_BATCH, "close_points": 100 * CLOSE,
            "threshold_pct": 100 * data["judge"]["threshold"],
            "model_mib": model_bytes / MIB, "family_mib": family_bytes / MIB, "preload": preload,
            "stills": sorted(p.name for p in (site / "img").glob("*")),
            "date": datetime.date.today()}
