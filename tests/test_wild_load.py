"""The page on hosts that misbehave, in real Chromium, against the tiny build (issue 18,
items 4, 5 and the print half of 7).

Each test serves a copy of the tiny site with build.py's own handler, changed the way real
hosts differ: slow model files, a missing or truncated weight shard, a host that answers
a missing file with its index page, cross-origin-isolation headers, WebAssembly that never
arrives, JavaScript served as text/plain, files of two builds mixed by a cache, and print.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import build
from conftest import copy_project
from harness import TINY, near, serve_site

ROOT = "#explorer"
SHARD = "group1-shard1of1.bin"


class Host(build.Handler):
    """build.Handler with the quirks of a real host, set per test on a subclass."""
    extra_headers: dict = {}        # sent with every response
    types: dict = {}                # extension -> Content-Type, over build.Handler's
    slow: dict = {}                 # part of a path -> seconds before the answer
    index_for_missing = False       # answer a missing file with index.html and 200
    routes: dict = {}               # path -> folder that serves it instead of the site

    def end_headers(self):
        for k, v in self.extra_headers.items():
            self.send_header(k, v)
        super().end_headers()

    def guess_type(self, path):
        return self.types.get(Path(str(path)).suffix) or super().guess_type(path)

    def send_head(self):
        for part, seconds in self.slow.items():
            if part in self.path:
                time.sleep(seconds)
        plain = self.path.split("?")[0].split("#")[0]
        for prefix, folder in self.routes.items():
            if plain.startswith(prefix) and callable(folder):
                folder = folder(self.path)
            if plain.startswith(prefix) and folder:
                self.directory = str(folder)
        if self.index_for_missing and not os.path.exists(self.translate_path(self.path)):
            self.path = "/index.html"
        return super().send_head()


def host(site: Path, **quirks):
    """Base URL of `site` served on loopback by a Host with these quirks (a context manager)."""
    return serve_site(site, type("QuirkyHost", (Host,), quirks))


@pytest.fixture
def copy(site, tmp_path):
    """A fresh copy of the tiny site to damage."""
    out = tmp_path / "site"
    shutil.copytree(site, out)
    return out


@pytest.fixture
def tab(browser):
    """A fresh page; `tab.thrown` collects uncaught exceptions and unhandled rejections."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.thrown = []
    page.on("pageerror", lambda e: page.thrown.append(str(e)))
    yield page
    context.close()


def draw_stroke(page):
    pad = page.locator(f"{ROOT} canvas[aria-label*='draw']")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + box["height"] * 0.6, steps=6)
    page.mouse.up()


def message(page, selector) -> str:
    return page.locator(selector).inner_text()


# ---- loading ----

def test_loading_is_shown_and_the_last_interaction_wins(site, tab):
    """While the decoder arrives the explorer says so; a drawing read by encoders that are
    still loading does not move the code after the reader has pressed Random."""
    with host(site, slow={"/models/vae-decoder/": 2.5, "-encoder/": 4}) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-loading='true']", state="attached", timeout=10_000)
        assert "Loading the VAE" in message(tab, f"{ROOT} .ex-message")
        assert tab.locator(ROOT).get_attribute("data-ready") is None
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
        assert tab.locator(ROOT).get_attribute("data-loading") == "false"
        assert message(tab, f"{ROOT} .ex-message") == ""
        assert not tab.locator("#fig-explorer .figure-fallback").is_visible()   # started: the note goes

        draw_stroke(tab)                                     # the encoders are still on their way
        tab.wait_for_function("() => document.querySelector('#explorer .ex-message').textContent.includes('encoders')")
        tab.get_by_role("button", name="Random", exact=True).click()
        z = tab.evaluate("latentExplorer.state.z")
        tab.wait_for_selector(f"{ROOT} .ex-drawn button", timeout=30_000)   # the drawing arrived, late
        tab.wait_for_timeout(300)
        assert tab.evaluate("latentExplorer.state.z") == z, "the late drawing took the code from Random"
        assert tab.evaluate("latentExplorer.state.selected.at(-1).id").startswith("drawing")
        assert message(tab, f"{ROOT} .ex-message") == ""
    assert tab.thrown == []


# ---- load failures, per file, in every view ----

def select_two(page):
    for k in (1, 2):
        page.locator(f"{ROOT} .ex-digits button").nth(k).click()


