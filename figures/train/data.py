"""Figure: watch them learn. The build's side of the figure the reader trains in the page.

It picks a fixed, class-balanced subset of the training digits (and of the test digits,
whose codes the page draws as dots), writes them as bytes for the page to load on first
use, and trains the page's two tiny models on them in PyTorch with exactly the page's
recipe: the same initial weights, batches, noise and epochs, all drawn from one counter-
based generator (mulberry32) that figures/train/trainer.js reproduces bit for bit. Its
per-epoch losses and judge's shares are the reference curves the page draws under the
reader's, and its first steps' losses are what the Node test matches TF.js against.
"""
from __future__ import annotations

from pathlib import Path

from training.config import SWEEP_BETAS

# numpy is imported inside the functions that compute: rendering the page needs only
# `context`, and a template-only rebuild should not wait for numpy

N_TRAIN = 2000          # training digits the page trains on (class-balanced: 200 of each)
N_DOTS = 500            # test digits whose codes the page draws
HIDDEN, LATENT = 128, 2
BATCH, LR, EPOCHS = 50, 2e-3, 20
BETA = 1                # the β the page starts with
# the reader's choices of β: every β whose VAE the explorer can swap in (the sweep's), and 0, no KL term at all
BETAS = tuple(sorted({0, BETA, *SWEEP_BETAS}))
DRAWS = 100             # N(0, I) codes decoded and judged per epoch (the judge is most of this figure's build time)
PARITY_STEPS = 5        # steps of each model whose losses the Node test compares
FILE = "data/train-digits.bin"
STILL = "learned-{}.png"   # each model's plane at the end of the build's run, shown until the reader trains
GRID, SPAN = 12, 3      # decoded cells per side of a plane, over [-SPAN, SPAN]^2 (as js/train-worker.js)
M32 = 0xFFFFFFFF


def uniforms(seed: int, n: int) -> np.ndarray:
    """The first n draws in [0, 1) of mulberry32 seeded with `seed` (float64), as
    trainer.js's `uniforms` gives them: its state is a counter, so all at once."""
    import numpy as np
    a = (np.uint64(seed) + np.uint64(0x6D2B79F5) * np.arange(1, n + 1, dtype=np.uint64)) & np.uint64(M32)
    m = np.uint64(M32)
    t = ((a ^ (a >> np.uint64(15))) * (a | np.uint64(1))) & m
    t = ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m) ^ t
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 2 ** 32


def normals(seed: int, n: int) -> np.ndarray:
    """n standard normal draws (float32) by Box-Muller on pairs of uniforms."""
    import numpy as np
    u = uniforms(seed, 2 * n).reshape(n, 2)
    return (np.sqrt(-2 * np.log(1 - u[:, 0])) * np.cos(2 * np.pi * u[:, 1])).astype(np.float32)


def order(seed: int, n: int) -> np.ndarray:
    """A permutation of range(n) by Fisher-Yates on mulberry32's draws."""
    import numpy as np
    u, p = uniforms(seed, n), np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(u[n - 1 - i] * (i + 1))
        p[i], p[j] = p[j], p[i]
    return p


def seeds(base: int) -> dict:
    """The generator's seed for each purpose; an epoch e adds e to "order" and "noise"."""
    return {"init": base * 10_000 + 1, "order": base * 10_000 + 1000, "noise": base * 10_000 + 5000,
            "draws": base * 10_000 + 9000}


# (name, shape, fan_in): x @ W + b, W as (in, out); the last two only in the VAE
SHAPES = [("enc_w", (784, HIDDEN), 784), ("enc_b", (HIDDEN,), 784), ("mu_w", (HIDDEN, LATENT), HIDDEN),
          ("mu_b", (LATENT,), HIDDEN), ("dec_w1", (LATENT, HIDDEN), LATENT), ("dec_b1", (HIDDEN,), LATENT),
          ("dec_w2", (HIDDEN, 784), HIDDEN), ("dec_b2", (784,), HIDDEN),
          ("lv_w", (HIDDEN, LATENT), HIDDEN), ("lv_b", (LATENT,), HIDDEN)]


