"""What the build measures about its trained models with the judge (training/judge.py).

Every claim the article makes about sampling, axes, edges of the latent space and
walks between digits is one of these numbers; the page shows each next to its claim.

- `sampling`: codes drawn from a distribution, decoded, read by the judge. The samplers
  are the standard normal N(0, I) (the VAE's prior, and the same dice rolled for the AE),
  a full-covariance normal fitted to each model's training codes, and a mixture of ten
  such normals (density estimation after training, as in Ghosh et al. 2020). Draws are
  clipped to the explorer's axis ranges, exactly as the page's dice are.
- `traversals`: decodes along each axis, the other values held at the median code.
- `edges`: what happens to reconstructions when one value is pushed to the end of its
  axis, beyond the training codes (the violins).
- `midpoints`: the decode halfway between the codes of two test digits of different classes.
- `strangers`: what each model makes of the inputs it never saw.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from .config import MIXTURE, MIXTURE_FIT, MODELS, SAMPLERS
from .judge import THRESHOLD, device_of, read, score

SAMPLER_DRAWS = 2000  # codes drawn, decoded and judged per sampler
GRID = 60             # of which the page shows the first GRID
STEPS = 9             # decodes per traversal
PAIRS = 1000          # test pairs for midpoints
EDGE_CODES = 500      # test codes pushed to the edges
SHOWN = 10            # of the pushed codes, the midpoints and the noise images, those the page shows
NON_DIGITS = 1000     # noise images, and far decodes per model, shown to the judge
FAR = 2.0             # far codes: each value at this many times the end of its axis


@torch.no_grad()
def decode(model, z: np.ndarray) -> torch.Tensor:
    """(N, D) codes -> (N, 1, 32, 32) images in [0, 1], on the CPU whatever the model's device."""
    model.eval()
    return model.decode(torch.from_numpy(np.asarray(z, np.float32)).to(device_of(model))).cpu()


