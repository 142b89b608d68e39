#!/usr/bin/env python3
"""Build the article: train (or reuse) the AE and the VAE, compute the figure data,
convert the models to TensorFlow.js, render the page, and publish it atomically.

    python build.py                  # build dist/ from MNIST in data/ (or $MNIST_DIR)
    python build.py --serve          # build if needed, then serve on 127.0.0.1

Each stage is cached by content: checkpoints by the hash of their training config,
figure data and TF.js models by the hash of the checkpoints and of the code that
makes them. A build where only templates, CSS or JS changed re-renders and copies.
The site is assembled in a temporary folder and swapped in at the end, so a failed
or interrupted build leaves the previous site untouched.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import http.server
import json
import os
import shutil
import sys
import time
from pathlib import Path

from training.config import (DATA_ENV, FLOAT_BITS, IMAGE_SIZE, LATENT_DIM, MNIST_SIZE, MODELS, PIXEL_BITS,
                             REPO, ModelArgs, TrainConfig)

NODE_MODULES = REPO / "node_modules"
# What the page needs from npm, as (source under node_modules, destination under lib/).
# TF.js comes as its parts (core, cpu and wasm backends, layers) in their ES2017 builds:
# a third less to download than the all-in-one bundle, which also carries the WebGL
# backend, the graph-model converter and tf.data, and no string eval (the page's CSP).
# Scripts load in this order.
LIBRARIES = [
    ("@tensorflow/tfjs-core/dist/tf-core.es2017.min.js", "tf-core.min.js"),
    ("@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.es2017.min.js", "tf-backend-cpu.min.js"),
    ("@tensorflow/tfjs-layers/dist/tf-layers.es2017.min.js", "tf-layers.min.js"),
    ("@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js", "tf-backend-wasm.min.js"),
    ("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm", "tfjs-backend-wasm.wasm"),
    ("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-simd.wasm"),
    ("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
     "tfjs-backend-wasm-threaded-simd.wasm"),
    ("d3/dist/d3.min.js", "d3.min.js"),
    ("katex/dist/katex.min.css", "katex/katex.min.css"),
]
SCRIPTS = [f"lib/{dst}" for _, dst in LIBRARIES if dst.endswith(".js")]
# Code whose changes invalidate a cached stage (besides the checkpoints themselves)
FIGURE_CODE = ["training/figures.py", "training/inputs.py", "training/config.py", "figures/render.py"]
EXPORT_CODE = ["training/export_tfjs.py", "training/models.py"]


METRIC_KEYS = ["test_recon_bce_784", "test_kl", "test_neg_elbo_784", "test_mse", "train_seconds"]


class BuildError(Exception):
    """A problem the user can fix; reported as one line."""


def log(msg: str) -> None:
    from tqdm import tqdm
    tqdm.write(msg, file=sys.stderr)


def sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\x00")
    return h.hexdigest()[:16]


def file_sha(paths) -> str:
    return sha(*[(REPO / p).read_bytes() if (REPO / p).exists() else b"" for p in paths])


def configs(args) -> dict[str, TrainConfig]:
    base = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                train_limit=args.train_limit, test_limit=args.test_limit)
    return {"ae": TrainConfig(model=ModelArgs(variational=False), beta=1.0, **base),
            "vae": TrainConfig(model=ModelArgs(variational=True), beta=args.beta, **base)}


def cached_stage(cache: Path, name: str, key: str, make) -> tuple[Path, bool]:
    """Folder `cache/name-key`, made by `make(tmp_folder)` unless it exists. Atomic."""
    final = cache / f"{name}-{key}"
    if final.is_dir():
        return final, False
    tmp = cache / f".{name}-{key}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        make(tmp)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, True


def info_theory() -> dict:
    """The article's information-theory numbers, from the sizes the build used."""
    image_bits = IMAGE_SIZE * IMAGE_SIZE * PIXEL_BITS
    latent_bits = LATENT_DIM * FLOAT_BITS
    return {"image_size": IMAGE_SIZE, "pixel_bits": PIXEL_BITS, "latent_dim": LATENT_DIM,
            "float_bits": FLOAT_BITS, "mnist_size": MNIST_SIZE, "mnist_pixels": MNIST_SIZE * MNIST_SIZE,
            "image_bits": image_bits, "latent_bits": latent_bits,
            "ratio": image_bits / latent_bits, "saved": 1 - latent_bits / image_bits}


