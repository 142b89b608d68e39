#!/usr/bin/env python3
"""Benchmark of the build and of the page, against the project's targets.

    .venv/bin/python bench/bench.py                    # full MNIST: 3 cold builds, 3 page runs (~30 min)
    .venv/bin/python bench/bench.py --build-runs 1     # one cold build only
    .venv/bin/python bench/bench.py --tiny --runs 1 --out bench/tiny.json     # smoke test (~6 min)
    .venv/bin/python bench/bench.py --tiny --runs 1 --no-lighthouse --out bench/tiny.json   # without Lighthouse
    .venv/bin/python bench/bench.py --tiny --runs 1 --from-build DIR --out bench/tiny.json
                                                       # the same on a copy of a finished build

Everything runs in a temporary folder (fresh checkpoints, cache and site; the repo's dist/,
checkpoints/ and .cache/ are not touched); the site is served on loopback gzip-encoded like a
static host (build.Handler plus Content-Encoding: gzip for text, JS, JSON and wasm) and measured
in headless Chromium: the page, axe-core's audit, the training figure, and Lighthouse (whose
Chromium reaches nothing but loopback). Prints a table (measure, median, target, pass) and
writes every measure with its per-run values to --out (default bench/results.json); `all_pass`
there says whether every target was met (the exit status is 0 either way; 1 if a stage fails).
"""
from __future__ import annotations

import argparse, datetime, gzip, importlib.metadata, io, json, math, os, re
import platform, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from article.context import model_sizes  # noqa: E402
from harness import CHROMIUM, CHROMIUM_ARGS, TINY, axe, serve_site  # noqa: E402

PROJECT = ["build.py", "store.py", "training", "figures", "article"]  # what a template-only rebuild needs
# key: (what is measured, target text, pass test on the median or None for report-only)
TARGETS = {
    "cold_build_s": ("cold build: 16 autoencoders (the main pair with 3 seeds, the sweep) and the judge, figures, export, render (s)", "<= 600",
                     lambda v: v <= 600),
    "rebuild_template_s": ("rebuild after a template-only change (s)", "<= 0.5", lambda v: v <= 0.5),
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
    # Lighthouse 12, default settings (mobile: simulated slow 4G and 4x CPU slowdown; desktop: --preset=desktop);
    # accessibility, best practices and SEO from the mobile runs (the desktop runs' are in lighthouse_details)
    "lh_mobile_performance": ("Lighthouse performance, mobile (score)", ">= 90", lambda v: v >= 90),
    "lh_desktop_performance": ("Lighthouse performance, desktop (score)", ">= 95", lambda v: v >= 95),
    "lh_accessibility": ("Lighthouse accessibility (score)", "100", lambda v: v >= 100),
    "lh_best_practices": ("Lighthouse best practices (score)", "100", lambda v: v >= 100),
    "lh_seo": ("Lighthouse SEO (score)", "100", lambda v: v >= 100),
    **{f"axe_{when}_{w}": (f"axe-core violations at {w} px, {what}", "0", lambda v: v == 0)
       for w in (1280, 375) for when, what in (("load", "as loaded"), ("interactive", "explorer ready and used"))},
    "train_first_update_s": ("training figure: press Train -> both planes first drawn (s)", "<= 1.5",
                             lambda v: v <= 1.5),
    "train_epoch_s": ("training figure: one epoch of both models, in the worker (s)", "<= 4", lambda v: v <= 4),
    # rAF times come in 0.1 ms steps; this target allows 0.2 ms of timer grain
    "train_drag_frame_p95_ms": ("frame time p95, explorer drag while the figure trains (ms)", "<= 16.7 (+0.2)",
                                lambda v: v <= 16.9),
    "train_tensor_growth": ("worker's tf.memory().numTensors, last epoch - first", "0", lambda v: v == 0),
    "train_fetch_gzip_bytes": ("training figure's fetches on first use: data and code, gzip (bytes)", "<= 1.2 MB",
                               lambda v: v <= 1.2e6),
    "train_before_gzip_bytes": ("page scrolled through before the training figure is used, gzip (bytes)",
                                "<= 1.5 MB", lambda v: v <= 1.5e6),
}
# the page-side snippets, by name, from the "// ---- NAME" sections of probes.js (comments dropped)
JS = {m[0]: "\n".join(line for line in m[1].strip().splitlines() if not line.lstrip().startswith("//"))
      for m in re.findall(r"^// ---- (\w+).*?\n(.*?)(?=^// ----|\Z)", (REPO / "bench" / "probes.js").read_text(),
                          re.M | re.S)}
