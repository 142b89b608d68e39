"""The article page of the tiny build: structure, citations, numbers, validity, layout.

Numbers on the page are checked against an independent computation (training.config's
sizes) or against the build's own metrics.json; the layout is checked in Chromium.
"""
from __future__ import annotations

import json
import math
import re

import html5lib
import pytest

from training.config import FLOAT_BITS, LATENT_DIM, MNIST_SIZE, PIXEL_BITS

# The brief's sections 1-11 (title block, abstract, ..., conclusion, references, acknowledgements)
SECTIONS = ["title", "abstract", "autoencoders", "ae-as-generator", "vae", "reparameterisation", "relatives",
            "latent-from-above", "latent-explorer", "findings", "drawbacks", "information", "conclusion",
            "references", "acknowledgements"]
FIGURES = ["fig-ae", "fig-vae", "fig-reparam", "fig-pca", "fig-explorer"]
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'none'")
TABLE_METRICS = ["ae.test_recon_bce_784", "vae.test_recon_bce_784", "ae.test_mse", "vae.test_mse",
                 "vae.test_kl", "vae.test_neg_elbo_784"]


@pytest.fixture(scope="module")
def html(site) -> str:
    return (site / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(html):
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def by_id(doc) -> dict:
    return {el.get("id"): el for el in doc.iter() if el.get("id")}


def test_every_section_and_figure_is_present(doc):
    ids = by_id(doc)
    missing = [s for s in SECTIONS + FIGURES + ["pca-scatter", "explorer", "results-table"] if s not in ids]
    assert not missing, f"missing ids: {missing}"
    for s in SECTIONS[2:]:
        el = ids[s]
        heading = el if el.tag in ("h2", "h3") else next((h for h in el.iter() if h.tag in ("h2", "h3")), None)
        assert heading is not None and text(heading), f"section #{s} has no heading"
    assert doc.find(".//h1") is not None and text(doc.find(".//h1"))
    assert len(text(ids["abstract"])) > 400, "abstract too short"
    assert doc.find(".//time[@datetime]") is not None, "no publication date"
    for f in FIGURES:
        caption = ids[f].find(".//figcaption")
        assert caption is not None and f"Figure {FIGURES.index(f) + 1}." in text(caption), f"#{f} caption"


def test_every_citation_resolves_and_every_reference_is_cited(doc):
    cited = {a.get("href")[1:] for a in doc.iter("a") if "citation" in (a.get("class") or "").split()}
    entries = {li.get("id") for li in by_id(doc)["references"].iter("li")}
    assert len(entries) >= 12
    assert cited - entries == set(), "citations without an entry"
    assert entries - cited == set(), "entries never cited"


def test_information_theory_numbers_match_config(doc, site):
    shown = {el.get("data-key"): text(el) for el in doc.iter() if el.get("data-key")}
    digit_bits = MNIST_SIZE * MNIST_SIZE * PIXEL_BITS
    latent_bits = LATENT_DIM * FLOAT_BITS
    number = lambda key: float(shown[key].replace(",", ""))  # noqa: E731
    assert number("mnist_size") == MNIST_SIZE and number("pixel_bits") == PIXEL_BITS
    assert number("latent_dim") == LATENT_DIM and number("float_bits") == FLOAT_BITS
    assert number("digit_bits") == digit_bits
    assert number("latent_bits") == latent_bits
    assert number("ratio") == pytest.approx(digit_bits / latent_bits)
    assert number("saved") == pytest.approx(round(100 * (1 - latent_bits / digit_bits), 1))
    metrics = json.loads((site / "metrics.json").read_text())
    assert number("kl_nats") == pytest.approx(metrics["vae"]["test_kl"], abs=0.005)
    assert number("kl_bits") == pytest.approx(metrics["vae"]["test_kl"] / math.log(2), abs=0.05)
    assert 2 ** (number("index_bits") - 1) < metrics["vae"]["train_images"] <= 2 ** number("index_bits")


def test_results_table_equals_metrics_json(doc, site):
    metrics = json.loads((site / "metrics.json").read_text())
    cells = {td.get("data-metric"): td for td in by_id(doc)["results-table"].iter("td") if td.get("data-metric")}
    assert sorted(cells) == sorted(TABLE_METRICS)
    for key, td in cells.items():
        model, name = key.split(".")
        expected = metrics[model][name]
        assert float(td.get("data-value")) == expected, key
        shown = text(td)
        decimals = len(shown.split(".")[1]) if "." in shown else 0
        assert abs(float(shown) - expected) <= 0.5 * 10 ** -decimals + 1e-12, (key, shown, expected)


def test_page_is_valid_html(html):
    html5lib.HTMLParser(strict=True).parse(html)


def test_no_dead_links_and_nothing_loaded_from_elsewhere(doc, site):
    ids = by_id(doc)
    dead = [a.get("href") for a in doc.iter("a") if (a.get("href") or "").startswith("#")
            and a.get("href")[1:] not in ids]
    assert not dead, f"dead anchors: {dead}"
    local = [el.get("src") or el.get("href") for el in doc.iter()
             if el.tag in ("script", "img", "link") or (el.tag == "a" and not
                                                        re.match(r"(#|https?:)", el.get("href") or "#"))]
    for ref in filter(None, local):
        if ref.startswith("data:"):
            continue
        assert not re.match(r"(https?:)?//", ref), f"resource from another origin: {ref}"
        assert (site / ref).is_file(), f"{ref} is not in the site"
    meta = [m for m in doc.iter("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert [m.get("content") for m in meta] == [CSP]


def test_math_is_typeset_at_build_time(html):
    assert html.count('class="katex"') >= 20
    assert html.count('class="katex-display"') >= 5
    assert "\x00TEX" not in html and "\\mathcal" not in html


def test_static_figures_for_readers_without_javascript(browser, server, site):
    for name in ("pca.png", "explorer.png"):
        assert (site / "img" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    for name in ("pca.png", "explorer.png", "ae-topology.svg", "vae-topology.svg", "reparameterisation.svg"):
        img = page.locator(f'img[src="img/{name}"]')
        img.scroll_into_view_if_needed()
        assert img.is_visible(), name
        assert img.evaluate("el => el.complete && el.naturalWidth") > 0, name
    context.close()


def test_phone_width_has_no_horizontal_scroll_and_no_errors(page, server):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server, wait_until="networkidle")
    page.wait_for_selector("#pca-scatter[data-ready] canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.wait_for_timeout(500)
    assert page.errors == []
    assert page.foreign == []


def test_scatter_draws_both_models_and_legend_highlights(page, server):
    page.goto(server, wait_until="networkidle")
    page.wait_for_selector("#pca-scatter[data-ready]")
    inked = page.evaluate("""() => [...document.querySelectorAll('#pca-scatter canvas')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return [c.dataset.model, n]; })""")
    assert [m for m, _ in inked] == ["ae", "vae"] and all(n > 100 for _, n in inked), inked
    buttons = page.locator("#pca-scatter .scatter-legend button")
    assert buttons.count() == 10
    root = page.locator("#pca-scatter")
    buttons.nth(3).focus()                                   # keyboard focus highlights
    assert root.get_attribute("data-highlight") == "3"
    buttons.nth(3).blur()
    assert root.get_attribute("data-highlight") == ""
    buttons.nth(7).click()                                   # click keeps it
    page.mouse.move(0, 0)
    assert buttons.nth(7).get_attribute("aria-pressed") == "true"
    assert root.get_attribute("data-highlight") == "7"
    assert page.errors == [] and page.foreign == []