@torch.no_grad()
def encode(model, x: torch.Tensor, batch_size: int = 2000) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 1, 32, 32) -> codes (N, D) (the VAE's means) and the VAE's log-variances (or None)."""
    model.eval()
    parts = [model.encode(x[i:i + batch_size].to(device_of(model))) for i in range(0, len(x), batch_size)]
    mu = torch.cat([p[0] for p in parts]).cpu().numpy()
    logvar = None if parts[0][1] is None else torch.cat([p[1] for p in parts]).cpu().numpy()
    return mu, logvar


def fitted_normal(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and lower Cholesky factor of the covariance of `codes` (N, D)."""
    mean = codes.mean(0)
    return mean, np.linalg.cholesky(np.cov(codes, rowvar=False) + 1e-9 * np.eye(codes.shape[1]))


ROOM = 0.5            # the explorer's axes reach this share of the codes' span beyond them on each side
DICE_RANGE = 3.0      # ... and at least +-3, so that N(0, I) draws are rarely clipped
VIOLIN_POINTS = 96
ACTIVE = 0.01         # a VAE's latent value is active when its means vary more than this over the
                      # data (the "active units" of Burda et al. 2016, arXiv:1509.00519)


def sig(a, digits: int = 4) -> list:
    """Round to `digits` significant digits for compact JSON."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def axis_summary(values: np.ndarray) -> dict:
    """Range the explorer shows (the codes' span with room beyond, and at least
    +-DICE_RANGE) and a smoothed density for the violin, for one axis."""
    lo, hi = np.quantile(values, [0.001, 0.999])
    span = hi - lo
    lo, hi = min(lo - ROOM * span, -DICE_RANGE), max(hi + ROOM * span, DICE_RANGE)
    grid = np.linspace(lo, hi, VIOLIN_POINTS)
    bw = 1.06 * values.std() * len(values) ** -0.2      # Silverman's rule
    hist, edges = np.histogram(values, bins=512, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    dens = (hist[None, :] * np.exp(-0.5 * ((grid[:, None] - centres[None, :]) / bw) ** 2)).sum(1)
    dens /= len(values) * bw * np.sqrt(2 * np.pi)
    return {"range": sig([lo, hi]), "grid": sig(grid), "density": sig(dens)}


def axis_ranges(codes: np.ndarray) -> np.ndarray:
    """(D, 2): the explorer's axis range of each latent value, as `axis_summary` draws it."""
    return np.array([axis_summary(codes[:, i])["range"] for i in range(codes.shape[1])])


def spread(codes: np.ndarray, ranges: np.ndarray | None = None) -> dict:
    """How the codes (N, D) sit against N(0, I), from the same fitted normal as the 'fitted'
    sampler: the smallest and largest standard deviation over the axes (`sd`), the largest
    distance of their mean from zero along an axis (`off`), and, given the axes' `ranges`
    (D, 2), how many standard deviations from the mean the axes end, on average (`ends`)."""
    mean, chol = fitted_normal(codes)
    sd = np.sqrt((chol ** 2).sum(1))
    out = {"sd": [float(sd.min()), float(sd.max())], "off": float(np.abs(mean).max())}
    if ranges is not None:
        out["ends"] = float(np.mean(np.abs(np.asarray(ranges) - mean[:, None]) / sd[:, None]))
    return out


def active_units(codes: np.ndarray, logvar: np.ndarray) -> dict:
    """How many latent values a VAE uses (`units`: its means vary over the data by more than
    ACTIVE), and the median sigma of q(z|x) on the others (None if it uses all)."""
    active = codes.var(0) > ACTIVE
    idle = np.exp(0.5 * logvar[:, ~active])
    return {"units": int(active.sum()), "threshold": ACTIVE,
            "idle_sigma": round(float(np.median(idle)), 4) if idle.size else None}


def sampler_codes(kind: str, codes: np.ndarray, ranges: np.ndarray, n: int, rng) -> np.ndarray:
    """`n` codes from N(0, I) ('prior'), from the normal fitted to `codes` ('fitted') or
    from a mixture of MIXTURE normals fitted to them ('mixture'), clipped to `ranges` (D, 2)."""
    if kind == "mixture":
        from sklearn.mixture import GaussianMixture
        fit = codes[rng.permutation(len(codes))[:MIXTURE_FIT]]          # a sample is plenty for 10 normals
        gmm = GaussianMixture(MIXTURE, covariance_type="full", random_state=int(rng.integers(2**31))).fit(fit)
        with warnings.catch_warnings():   # numpy's check of each component's covariance is too strict
            warnings.simplefilter("ignore", RuntimeWarning)
            z = gmm.sample(n)[0][rng.permutation(n)]              # sample() sorts by component
    else:
        z = rng.standard_normal((n, codes.shape[1]))
        if kind == "fitted":
            mean, chol = fitted_normal(codes)
            z = mean + z @ chol.T
    return np.clip(z, ranges[:, 0], ranges[:, 1])


def sampling(models: dict, judge, codes: dict, ranges: dict, seed: int = 0, n: int = SAMPLER_DRAWS) -> dict:
    """{'vae_prior': ..., 'ae_fitted': ..., 'ae_mixture': ...}, each of SAMPLERS for each
    model: the judge's score of `n` decoded draws, and the first GRID draws (codes, images,
    verdicts)."""
    out = {}
    for m in models:
        for kind in SAMPLERS:
            rng = np.random.default_rng([seed, 7])       # the same dice for every model
            z = sampler_codes(kind, codes[m], ranges[m], n, rng)
            images = decode(models[m], z)
            probs = read(judge, images)
            out[f"{m}_{kind}"] = {**score(probs), "model": m, "kind": kind,
                                  "grid": {"codes": z[:GRID], **grid(images, probs, range(min(GRID, n)))}}
    return out


def traversals(model, judge, codes: np.ndarray) -> dict:
    """Per axis, STEPS decodes from its 1st to its 99th percentile, the rest at the median code."""
    dim = codes.shape[1]
    base = np.median(codes, 0)
    lo, hi = np.percentile(codes, [1, 99], axis=0)
    z = np.tile(base, (dim, STEPS, 1))                           # (dim, STEPS, dim)
    for i in range(dim):
        z[i, :, i] = np.linspace(lo[i], hi[i], STEPS)
    images = decode(model, z.reshape(-1, dim))
    probs = read(judge, images).reshape(dim, STEPS, -1)
    return {"values": z[np.arange(dim), :, np.arange(dim)], "labels": probs.argmax(2), "sure": probs.max(2),
            "images": images[:, 0].numpy().reshape(dim, STEPS, *images.shape[-2:])}


def edges(model, judge, test_codes: np.ndarray, ranges: np.ndarray, seed: int = 0) -> dict:
    """Share of recognisable decodes for test codes as they are, and with one value (each
    axis in turn, alternately at its low and high end) pushed to the end of its axis."""
    rng = np.random.default_rng([seed, 11])
    z = test_codes[rng.choice(len(test_codes), min(EDGE_CODES, len(test_codes)), replace=False)]
    pushed = []
    for i in range(z.shape[1]):
        for end in (0, 1):
            p = z.copy()
            p[:, i] = ranges[i, end]
            pushed.append(p)
    inside = read(judge, decode(model, z)).max(1) >= THRESHOLD
    images = decode(model, np.concatenate(pushed))
    probs = read(judge, images)
    # shown: code j pushed at the j-th (axis, end), codes and ends taken in turn
    shown = [(j % len(pushed)) * len(z) + j for j in range(min(SHOWN, len(z)))]
    return {"inside": round(float(inside.mean()), 4), "edge": round(float((probs.max(1) >= THRESHOLD).mean()), 4),
            "codes": len(z), "pushed": len(images), "grid": grid(images, probs, shown)}


def midpoints(model, judge, test_codes: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Decodes halfway between the codes of PAIRS test digits of different classes: the
    share recognisable, and the share the judge reads as one of the two digits."""
    rng = np.random.default_rng([seed, 13])
    a, b = rng.integers(0, len(labels), (2, PAIRS * 2))
    keep = labels[a] != labels[b]
    a, b = a[keep][:PAIRS], b[keep][:PAIRS]
    images = decode(model, (test_codes[a] + test_codes[b]) / 2)
    probs = read(judge, images)
    ok = probs.max(1) >= THRESHOLD
    either = ok & ((probs.argmax(1) == labels[a]) | (probs.argmax(1) == labels[b]))
    return {"recognisable": round(float(ok.mean()), 4), "either": round(float(either.mean()), 4),
            "pairs": int(len(a)), "grid": grid(images, probs, range(min(SHOWN, len(a))))}


def grid(images: torch.Tensor, probs: np.ndarray, rows) -> dict:
    """A few decodes to show (rows of `images`, (N, 1, H, W)) with the judge's reading of each."""
    rows = list(rows)
    return {"images": images[rows, 0].numpy(), "labels": probs[rows].argmax(1), "sure": probs[rows].max(1)}


def reconstruction(model, judge, test_codes: np.ndarray, labels: np.ndarray) -> dict:
    """How often the judge reads a test digit's reconstruction (from its code) as its label."""
    probs = read(judge, decode(model, test_codes))
    return {"accuracy": round(float((probs.argmax(1) == labels).mean()), 4),
            "recognisable": round(float((probs.max(1) >= THRESHOLD).mean()), 4)}


def judge_on_non_digits(models: dict, judge, ranges: dict, image_size: int, pad: int, seed: int = 0,
                        n: int = NON_DIGITS) -> dict:
    """How often the judge is sure (at least THRESHOLD) of images that show no digit: `n`
    images of uniform noise in the digit's 28x28 square, and per model `n` decodes of codes
    far beyond its training codes (each value at FAR times the end of its axis, with a random
    sign). A share of recognisable images can contain such mistakes; these are their rates.
    Its "grid" holds the first SHOWN noise images with the judge's readings, for a still."""
    rng = np.random.default_rng([seed, 17])
    noise = np.zeros((n, 1, image_size, image_size), np.float32)
    noise[:, :, pad:-pad, pad:-pad] = rng.random((n, 1, image_size - 2 * pad, image_size - 2 * pad))
    share = lambda probs: round(float((probs.max(1) >= THRESHOLD).mean()), 4)   # noqa: E731
    noise_probs = read(judge, torch.from_numpy(noise))
    far = {}
    for m, model in models.items():
        ends = np.abs(ranges[m]).max(1)                                      # (D,)
        z = FAR * ends * rng.choice([-1.0, 1.0], (n, len(ends)))
        far[m] = share(read(judge, decode(model, z)))
    return {"noise": share(noise_probs), "far": far, "images": n, "far_factor": FAR,
            "grid": grid(torch.from_numpy(noise), noise_probs, range(min(SHOWN, n)))}


def within(values: np.ndarray, codes: np.ndarray) -> list[float]:
    """Per axis, the share of training codes below each value (its percentile, 0 to 1)."""
    return [round(float((codes[:, i] < v).mean()), 4) for i, v in enumerate(values)]


def strangers(models: dict, judge, inputs: list[dict], codes: dict) -> dict:
    """For each input the models never saw: the judge's reading of each model's reconstruction
    and the percentile of each of its values among the training codes."""
    out = {}
    for item in inputs:
        if item["kind"] != "ood":
            continue
        out[item["id"]] = {}
        for m in models:
            z = np.asarray(item["codes"][m], np.float32)[None]
            probs = read(judge, decode(models[m], z))[0]
            out[item["id"]][m] = {"label": int(probs.argmax()), "sure": round(float(probs.max()), 4),
                                  "percentiles": within(z[0], codes[m])}
    return out


def measure_all(models: dict, judge, codes: dict, test: dict, labels: np.ndarray, ranges: dict,
            inputs: list[dict], seed: int = 0) -> tuple[dict, dict]:
    """All the measurements: (numbers for metrics.json, pictures for the stills)."""
    samples = sampling(models, judge, codes, ranges, seed)
    walks = {m: traversals(models[m], judge, codes[m]) for m in models}
    numbers = {
        "sampling": {k: {f: v for f, v in s.items() if f != "grid"} for k, s in samples.items()},
        "reconstruction": {m: reconstruction(models[m], judge, test[m], labels) for m in models},
        "edges": {m: edges(models[m], judge, test[m], ranges[m], seed) for m in models},
        "midpoints": {m: midpoints(models[m], judge, test[m], labels, seed) for m in models},
        "strangers": strangers(models, judge, inputs, codes),
        "traversals": {m: {k: np.asarray(v).round(4).tolist() for k, v in w.items() if k != "images"}
                       for m, w in walks.items()},
    }
    pictures = {"grids": {k: s["grid"] for k, s in samples.items()},
                "traversals": {m: w["images"] for m, w in walks.items()},
                **{kind: {m: numbers[kind][m].pop("grid") for m in models} for kind in ("edges", "midpoints")}}
    return numbers, pictures
