"""The first screen paints before anything heavy loads (issue "Robust in the wild": Lighthouse's
mobile score). Lighthouse's simulated slow phone counts every script and high-priority fetch that
starts before the first paint as part of it: TF.js's scripts, the wasm and a model's weights,
preloaded or loaded as parser scripts, made its largest paint (the abstract's text) wait for
about 700 kB. These tests, in real Chromium against the tiny build, check that the page asks
for nothing of the kind before its first contentful paint, that it still loads them all and
decodes afterwards, and that the stills below the first screen reserve their space and load
only when near view.
"""
from __future__ import annotations

import re

import pytest

from harness import near

# what the first screen does not need: TF.js, d3, the wasm, the models, the figures' views
HEAVY = re.compile(r"/lib/[^?]*\.(js|wasm)|/models/|/js/(?!(main|models|state|digits|framing|tooltips|scrollers)\.js)")


def test_nothing_heavy_is_fetched_before_the_first_paint(page, server):
    page.goto(server)
    page.locator("#pair canvas.pair-canvas").first.wait_for(timeout=120_000)
    page.locator("#pair .pair-reading").first.filter(has_text=re.compile(r"\S")).wait_for(timeout=120_000)
    timing = page.evaluate("""() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        fetched: performance.getEntriesByType('resource').map(r => [r.name, r.startTime]),
        preloads: [...document.querySelectorAll('link[rel=preload], link[rel=modulepreload]')]
            .map(l => new URL(l.href).pathname.slice(1)),
    })""")
    assert timing["fcp"] is not None, "no first contentful paint"
    early = [(url, round(t)) for url, t in timing["fetched"] if HEAVY.search(url) and t < timing["fcp"]]
    assert not early, f"fetched before the first paint ({timing['fcp']:.0f} ms): {early}"
    html = page.request.get(server).text()
    parser = re.findall(r'<script\b(?![^>]*type="module")[^>]*>', html)
    assert not parser, f"classic scripts in the page's markup hold its first paint back: {parser}"
    marked = re.findall(r'<link rel="preload" href="([^"?]+)', html)
    assert marked == ["data/figure-data.json"], marked                  # all the markup preloads
    # once painted, the page asks at once for what start-up needs in turn later (the wasm, the views,
    # the first decoder), as preloads that the later requests then use: each file is fetched once
    hinted = set(timing["preloads"])
    assert {"lib/tfjs-backend-wasm-simd.wasm", "js/pair.js"} <= hinted, hinted
    assert any(p.startswith("models/vae-decoder/") and p.endswith(".bin") for p in hinted), hinted
    times = [url.split("?")[0].split("/", 3)[-1] for url, _ in timing["fetched"]]     # paths, as often as fetched
    twice = {p for p in [*hinted, "data/figure-data.json"] if times.count(p) != 1}
    assert not twice, f"fetched more or less than once: {twice}"
    later = {url.split("?")[0].rsplit("/", 1)[-1] for url, _ in timing["fetched"]}
    for name in ("tf-core.min.js", "tf-layers.min.js", "tf-backend-wasm.min.js", "d3.min.js",
                 "tfjs-backend-wasm-simd.wasm", "group1-shard1of1.bin", "pair.js", "explorer.js"):
        assert name in later, f"{name} never loaded"
    assert page.evaluate("tf.getBackend()") == "wasm"
    near(page)
    page.locator("#explorer[data-ready='true']").wait_for(state="attached", timeout=120_000)
    fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
    assert not [url for url in fetched if "tf-backend-cpu" in url], "the cpu backend loads where wasm runs"
    assert not page.errors, page.errors
    assert not page.foreign, page.foreign