def test_every_view_names_the_broken_file_and_recovers(copy, tab):
    """A missing shard (404), a missing judge and a truncated encoder: the reconstruction
    figure, the interpolation strip, the explorer, the drawing and the judge each name the
    file (the shard, not model.json) and what is wrong; switching back to a model that
    works clears the explorer's error; nothing is thrown uncaught."""
    (copy / "models" / "ae-decoder" / SHARD).unlink()
    (copy / "models" / "judge" / SHARD).unlink()
    shard = copy / "models" / "vae-encoder" / SHARD
    shard.write_bytes(shard.read_bytes()[:-100])
    with host(copy) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
        ae_shard = f"models/ae-decoder/{SHARD}"
        # the judge
        tab.wait_for_function("() => document.querySelector('#explorer .ex-verdict').textContent.includes('No reading')")
        verdict = message(tab, f"{ROOT} .ex-verdict")
        assert "judge" in verdict and f"models/judge/{SHARD}" in verdict and "HTTP 404" in verdict
        # the reconstruction figure: the AE's side says why, the VAE's side works
        tab.locator("#recon").scroll_into_view_if_needed()
        tab.wait_for_selector("#recon[data-error='true']", state="attached", timeout=30_000)
        recon = message(tab, "#recon .recon-message")
        assert ae_shard in recon and "model.json" not in recon and "AE decoder" in recon
        assert tab.locator("#recon [data-model='vae'] .recon-nats").get_attribute("data-value") is not None
        # the interpolation strip
        tab.locator(ROOT).scroll_into_view_if_needed()
        select_two(tab)
        tab.wait_for_selector(f"{ROOT} .ex-strip[data-error='true']", state="attached", timeout=30_000)
        # the strip tries again on each change of the walk (saying so meanwhile): its last word names the file
        tab.wait_for_function("s => document.querySelector('#explorer .ex-strip-message').textContent.includes(s)",
                              arg=ae_shard, timeout=30_000)
        # the explorer: the AE fails with the shard named, the VAE clears it
        tab.get_by_label("Show AE").check()
        tab.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
        assert ae_shard in message(tab, f"{ROOT} .ex-message")
        tab.get_by_label("Show AE").uncheck()
        tab.wait_for_selector(f"{ROOT}[data-error='false'][data-model='vae']", state="attached", timeout=30_000)
        assert message(tab, f"{ROOT} .ex-message") == ""
        # a drawing: the truncated encoder is named, nothing is thrown
        draw_stroke(tab)
        tab.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
        text = message(tab, f"{ROOT} .ex-message")
        assert f"models/vae-encoder/{SHARD}" in text and "truncated" in text
    assert tab.thrown == []


def test_an_index_page_served_for_a_missing_file_is_not_taken_for_it(copy, tab):
    """Hosts that answer every missing path with their index page and 200: the page says
    that a web page came instead of the named file, and does not parse it as weights."""
    (copy / "models" / "vae-decoder" / SHARD).unlink()
    shutil.rmtree(copy / "models" / "judge")
    with host(copy, index_for_missing=True) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
        text = message(tab, f"{ROOT} .ex-message")
        assert f"models/vae-decoder/{SHARD}" in text and "web page (HTML)" in text
        tab.get_by_label("Show AE").check()                  # a model that works: the judge is asked
        tab.wait_for_function("() => document.querySelector('#explorer .ex-verdict').textContent.includes('No reading')",
                              timeout=30_000)
        verdict = message(tab, f"{ROOT} .ex-verdict")
        assert "models/judge/model.json" in verdict and "web page (HTML)" in verdict
        assert tab.locator(ROOT).get_attribute("data-error") == "false"
    assert tab.thrown == []


# ---- hosting ----

def test_cross_origin_isolation_headers_still_start_webassembly(site, tab):
    """COOP/COEP make the page cross-origin isolated, where TF.js would pick its threaded
    WebAssembly, whose blob: workers the page's CSP forbids: start-up must still finish, on
    WebAssembly, and say so."""
    headers = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
    with host(site, extra_headers=headers) as url:
        tab.goto(url)
        near(tab)
        assert tab.evaluate("crossOriginIsolated")
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=20_000)
        assert tab.locator(ROOT).get_attribute("data-backend") == "wasm"
        assert "WebAssembly" in message(tab, f"{ROOT} .ex-backend")
    assert tab.thrown == []