HARNESS = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script src="__bench__tf.min.js"></script>'
TF_BUNDLE = REPO / "node_modules/@tensorflow/tfjs/dist/tf.min.js"  # the all-in-one bundle, WebGL included
LIGHTHOUSE = REPO / "node_modules/lighthouse/cli/index.js"
# Lighthouse's Chromium: headless, and every request off loopback sent to a closed loopback port (Chromium
# never proxies loopback), so it fails at once and nothing leaves the machine
LH_CHROME_FLAGS = ["--headless=new", *CHROMIUM_ARGS, "--proxy-server=http://127.0.0.1:9"]
# what static hosts commonly gzip: text, JS, JSON, SVG and wasm (not .bin: weights and the digits go as they are)
GZIP_SUFFIXES = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".wasm", ".txt", ".xml", ".map"}


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
    """A copy of the project whose largest template of the article (a section of its prose) gets a
    comment, rebuilt against the warm cache."""
    proj = tmp / "project"
    proj.mkdir()
    for src in (REPO / name for name in PROJECT):
        if src.is_dir():
            shutil.copytree(src, proj / src.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, proj / src.name)
    (proj / "node_modules").symlink_to(REPO / "node_modules")
    template = max((proj / "article" / "templates").rglob("*.j2"), key=lambda p: p.stat().st_size)
    times, inner, hits = [], [], True
    for r in range(n):
        with template.open("a") as f:
            f.write(f"\n{{# bench: template-only change {r} #}}\n")
        wall, own = timed_build(proj / "build.py", ["--out", proj / "dist", "--ckpt-dir", warm["ckpt"],
                                                    "--cache-dir", warm["cache"], *data_args], proj)
        times.append(wall), inner.append(own)
        report = json.loads((warm["cache"] / "last-build.json").read_text())
        hits &= not (report["trained"] or report["measured"] or report["figures_computed"] or report["exported"])
        log(f"template rebuild {r + 1}/{n}: {wall:.2f} s ({own:.2f} s after imports; cache hit: {hits})")
    return times, inner, hits


def gzip_handler():
    """build.Handler answering as a static host does: files with a suffix in GZIP_SUFFIXES gzip-encoded
    (level 6, compressed once per file) to a client that accepts gzip, the rest as they are."""
    import build

    class GzipHandler(build.Handler):
        cache: dict = {}

        def send_head(self):
            path = self.translate_path(self.path)
            if os.path.isdir(path) and self.path.split("?")[0].split("#")[0].endswith("/"):
                path = os.path.join(path, "index.html")
            if (not os.path.isfile(path) or os.path.splitext(path)[1] not in GZIP_SUFFIXES
                    or "gzip" not in self.headers.get("Accept-Encoding", "")):
                return super().send_head()
            key = (path, os.stat(path).st_mtime_ns)
            if key not in self.cache:
                self.cache[key] = gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)
            body = self.cache[key]
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return io.BytesIO(body)

    return GzipHandler