def initial(seed: int) -> dict:
    """Both models' initial weights, as PyTorch's nn.Linear draws them (uniform within
    ±1/sqrt(fan_in)), from mulberry32: the VAE's shared layers start equal to the AE's."""
    import numpy as np
    sizes = [int(np.prod(shape)) for _, shape, _ in SHAPES]
    u = uniforms(seed, sum(sizes))
    out, at = {}, 0
    for (name, shape, fan_in), size in zip(SHAPES, sizes):
        out[name] = ((2 * u[at:at + size] - 1) / np.sqrt(fan_in)).astype(np.float32).reshape(shape)
        at += size
    return out


def pick(labels: np.ndarray, n: int) -> np.ndarray:
    """The first n // 10 indices of each class (fewer each if a class has fewer), in order."""
    import numpy as np
    per = min(n // 10, *(int((labels == c).sum()) for c in range(10)))
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per] for c in range(10)]))


def encode(w: dict, x):
    """The encoder's hidden layer and mean code of x (N, 784), with weights `w` ({name: tensor})."""
    import torch
    h = torch.relu(x @ w["enc_w"] + w["enc_b"])
    return h, h @ w["mu_w"] + w["mu_b"]


def decode(w: dict, z):
    """The decoder's logits (N, 784) of codes z (N, LATENT), with weights `w`."""
    import torch
    return torch.relu(z @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]


