"""Figure "watch them learn" (figures/train): an AE and a VAE trained in the reader's
browser, in a worker, from the build's seeded start. Real Chromium on the tiny build, found
by accessible names; and the Node test of TF.js against the build's PyTorch losses."""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess

import pytest
from playwright.sync_api import expect

from conftest import REPO
from harness import near

STATUS = re.compile(r"epoch (\d+) · AE ([\d.]+) · VAE (?:\(epoch \d+\) )?([\d.]+) \(KL ([\d.]+)\)")


def status(fig) -> str:
    return fig.get_by_role("status").inner_text()


def losses(fig) -> tuple[int, float, float, float]:
    m = STATUS.search(status(fig))
    assert m, status(fig)
    return int(m[1]), float(m[2]), float(m[3]), float(m[4])


def wait_epoch(page, fig, n: int, timeout=20_000) -> tuple:
    page.wait_for_function("([el, n]) => Number(el.dataset.epoch) >= n", arg=[fig.locator("[data-view]").element_handle(), n],
                           timeout=timeout)
    return losses(fig)


def open_figure(page, server, name="index.html"):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server + name)
    near(page, "train")
    fig = page.locator("#fig-train")
    fig.get_by_role("button", name="Train").wait_for()
    return fig, requests


def test_train_pause_reset_and_beta(page, server):
    fig, requests = open_figure(page, server)
    page.wait_for_load_state("networkidle")
    fig.scroll_into_view_if_needed()
    assert not [u for u in requests if "train-digits" in u], "the digits were fetched before the first press"
    assert "epoch 0" in status(fig)
    # until the first press each plane shows where the build's run ended (a still), not a blank canvas
    for m in ("ae", "vae"):
        panel = fig.locator(f".train-panel[data-model='{m}']")
        expect(panel.locator(".train-outside")).to_contain_text("where the build's run ended")
        ink, hue = panel.locator("canvas").evaluate("""c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0, hue = 0;
            for (let i = 0; i < d.length; i += 4) { ink += d[i] < 128; hue += Math.abs(d[i] - d[i + 2]) > 60; }
            return [ink, hue]; }""")
        assert ink > 500 and hue > 20, (m, ink, hue)          # decoded digits in ink, coloured dots

    fig.get_by_role("button", name="Train").click()
    pause = fig.get_by_role("button", name="Pause")
    first = wait_epoch(page, fig, 1)
    tensors = fig.locator("[data-view]").get_attribute("data-tensors")
    later = wait_epoch(page, fig, 3)
    assert later[0] >= 3 and later[1] < first[1] and later[2] < first[2], (first, later)
    assert fig.locator("[data-view]").get_attribute("data-tensors") == tensors, "the worker's tensors grew"

    pause.click()
    # an epoch under way when Pause is pressed runs to its end, and the status says so meanwhile
    assert fig.locator("[data-view]").evaluate(
        "el => el.dataset.busy === 'false' || /^finishing epoch \\d+ before pausing/.test(el.querySelector('[role=status]').textContent)")
    fig.get_by_role("button", name="Train").wait_for()
    page.wait_for_function("el => el.dataset.busy === 'false'", arg=fig.locator("[data-view]").element_handle())
    stopped = losses(fig)[0]
    page.wait_for_timeout(2500)
    assert losses(fig)[0] == stopped, "the epoch count went on after Pause"

    fig.get_by_role("button", name="Reset").click()
    page.wait_for_function("el => el.dataset.epoch === '0'", arg=fig.locator("[data-view]").element_handle())
    assert status(fig).startswith("epoch 0")
    fig.get_by_role("button", name="Step").click()
    assert wait_epoch(page, fig, 1) == first, "Reset did not give the same first epoch again"

    fig.get_by_role("combobox", name="β").select_option("4")
    page.wait_for_function("el => /VAE \\(epoch 0\\)/.test(el.querySelector('[role=status]').textContent)",
                           arg=fig.locator("[data-view]").element_handle())
    fig.get_by_role("button", name="Step").click()
    epoch, ae, vae, kl = wait_epoch(page, fig, 2)
    assert "VAE (epoch 1)" in status(fig)
    assert kl != first[3], "β = 4 gave the same KL as β = 1"

    fig.get_by_role("button", name="Train").click()             # leaving the screen pauses
    fig.get_by_role("button", name="Pause").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    fig.get_by_role("button", name="Train").wait_for(timeout=5000)
    assert not page.errors and not page.foreign, (page.errors, page.foreign)