def stage_keys(ckpt_ids: dict[str, str], seed: int) -> dict[str, str]:
    """Cache keys of the figure data and the TF.js models for these checkpoint files."""
    models = sha(*[ckpt_ids[n] for n in MODELS])
    return {"figures": sha(models, file_sha(FIGURE_CODE), str(seed)),
            "tfjs": sha(models, file_sha(EXPORT_CODE))}


def build(args) -> dict:
    """Runs every stage; returns a report of what ran (also left in the cache folder).

    When both checkpoints exist and the figure data and TF.js models made from them are
    cached, nothing is loaded: torch is not even imported, and the build only renders.
    """
    out, cache = Path(args.out).resolve(), Path(args.cache_dir).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    report = {"trained": [], "loaded_models": False, "figures_computed": False, "exported": False}
    cfgs = configs(args)
    ckpts = {n: Path(args.ckpt_dir) / cfgs[n].checkpoint_name() for n in MODELS}
    fast = not args.retrain and all(p.is_file() for p in ckpts.values())
    if fast:
        keys = stage_keys({n: sha(p.read_bytes()) for n, p in ckpts.items()}, args.seed)
        fast = all((cache / f"{stage}-{key}").is_dir() for stage, key in keys.items())
    if not fast:
        keys = compute_stages(args, cfgs, ckpts, cache, report)
    fig_dir, tfjs_dir = cache / f"figures-{keys['figures']}", cache / f"tfjs-{keys['tfjs']}"
    metrics = json.loads((fig_dir / "metrics.json").read_text())

    # the site, assembled next to its final place and swapped in
    stage = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        assemble(stage, fig_dir, tfjs_dir, metrics, cfgs)
        publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    (cache / "last-build.json").write_text(json.dumps(report, indent=1))
    log(f"site ready in {out}")
    return report


def compute_stages(args, cfgs: dict, ckpts: dict, cache: Path, report: dict) -> dict[str, str]:
    """Train or load the models, then make whichever cached stage is missing."""
    from training.data import load_mnist
    from training.train import pick_device, train_models

    data_cache = {}

    def data():
        if not data_cache:
            log(f"loading MNIST from {args.data_dir}")
            xtr, ytr, xte, yte = load_mnist(Path(args.data_dir), args.train_limit, args.test_limit)
            data_cache.update(xtr=xtr, ytr=ytr, xte=xte, yte=yte)
        return data_cache

    # 1. models: reuse checkpoints whose config hash matches, train the rest
    data()  # fail fast, with one line, on missing or corrupt archives
    trained = train_models([cfgs[n] for n in MODELS], Path(args.data_dir), Path(args.ckpt_dir),
                           pick_device(args.device), retrain=args.retrain, log=log,
                           progress=not args.quiet)
    report["loaded_models"] = True
    models, metrics = {}, {}
    for name in MODELS:
        models[name], metrics[name], was_trained = trained[name]
        if was_trained:
            report["trained"].append(name)
        log(f"{name}: {'trained' if was_trained else 'reused checkpoint'} "
            f"({', '.join(f'{k} {metrics[name][k]:.4g}' for k in METRIC_KEYS if k in metrics[name])})")
    keys = stage_keys({n: sha(p.read_bytes()) for n, p in ckpts.items()}, args.seed)

    # 2. figure data, static figure renders, and the metrics the page quotes
    def make_figures(folder: Path):
        from training.figures import figure_data
        d = data()
        log("computing figure data (PCA, violins, inputs)")
        figs, pca_bytes = figure_data(models, d["xtr"], d["ytr"], d["xte"], d["yte"], args.seed)
        (folder / "figures.json").write_text(json.dumps(figs, separators=(",", ":")))
        (folder / "pca.bin").write_bytes(pca_bytes)
        (folder / "metrics.json").write_text(json.dumps(metrics))
        if (REPO / "figures" / "render.py").exists():
            from figures.render import render_static
            render_static(figs, pca_bytes, models, folder / "static")

    report["figures_computed"] = cached_stage(cache, "figures", keys["figures"], make_figures)[1]

    # 3. TF.js models
    def make_tfjs(folder: Path):
        from training.export_tfjs import export_models
        log("converting encoders and decoders to TensorFlow.js")
        export_models(models, folder)

    report["exported"] = cached_stage(cache, "tfjs", keys["tfjs"], make_tfjs)[1]
    return keys


