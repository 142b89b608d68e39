"""Shared fixtures: MNIST location, one tiny real build, a loopback server, Chromium.

The tiny build trains both models for one epoch on 512 training images and runs the
real figure code, the real tensorflowjs converter and the real templates; it is made
once per test session and shared by the tests that only read it.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # its banner needs IPython under pytest
sys.path.insert(0, str(REPO))

from harness import CHROMIUM, CHROMIUM_ARGS, TINY, load_models, serve_site  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Folder with the four MNIST archives: $MNIST_DIR, else the repo's data/."""
    d = Path(os.environ.get("MNIST_DIR", REPO / "data"))
    if not any(d.rglob("train-images-idx3-ubyte.gz")):
        pytest.fail(f"MNIST archives not found in {d}: set MNIST_DIR to the folder holding them")
    return d


def run_build(*args, cwd=REPO, check=True, **kw) -> subprocess.CompletedProcess:
    """`python build.py ARGS` in a subprocess; returns the completed process."""
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, **kw)
    if check and proc.returncode:
        raise AssertionError(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory, worker_id, mnist_dir):
    """Paths of one tiny, complete build: {'out', 'ckpt', 'cache', 'args'}, made once per test
    run: under pytest-xdist the first worker to need it builds it and the others wait for it
    (a file lock in the run's shared temporary folder). Tests read it; one that rebuilds works
    on a copy (test_build.copy_build)."""
    from filelock import FileLock
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "tiny"
    paths = {"out": root / "dist", "ckpt": root / "ckpt", "cache": root / "cache"}
    args = ["--data-dir", mnist_dir, "--out", paths["out"], "--ckpt-dir", paths["ckpt"],
            "--cache-dir", paths["cache"], *TINY]
    with FileLock(str(shared / "tiny.lock")):
        if not (root / "done").is_file():
            run_build(*args)
            (root / "done").touch()
    return {**paths, "args": args}


@pytest.fixture(scope="session")
def site(tiny_build) -> Path:
    return tiny_build["out"]


@pytest.fixture(scope="session")
def server(site):
    """Base URL of `site` served by build.py's handler on a free loopback port."""
    with serve_site(site) as url:
        yield url


@pytest.fixture(scope="session")
def nets(tiny_build):
    """{'ae': model, 'vae': model} rebuilt in PyTorch from the tiny build's checkpoints."""
    return load_models(tiny_build["ckpt"])


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that records console errors, page errors and off-origin requests.

    The test reads `page.errors` and `page.foreign` at its end.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors, pg.foreign = [], []
    origin = re.match(r"https?://[^/]+", server).group(0)
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: None if r.url.startswith((origin, "data:", "blob:"))
          else pg.foreign.append(r.url))
    yield pg
    context.close()


def load_json(path: Path):
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="session")
def html(site) -> str:
    """The tiny build's index.html."""
    return (site / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def doc(html):
    """The tiny build's index.html, parsed (html5lib, etree, no namespaces)."""
    import html5lib
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def text(el) -> str:
    """An element's text, white space folded."""
    return " ".join("".join(el.itertext()).split())
