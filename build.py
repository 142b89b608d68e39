#!/usr/bin/env python3
"""Build the article: train (or reuse) the models, compute the figure data, convert the
models to TensorFlow.js, render the page, and publish it atomically.

    python build.py                  # build dist/ from MNIST in data/ (or $MNIST_DIR)
    python build.py --serve          # build if needed, then serve on 127.0.0.1

Each stage is cached by content (store.py): checkpoints by their config and the training
code, figure data and TF.js models by the checkpoints and the code that makes them. A
build where only templates, CSS or JS changed re-renders and copies. The site is
assembled next to its final place, checked, and swapped in at the end: a failed or
interrupted build leaves the previous site, the checkpoints and the cache intact.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import figures
import store
from article.outline import FIGURES
from training.config import (DATA_ENV, MODELS, PALETTE, REPO, SWEEP_BETAS, SWEEP_DIMS, JudgeConfig, ModelArgs,
                             SEEDS, TrainConfig, digest, families, replicas, source_digest)
from training.errors import UserError, file_problem

NODE_MODULES = REPO / "node_modules"
# What the page needs from npm, as (source under node_modules, destination under lib/).
# TF.js comes as its parts (core, wasm backend, layers) in their ES2017 builds: a third less
# to download than the all-in-one bundle, which also carries the WebGL backend, the
# graph-model converter and tf.data, and no string eval (the page's CSP).
# Scripts load in this order.
LIBRARIES = [
    ("@tensorflow/tfjs-core/dist/tf-core.es2017.min.js", "tf-core.min.js"),
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
# Published in lib/ but loaded by no page at start: the cpu backend, which js/models.js loads
# only where the WebAssembly backend does not start, and TF.js whole, which the training
# figure's worker loads (it needs the gradients, which the parts above leave out) on the
# reader's first press.
ON_USE = [("@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.es2017.min.js", "tf-backend-cpu.min.js"),
          ("@tensorflow/tfjs/dist/tf.es2017.min.js", "tf.min.js")]
MAIN = (*MODELS, "judge")      # the checkpoints the figures and the TF.js models are made from
DEVICES = "auto, cpu, cuda or cuda:N"


def log(msg: str) -> None:
    from tqdm import tqdm
    tqdm.write(msg, file=sys.stderr)


def configs(args) -> tuple[dict[str, TrainConfig | JudgeConfig], list[str], list[str]]:
    """Every model the build trains, by name (the main pair, the judge, the sweep's
    families, which include the main pair, and the main pair with other seeds), the names of
    the sweep's families and those of the other seeds' models."""
    data = dict(seed=args.seed, train_limit=args.train_limit, test_limit=args.test_limit)
    base = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, **data)
    main = {"ae": TrainConfig(model=ModelArgs(variational=False), beta=1.0, **base),
            "vae": TrainConfig(model=ModelArgs(variational=True), beta=args.beta, **base)}
    sweep = families(main, args.sweep_dims, args.sweep_betas) if args.sweep_dims or args.sweep_betas else []
    seeds = replicas(main, args.seeds)
    return {**main, "judge": JudgeConfig(**data), **{c.name: c for c in sweep}, **seeds}, [c.name for c in sweep], list(seeds)


@functools.lru_cache(maxsize=None)
def checkpoint_file(cfg: TrainConfig | JudgeConfig) -> str:
    """The name of `cfg`'s checkpoint. It hashes the training code, so once per build is enough;
    the memo belongs in training/config.py, but any change there retrains every model."""
    return cfg.checkpoint_name()


def variants(cfgs: dict, sweep: list[str]) -> list[str]:
    """The sweep's VAEs that differ from the main one only in beta: the explorer can swap
    them in (the 'betas' stage converts them)."""
    main = cfgs["vae"]
    return [n for n in sweep if cfgs[n].model == main.model and cfgs[n].beta != main.beta]


def stage_plan(sweep: list[str], betas: list[str] = ()) -> dict[str, tuple[list[str], list[str]]]:
    """stage -> (the checkpoints it is made from, the code it runs: entries whose imports
    training.config.code_closure follows). "measure" holds the measurements the figures share;
    each figure that computes data has a stage of its own, "figure-NAME", made from the main
    pair (and after "measure", whose code it therefore counts as its own) or, for a figure of
    the sweep, from the models `sweep` names (its families and the main pair's other seeds);
    a build without a sweep leaves the sweep's figures out."""
    palette = PALETTE.relative_to(REPO).as_posix()           # the stills' colours
    plan = {"measure": (list(MAIN), ["article/measure.py"]),
            "tfjs": (list(MAIN), ["training/export_tfjs.py"])}
    for f in FIGURES:
        if f.computes and (f.models == "main" or sweep):
            plan[f.stage] = ((list(MAIN), ["article/measure.py", f.code, palette]) if f.models == "main"
                             else ([*sweep, "judge"], [f.code, palette]))
    if betas:
        plan["betas"] = (list(betas), ["figures/explorer/data.py"])
    return plan


def stage_keys(sweep: list[str], betas: list[str], ckpts: dict[str, Path], seed: int, cache: Path) -> dict[str, str]:
    """Cache keys of the stages made from these checkpoints (their hashes remembered in the cache
    folder: a template-only rebuild does not read 20 MB of weights again)."""
    plan = stage_plan(sweep, betas)
    hashes = store.file_hashes(sorted({ckpts[n] for names, _ in plan.values() for n in names}), cache / "hashes.json")
    return {stage: digest(*[hashes[ckpts[n]] for n in names], source_digest(code), str(seed))
            for stage, (names, code) in plan.items()}


def build(args, check=lambda: None) -> dict:
    """Runs every stage; returns a report of what ran (also left in the cache folder).
    `check()` raises KeyboardInterrupt if the build was interrupted; it is called before
    anything is kept.

    When the checkpoints exist and the stages made from them are cached and whole,
    nothing is loaded: torch is not even imported, and the build only renders.
    """
    out = Path(args.out).resolve()
    cache = store.Cache(args.cache_dir, log, check)
    store.remove_stale(Path(args.ckpt_dir))
    report = {"trained": [], "loaded_models": False, "measured": False, "figures_computed": [], "exported": False,
              "betas_computed": False}
    cfgs, sweep, seeds = configs(args)
    betas = variants(cfgs, sweep)
    ckpts = {n: Path(args.ckpt_dir) / checkpoint_file(c) for n, c in cfgs.items()}
    keys = None
    if not args.retrain and all(p.is_file() for p in ckpts.values()):
        keys = stage_keys([*sweep, *seeds], betas, ckpts, args.seed, cache.folder)
        if not all(cache.ready(stage, key) for stage, key in keys.items()):
            keys = None
    if keys is None:
        keys = compute_stages(args, cfgs, sweep, seeds, betas, ckpts, cache, report)
    stages = {stage: cache.path(stage, key) for stage, key in keys.items()}

    # the site, assembled next to its final place, checked and swapped in
    stage = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    if stage.exists() and not (stage / store.STAMP).is_file():
        raise UserError(f"{stage} is in the way and was not made by this build: remove it")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    (stage / store.STAMP).write_text(store.STAMP_TEXT)   # so that a stale one can be cleaned
    try:
        with store.writing_in(out.parent):
            assemble(stage, stages, cfgs, cache.folder)
            store.publish(stage, out, check)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    with store.writing_in(cache.folder):
        (cache.folder / "last-build.json").write_text(json.dumps(report, indent=1))
    log(f"site ready in {out}")
    return report


def compute_stages(args, cfgs: dict, sweep: list[str], seeds: list[str], betas: list[str], ckpts: dict,
                   cache: store.Cache, report: dict) -> dict[str, str]:
    """Train or load the models, then make whichever cached stage is missing."""
    import torch

    from training.data import load_mnist
    from training.pool import train_models

    log(f"loading MNIST from {args.data_dir}")
    xtr, ytr, xte, yte = load_mnist(Path(args.data_dir), args.train_limit, args.test_limit)

    # 1. models: reuse good checkpoints, train the rest
    trained = train_models(cfgs, Path(args.data_dir), Path(args.ckpt_dir),
                           args.device, retrain=args.retrain, log=log, progress=not args.quiet)
    report["loaded_models"] = True
    models, metrics = {}, {}
    for name in cfgs:
        models[name], metrics[name], was_trained = trained[name]
        models[name].to(args.device)         # the measurements run where training did, in float32
        if was_trained:
            report["trained"].append(name)
        summary = ", ".join(f"{k} {v:.4g}" for k, v in metrics[name].items() if k.startswith("test_") and isinstance(v, float))
        log(f"{name}: {'trained' if was_trained else 'reused checkpoint'} ({summary})")
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    keys = stage_keys([*sweep, *seeds], betas, ckpts, args.seed, cache.folder)

    run = figures.Run(models, metrics, cfgs, (xtr, ytr, xte, yte), args.seed, Path(), sweep, seeds)

    # 2. the measurements the figures share, and the pictures their stills are made of
    def make_measure(folder: Path):
        from article.measure import measure, save_pictures
        log("measuring the main pair with the judge")
        run.folder = folder
        shared = measure(run)
        shared["numbers"] = {**{n: metrics[n] for n in MAIN}, **shared["numbers"]}
        (folder / "shared.json").write_text(json.dumps(shared, separators=(",", ":")))
        save_pictures(run.pictures, folder / "pictures.npz")

    measured, report["measured"] = cache.make("measure", keys["measure"], make_measure)

    # 3. each figure's data and stills, in a stage of its own
    def make_figure(figure: figures.Figure, folder: Path):
        log(f"computing the data of the {figure.name} figure")
        if figure.models == "main" and not run.pictures:
            from article.measure import load_pictures
            run.pictures = load_pictures(measured / "pictures.npz")
        run.folder = folder
        figures.compute(figure, run)

    for f in FIGURES:
        if f.stage in keys and cache.make(f.stage, keys[f.stage], functools.partial(make_figure, f))[1]:
            report["figures_computed"].append(f.name)

    # 4. TF.js models
    def make_tfjs(folder: Path):
        from training.export_tfjs import export_models
        log("converting encoders and decoders to TensorFlow.js")
        export_models({m: models[m] for m in MODELS}, models["judge"], folder)

    report["exported"] = cache.make("tfjs", keys["tfjs"], make_tfjs)[1]

    # 5. the beta family's VAEs, for the explorer to swap in when a reader asks
    def make_betas(folder: Path):
        from figures.explorer.data import betas as betas_data
        log("converting the beta family's VAEs for the explorer")
        extra = betas_data(run, betas, folder / "models")
        (folder / "betas.json").write_text(json.dumps(extra, separators=(",", ":")))

    if "betas" in keys:
        report["betas_computed"] = cache.make("betas", keys["betas"], make_betas)[1]
    return keys


def merge(base: dict, part: dict) -> dict:
    """`part` merged into `base` (in place), dicts key by key, anything else replaced."""
    for k, v in part.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


STYLES = "site.css"      # the pages' one stylesheet (KaTeX's aside): every .css of article/ and the figures
PAGE_MODULES = ("main.js", "tooltips.js", "scrollers.js")     # the module scripts every page runs
STATIC_IMPORT = re.compile(r"""^import\s[^;]*?from\s+'\./([\w-]+\.js)(?:\?v=\w+)?'""", re.M)


def first_modules(js: Path) -> list[str]:
    """The modules a page preloads: its module scripts and what they import, statically, in
    turn. The figures' views (imported by main.js once the first screen has painted) are not."""
    todo, seen = list(PAGE_MODULES), set()
    while todo:
        name = todo.pop()
        if name not in seen and (js / name).is_file():
            seen.add(name)
            todo += STATIC_IMPORT.findall((js / name).read_text(encoding="utf-8"))
    return sorted(f"js/{name}" for name in seen)


def site_files(suffix: str) -> dict[str, Path]:
    """The page's own files ending in `suffix`: article/'s and every figure's, by the name
    they take in the site (one flat folder, so a name may be used once)."""
    out = {}
    for path in [*sorted((REPO / "article").rglob(f"*{suffix}")),
                 *(p for f in FIGURES for p in sorted(figures.folder(f.name).glob(f"*{suffix}")))]:
        if path.name in out:
            raise UserError(f"{path.relative_to(REPO)} and {out[path.name].relative_to(REPO)} would both be "
                            f"published as {path.name}: rename one")
        out[path.name] = path
    return out


def shown(stages: dict[str, Path]) -> list:
    """The figures of this build's pages: all but the sweep's when the build has no sweep."""
    return [f for f in FIGURES if f.models == "main" or f.stage in stages]


def assemble(stage: Path, stages: dict[str, Path], cfgs: dict, cache_dir: Path | None = None) -> None:
    from article.context import page_context
    from article.render import render
    for src, _ in [*LIBRARIES, *ON_USE]:
        if not (NODE_MODULES / src).is_file():
            raise UserError(f"{src} is missing from node_modules: run `npm ci` in {REPO}")
    shutil.copytree(stages["tfjs"], stage / "models", ignore=shutil.ignore_patterns(store.MANIFEST))
    (stage / "img").mkdir()
    (stage / "data").mkdir()
    (stage / "js").mkdir()
    shared = json.loads((stages["measure"] / "shared.json").read_text())
    data, metrics, stored = shared["data"], shared["numbers"], {}
    for f in FIGURES:                            # what each figure computed, and its files
        if f.stage in stages:
            for kind in ("img", "data"):
                if (stages[f.stage] / kind).is_dir():
                    shutil.copytree(stages[f.stage] / kind, stage / kind, dirs_exist_ok=True)
            stored[f.name] = figures.result(stages[f.stage])
            merge(data, stored[f.name].get("data", {}))
            merge(metrics, stored[f.name].get("numbers", {}))
    for name, src in site_files(".svg").items():               # hand-made diagrams
        shutil.copy(src, stage / "img" / name)
    for name, src in site_files(".js").items():
        shutil.copy(src, stage / "js" / name)
    for name, src in site_files(".css").items():
        shutil.copy(src, stage / name)
    # the pages link one stylesheet, the article's and the figures' in their order: each file a page's
    # first paint waits for costs a slow phone a round trip
    data["palette"] = json.loads(PALETTE.read_text())
    # the palette's colours that stylesheets use too, as custom properties (--judge-sure, ...)
    shared = "".join(f" --judge-{k}: {v};" for k, v in data["palette"]["judge"].items())
    sheets = "".join(f"/* ---- {name} ---- */\n{src.read_text(encoding='utf-8')}\n" for name, src in site_files(".css").items())
    (stage / STYLES).write_text(f":root {{{shared} }}\n{sheets}", encoding="utf-8")
    if "betas" in stages:                       # loaded by the page only when a reader asks
        shutil.copytree(stages["betas"] / "models", stage / "models", dirs_exist_ok=True)
        shutil.copy(stages["betas"] / "betas.json", stage / "data" / "betas.json")
        extra = json.loads((stages["betas"] / "betas.json").read_text())["models"]
        family = [{"name": "vae", "beta": cfgs["vae"].beta}, *({"name": n, "beta": m["beta"]} for n, m in extra.items())]
        data["betas"] = {"file": "data/betas.json", "models": sorted(family, key=lambda e: e["beta"])}
    (stage / "data" / "figure-data.json").write_text(json.dumps(data, separators=(",", ":")))
    for src, dst in [*LIBRARIES, *ON_USE]:
        (stage / "lib" / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NODE_MODULES / src, stage / "lib" / dst)
    shutil.copytree(NODE_MODULES / "katex/dist/fonts", stage / "lib/katex/fonts",
                    ignore=lambda d, names: [n for n in names if not n.endswith(".woff2")])
    public = {k: ({m: v for m, v in part.items() if m != "history"} if k in MAIN else part)
              for k, part in metrics.items()}
    (stage / "metrics.json").write_text(json.dumps(public, indent=1))
    build_id = stamp_build(stage)
    context = page_context(public, metrics, data, {k: cfgs[k].to_dict() for k in MAIN}, stage, stored)
    context["build"] = build_id
    context["scripts"] = SCRIPTS
    context["modules"] = first_modules(stage / "js")
    context["styles"] = [STYLES]                   # the article's first, then the figures' in their order
    pages = {"index.html": ("index.html.j2", {**context, "base": ""}),
             **{f"figure-{f.name}.html": ("figure.html.j2", {**context, "figure": f.name, "base": "index.html"})
                for f in shown(stages) if f.page}}
    for page, html in render(pages, NODE_MODULES, cache_dir).items():   # compiled templates kept in the cache
        (stage / page).write_text(versioned_html(html, build_id), encoding="utf-8")


# ---- one build at a time: the page checks every file it fetches against its build ----

CHECKED = ("models/", "data/pca.bin", "data/train-digits.bin")   # binary files the page checks by size and SHA-256
LOCAL_TAG = re.compile(r"<(?:script|img|source|link)\b[^>]*>")     # what a page loads (not its links)
LOCAL_URL = re.compile(r'\b(src|href|srcset)="([^":?#]+)"')


def stamp_build(stage: Path) -> str:
    """Names the build by a hash of the site's content (the HTML, rendered afterwards,
    aside) and writes what the page checks against it: the id into the JSON files it
    fetches, the size and SHA-256 of each binary file (TF.js models, map points) into
    figure-data.json, and `?v=ID` into the JS modules' imports of each other, so that a
    host that caches by URL never mixes the files of two builds. Returns the id."""
    files = store.inventory(stage, skip=(store.STAMP,))
    build_id = digest(*(f"{rel} {f['sha256']}" for rel, f in files.items()))[:12]
    for rel in ("data/figure-data.json", "data/betas.json"):
        if (stage / rel).is_file():
            content = json.loads((stage / rel).read_text())
            content["build"] = build_id
            if rel == "data/figure-data.json":
                content["files"] = {k: v for k, v in files.items() if k.startswith(CHECKED)}
            (stage / rel).write_text(json.dumps(content, separators=(",", ":")))
    for module in (stage / "js").glob("*.js"):
        text = module.read_text(encoding="utf-8")
        module.write_text(re.sub(r"""(from\s+'\./[\w-]+\.js)'""", rf"\1?v={build_id}'", text), encoding="utf-8")
    return build_id


def versioned_html(html: str, build_id: str) -> str:
    """Every local file a page loads (scripts, styles, images, preloads) with `?v=ID`."""
    def url(m: re.Match) -> str:
        attr, value = m.groups()
        candidates = (c.strip().partition(" ") for c in value.split(",")) if attr == "srcset" else [(value, "", "")]
        return f'{attr}="' + ", ".join(f"{u}?v={build_id}{' ' + rest if rest else ''}" for u, _, rest in candidates) + '"'
    return LOCAL_TAG.sub(lambda tag: LOCAL_URL.sub(url, tag.group(0)), html)


def check_writable(args, out: Path) -> None:
    """Refuses at once (UserError) a folder the build will write in but cannot: the one
    that holds --out (the new site is assembled there and swapped in), --out itself, the
    cache, the checkpoints (unless each is there and none is retrained), the data folder
    when MNIST is to be downloaded into it, and the temporary folder (libraries' caches).
    The data folder is otherwise only read, and may be read-only."""
    from training.data import needs_download
    cfgs, _, _ = configs(args)
    ckpt, cache, data = Path(args.ckpt_dir), Path(args.cache_dir), Path(args.data_dir)
    places = [(out.parent, f"{out.parent}, where --out {out} is assembled and swapped in",
               "make it writable, or pass --out a folder in a writable place"),
              (cache, f"the cache folder {cache.absolute()}", "make it writable, or pass --cache-dir a writable folder")]
    if out.is_dir():
        places.append((out, f"--out {out}", "make it writable, or choose another --out"))
    if args.retrain or not all((ckpt / checkpoint_file(c)).is_file() for c in cfgs.values()):
        places.append((ckpt, f"the checkpoint folder {ckpt.absolute()}",
                       "make it writable, or pass --ckpt-dir a writable folder"))
    if needs_download(data):
        places.append((data, f"the data folder {data.absolute()}", "MNIST is downloaded there when its archives "
                       f"are missing: pass --data-dir (or set {DATA_ENV}) to the folder holding the four archives, "
                       f"or make it writable"))
    for folder, what, fix in places:
        problem = store.unwritable(folder)
        if problem:
            raise UserError(f"cannot write in {what} ({problem}): {fix}")
    try:
        tempfile.gettempdir()                 # tries TMPDIR, /tmp, /var/tmp and the current folder
    except OSError as e:
        raise UserError(f"no temporary folder can be written ({e.strerror or e}): set TMPDIR to a "
                        f"writable folder") from None


# ---- serving ----

@functools.cache
def handler() -> type:
    """The request handler of `--serve` (and of the tests' and the benchmark's servers, as
    `build.Handler`): files of a folder with the types the page needs, no log. Made on first
    use, so that a build without --serve never imports http.server (60 ms of a 0.5 s rebuild)."""
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".wasm": "application/wasm", ".bin": "application/octet-stream",
                          ".json": "application/json", ".js": "text/javascript", ".svg": "image/svg+xml"}

        def log_message(self, *a):
            pass
    return Handler


