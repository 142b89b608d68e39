"""The numbers the article quotes, computed from what the build measured.

Templates only format; every sum, ratio, share and unit conversion the prose relies on
is made here, from the metrics, the figure data and the sizes in training/config.py.
"""
from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

from training.config import FLOAT_BITS, GRID_COLUMNS, IMAGE_SIZE, LATENT_DIM, MNIST_SIZE, MODELS, PIXEL_BITS

NATS_PER_BIT = math.log(2)
MIB = 1 << 20
# The dice figure's grids, in the order the text discusses them
DICE_SHOWN = ("vae_prior", "ae_prior", "ae_fitted", "ae_mixture")
# Figures in page order: their numbers, and the ones that are also pages of their own
FIGURES = ("ae", "vae", "reparam", "map", "explorer", "recon", "traversals", "dice", "sweep")
SAMPLER_NAMES = {"prior": "N(0, I)", "fitted": "fitted normal", "mixture": "fitted mixture"}
STRANGER_TAIL = 0.01  # a stranger's value is far out when fewer than this share of codes lie beyond it
EVENER = 0.05        # nats of class entropy
CLOSE = 0.05          # shares within this of each other are "about the same" in the prose


def info_theory(metrics: dict) -> dict:
    """Storage of an image and of a code, and what the VAE's rate says, in bits."""
    image_bits = IMAGE_SIZE * IMAGE_SIZE * PIXEL_BITS
    digit_bits = MNIST_SIZE * MNIST_SIZE * PIXEL_BITS        # without the zero padding
    latent_bits = LATENT_DIM * FLOAT_BITS
    train_images = metrics["vae"]["train_images"]
    kl_bits = metrics["vae"]["test_kl"] / NATS_PER_BIT
    return {"image_size": IMAGE_SIZE, "pixel_bits": PIXEL_BITS, "latent_dim": LATENT_DIM,
            "float_bits": FLOAT_BITS, "mnist_size": MNIST_SIZE, "mnist_pixels": MNIST_SIZE * MNIST_SIZE,
            "image_bits": image_bits, "digit_bits": digit_bits, "latent_bits": latent_bits,
            "ratio": digit_bits / latent_bits, "saved": 1 - latent_bits / digit_bits,
            "kl_bits": kl_bits, "kinds": float(f"{2 ** kl_bits:.2g}"),   # an upper bound: two digits
            "index_bits": math.ceil(math.log2(train_images)) if train_images > 1 else 1}


def cells(labels, sure, threshold: float) -> list[dict]:
    """One entry per image of a grid: the judge's digit, its probability, recognisable or not."""
    return [{"label": int(l), "sure": s, "ok": s >= threshold} for l, s in zip(labels, sure)]


def dice(metrics: dict, data: dict) -> list[dict]:
    """The dice figure: for each grid shown, the sampler's score and its cells."""
    threshold = data["judge"]["threshold"]
    out = []
    for name in DICE_SHOWN:
        s, grid = metrics["sampling"][name], data["dice"][name]
        top = max(range(10), key=lambda d: s["counts"][d])
        out.append({**s, "name": name, "img": f"img/dice-{name}.png", "top": top,
                    "rows": math.ceil(len(grid["labels"]) / GRID_COLUMNS),
                    "bars": [100 * n / (max(s["counts"]) or 1) for n in s["counts"]],   # % of the tallest
                    "top_share": s["counts"][top] / max(1, sum(s["counts"])),
                    "cells": cells(grid["labels"], grid["sure"], threshold)})
    return out