def test_nothing_large_named_train_before_the_first_press(page, server, site):
    sizes = []
    page.on("response", lambda r: "train" in r.url and sizes.append((r.url, len(r.body()))))
    _, requests = open_figure(page, server)
    page.wait_for_load_state("networkidle")
    assert sizes and all(n <= 50_000 for _, n in sizes), sizes
    assert not [u for u in requests if "lib/tf.min.js" in u], "the worker's TF.js was fetched before the first press"
    spec = json.loads((site / "data" / "figure-data.json").read_text())["train"]
    on_use = [spec["file"], "lib/tf.min.js", "lib/tf-backend-wasm.min.js",
              *(f"js/{f}" for f in ("train-worker.js", "trainer.js", "train.js"))]
    assert sum(len(gzip.compress((site / f).read_bytes())) for f in on_use) <= 1_200_000


def test_the_figures_own_page_works_alone(page, server):
    fig, _ = open_figure(page, server, "figure-train.html")
    fig.get_by_role("button", name="Step").click()
    epoch, ae, vae, kl = wait_epoch(page, fig, 1)
    assert epoch == 1 and ae > 0 and vae > 0
    assert not page.errors and not page.foreign, (page.errors, page.foreign)


def test_tfjs_matches_pytorch_losses(site):
    proc = subprocess.run(["node", "--test", "--test-reporter=tap", "tests/js/train.test.mjs"], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "SITE": str(site)}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# pass 2" in proc.stdout


def test_an_epoch_costs_the_main_thread_only_drawing(page, server):
    """While training runs, everything an epoch computes (the grid's decodes, the dots' codes, the
    judge's readings) happens in the worker: the page's own TF.js makes no tensor, and the figure's
    work on the main thread (its performance measures 'train:main': each message from the worker, each
    frame it draws in) stays within a few ms per epoch. Wall times on a busy machine only grow, so the
    median over the epochs is what must stay under 8 ms (the long tasks seen are in the failure
    message). The worker's tensors stay steady across the epochs."""
    fig, _ = open_figure(page, server, "figure-train.html")
    root = fig.locator("[data-view]")
    page.evaluate("""() => {
      window.__longtasks = [];
      new PerformanceObserver(list => window.__longtasks.push(...list.getEntries().map(e => [e.startTime, e.duration])))
        .observe({ type: 'longtask' });
    }""")
    fig.get_by_role("button", name="Step").click()               # the digits, TF.js and the judge load
    wait_epoch(page, fig, 1, timeout=60_000)
    page.locator("#fig-train [data-view][data-busy='false']").wait_for(state="attached")
    ids, since = page.evaluate("[tf.engine().nextTensorId(), performance.now()]")
    fig.get_by_role("button", name="Train").click()
    tensors = []
    for n in range(2, 6):
        wait_epoch(page, fig, n, timeout=60_000)
        tensors.append(root.get_attribute("data-tensors"))
    fig.get_by_role("button", name="Pause").click()
    page.locator("#fig-train [data-view][data-busy='false']").wait_for(state="attached")
    page.wait_for_timeout(500)                                  # the last epoch's frames
    made = page.evaluate("tf.engine().nextTensorId()") - ids - 1
    assert made == 0, f"the page's TF.js made {made} tensors while the figure trained (the judge on the main thread?)"
    assert len(set(tensors)) == 1 and tensors[0], f"the worker's tensors changed across epochs: {tensors}"

    work = page.evaluate("""since => performance.getEntriesByName('train:main')
      .filter(e => e.startTime >= since).map(e => [e.startTime, e.duration, e.detail])""", since)
    per_epoch = []                                              # each epoch's message and the frames after it
    for start, duration, what in work:
        if what == "message epoch":
            per_epoch.append(0.0)
        if per_epoch:
            per_epoch[-1] += duration
    longtasks = page.evaluate("since => window.__longtasks.filter(([t]) => t >= since)", since)
    note = f"per epoch {[round(v, 1) for v in per_epoch]} ms; long tasks [start, ms] {longtasks}"
    assert len(per_epoch) >= 4, f"the figure measured no work per epoch ('train:main'): {note}"
    per_epoch.sort()
    assert per_epoch[len(per_epoch) // 2] < 8, f"the figure's main-thread work per epoch: {note}"
    assert not page.errors and not page.foreign, (page.errors, page.foreign)