def __getattr__(name: str):
    if name == "Handler":
        return handler()
    raise AttributeError(f"module 'build' has no attribute {name!r}")


def open_server(out: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A loopback server for `out`, bound now (so that a taken port fails before the build)."""
    import http.server
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                               functools.partial(handler(), directory=str(out)))
    except OSError as e:
        raise UserError(f"cannot serve on port {port} ({e.strerror or e}): pass --port 0 to use "
                        f"any free port") from None


def serve(server: http.server.ThreadingHTTPServer, out: Path) -> None:
    print(f"serving {out} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# ---- flags ----

class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        self.exit(2, f"error: {message} (see python build.py --help)\n")


def number(kind, least, what: str, strict: bool = False, most=math.inf):
    """An argparse type: a finite `kind` from least (excluded if strict) to most, else one
    clear line."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if (value is None or not math.isfinite(value) or not least <= value <= most
                or (strict and value == least)):
            raise argparse.ArgumentTypeError(f"{what}, not {text!r}")
        return value
    return parse


def number_list(kind, least, what: str):
    """An argparse type: comma-separated numbers, each a finite `kind` >= least; '' is none."""
    one = number(kind, least, f"must be {what}")

    def parse(text: str) -> tuple:
        try:
            return tuple(sorted({one(part.strip()) for part in text.split(",") if part.strip()}))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"must be {what}, separated by commas, not {text!r}") from None
    return parse


