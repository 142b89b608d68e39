"""Figure: the latent space from above. Each model's training codes projected onto their own
first two principal components (data/pca.bin), how often a point's nearest neighbour shows
the same digit in the map and in the full latent space, and a still for readers without
JavaScript. Also the linear code the autoencoders are measured against: the test digits
projected onto as many principal components of the training images as a code has numbers.

Map points: MAP_POINTS training codes (a seeded random sample, in random order so that
drawing in file order mixes the classes), quantised to 10 bits per coordinate over each
model's extent: little-endian uint16, model by model, x/y interleaved, then one uint8 label
per point.
"""
from __future__ import annotations

from pathlib import Path

# numpy is imported inside the functions that compute: rendering the page needs only
# `context`, and a template-only rebuild should not wait for numpy
from training.config import LATENT_DIM, MODELS, TITLES

PCA_LEVELS = 1024
MAP_POINTS = 30_000


def linear_code(x_train, x_test, k: int = LATENT_DIM, seed: int = 0) -> dict:
    """The best linear code of k numbers for the digits: PCA of the training images' 784 central
    pixels (x_train, x_test: (N, 1, 32, 32) in [0, 1]), and the mean squared error per pixel of
    the test digits rebuilt from their k components (clipped to [0, 1]), as training.train.evaluate
    measures the autoencoders' `test_mse`."""
    import numpy as np
    from sklearn.decomposition import PCA
    from training.models import digit
    train, test = digit(x_train).numpy(), digit(x_test).numpy()
    pca = PCA(k, random_state=seed).fit(train)
    rebuilt = np.clip(pca.inverse_transform(pca.transform(test)), 0, 1)
    return {"components": k, "test_mse": round(float(((rebuilt - test) ** 2).mean(1).mean()), 6)}


def same_neighbour(points: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point has the same label."""
    from sklearn.neighbors import NearestNeighbors
    nearest = NearestNeighbors(n_neighbors=2).fit(points).kneighbors(points, return_distance=False)[:, 1]
    return round(float((labels[nearest] == labels).mean()), 4)


def pca_projection(codes: dict[str, np.ndarray], labels: np.ndarray, seed: int = 0,
                   points: int = MAP_POINTS) -> tuple[dict, dict, bytes, dict]:
    """PCA to 2-D per model (fitted on every code); returns ({model: pca summary, with each
    digit's centre in the map, the median of the projections of all its codes, where the view
    labels it},
    map summary, bytes of `points` quantised projections and their labels, and per model
    how often a map point's nearest neighbour shows the same digit, in 2-D and in the
    full latent space)."""
    import numpy as np
    from sklearn.decomposition import PCA

    from training.evaluation import sig
    order = np.random.default_rng(seed).permutation(len(labels))[:points]
    per_model, parts, neighbours = {}, [], {}
    for name in codes:
        pca = PCA(n_components=2, random_state=seed).fit(codes[name])
        proj = pca.transform(codes[name][order])
        neighbours[name] = {"neighbours_2d": same_neighbour(proj, labels[order]),
                            "neighbours_4d": same_neighbour(codes[name][order], labels[order])}
        everyone = pca.transform(codes[name])
        centres = [sig(np.median(everyone[labels == d], 0), 4) for d in range(int(labels.max()) + 1)]
        lo, hi = proj.min(0), proj.max(0)
        lo, hi = lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)
        q = np.round((proj - lo) / (hi - lo) * (PCA_LEVELS - 1))
        parts.append(np.clip(q, 0, PCA_LEVELS - 1).astype("<u2").tobytes())
        per_model[name] = {"mean": sig(pca.mean_, 6), "components": [sig(c, 6) for c in pca.components_],
                           "explained": sig(pca.explained_variance_ratio_),
                           "extent": [sig([lo[0], hi[0]], 6), sig([lo[1], hi[1]], 6)], "centres": centres}
    parts.append(labels[order].astype(np.uint8).tobytes())
    summary = {"file": "data/pca.bin", "count": int(len(order)), "of": int(len(labels)),
               "levels": PCA_LEVELS, "models": list(codes)}
    return per_model, summary, b"".join(parts), neighbours


def dequantise_pca(summary: dict, models: dict, blob: bytes) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Inverse of `pca_projection`'s encoding: ({model: (N, 2)}, labels (N,))."""
    import numpy as np
    n, levels = summary["count"], summary["levels"]
    coords = np.frombuffer(blob, "<u2", count=2 * n * len(summary["models"])).astype(np.float64)
    out = {}
    for i, m in enumerate(summary["models"]):
        (x0, x1), (y0, y1) = models[m]["pca"]["extent"]
        q = coords[i * 2 * n:(i + 1) * 2 * n].reshape(n, 2) / (levels - 1)
        out[m] = np.stack([x0 + q[:, 0] * (x1 - x0), y0 + q[:, 1] * (y1 - y0)], 1)
    return out, np.frombuffer(blob, np.uint8, offset=4 * n * len(summary["models"]))


def render_map(data: dict, pca_bytes: bytes, path: Path) -> None:
    """Both models' 2-D PCA maps side by side, each at its own scale, coloured by digit, each digit
    labelled at its centre."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib import patheffects

    from figures.pictures import COLOURS, save_small
    points, labels = dequantise_pca(data["pca"], data["models"], pca_bytes)
    colours = np.array(COLOURS["digits"])[labels]
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), dpi=110)
    for ax, name in zip(axes, MODELS):
        (x0, x1), (y0, y1) = data["models"][name]["pca"]["extent"]
        ax.scatter(points[name][:, 0], points[name][:, 1], c=colours, s=1.5, linewidths=0,
                   alpha=0.6, rasterized=True)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), title=TITLES[name],
               xlabel="first principal component", ylabel="second principal component")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=str(d))
               for d, c in enumerate(COLOURS["digits"])]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, title="digit")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    for ax, name in zip(axes, MODELS):              # each digit named at its centre, as on the page
        screen = spread(ax.transData.transform(data["models"][name]["pca"]["centres"]), gap=20)
        for d, (x, y) in enumerate(ax.transData.inverted().transform(screen)):
            ax.text(x, y, str(d), color="black", fontsize=13, fontweight="bold", ha="center",
                    va="center", path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])
    save_small(fig, path, keep=COLOURS["digits"])


def spread(points, gap: float, rounds: int = 20):
    """(N, 2) screen points moved apart until no two are closer than `gap`: each close pair in
    turn is pushed apart along the line between them, for a few rounds (js/map.js places the
    page's labels the same way)."""
    import numpy as np
    p = np.array(points, dtype=np.float64)
    for _ in range(rounds):
        moved = False
        for i in range(len(p)):
            for j in range(i + 1, len(p)):
                v = p[j] - p[i]
                d = np.linalg.norm(v)
                if d >= gap:
                    continue
                push = (v / d if d > 1e-6 else np.array([0.0, 1.0])) * (gap - d) / 2
                p[i] -= push
                p[j] += push
                moved = True
        if not moved:
            break
    return p


def compute(run) -> dict:
    codes = {m: run.codes(m) for m in MODELS}
    per_model, summary, blob, neighbours = pca_projection(codes, run.mnist[1].numpy(), run.seed)
    run.path("data", "pca.bin").write_bytes(blob)
    data = {"pca": summary, "models": {m: {"pca": per_model[m]} for m in MODELS}}
    render_map(data, blob, run.path("img", "map.png"))
    linear = linear_code(run.mnist[0], run.mnist[2], seed=run.seed)
    return {"data": data, "numbers": {"map": neighbours, "linear": linear}}
