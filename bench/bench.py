#!/usr/bin/env python3
"""Benchmark of the build and of the page, against the project's targets.

    .venv/bin/python bench/bench.py                    # full MNIST: 3 cold builds, 3 page runs (~20 min)
    .venv/bin/python bench/bench.py --build-runs 1     # one cold build only
    .venv/bin/python bench/bench.py --tiny --runs 1 --out bench/tiny.json     # smoke test (~2 min)
    .venv/bin/python bench/bench.py --tiny --runs 1 --from-build DIR --out bench/tiny.json
                                                       # the same on a copy of a finished build

Everything runs in a temporary folder (fresh checkpoints, cache and site; the repo's dist/,
checkpoints/ and .cache/ are not touched); the site is served on loopback by build.Handler and
measured in headless Chromium. Prints a table (measure, median, target, pass) and writes every
measure with its per-run values to --out (default bench/results.json); `all_pass` there says
whether every target was met (the exit status is 0 either way; 1 if a stage fails).
"""
from __future__ import annotations

import argparse, datetime, gzip, importlib.metadata, json, math, os, re
import platform, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from article.context import model_sizes  # noqa: E402
from harness import CHROMIUM, CHROMIUM_ARGS, TINY, serve_site  # noqa: E402

PROJECT = ["build.py", "store.py", "training", "figures", "article"]  # what a template-only rebuild needs
# key: (what is measured, target text, pass test on the median or None for report-only)
TARGETS = {
    "cold_build_s": ("cold build: 12 models and the judge, figures, export, render (s)", "<= 600",
                     lambda v: v <= 600),
    "rebuild_template_s": ("rebuild after a template-only change (s)", "<= 3", lambda v: v <= 3),
    "vae_neg_elbo_784": ("VAE test -ELBO (nats, 784 px)", "<= 123", lambda v: v <= 123),
    "vae_prior_recognisable": ("VAE prior samples the judge recognises (share)", ">= 0.70", lambda v: v >= 0.70),
    "ae_recon_bce_784": ("AE test reconstruction BCE (nats)", "< VAE's", None),
    "vae_recon_bce_784": ("VAE test reconstruction BCE (nats)", "> AE's", None),
    "decode_ms_page_backend": ("decode, batch 1, page backend (ms)", "<= 0.3", lambda v: v <= 0.3),
    "decode_ms_default_backend": ("decode, batch 1, TF.js default backend (ms)", "report", None),
    "decode_ratio": ("decode time default / page backend", "report", None),
    # rAF times come in 0.1 ms steps, so a steady 60 Hz (16.67 ms) reads as 16.6-16.8: allow one step
    "drag_frame_p95_ms": ("frame time p95 during a 5 s drag (ms)", "<= 16.7 (+0.1)", lambda v: v <= 16.8),
    "interactive_ms": ("navigation start -> first decoded image (ms)", "<= 1000", lambda v: v <= 1000),
    "hover_frame_p95_ms": ("frame time p95 while hovering the map (ms)", "<= 16.7 (+0.1)", lambda v: v <= 16.8),
    "transfer_gzip_bytes": ("whole page scrolled through, gzip level 6 (bytes)", "<= 1.5 MB", lambda v: v <= 1.5e6),
    "model_bytes": ("the page's TF.js models: encoders, decoders, judge (bytes)", "<= 1 MB", lambda v: v <= 1e6),
    "family_model_bytes": ("the beta family's TF.js models, loaded when a reader picks a beta (bytes)", "report",
                           None),
}
# the page-side snippets, by name, from the "// ---- NAME" sections of probes.js (comments dropped)
JS = {m[0]: "\n".join(line for line in m[1].strip().splitlines() if not line.lstrip().startswith("//"))
      for m in re.findall(r"^// ---- (\w+).*?\n(.*?)(?=^// ----|\Z)", (REPO / "bench" / "probes.js").read_text(),
                          re.M | re.S)}