def test_a_library_that_cannot_load_is_named_in_each_figure(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.route("**/lib/tf-layers.min.js*", lambda route: route.fulfill(status=404, body="missing"))
    pg.goto(server)
    error = pg.locator("#pair .figure-error")
    error.wait_for(timeout=60_000)
    assert "lib/tf-layers.min.js could not be loaded" in error.inner_text()
    assert pg.locator("#explorer .figure-error").count() == 1
    ctx.close()


def test_stills_below_the_first_screen_reserve_their_space_and_load_lazily(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    grids = re.findall(r'<div class="image-grid"[^>]*>\s*(<img\b[^>]*>)', html)
    assert len(grids) >= 6, "the dice's and the traversals' grids are missing"
    for tag in grids:
        assert re.search(r'\bwidth="\d+"', tag) and re.search(r'\bheight="\d+"', tag), f"unsized: {tag}"
        assert 'loading="lazy"' in tag, f"loads with the first screen: {tag}"


def test_text_far_below_is_rendered_only_near_view(page, server):
    page.goto(server)
    page.wait_for_load_state("load")
    far = page.locator("#references > ul > li").first      # inside a box that content-visibility skips
    near = page.locator("#abstract > p").first
    skipped = "el => !el.checkVisibility({contentVisibilityAuto: true})"
    assert not near.evaluate(skipped), "the abstract waits for its turn"
    assert far.evaluate(skipped), "the references are laid out and painted at start-up"
    far.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    assert not far.evaluate(skipped), "the references stay blank in view"
    assert far.inner_text().strip()


def test_a_figure_scrolled_to_stays_put_while_the_text_above_it_is_laid_out(page, server):
    """On a wide screen too, the formulas of "The VAE" wait until near view; laid out then, their
    section grows from its estimated height, which must not push away the map scrolled to below it
    (a section not yet laid out is never the scroll anchor: style.css, js/main.js)."""
    page.goto(server)
    page.wait_for_load_state("load")
    formula = page.locator("#vae .katex").first
    skipped = "el => !el.checkVisibility({contentVisibilityAuto: true})"
    assert formula.evaluate(skipped), "the formulas are laid out at start-up"
    page.locator("#map").scroll_into_view_if_needed()
    top = page.locator("#map").bounding_box()["y"]
    page.wait_for_selector("#map[data-ready]", state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    assert not page.locator("#vae > :last-child").evaluate(skipped), "the section above was not laid out"
    assert page.locator("#map").bounding_box()["y"] == pytest.approx(top, abs=2)
    assert page.errors == []


def test_what_sticks_out_of_the_text_column_is_not_clipped(page, server):
    """A section that skips its layout until near view clips what sticks out of its box, so its box
    spans the margin notes and the figures wider than the text (style.css): every corner of each
    one, once in view, is its own to the pointer."""
    page.goto(server)
    page.wait_for_load_state("load")
    found = page.evaluate("""async () => {
        const out = [];
        for (const el of document.querySelectorAll(
                '.d-article > section :is(aside.margin-note, .l-page, .l-screen-inset)')) {
            const section = el.closest('.d-article > section');
            if (getComputedStyle(section).contentVisibility !== 'auto') continue;
            el.scrollIntoView({ block: 'center' });
            await new Promise(resolve => setTimeout(resolve, 200));
            const b = el.getBoundingClientRect();
            const corners = [[b.left + 4, b.top + 4], [b.right - 4, b.top + 4], [b.left + 4, b.bottom - 4], [b.right - 4, b.bottom - 4]]
                .filter(([, y]) => y > 0 && y < innerHeight);
            out.push([section.id, el.className, corners.map(([x, y]) => el.contains(document.elementFromPoint(x, y)))]);
        }
        return out; }""")
    notes = [f for f in found if "margin-note" in f[1]]
    assert len(found) >= 4 and notes, found
    assert all(all(hits) and hits for _, _, hits in found), [f for f in found if not all(f[2])]
    assert page.errors == []


def test_the_first_paint_waits_for_two_stylesheets_only(site):
    import build
    for page in ("index.html", "figure-pair.html"):
        html = (site / page).read_text(encoding="utf-8")
        links = [href.split("?")[0] for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)]
        assert links == ["lib/katex/katex.min.css", build.STYLES], f"{page}: {links}"
    bundle = (site / build.STYLES).read_text(encoding="utf-8")
    for name, src in build.site_files(".css").items():    # the article's and every figure's, in order
        assert src.read_text(encoding="utf-8") in bundle, f"{name} is missing from {build.STYLES}"
