"""What the tests and the benchmark share: the tiny build's flags, Chromium's launch
settings, a loopback server for a built site, axe-core's audit of a page, the trained models of a build,
and what a refused build must look like."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"

# one epoch on 512 images and a sweep of two latent sizes and one beta: a real build in
# seconds (numbers meaningless, every path taken)
TINY = ["--epochs", "1", "--train-limit", "512", "--test-limit", "256", "--sweep-dims", "2,4",
        "--sweep-betas", "0.5", "--quiet"]
# Debian's chromium, never a downloaded browser; without the networking flags Chromium
# keeps trying to reach hosts this machine cannot reach
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def serve_site(site: Path, handler=None):
    """Base URL of `site` served by build.Handler (or `handler`, a subclass of it) on a free
    loopback port, in a thread."""
    import build
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler or build.Handler, directory=str(site)))
    server.handle_error = lambda *a: None  # a browser closing a connection early is no error
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def near(page, figure: str = "explorer") -> None:
    """Scrolls the figure's element (#fig-NAME) into view, as a reader would: the page starts a
    figure only when it comes near the screen (article/js/main.js, whenNear)."""
    page.locator(f"#fig-{figure}").scroll_into_view_if_needed()


def axe(page, base: str) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, help, nodes}]. The script comes
    from node_modules, served as if from the site at `base`: the page's Content-Security-Policy
    allows no inline script."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.route("**/axe-core.js", lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
        page.add_script_tag(url=f"{base}axe-core.js")
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in found]


def load_models(ckpt_dir: Path, names=("ae", "vae")) -> dict:
    """{name: model} from the checkpoints a build left in `ckpt_dir` (one per name; 'judge'
    for the judge)."""
    import torch

    from training.config import CONFIGS
    from training.checkpoints import load_checkpoint
    out = {}
    for name in names:
        (path,) = [p for p in Path(ckpt_dir).glob(f"{name}-*.pt") if re.fullmatch(rf"{name}-[0-9a-f]{{16}}\.pt", p.name)]
        ckpt = torch.load(path, weights_only=True)
        config = CONFIGS[ckpt["kind"]].from_dict(ckpt["config"])
        loaded = load_checkpoint(path, config)
        assert loaded is not None, f"{path} is not a usable checkpoint"
        out[name] = loaded[0].eval()
    return out


# ---- a refused build: one line, at once ----

# what a build imports once it sets to work: a refusal "at once" comes before any of them
WORK_LIBRARIES = {"torch", "tensorflow", "numpy", "jinja2"}


def imports_traced() -> dict:
    """The environment for a build whose imports a test reads (Python lists each on stderr)."""
    return {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}


def one_error_line(proc) -> str:
    """The single error line of a refused run (exit 2); fails on a traceback or on more lines."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    return errors[0]


def refused_at_once(proc, seconds: float) -> None:
    """Asserts that a build run with `imports_traced()` was refused before importing any of
    WORK_LIBRARIES, and within 5 s. (A bound of 1 s on the time alone failed on a loaded
    two-core machine, where Python and argparse took 1.06 s.)"""
    imported = {row.split("|")[-1].strip() for row in proc.stderr.splitlines() if row.startswith("import time:")}
    assert imported, "the build's imports were not traced: run it with imports_traced()"
    assert not imported & WORK_LIBRARIES, f"imported before refusing: {sorted(imported & WORK_LIBRARIES)}"
    assert seconds < 5, seconds