HARNESS = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script src="__bench__tf.min.js"></script>'
TF_BUNDLE = REPO / "node_modules/@tensorflow/tfjs/dist/tf.min.js"  # the all-in-one bundle, WebGL included


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed_build(build_py: Path, args: list, cwd: Path) -> tuple[float, float]:
    """Wall time of `python build_py ARGS`, and the time the build logs for itself (after imports)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(build_py), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    dt, own = time.perf_counter() - t0, re.findall(r"build took ([\d.]+) s", proc.stderr)  # its last log line
    if proc.returncode:
        sys.exit(f"bench: build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dt, float(own[-1]) if own else dt


def cold_builds(tmp: Path, data_args: list, n: int) -> tuple[list, dict]:
    """`n` builds from nothing; returns their times and the dirs of the last one."""
    times, inner = [], []
    for r in range(n):
        d = {k: tmp / f"cold{r}" / k for k in ("dist", "ckpt", "cache")}
        wall, own = timed_build(REPO / "build.py", ["--out", d["dist"], "--ckpt-dir", d["ckpt"],
                                                    "--cache-dir", d["cache"], *data_args], REPO)
        times.append(wall), inner.append(own)
        report = json.loads((d["cache"] / "last-build.json").read_text())
        if not {"ae", "vae", "judge"} <= set(report["trained"]) or not report["exported"]:
            sys.exit(f"bench: cold build {r} did not train and export every model: {report}")
        log(f"cold build {r + 1}/{n}: {wall:.1f} s ({own:.1f} s after imports)")
    return times, inner, d


def reused_build(tmp: Path, root: Path) -> dict:
    """Copies of a finished build's dist/, ckpt/ and cache/ in `root` (no cold build is timed)."""
    d = {k: tmp / "reused" / k for k in ("dist", "ckpt", "cache")}
    for k, dst in d.items():
        if not (root / k).is_dir():
            sys.exit(f"bench: --from-build {root} has no {k}/ folder")
        shutil.copytree(root / k, dst)
    log(f"no cold build: measuring a copy of the build in {root}")
    return d


def template_rebuilds(tmp: Path, warm: dict, data_args: list, n: int) -> tuple[list, bool]:
    """A copy of the project whose template gets a comment, rebuilt against the warm cache."""
    proj = tmp / "project"
    proj.mkdir()
    for src in (REPO / name for name in PROJECT):
        if src.is_dir():
            shutil.copytree(src, proj / src.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, proj / src.name)
    (proj / "node_modules").symlink_to(REPO / "node_modules")
    template = proj / "article" / "templates" / "index.html.j2"
    times, inner, hits = [], [], True
    for r in range(n):
        with template.open("a") as f:
            f.write(f"\n{{# bench: template-only change {r} #}}\n")
        wall, own = timed_build(proj / "build.py", ["--out", proj / "dist", "--ckpt-dir", warm["ckpt"],
                                                    "--cache-dir", warm["cache"], *data_args], proj)
        times.append(wall), inner.append(own)
        report = json.loads((warm["cache"] / "last-build.json").read_text())
        hits &= not (report["trained"] or report["figures_computed"] or report["exported"])
        log(f"template rebuild {r + 1}/{n}: {wall:.2f} s ({own:.2f} s after imports; cache hit: {hits})")
    return times, inner, hits