def browser_runs(site: Path, n: int, info: dict, seconds: float = 5, lighthouse: bool = True,
                 tiny: bool = False) -> list[dict]:
    """`n` page runs, default-backend runs, axe-core audits, training-figure runs and (unless told not to)
    Lighthouse runs, mobile and desktop, against `site` served gzip-encoded on loopback."""
    from playwright.sync_api import sync_playwright
    runs = []
    with serve_site(site, gzip_handler()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        info["chromium"] = browser.version
        for r in range(n):
            run = {**page_run(browser, base, seconds), **default_backend_run(browser, base),
                   **axe_runs(browser, base), **train_run(browser, base, seconds, 2 if tiny else 4)}
            run["decode_ratio"] = run["decode_ms_default_backend"] / run["decode_ms_page_backend"]
            if lighthouse:
                run.update(lighthouse_runs(base))
            log(f"page run {r + 1}/{n}: " + ", ".join(f"{k} {run[k]:.4g}" for k in TARGETS
                                                       if isinstance(run.get(k), (int, float))))
            runs.append(run)
        browser.close()
    return runs


def gzip_sizes(responses: list, base: str) -> tuple[list, int]:
    """[(gzip level 6 bytes, raw bytes, path)] of the responses from `base`, largest first, and how many
    responses came from elsewhere."""
    sizes, foreign = [], 0
    for r in responses:
        if not r.url.startswith(base):
            foreign += not r.url.startswith(("data:", "blob:"))
            continue
        try:
            body = r.body()
        except Exception:       # a redirect, or a body the browser no longer holds
            continue
        sizes.append((len(gzip.compress(body, compresslevel=6)), len(body), r.url[len(base):]))
    return sorted(sizes, reverse=True), foreign


def wire_bytes(response) -> int:
    """The bytes of a response's body as sent (gzip-encoded or not), 0 where the browser did not say."""
    try:
        return max(0, response.request.sizes()["responseBodySize"])
    except Exception:
        return 0


def scroll_through(page) -> None:
    """Reads the page to the end, a screen at a time, and waits for the network to settle (each
    figure starts 2,600 px before it comes into view: js/main.js, NEAR)."""
    for y in range(0, page.evaluate("document.documentElement.scrollHeight"), 900):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(60)
    page.wait_for_load_state("networkidle")


def until(page, expression: str, timeout_s: float, what: str):
    """Polls `expression` in the page (page.evaluate: the page's CSP refuses Playwright's string
    wait_for_function) until it is truthy; returns its value."""
    t0 = time.perf_counter()
    while not (value := page.evaluate(expression)):
        if time.perf_counter() - t0 > timeout_s:
            sys.exit(f"bench: timed out after {timeout_s:.0f} s waiting for {what}")
        page.wait_for_timeout(50)
    return value


def drag_latent(page, seconds: float) -> tuple[list, set]:
    """Drags the explorer's 'Latent 1' point up and down for `seconds`: rAF frame times, and the
    values the slider took (it must move)."""
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
    frames = wiggle(page, cx, cy, amp, seconds,
                    on_move=lambda: len(values) < 50 and values.add(handle.get_attribute("aria-valuenow")))
    page.mouse.up()
    if len(values) < 3:
        sys.exit(f"bench: dragging 'Latent 1' did not change its value ({values})")
    return frames, values


def axe_runs(browser, base: str) -> dict:
    """axe-core's violations at 1280 and 375 px: as loaded, and with the explorer ready and used (every
    figure scrolled into view, Random and an input pressed), as tests/test_apparatus.py audits."""
    out = {}
    for width in (1280, 375):
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        page = ctx.new_page()
        page.goto(base)
        page.wait_for_load_state("load")
        loaded = axe(page, base)
        for figure in ("#fig-map", "#fig-explorer", "#fig-recon", "#fig-sweep"):   # each starts near view
            page.locator(figure).scroll_into_view_if_needed()
        page.locator("#explorer[data-ready='true']").wait_for(state="attached", timeout=120_000)
        page.locator("#fig-explorer").scroll_into_view_if_needed()
        page.get_by_role("button", name="Random", exact=True).click()
        page.get_by_role("button", name=re.compile("^Input: question mark")).click()
        page.wait_for_timeout(500)
        used = axe(page, base)
        ctx.close()
        out.update({f"axe_load_{width}": len(loaded), f"axe_interactive_{width}": len(used),
                    f"axe_ids_{width}": sorted({v["id"] for v in loaded + used})})
    return out


def train_run(browser, base: str, seconds: float, epochs: int) -> dict:
    """The training figure, on a page first read to the end (what it transferred so far): press Train;
    time to the first drawing of its planes and per epoch; then, still training, drag the explorer for
    `seconds`; the worker's tensor count after each epoch, and what the figure fetched once pressed.
    The page pauses the training when its figure leaves the screen, so the figure is moved (in the DOM)
    to just after the explorer, on a 1280 x 1200 screen, to keep both in view during the drag."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 1200})
    page, responses, errors = ctx.new_page(), [], []
    ctx.on("response", lambda r: responses.append(r))   # the context's: the worker's fetches too
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base)
    scroll_through(page)                      # every figure starts as it comes near view
    page.locator("#explorer[data-ready='true']").wait_for(state="attached", timeout=120_000)
    before, foreign = gzip_sizes(responses, base)
    seen = len(responses)
    page.evaluate("document.querySelector('#fig-explorer').after(document.querySelector('#fig-train'))")
    page.evaluate(JS["TRAIN_WATCH"])
    fig = page.locator("#fig-train")
    fig.scroll_into_view_if_needed()
    fig.get_by_role("button", name="Train", exact=True).click()
    until(page, f"window.__train.epochs.length >= {epochs}", 120 + 30 * epochs, f"{epochs} epochs of training")
    # the explorer's plot near the top of the screen, the training figure's planes below it
    page.evaluate("window.scrollTo(0, document.querySelector('#explorer svg.ex-plot')"
                  ".getBoundingClientRect().top + scrollY - 40)")
    page.wait_for_timeout(200)
    pressed = responses[seen:]                # what pressing Train fetched (the drag may fetch for the explorer)
    if page.locator("#train .train-run").inner_text() != "Pause":
        sys.exit("bench: the training figure paused when the explorer came into view")
    shown = page.evaluate("window.__train.epochs.length")
    frames, _ = drag_latent(page, seconds)
    if page.locator("#train .train-run").inner_text() != "Pause":
        sys.exit("bench: the training figure stopped training during the drag")
    until(page, f"window.__train.epochs.length >= {max(shown + 1, epochs + 1)}", 60, "an epoch after the drag")
    fig.get_by_role("button", name="Pause", exact=True).click()
    watch = page.evaluate("window.__train")
    page.locator("#train[data-busy='false']").wait_for(state="attached", timeout=60_000)
    used, foreign_used = gzip_sizes(pressed, base)
    wire = sum(wire_bytes(r) for r in pressed)
    ctx.close()
    if watch["first"] is None:
        sys.exit("bench: the training figure never drew its planes")
    names = " ".join(p for _, _, p in used)
    if "train-digits" not in names or "tf.min.js" not in names:
        sys.exit(f"bench: the training figure's fetches were not seen (the worker's?): {names}")
    times = [watch["first"]] + [e["t"] for e in watch["epochs"]]
    steps = [(b - a) / 1000 for a, b in zip(times, times[1:])][:epochs]    # epochs before the drag
    tensors = [e["tensors"] for e in watch["epochs"]]
    return {"train_first_update_s": (watch["first"] - watch["click"]) / 1000, "train_epoch_s": statistics.median(steps),
            "train_epochs_s": [round(t, 3) for t in steps], "train_drag_frame_p95_ms": p95(frames),
            "train_drag_frames": len(frames), "train_epochs_during_drag": len(watch["epochs"]) - shown,
            "train_tensor_growth": tensors[-1] - tensors[0], "train_tensors": tensors,
            "train_fetch_gzip_bytes": sum(g for g, _, _ in used), "train_fetch_raw_bytes": sum(r for _, r, _ in used),
            "train_fetch_wire_bytes": wire, "train_fetches_gzip": [[p, g] for g, _, p in used],
            "train_before_gzip_bytes": sum(g for g, _, _ in before),
            "train_foreign_requests": foreign + foreign_used, "train_page_errors": errors}


def lighthouse_runs(base: str) -> dict:
    """One Lighthouse run each for mobile and desktop (performance, accessibility, best practices, SEO),
    with Debian's Chromium; any audit short of a full score is named in lighthouse_details."""
    out, details = {}, {}
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        for form in ("mobile", "desktop"):
            path = Path(tmp) / f"{form}.json"
            cmd = ["node", str(LIGHTHOUSE), base, "--output=json", f"--output-path={path}", "--quiet",
                   "--only-categories=performance,accessibility,best-practices,seo", "--no-enable-error-reporting",
                   "--chrome-flags=" + " ".join(LH_CHROME_FLAGS), *(["--preset=desktop"] if form == "desktop" else [])]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                                  env={**os.environ, "CHROME_PATH": CHROMIUM})
            if proc.returncode or not path.is_file():
                sys.exit(f"bench: Lighthouse ({form}) failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            lhr = json.loads(path.read_text())
            scores = {k: None if c["score"] is None else round(100 * c["score"]) for k, c in lhr["categories"].items()}
            requests = lhr["audits"].get("network-requests", {}).get("details", {}).get("items", [])
            short = {k: [f"{a['id']} {lhr['audits'][a['id']]['score']}" for a in c["auditRefs"]
                         if lhr["audits"][a["id"]]["score"] is not None and lhr["audits"][a["id"]]["score"] < 1
                         and (a["weight"] or k != "performance")] for k, c in lhr["categories"].items()}
            details[form] = {"scores": scores, "runtime_error": lhr.get("runtimeError", {}).get("message"),
                             "metrics_ms": {m: lhr["audits"][m].get("numericValue") for m in
                                            ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                                             "speed-index", "interactive") if m in lhr["audits"]},
                             "cls": lhr["audits"].get("cumulative-layout-shift", {}).get("numericValue"),
                             "below_full_score": short, "requests": len(requests),
                             "transfer_bytes": sum(r.get("transferSize") or 0 for r in requests),
                             "resource_bytes": sum(r.get("resourceSize") or 0 for r in requests),
                             "foreign_requests": [r["url"] for r in requests
                                                  if r["url"].startswith("http") and not r["url"].startswith(base)]}
            out[f"lh_{form}_performance"] = scores["performance"]
        for k in ("accessibility", "best-practices", "seo"):
            out["lh_" + k.replace("-", "_")] = details["mobile"]["scores"][k]
    out["lighthouse_details"] = details
    return out


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
    until(page, "window.__bench && ('pair' in __bench || 'explorer' in __bench)", 120, "the first decoded image")
    scroll_through(page)                          # read to the end: the figures start as they come near view
    until(page, "'explorer' in __bench && 'map' in __bench", 60, "the explorer and the map")
    page.wait_for_load_state("networkidle")
    marks = page.evaluate("window.__bench")
    sizes, foreign = gzip_sizes(responses, base)  # (gzip bytes, raw bytes, path) per response
    dec = page.evaluate(JS["TIME"], {"n": 200, "batches": 5, "own": False})
    drag, values = drag_latent(page, seconds)     # the first latent's point up and down
    # hover over the VAE's map for 5 s: every frame decodes the point under the pointer
    page.locator("#map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    m = page.locator("#map .scatter-panel svg").first.bounding_box()
    hover = wiggle(page, m["x"] + m["width"] / 2, m["y"] + m["height"] / 2, m["height"] / 3, seconds)
    peeks = page.evaluate("document.querySelector('#map .map-peek').hidden")
    ctx.close()
    if peeks:
        sys.exit("bench: hovering the map showed no decode")
    # the first decoded image on screen: the opening figure's, or the explorer's in a build without it
    return {"interactive_ms": min(marks.get("pair", math.inf), marks["explorer"]), "explorer_ready_ms": marks["explorer"],
            "map_ready_ms": marks["map"],
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
    p.add_argument("--no-lighthouse", dest="lighthouse", action="store_false",
                   help="skip Lighthouse (its measures are listed as skipped)")
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
        runs = browser_runs(warm["dist"], args.runs, info, 1.5 if args.tiny else 5, args.lighthouse, args.tiny)
    finally:
        shutil.rmtree(tmp, ignore_errors=True) if not args.keep else log(f"kept {tmp}")

    per_run = {"cold_build_s": cold, "rebuild_template_s": rebuild, "model_bytes": [model_bytes], "family_model_bytes": [family_bytes],
               **{f"{m}_{k}": [metrics[m][f"test_{k}"]] for m, k in
                  [("vae", "neg_elbo_784"), ("ae", "recon_bce_784"), ("vae", "recon_bce_784")]},
               "vae_prior_recognisable": [metrics["sampling"]["vae_prior"]["recognisable"]],
               **{k: [r[k] for r in runs] for k in TARGETS if k in runs[0]}}
    results = {}
    for k, (what, target, ok) in TARGETS.items():
        if not per_run.get(k):                                  # Lighthouse, or the cold build, skipped
            results[k] = {"measure": what, "median": None, "runs": [], "target": target, "skipped": True}
            continue
        values = [v for v in per_run[k] if v is not None]      # a Lighthouse category without a score
        median = statistics.median(values) if values else None
        results[k] = {"measure": what, "median": median, "runs": per_run[k], "target": target,
                      **({"pass": median is not None and bool(ok(median))} if ok else {})}
    results["ae_recon_bce_784"]["pass"] = results["vae_recon_bce_784"]["pass"] = bool(
        results["ae_recon_bce_784"]["median"] < results["vae_recon_bce_784"]["median"])
    results["cold_build_s"]["after_imports_s"] = cold_own
    results["rebuild_template_s"].update(after_imports_s=rebuild_own, cache_hit=cache_hit)
    results["decode_ms_page_backend"]["backend"] = runs[0]["page_backend"]
    results["decode_ms_default_backend"]["backend"] = runs[0]["default_backend"]
    results["train_tensor_growth"]["tensors"] = runs[0]["train_tensors"]
    settings = {"tiny": args.tiny, "runs": args.runs, "build_runs": 0 if args.from_build else build_runs,
                "from_build": bool(args.from_build), "lighthouse": args.lighthouse,
                "served": "gzip (level 6) for " + " ".join(sorted(GZIP_SUFFIXES)), "build_args": ["$MNIST_DIR" if a == args.data_dir else a for a in data_args]}   # no machine paths
    doc = {"machine": info, "settings": settings, "all_pass": all(r.get("pass", True) for r in results.values()),
           "results": results, "page_details": {k: [r[k] for r in runs] for k in runs[0] if k not in TARGETS}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")

    rows = [("measure", "median", "target", "")] + [
        (r["measure"], "skipped" if r.get("skipped") else "none" if r["median"] is None
         else f"{r['median']:,.0f}" if r["median"] >= 1e4 else f"{r['median']:.4g}", r["target"],
         {True: "pass", False: "FAIL"}.get(r.get("pass"), "-")) for r in results.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print(f"{'tiny smoke run; ' if args.tiny else ''}all targets met: {doc['all_pass']}  ->  {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