def assemble(stage: Path, fig_dir: Path, tfjs_dir: Path, metrics: dict, cfgs: dict) -> None:
    from article.render import render
    for src, dst in LIBRARIES:
        if not (NODE_MODULES / src).is_file():
            raise BuildError(f"{src} is missing from node_modules: run `npm ci` in {REPO}")
    (stage / "data").mkdir(parents=True)
    shutil.copytree(tfjs_dir, stage / "models")
    figs = json.loads((fig_dir / "figures.json").read_text())
    figs["palette"] = json.loads((REPO / "article" / "palette.json").read_text())
    (stage / "data" / "figures.json").write_text(json.dumps(figs, separators=(",", ":")))
    shutil.copy(fig_dir / "pca.bin", stage / "data" / "pca.bin")
    if (fig_dir / "static").is_dir():
        shutil.copytree(fig_dir / "static", stage / "figures")
    for src in sorted((REPO / "figures").glob("*.svg")):  # hand-made figure sources
        (stage / "figures").mkdir(exist_ok=True)
        shutil.copy(src, stage / "figures" / src.name)
    for src, dst in LIBRARIES:
        (stage / "lib" / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NODE_MODULES / src, stage / "lib" / dst)
    shutil.copytree(NODE_MODULES / "katex/dist/fonts", stage / "lib/katex/fonts",
                    ignore=lambda d, names: [n for n in names if not n.endswith(".woff2")])
    shutil.copytree(REPO / "article" / "js", stage / "js")
    for css in (REPO / "article").glob("*.css"):
        shutil.copy(css, stage / css.name)
    public_metrics = {k: {m: v for m, v in metrics[k].items() if m != "history"} for k in MODELS}
    (stage / "metrics.json").write_text(json.dumps(public_metrics, indent=1))
    context = {"metrics": public_metrics, "history": {k: metrics[k].get("history", []) for k in MODELS},
               "figures": {k: v for k, v in figs.items() if k != "inputs"},
               "inputs": figs["inputs"], "info": info_theory(),
               "config": {k: c.to_dict() for k, c in cfgs.items()},
               "model_bytes": sum(p.stat().st_size for p in (stage / "models").rglob("*") if p.is_file()),
               "static_figures": sorted(p.name for p in (stage / "figures").glob("*")) if (stage / "figures").exists() else [],
               "scripts": SCRIPTS, "date": datetime.date.today()}
    (stage / "index.html").write_text(render("index.html.j2", context, NODE_MODULES), encoding="utf-8")


def publish(stage: Path, out: Path) -> None:
    """Swap `stage` in as `out`; the old site is removed only once the new one is in place."""
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """Undo what an interrupted build left behind: stray temp folders, a half swap."""
    old = out.with_name(f".{out.name}.old")
    if old.exists() and not out.exists():
        os.replace(old, out)
    for tmp in out.parent.glob(f".{out.name}.*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".bin": "application/octet-stream",
                      ".json": "application/json", ".js": "text/javascript", ".svg": "image/svg+xml"}

    def log_message(self, *a):
        pass


def serve(out: Path, port: int) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                             functools.partial(Handler, directory=str(out)))
    print(f"serving {out} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def parse_args(argv=None):
    d = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get(DATA_ENV, "data"),
                   help=f"folder with the four MNIST .gz archives (also ${DATA_ENV})")
    p.add_argument("--out", default="dist", help="where the site is published")
    p.add_argument("--ckpt-dir", default="checkpoints", help="where model checkpoints are kept")
    p.add_argument("--cache-dir", default=".cache", help="cache of figure data and TF.js models")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--epochs", type=int, default=d.epochs, help="training epochs per model")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="training batch size")
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (one-cycle)")
    p.add_argument("--beta", type=float, default=d.beta, help="weight of the VAE's KL term")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed of the whole run")
    p.add_argument("--train-limit", type=int, default=0, help="use only N training images (0: all)")
    p.add_argument("--test-limit", type=int, default=0, help="use only N test images (0: all)")
    p.add_argument("--retrain", action="store_true", help="train even if a matching checkpoint exists")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--serve", action="store_true", help="after building, serve the site on 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="port for --serve (0: any free port)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out).resolve()
    recover(out)
    from article.render import MathError
    from training.errors import DataError, TrainingError
    start = time.perf_counter()
    try:
        build(args)
    except (BuildError, DataError, MathError, TrainingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: the previous site in {out} and the checkpoints are untouched",
              file=sys.stderr)
        return 130
    finally:
        recover(out)
    log(f"build took {time.perf_counter() - start:.1f} s")
    if args.serve:
        serve(out, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