def browser_runs(site: Path, n: int, info: dict, seconds: float = 5) -> list[dict]:
    """`n` page runs and default-backend runs against `site` served by build.Handler on loopback."""
    from playwright.sync_api import sync_playwright
    runs = []
    with serve_site(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        info["chromium"] = browser.version
        for r in range(n):
            run = {**page_run(browser, base, seconds), **default_backend_run(browser, base)}
            run["decode_ratio"] = run["decode_ms_default_backend"] / run["decode_ms_page_backend"]
            log(f"page run {r + 1}/{n}: " + ", ".join(f"{k} {run[k]:.4g}" for k in TARGETS if k in run))
            runs.append(run)
        browser.close()
    return runs


def p95(frames: list[float]) -> float:
    frames = sorted(frames)
    return round(frames[min(len(frames) - 1, int(0.95 * len(frames)))], 1)


def wiggle(page, x: float, y: float, amp: float, seconds: float = 5, on_move=None) -> list[float]:
    """Moves the mouse up and down around (x, y) for `seconds` while rAF records frame times."""
    page.evaluate(JS["RAF_START"])
    t0 = time.perf_counter()
    while (t := time.perf_counter() - t0) < seconds:
        page.mouse.move(x, y + amp * math.sin(2 * math.pi * t / 1.25))
        if on_move:
            on_move()
    return page.evaluate(JS["RAF_STOP"])


def page_run(browser, base: str, seconds: float = 5) -> dict:
    """One cold page load: first decode, everything the page transfers when read to the end,
    page-backend decode time, a 5 s drag in the explorer and 5 s of hovering the map."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page, responses, errors = ctx.new_page(), [], []
    page.add_init_script(JS["READY"])
    page.on("response", lambda r: responses.append(r))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base)
    page.wait_for_function("() => window.__bench && 'explorer' in __bench", timeout=120_000)
    for y in range(0, page.evaluate("document.documentElement.scrollHeight"), 600):   # read to the end
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(60)
    page.wait_for_function("() => 'map' in __bench", timeout=60_000)
    page.wait_for_load_state("networkidle")
    marks = page.evaluate("window.__bench")
    sizes, foreign = [], 0  # (gzip bytes, raw bytes, path) per response
    for r in responses:
        if not r.url.startswith(base):
            foreign += 1
            continue
        body = r.body()
        sizes.append((len(gzip.compress(body, compresslevel=6)), len(body), r.url[len(base):]))
    sizes.sort(reverse=True)
    dec = page.evaluate(JS["TIME"], {"n": 200, "batches": 5, "own": False})
    # drag the first latent's point up and down for 5 s
    handle = page.get_by_role("slider", name="Latent 1", exact=True)
    handle.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = handle.bounding_box()
    plot = page.locator("#explorer svg.ex-plot").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    amp = max(10.0, min(cy - plot["y"], plot["y"] + plot["height"] - cy, 120) - 10)
    page.mouse.move(cx, cy)
    page.mouse.down()
    values = set()
    drag = wiggle(page, cx, cy, amp, seconds, on_move=lambda: len(values) < 50 and values.add(handle.get_attribute("aria-valuenow")))
    page.mouse.up()
    if len(values) < 3:
        sys.exit(f"bench: dragging 'Latent 1' did not change its value ({values})")
    # hover over the VAE's map for 5 s: every frame decodes the point under the pointer
    page.locator("#map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    m = page.locator("#map .scatter-panel svg").first.bounding_box()
    hover = wiggle(page, m["x"] + m["width"] / 2, m["y"] + m["height"] / 2, m["height"] / 3, seconds)
    peeks = page.evaluate("document.querySelector('#map .map-peek').hidden")
    ctx.close()
    if peeks:
        sys.exit("bench: hovering the map showed no decode")
    return {"interactive_ms": marks["explorer"], "map_ready_ms": marks["map"],
            "transfer_gzip_bytes": sum(s[0] for s in sizes), "transfer_raw_bytes": sum(s[1] for s in sizes),
            "requests": len(responses), "largest_gzip": [[p, g] for g, _, p in sizes[:8]],
            "foreign_requests": foreign, "page_errors": errors, "decode_ms_page_backend": dec["ms"],
            "page_backend": dec["backend"], "wasm_simd": dec["simd"], "wasm_threads": dec["threads"],
            "drag_frame_p95_ms": p95(drag), "drag_frame_max_ms": round(max(drag), 1), "drag_frames": len(drag),
            "drag_frames_over_25ms": sum(f > 25 for f in drag), "drag_values": len(values),
            "hover_frame_p95_ms": p95(hover), "hover_frames": len(hover)}


def default_backend_run(browser, base: str) -> dict:
    """Decode time with the backend TF.js picks by itself, in a page of our own (no CSP)
    that loads only TF.js's all-in-one bundle from node_modules."""
    page = (ctx := browser.new_context()).new_page()
    page.route(base + "__bench__.html", lambda route: route.fulfill(body=HARNESS, content_type="text/html"))
    page.route(base + "__bench__tf.min.js", lambda route: route.fulfill(path=str(TF_BUNDLE)))
    page.goto(base + "__bench__.html")
    out = page.evaluate(JS["TIME"], {"n": 50, "batches": 3, "own": True})
    ctx.close()
    return {"decode_ms_default_backend": out["ms"], "default_backend": out["backend"]}


def machine() -> dict:
    import torch
    versions = {p: importlib.metadata.version(p) for p in ("tensorflow", "tensorflowjs", "playwright")}
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu_count": os.cpu_count(),
            "platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.cuda.is_available(), **versions, "load_average": os.getloadavg()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="page runs and template rebuilds")
    p.add_argument("--build-runs", type=int, default=None, help="cold builds (default: 3, 1 with --tiny)")
    p.add_argument("--out", default=str(REPO / "bench" / "results.json"), help="results JSON")
    p.add_argument("--tiny", action="store_true", help="1 epoch on 512 images: a smoke test, not a benchmark")
    p.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", str(REPO / "data")))
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--from-build", type=Path, default=None, metavar="DIR",
                   help="skip the cold builds and measure a copy of the build in DIR (its dist/, ckpt/ and "
                        "cache/, made with the same data flags); cold_build_s is then not measured")
    args = p.parse_args(argv)
    build_runs = args.build_runs or (1 if args.tiny else 3)
    data_args = ["--data-dir", args.data_dir, "--quiet", *(TINY if args.tiny else [])]
    info, tmp = machine(), Path(tempfile.mkdtemp(prefix="ae-vae-bench-"))
    log(f"working in {tmp}")
    try:
        if args.from_build:
            cold, cold_own, warm = [], [], reused_build(tmp, args.from_build.resolve())
        else:
            cold, cold_own, warm = cold_builds(tmp, data_args, build_runs)
        rebuild, rebuild_own, cache_hit = template_rebuilds(tmp, warm, data_args, args.runs)
        metrics = json.loads((warm["dist"] / "metrics.json").read_text())
        model_bytes, family_bytes = model_sizes(warm["dist"])
        runs = browser_runs(warm["dist"], args.runs, info, 1.5 if args.tiny else 5)
    finally:
        shutil.rmtree(tmp, ignore_errors=True) if not args.keep else log(f"kept {tmp}")

    per_run = {"cold_build_s": cold, "rebuild_template_s": rebuild, "model_bytes": [model_bytes], "family_model_bytes": [family_bytes],
               **{f"{m}_{k}": [metrics[m][f"test_{k}"]] for m, k in
                  [("vae", "neg_elbo_784"), ("ae", "recon_bce_784"), ("vae", "recon_bce_784")]},
               "vae_prior_recognisable": [metrics["sampling"]["vae_prior"]["recognisable"]],
               **{k: [r[k] for r in runs] for k in TARGETS if k in runs[0]}}
    results = {k: {"measure": what, "median": statistics.median(per_run[k]), "runs": per_run[k], "target": target,
                   **({"pass": bool(ok(statistics.median(per_run[k])))} if ok else {})}
               if per_run[k] else {"measure": what, "median": None, "runs": [], "target": target,
                                   "skipped": "--from-build"}
               for k, (what, target, ok) in TARGETS.items()}
    results["ae_recon_bce_784"]["pass"] = results["vae_recon_bce_784"]["pass"] = bool(
        results["ae_recon_bce_784"]["median"] < results["vae_recon_bce_784"]["median"])
    results["cold_build_s"]["after_imports_s"] = cold_own
    results["rebuild_template_s"].update(after_imports_s=rebuild_own, cache_hit=cache_hit)
    results["decode_ms_page_backend"]["backend"] = runs[0]["page_backend"]
    results["decode_ms_default_backend"]["backend"] = runs[0]["default_backend"]
    settings = {"tiny": args.tiny, "runs": args.runs, "build_runs": 0 if args.from_build else build_runs,
                "from_build": bool(args.from_build), "build_args": ["$MNIST_DIR" if a == args.data_dir else a for a in data_args]}   # no machine paths
    doc = {"machine": info, "settings": settings, "all_pass": all(r.get("pass", True) for r in results.values()),
           "results": results, "page_details": {k: [r[k] for r in runs] for k in runs[0] if k not in TARGETS}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")

    rows = [("measure", "median", "target", "")] + [
        (r["measure"], "skipped" if r["median"] is None else f"{r['median']:,.0f}" if r["median"] >= 1e4
         else f"{r['median']:.4g}", r["target"],
         {True: "pass", False: "FAIL"}.get(r.get("pass"), "-")) for r in results.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print(f"{'tiny smoke run; ' if args.tiny else ''}all targets met: {doc['all_pass']}  ->  {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