def traversals(metrics: dict, data: dict) -> dict:
    """Per model, per axis: the judge's readings along the axis and the digits it passes."""
    threshold = data["judge"]["threshold"]
    out = {}
    for m in MODELS:
        t = metrics["traversals"][m]
        rows = []
        for values, labels, sure in zip(t["values"], t["labels"], t["sure"]):
            row = cells(labels, sure, threshold)
            digits = []
            for c in row:                                # recognised digits, in order, no repeats
                if c["ok"] and (not digits or digits[-1] != c["label"]):
                    digits.append(c["label"])
            rows.append({"cells": row, "digits": digits, "from": values[0], "to": values[-1]})
        out[m] = {"rows": rows, "img": f"img/traversal-{m}.png",
                  "mean_digits": sum(len(set(r["digits"])) for r in rows) / len(rows),
                  "single": sum(len(set(r["digits"])) <= 1 for r in rows)}
    return out


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
                   lo_gap=lo["vae"]["test_recon_bce_784"] - lo["ae"]["test_recon_bce_784"],
                   hi_gap=hi["vae"]["test_recon_bce_784"] - hi["ae"]["test_recon_bce_784"])
        out["gap_grows"] = out["hi_gap"] > out["lo_gap"]
        recon = {m: [p[m]["test_recon_bce_784"] for p in pairs] for m in ("ae", "vae")}
        out["recon_improves"] = all(b < a for r in recon.values() for a, b in zip(r, r[1:]))   # at every step
        # the same dice over all sizes: the VAE's prior holds up better than the AE's N(0, I)
        (vae_lo, vae_hi), (ae_lo, ae_hi) = out["vae_prior_span"], out["ae_prior_span"]
        out["vae_steadier"] = vae_lo > ae_lo + CLOSE and vae_hi - vae_lo < ae_hi - ae_lo
        peak = max(pairs, key=lambda p: share(p["ae"], "prior"))
        margins = [share(p["ae"], "mixture") - share(p["vae"], "prior") for p in pairs]
        out.update(one_normal_fails=share(hi["ae"], "fitted") < share(peak["ae"], "prior") - CLOSE
                   and share(hi["ae"], "mixture") > share(hi["ae"], "fitted") + CLOSE,
                   # the AE's codes against the dice's unit spread: wider on every axis at the
                   # smallest size, narrower on every axis at the largest; and whether fitting a
                   # normal to them helps at the smallest size
                   lo_wider=lo["ae"]["spread"]["sd"][0] > 1, hi_narrower=hi["ae"]["spread"]["sd"][1] < 1,
                   lo_fitted_helps=share(lo["ae"], "fitted") > share(lo["ae"], "prior") + CLOSE,
                   ae_prior_peak=peak["d"],
                   ae_prior_falls=share(hi["ae"], "prior") < share(peak["ae"], "prior") - CLOSE,
                   # the sizes at which the same N(0, I) dice clearly favour the VAE
                   dice_favour_vae=[p for p in pairs if share(p["ae"], "prior") < share(p["vae"], "prior") - CLOSE],
                   mixture_beats=sum(m > 0 for m in margins), mixture_margin=(min(margins), max(margins)))
    out["active_threshold"] = next((e["active"]["threshold"] for e in entries if e["active"]), None)
    if betas:
        best = max(betas, key=lambda e: share(e, "prior"))
        idle = [e for e in betas if e["active"]["units"] < e["latent_dim"]]
        if idle:                                   # the largest beta that leaves values unused
            e = idle[-1]
            out["idle"] = {"beta": e["beta"], "name": e["name"], "units": e["active"]["units"],
                           "unused": e["latent_dim"] - e["active"]["units"], "sigma": e["active"]["idle_sigma"]}
        out.update(beta_lo=betas[0], beta_hi=betas[-1], beta_best=best["beta"],
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


def code_spread(model: dict) -> dict:
    """How a model's training codes sit against a standard normal: the range over axes of
    their standard deviation, the largest distance of their mean from zero, and how many
    standard deviations from the mean the explorer's axes end, on average over ends."""
    sd = [math.sqrt(sum(v * v for v in row)) for row in model["fitted"]["chol"]]
    mean = model["fitted"]["mean"]
    ends = [abs(end - mu) / s for axis, mu, s in zip(model["axes"], mean, sd) for end in axis["range"]]
    return {"sd": (min(sd), max(sd)), "off": max(abs(v) for v in mean), "ends": sum(ends) / len(ends)}


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


def model_sizes(site: Path) -> tuple[int, int]:
    """Bytes of the TF.js models a site's page loads for its figures (the main pair's encoders
    and decoders, the judge), and of those it loads only when a reader asks (the beta family)."""
    main = {*(f"{m}-{part}" for m in MODELS for part in ("encoder", "decoder")), "judge"}
    sizes = {d.name: sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) for d in (site / "models").iterdir()}
    return sum(v for k, v in sizes.items() if k in main), sum(v for k, v in sizes.items() if k not in main)


