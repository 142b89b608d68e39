"""Shared fixtures: MNIST location, one tiny real build, a loopback server, Chromium.

The tiny build trains both models for one epoch on 512 training images and runs the
real figure code, the real tensorflowjs converter and the real templates; it is made
once per test session and shared by the tests that only read it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # its banner needs IPython under pytest
# one thread per PyTorch process, here and in the builds the tests start: the suite runs two
# workers on two cores (pytest -n 2), and a second OpenMP thread waiting for work spins on the
# core the other worker needs (a test that trains in the worker took 22 s with two threads, 7 s
# with one)
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(REPO))

from harness import CHROMIUM, CHROMIUM_ARGS, TINY, load_models, serve_site  # noqa: E402


def find_mnist() -> Path | None:
    """Folder with the four MNIST archives, $MNIST_DIR or else the repo's data/; None if absent."""
    d = Path(os.environ.get("MNIST_DIR", REPO / "data"))
    return d if any(d.rglob("train-images-idx3-ubyte.gz")) else None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Folder with the four MNIST archives (`find_mnist`)."""
    d = find_mnist()
    if d is None:
        pytest.fail(f"MNIST archives not found in {os.environ.get('MNIST_DIR', REPO / 'data')}: "
                    "set MNIST_DIR to the folder holding them")
    return d


def run_build(*args, cwd=REPO, check=True, **kw) -> subprocess.CompletedProcess:
    """`python build.py ARGS` in a subprocess; returns the completed process."""
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, **kw)
    if check and proc.returncode:
        raise AssertionError(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def tiny_paths(tmp_path_factory, worker_id, mnist_dir: Path) -> dict:
    """Where the session's tiny build lives (in the run's temporary folder that every pytest-xdist
    worker shares) and the build's arguments."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "tiny"
    paths = {"out": root / "dist", "ckpt": root / "ckpt", "cache": root / "cache"}
    args = ["--data-dir", mnist_dir, "--out", paths["out"], "--ckpt-dir", paths["ckpt"],
            "--cache-dir", paths["cache"], *TINY]
    return {**paths, "args": args, "root": root, "lock": shared / "tiny.lock"}


# the build, run in the background; then its exit status written to the file named first
BACKGROUND = "import pathlib, subprocess, sys; r = subprocess.run(sys.argv[2:]); pathlib.Path(sys.argv[1]).write_text(str(r.returncode))"


@pytest.fixture(scope="session", autouse=True)
def start_tiny_build(tmp_path_factory, worker_id):
    """Starts the session's tiny build in the background as the run begins (the first worker to
    get here starts it), so that the tests that do not read it run meanwhile (they come first:
    `pytest_collection_modifyitems`)."""
    from filelock import FileLock
    d = find_mnist()
    if d is None:
        return                                   # the tests that need MNIST say so themselves
    t = tiny_paths(tmp_path_factory, worker_id, d)
    with FileLock(str(t["lock"])):
        if not t["root"].is_dir():
            t["root"].mkdir()
            with open(t["root"] / "build.log", "w") as log:
                subprocess.Popen([sys.executable, "-c", BACKGROUND, str(t["root"] / "status"), sys.executable,
                                  str(REPO / "build.py"), *map(str, t["args"])], stdout=log, stderr=log, cwd=REPO)


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory, worker_id, mnist_dir, start_tiny_build):
    """Paths of one tiny, complete build: {'out', 'ckpt', 'cache', 'args'}, made once per test
    run in the background (`start_tiny_build`); every worker that needs it waits for it. Tests
    read it; one that rebuilds works on a copy (test_build.copy_build)."""
    t = tiny_paths(tmp_path_factory, worker_id, mnist_dir)
    status = t["root"] / "status"
    deadline = time.monotonic() + 900
    while not status.is_file():
        if time.monotonic() > deadline:
            pytest.fail("the tiny build took more than 15 minutes")
        time.sleep(0.2)
    if status.read_text() != "0":
        pytest.fail(f"the tiny build failed ({status.read_text()}):\n{(t['root'] / 'build.log').read_text()[-3000:]}")
    return {k: t[k] for k in ("out", "ckpt", "cache", "args")}


def pytest_collection_modifyitems(items):
    """The tests that read the tiny build run last, so that the others run while it is made."""
    items.sort(key=lambda item: "tiny_build" in item.fixturenames)


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


def copy_project(dst: Path) -> Path:
    """A copy of the code (not of node_modules, linked) whose templates a test may edit."""
    dst.mkdir()
    for name in ["build.py", "store.py", "training", "figures", "article"]:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)
    (dst / "node_modules").symlink_to(REPO / "node_modules")
    return dst


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