def cuda_available() -> bool:
    """Whether a CUDA device can be used, asked of the driver directly (fast: no torch)."""
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0


def device(text: str) -> str:
    if text in ("auto", "cpu"):
        return "cpu" if text == "cpu" or not cuda_available() else "cuda"
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not cuda_available():
            raise argparse.ArgumentTypeError(f"{text} asked for, but this machine has no usable CUDA "
                                             f"device: use --device cpu (or auto)")
        return text
    raise argparse.ArgumentTypeError(f"must be {DEVICES}, not {text!r}")


def parse_args(argv=None):
    d = TrainConfig()
    p = Parser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get(DATA_ENV, "data"),
                   help=f"folder with the four MNIST .gz archives (also ${DATA_ENV})")
    p.add_argument("--out", default="dist", help="where the site is published (a folder the build made, or a new one)")
    p.add_argument("--ckpt-dir", default="checkpoints", help="where model checkpoints are kept")
    p.add_argument("--cache-dir", default=".cache", help="cache of figure data and TF.js models")
    p.add_argument("--device", default="auto", type=device, help=f"{DEVICES} (auto: CUDA when present)")
    p.add_argument("--epochs", type=number(int, 1, "must be a whole number >= 1"), default=d.epochs,
                   help="training epochs per model")
    p.add_argument("--batch-size", type=number(int, 1, "must be a whole number >= 1"), default=d.batch_size,
                   help="training batch size")
    p.add_argument("--lr", type=number(float, 0, "must be a number > 0", strict=True), default=d.lr,
                   help="peak learning rate (one-cycle)")
    p.add_argument("--beta", type=number(float, 0, "must be a number >= 0"), default=d.beta,
                   help="weight of the VAE's KL term")
    p.add_argument("--seed", type=number(int, 0, "must be a whole number >= 0"), default=d.seed,
                   help="random seed of the whole run")
    p.add_argument("--train-limit", type=number(int, 0, "must be a whole number >= 0"), default=0,
                   help="use only N training images (0: all)")
    p.add_argument("--test-limit", type=number(int, 0, "must be a whole number >= 0"), default=0,
                   help="use only N test images (0: all)")
    p.add_argument("--sweep-dims", type=number_list(int, 1, "whole numbers >= 1"), default=",".join(map(str, SWEEP_DIMS)),
                   help="latent sizes of the sweep's AE and VAE pairs, comma-separated (with --sweep-betas '' "
                        "and this '', no sweep)")
    p.add_argument("--sweep-betas", type=number_list(float, 0, "numbers >= 0"), default=",".join(f"{b:g}" for b in SWEEP_BETAS),
                   help="betas of the sweep's extra VAEs at the main latent size, comma-separated")
    p.add_argument("--seeds", type=number(int, 1, "must be a whole number >= 1"), default=SEEDS,
                   help="how many times the main pair is trained, with --seed and the next seeds (the article "
                        "gives its headline shares over all of them)")
    p.add_argument("--retrain", action="store_true", help="train even if a matching checkpoint exists")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--serve", action="store_true", help="after building, serve the site on 127.0.0.1")
    p.add_argument("--port", type=number(int, 0, "must be a port number from 0 to 65535", most=65535),
                   default=8000, help="port for --serve (0: any free port)")
    return p.parse_args(argv)