def page_context(public: dict, metrics: dict, data: dict, config: dict, site: Path, draws: dict | None = None) -> dict:
    """Everything index.html.j2 reads: `public` is metrics.json as the site publishes it,
    `metrics` the same with the training histories. `site` is the folder being assembled;
    `draws` the judge's verdicts on the sweep's pictures of draws."""
    s = public["sampling"]
    ae, vae = public["ae"], public["vae"]
    model_bytes, family_bytes = model_sizes(site)
    first = f"models/{data['model_order'][0]}-decoder"     # what the first decoded image needs
    shards = json.loads((site / first / "model.json").read_text())["weightsManifest"]
    preload = ["data/figure-data.json", "lib/tfjs-backend-wasm-simd.wasm", f"{first}/model.json",
               *[f"{first}/{p}" for group in shards for p in group["paths"]]]
    travel = traversals(public, data)
    counts = s["ae_prior"]["counts"]
    top = max(range(len(counts)), key=counts.__getitem__)
    derived = {
        # the AE's N(0, I) draws: their most common digit, its share, and whether that is
        # more than twice what ten even classes would give
        "ae_lean": {"digit": top, "share": counts[top] / max(1, sum(counts)),
                    "skewed": counts[top] / max(1, sum(counts)) > 2 / len(counts)},
        "ae_gain": 1 - ae["test_recon_bce_784"] / vae["test_recon_bce_784"],
        "recon_gap": vae["test_recon_bce_784"] - ae["test_recon_bce_784"],
        "recon_gap_share": vae["test_recon_bce_784"] / ae["test_recon_bce_784"] - 1,
        "sample_gap": vae["test_elbo_recon_784"] - vae["test_recon_bce_784"],
        "sigma_ratio": 1 / public["sigma"]["median"],
        "prior_vs": compare(s["ae_prior"]["recognisable"], s["vae_prior"]["recognisable"]),
        "fitted_vs": compare(s["ae_fitted"]["recognisable"], s["vae_prior"]["recognisable"]),
        "mixture_vs": compare(s["ae_mixture"]["recognisable"], s["vae_prior"]["recognisable"]),
        "edges": edges_story(public["edges"]),
        "vae_mixture_better": s["vae_mixture"]["recognisable"] > s["vae_prior"]["recognisable"] + CLOSE,
        "explained": {m: sum(data["models"][m]["pca"]["explained"]) for m in MODELS},
        "flattened": {m: 1 - sum(data["models"][m]["pca"]["explained"]) for m in MODELS},
        "vae_outputs": 2 * LATENT_DIM,
        "axes_on_one_digit": sum(t["single"] for t in travel.values()),
        "spread": {m: code_spread(data["models"][m]) for m in MODELS},
        "fitted_vs_prior": compare(s["ae_fitted"]["recognisable"], s["ae_prior"]["recognisable"]),
        # class entropies (nats) that differ by more than EVENER tell a more even mix of digits
        "fitted_evener": s["ae_fitted"]["class_entropy"] > s["ae_prior"]["class_entropy"] + EVENER,
        "vae_evener": s["vae_prior"]["class_entropy"] > s["ae_prior"]["class_entropy"] + EVENER,
    }
    return {"metrics": public, "history": {k: metrics[k].get("history", []) for k in MODELS},
            "data": {k: v for k, v in data.items() if k != "inputs"}, "inputs": data["inputs"],
            "info": info_theory(public), "config": config, "d": derived,
            "dice": dice(public, data), "traversals": travel, "strangers": strangers(public, data),
            "stranger_central": round(100 * (1 - 2 * STRANGER_TAIL)),
            "sweep": sweep(public.get("sweep", []), {"latent_dim": LATENT_DIM, "beta": config["vae"]["beta"]},
                           draws, data["judge"]["threshold"]),
            "fig": {name: k for k, name in enumerate(FIGURES, 1)}, "sampler_names": SAMPLER_NAMES,
            "grid_columns": GRID_COLUMNS, "close_points": 100 * CLOSE,
            "threshold_pct": 100 * data["judge"]["threshold"],
            "log10": math.log(10), "model_mib": model_bytes / MIB, "family_mib": family_bytes / MIB, "preload": preload, "stills": sorted(p.name for p in (site / "img").glob("*")),
            "date": datetime.date.today()}