def test_webassembly_that_never_arrives_falls_back_to_cpu_and_says_so(site, tab):
    with host(site, slow={".wasm": 40}) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
        assert tab.locator(ROOT).get_attribute("data-backend") == "cpu"
        text = message(tab, f"{ROOT} .ex-backend")
        assert "cpu" in text and "did not start within" in text
        tab.wait_for_function("() => document.querySelector('#explorer .ex-verdict').textContent.includes('judge')")
    assert tab.thrown == []


def test_scripts_served_as_text_plain_leave_the_stills_in_place(site, tab):
    """Module scripts served as text/plain never run: each interactive figure keeps its
    still or its note instead of an empty box."""
    with host(site, types={".js": "text/plain"}) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_timeout(1500)
        for figure in ("explorer", "recon"):
            note = tab.locator(f"#fig-{figure} .figure-fallback")
            assert note.is_visible(), figure
        still = tab.locator('#fig-map img.static-figure')
        still.scroll_into_view_if_needed()
        tab.wait_for_function("() => document.querySelector('#fig-map img.static-figure').naturalWidth > 0")
        assert still.is_visible()


@pytest.fixture(scope="module")
def other_build(tiny_build, mnist_dir, tmp_path_factory):
    """A second build from the same checkpoints and cached stages whose content differs: the
    code of a later version (one of the explorer's modules changed)."""
    tmp = tmp_path_factory.mktemp("other")
    project = copy_project(tmp / "project")
    view = project / "figures" / "explorer" / "explorer.js"
    view.write_text(view.read_text() + "\n// a later version\n")
    cache = tmp / "cache"
    shutil.copytree(tiny_build["cache"], cache)
    subprocess.run([sys.executable, str(project / "build.py"), "--data-dir", mnist_dir, "--out", tmp / "dist",
                    "--ckpt-dir", tiny_build["ckpt"], "--cache-dir", cache, *TINY], check=True, capture_output=True)
    return tmp / "dist"


def test_files_of_two_builds_are_never_mixed(site, other_build, tab):
    """A cache that still serves the old page over the new files, or old data beside the
    new page: the page says that the site was updated instead of running one build's
    figures on the other's data, and its button loads the new version at an address the
    cache has not seen."""
    old, new = site, other_build
    assert (old / "index.html").read_bytes() != (new / "index.html").read_bytes()
    fresh = lambda path: new if "fresh=" in path else old          # noqa: E731  the old page, until asked anew
    with host(new, routes={"/index.html": fresh}) as url:
        tab.goto(url + "index.html")
        near(tab)
        tab.wait_for_selector(".site-updated", timeout=30_000)
        assert "updated" in message(tab, ".site-updated")
        assert tab.locator(ROOT).get_attribute("data-ready") is None
        assert tab.locator("#fig-explorer .figure-fallback").is_visible()
        tab.get_by_role("button", name="Load the new version").click()
        tab.wait_for_load_state("load")
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
        assert tab.locator(".site-updated").count() == 0
    with host(new, routes={"/data/figure-data.json": old}) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(".site-updated", timeout=30_000)
        assert "data/figure-data.json" in message(tab, ".site-updated")
        assert tab.locator(ROOT).get_attribute("data-ready") is None
    assert tab.thrown == []


# ---- print ----

def test_print_shows_no_controls_and_complete_figures(site, tab):
    """Printed (or saved as PDF) without scrolling: no buttons, sliders or selects, and the
    map prints its still (its points load only near view)."""
    with host(site) as url:
        tab.goto(url)
        near(tab)
        tab.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
        tab.emulate_media(media="print")
        visible = tab.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea, .ex-pad')]
            .filter(el => el.checkVisibility()).map(el => el.outerHTML.slice(0, 80))""")
        assert visible == []
        assert not tab.locator("#map").is_visible()
        tab.wait_for_function("() => document.querySelector('#fig-map img.static-figure').naturalWidth > 0",
                              timeout=10_000)
        assert tab.locator('#fig-map img.static-figure').is_visible()
        assert tab.locator(f"{ROOT} .ex-decoded").is_visible()
        assert not tab.locator("#fig-explorer .figure-fallback").is_visible()
        pdf = tab.pdf()
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") >= 1