def train(x, init: dict, variational: bool, beta: float, s: dict, epochs: int = EPOCHS, judge=None, steps=None):
    """Trains one of the page's models on x (N, 784) float32; returns per-epoch means of the
    batches' reconstruction and KL, and (with a judge) the share of recognisable decodes of
    N(0, I) draws after each epoch, and the trained weights ({name: tensor}). `steps` (a list)
    receives each step's losses."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from training.judge import THRESHOLD, read
    w = {k: torch.tensor(v, requires_grad=True) for k, v in init.items() if variational or not k.startswith("lv")}
    opt = torch.optim.Adam(w.values(), lr=LR, eps=1e-7)
    data = torch.from_numpy(x)
    draws = torch.from_numpy(normals(s["draws"], DRAWS * LATENT).reshape(DRAWS, LATENT))
    history = {"recon": [], "kl": [], "recognisable": []}
    for e in range(epochs):
        perm = order(s["order"] + e, len(x))
        eps = torch.from_numpy(normals(s["noise"] + e, len(x) * LATENT).reshape(len(x), LATENT))
        sums = np.zeros(2)
        for b in range(0, len(x) - BATCH + 1, BATCH):
            xb = data[perm[b:b + BATCH]]
            h, mu = encode(w, xb)
            if variational:
                lv = h @ w["lv_w"] + w["lv_b"]
                z = mu + torch.exp(0.5 * lv) * eps[b:b + BATCH]
                kl = (-0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(1)).mean()
            else:
                z, kl = mu, torch.zeros(())
            recon = F.binary_cross_entropy_with_logits(decode(w, z), xb, reduction="none").sum(1).mean()
            loss = recon + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums += [recon.item(), kl.item()]
            if steps is not None:
                steps.append({"recon": recon.item(), "kl": kl.item()})
        history["recon"].append(round(sums[0] / (len(x) // BATCH), 3))
        history["kl"].append(round(sums[1] / (len(x) // BATCH), 3))
        if judge is not None:
            with torch.no_grad():
                images = torch.sigmoid(decode(w, draws)).reshape(-1, 1, 28, 28)
                probs = read(judge, F.pad(images, (2, 2, 2, 2)))
            history["recognisable"].append(round(float((probs.max(1) >= THRESHOLD).mean()), 3))
    return history, {k: v.detach() for k, v in w.items()}


def save_plane(w: dict, dots: np.ndarray, labels: np.ndarray, path: Path) -> int:
    """The latent plane as the page draws it (figures/train/train-worker.js and drawPlane in
    train.js): GRID x GRID decoded cells of 28x28 pixels over [-SPAN, SPAN]^2, black ink on
    white, under the codes (means) of `dots` (N, 784 in [0, 1]) as dots coloured by `labels`;
    a code off the square is a ring at its edge. One PNG of the plane's pixel size; returns how
    many codes lie off the square."""
    import numpy as np
    import torch
    from PIL import Image, ImageDraw
    from figures.pictures import COLOURS, GREY_STEP, GREYS, ink
    step = 2 * SPAN / GRID
    centres = [(-SPAN + (k % GRID + 0.5) * step, SPAN - (k // GRID + 0.5) * step) for k in range(GRID * GRID)]
    with torch.no_grad():
        cells = torch.sigmoid(decode(w, torch.tensor(centres)))
        codes = encode(w, torch.from_numpy(dots))[1].numpy()
    size = GRID * 28
    sheet = cells.numpy().reshape(GRID, GRID, 28, 28).transpose(0, 2, 1, 3).reshape(size, size)
    plane = Image.fromarray(ink(sheet), "L").convert("RGB")
    draw, outside = ImageDraw.Draw(plane), 0
    rgb = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in COLOURS["digits"]]
    for (u, v), label in zip(codes, labels):
        x, y = (u + SPAN) / (2 * SPAN) * size, (SPAN - v) / (2 * SPAN) * size
        out = not (0 <= x <= size and 0 <= y <= size)
        outside += out
        x, y = min(max(x, 3), size - 3), min(max(y, 3), size - 3)
        draw.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5), fill=None if out else rgb[label], outline=rgb[label])
    # the plane's greys and the classes' colours, and nothing else: a small PNG with exact colours
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for g in range(GREYS) for v in (255 - g * GREY_STEP,) * 3]
                       + [v for c in rgb for v in c])
    plane.quantize(palette=palette, dither=Image.Dither.NONE).save(path, optimize=True)
    return outside


def compute(run) -> dict:
    import numpy as np
    x_train, y_train, x_test, y_test = run.mnist
    as_bytes = lambda x: np.round(np.asarray(x)[:, 0, 2:30, 2:30] * 255).astype(np.uint8).reshape(len(x), 784)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    train_idx, dot_idx = pick(y_train, N_TRAIN), pick(y_test, N_DOTS)
    digits, dots = as_bytes(x_train[train_idx]), as_bytes(x_test[dot_idx])
    run.path("data", FILE.split("/")[1]).write_bytes(digits.tobytes() + dots.tobytes()
                                                    + y_test[dot_idx].astype(np.uint8).tobytes())
    s = seeds(run.seed)
    init = initial(s["init"])
    x = digits.astype(np.float32) / np.float32(255)
    judge = run.judge
    steps = {"ae": [], "vae": []}
    reference, weights = {}, {}
    reference["ae"], weights["ae"] = train(x, init, False, 0, s, judge=judge, steps=steps["ae"])
    for beta in BETAS:
        main = beta == BETA                    # the other β's curves go without the judge's shares
        reference[f"vae-{beta:g}"], w = train(x, init, True, beta, s, judge=judge if main else None,
                                              steps=steps["vae"] if main else None)
        if main:
            weights["vae"] = w
    stills = {m: f"img/{STILL.format(m)}" for m in weights}       # the figure's stills, shown until it trains
    outside = {m: save_plane(w, dots.astype(np.float32) / np.float32(255), y_test[dot_idx],
                             run.path(*stills[m].split("/"))) for m, w in weights.items()}
    last = lambda h: {k: v[-1] for k, v in h.items() if v}
    return {"data": {"train": {"file": FILE, "n": len(digits), "dots": len(dots), "hidden": HIDDEN,
                               "latent": LATENT, "grid": GRID, "span": SPAN, "stills": stills, "layers": SHAPES, "batch": BATCH, "lr": LR, "epochs": EPOCHS, "betas": list(BETAS),
                               "beta": BETA, "draws": DRAWS, "seeds": s, "reference": reference,
                               "parity": {m: v[:PARITY_STEPS] for m, v in steps.items()}}},
            "numbers": {"train": {"n": len(digits), "epochs": EPOCHS, "dots": len(dots), "outside": outside,
                                  "end": {k: last(h) for k, h in reference.items()}}}}


def context(page: dict, stored: dict | None) -> dict | None:
    """What the markup and the prose quote: the recipe and the build's end-of-run numbers."""
    if stored is None:
        return None
    spec = stored["data"]["train"]
    return {**stored["numbers"]["train"], "batch": spec["batch"], "lr": spec["lr"], "betas": spec["betas"],
            "beta": spec["beta"], "draws": spec["draws"], "hidden": spec["hidden"], "span": spec["span"],
            "stills": spec["stills"]}