# ---- the command ----

class Interrupts:
    """SIGINT and SIGTERM raise KeyboardInterrupt and are remembered, so that an interrupt
    that some library swallows still stops the build before it keeps or publishes anything."""

    def __init__(self):
        self.seen = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)

    def handle(self, signum, frame):
        self.seen = signum
        raise KeyboardInterrupt

    def check(self):
        if self.seen is not None:
            raise KeyboardInterrupt


def interrupted(out: Path, signum) -> int:
    """Says that an interrupted build published nothing; its exit status (128 + the signal)."""
    print(f"\ninterrupted: nothing was published; the previous site in {out}, the checkpoints "
          f"and the cache are intact", file=sys.stderr)
    return 128 + (signum or signal.SIGINT)


def main(argv=None) -> int:
    args = parse_args(argv)
    interrupts = Interrupts()
    out = Path(args.out).resolve()
    start, checked = time.perf_counter(), False
    try:
        try:
            store.check_out(out, {"the repository": REPO, "the data folder": Path(args.data_dir),
                                  "the checkpoint folder": Path(args.ckpt_dir),
                                  "the cache folder": Path(args.cache_dir)})
            check_writable(args, out)
            checked = True
            server = open_server(out, args.port) if args.serve else None
            store.recover(out)
            build(args, interrupts.check)
            interrupts.check()
        finally:
            if checked:
                store.recover(out)
    except KeyboardInterrupt:
        return interrupted(out, interrupts.seen)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:       # a write that failed all the same (a full disk, say): what was made is
        print(f"error: {file_problem(e)}", file=sys.stderr)   # removed, what was there is kept
        return 2
    except Exception:
        # an interrupt that a library turned into an error of its own: TensorFlow's extension
        # modules, interrupted while they load, raise ImportError("initialization failed")
        if interrupts.seen is None:
            raise
        return interrupted(out, interrupts.seen)
    log(f"build took {time.perf_counter() - start:.1f} s")
    if server:
        serve(server, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
