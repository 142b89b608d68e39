"""The journal's apparatus on the tiny build: math that screen readers read, citations and
footnotes that open on hover and focus, the appendices, the dark scheme, distinct input
names, tables that say they scroll, and axe-core's audit at desktop and phone widths."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from conftest import REPO, text
from harness import AXE, axe, near

TIP = "[role='tooltip']"
# each term of art with its footnote: what the text says where the term first appears
TERMS = {"nats": r"\bnats?\b", "kl": r"Kullback–Leibler divergence", "elbo": r"\bELBO\b",
         "rate": r"\brate\b", "entropy": r"\bclass entropy\b", "active": r"\bactive\b"}




def classes(el) -> list[str]:
    return (el.get("class") or "").split()


def mathml(el, tag: str) -> list:
    """The MathML elements `tag` under `el` (html5lib keeps MathML in its own namespace)."""
    return [e for e in el.iter() if isinstance(e.tag, str) and e.tag.endswith("}" + tag)]


def test_every_formula_carries_mathml_with_its_tex(doc):
    formulas = [el for el in doc.iter() if "katex" in classes(el)]
    assert len(formulas) >= 20
    for el in formulas:
        maths = mathml(el, "math")
        assert len(maths) == 1, text(el)
        notes = [a for a in mathml(maths[0], "annotation") if a.get("encoding") == "application/x-tex"]
        assert len(notes) == 1 and text(notes[0]), text(el)
        html_part = [c for c in el.iter("span") if "katex-html" in classes(c)]
        assert html_part and html_part[0].get("aria-hidden") == "true"
    sources = {text(a) for a in mathml(doc, "annotation")}
    assert r"\mathcal{N}(0, I)" in sources and r"z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)" in sources


def open_article(page, server, width=1280):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(server)
    page.wait_for_load_state("load")


def entry_text(page, link) -> str:
    # the DOM's text: the lists sit in appendices that are rendered only near view (content-visibility)
    return " ".join(page.locator(f"#{link.get_attribute('aria-describedby')}").text_content().split())


def test_citation_opens_its_reference_on_hover_and_on_focus(page, server):
    open_article(page, server)
    tip = page.locator(TIP)
    link = page.locator("#abstract a.citation").first
    described = link.get_attribute("aria-describedby")
    assert described and described == link.get_attribute("href")[1:]      # the entry in the list
    entry = entry_text(page, link)
    assert "Spinner, T." in entry and "Towards an Interpretable Latent Space" in entry and "2018" in entry
    assert tip.count() == 0 or not tip.is_visible()

    link.hover()
    tip.wait_for(state="visible")
    assert " ".join(tip.inner_text().split()) == entry
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")

    page.locator("body").focus()                                         # the keyboard's way: Tab to it
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('a.citation')"):
            break
    focused = page.locator("a.citation:focus")
    assert focused.count() == 1, "no citation is reachable with Tab"
    tip.wait_for(state="visible")
    assert " ".join(tip.inner_text().split()) == entry_text(page, focused)
    box, under = focused.bounding_box(), tip.bounding_box()
    assert under["y"] >= box["y"] + box["height"] - 1 or under["y"] + under["height"] <= box["y"] + 1
    page.keyboard.press("Escape")
    tip.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.matches('a.citation')")   # Escape hides, focus stays

    # Back, a second after following a citation from a place no link led to, returns to the text at
    # once and stays there (the page held the citation's entry in place for seconds, against Back)
    link.scroll_into_view_if_needed()
    page.mouse.wheel(0, -120)                                            # the reader's own scrolling
    page.wait_for_timeout(500)
    reading = page.evaluate("scrollY")
    link.click()
    away = lambda: abs(page.evaluate("scrollY") - reading)
    for _ in range(50):
        if away() > 500:
            break
        page.wait_for_timeout(100)
    assert away() > 500, "the citation did not lead to its entry"
    page.wait_for_timeout(1000)
    page.go_back()
    page.wait_for_timeout(1500)
    assert away() <= 2, (reading, page.evaluate("scrollY"))

    # a note's back link returns to its mark without opening the note again over the text
    mark = page.locator("main a.footnote-ref").nth(1)
    mark.click()
    back = page.locator(f"#{mark.get_attribute('href')[1:]} a.footnote-back")
    expect(back).to_be_in_viewport(timeout=5_000)
    page.wait_for_timeout(300)
    back.click()
    expect(mark).to_be_in_viewport(timeout=5_000)
    page.wait_for_timeout(300)
    assert not tip.is_visible()
    assert page.errors == []


def test_terms_of_art_have_a_footnote_where_they_first_appear(page, server, doc):
    marks = [a for a in doc.iter("a") if "footnote-ref" in classes(a)]
    assert [text(a) for a in marks] == [str(k + 1) for k in range(len(marks))]          # numbered in order
    notes = {li.get("id"): li for li in doc.iter("li") if (li.get("id") or "").startswith("note-")}
    assert len(notes) == len(marks) >= len(TERMS)
    open_article(page, server)
    # the text of <main> before each mark, as a reader meets it (figures included)
    before = page.evaluate("""() => [...document.querySelectorAll('main a.footnote-ref')].map(a => {
        const r = document.createRange();
        r.setStart(document.querySelector('main'), 0);
        r.setEndBefore(a.closest('sup'));
        const hidden = [...document.querySelectorAll('main .katex-mathml')];
        let t = r.toString();
        for (const h of hidden) t = t.split(h.textContent).join(' ');    // MathML read aloud, not shown
        return t;
    })""")
    for term, pattern in TERMS.items():
        owner = [k for k, t in enumerate(before) if re.search(pattern + r"[^.]{0,30}$", t[-90:])]
        assert owner, f"no footnote right after the term {term!r}"
        k = owner[0]
        assert len(re.findall(pattern, before[k])) == 1, f"{term!r} appears before its footnote"
        note = page.locator(f"#note-{k + 1}")
        assert len(note.text_content().split()) >= 15, term
    tip = page.locator(TIP)
    mark = page.locator("a.footnote-ref").first
    mark.hover()
    tip.wait_for(state="visible")
    assert " ".join(tip.inner_text().split()) == entry_text(page, mark)
    page.keyboard.press("Escape")
    tip.wait_for(state="hidden")
    step = 3 * mark.bounding_box()["height"]
    for dy in (step, -step):                      # the page moves under the still pointer and back
        page.mouse.wheel(0, dy)
        page.wait_for_timeout(250)
    assert not tip.is_visible()                   # Escape holds until the pointer itself moves
    mark.focus()
    tip.wait_for(state="visible")
    back = page.locator("#note-1 a.footnote-back")
    assert back.get_attribute("href") == "#note-ref-1"
    assert page.errors == []


def test_appendices_cite_this_article_and_how_to_rebuild_it(doc, site):
    headings = [text(h) for h in doc.iter("h2")]
    assert "Appendix: Cite this article" in headings and "Appendix: How to rebuild this article" in headings
    sections = {s.get("id"): s for s in doc.iter("section")}
    bibtex = text(next(c for c in sections["cite"].iter("code") if text(c).startswith("@article{")))
    fields = dict(re.findall(r"(\w+)\s*=\s*\{+([^{}]*)\}+", bibtex))
    title = text(next(doc.iter("title")))
    published = next(t for t in doc.iter("time")).get("datetime")
    assert fields["title"] == title
    assert fields["author"] and fields["author"] in text(next(s for s in doc.iter("section") if "d-byline" in classes(s)))
    assert fields["year"] == published[:4]
    assert fields["url"]
    assert bibtex.count("{") == bibtex.count("}")
    readme = (REPO / "README.md").read_text()
    rebuild = text(sections["rebuild"])
    for command in re.findall(r"```sh\n(.*?)\n```", readme, re.S)[:2]:     # the build's and the tests'
        assert command.strip() in rebuild, command


def luminance(rgb: str) -> float:
    channels = [float(v) / 255 for v in re.findall(r"[\d.]+", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def colours(page, selector):
    """(text colour, alpha blended over the page, and the page's background) of `selector`."""
    return page.evaluate("""sel => {
        const el = document.querySelector(sel), body = getComputedStyle(document.body).backgroundColor;
        const [r, g, b, a = 1] = getComputedStyle(el).color.match(/[\\d.]+/g).map(Number);
        const [R, G, B] = body.match(/[\\d.]+/g).map(Number);
        return [`rgb(${r * a + R * (1 - a)}, ${g * a + G * (1 - a)}, ${b * a + B * (1 - a)})`, body];
    }""", selector)


DIGITS = ("#explorer canvas[aria-label*='decoded']", "#fig-dice .image-grid img")   # drawn pixels


def shots(page) -> list[bytes]:
    """The pixels of each of DIGITS as the screen shows them, without the two outermost pixels on each
    side: at a fractional position the page's own colour bleeds into the element's edge."""
    import io

    from PIL import Image
    out = []
    for selector in DIGITS:
        el = page.locator(selector).first
        el.scroll_into_view_if_needed()
        image = Image.open(io.BytesIO(el.screenshot(animations="disabled"))).convert("RGB")
        out.append(image.crop((2, 2, image.width - 2, image.height - 2)).tobytes())
    return out


def test_dark_scheme_follows_the_system_and_keeps_the_digits(page, server):
    open_article(page, server)
    near(page)
    page.wait_for_selector("#explorer[data-ready='true']", state="attached", timeout=30_000)
    light, settled = shots(page), None
    for _ in range(10):                                  # a decode still arriving is not the scheme's doing
        if (settled := shots(page)) == light:
            break
        light = settled
        page.wait_for_timeout(300)
    assert settled == light, "the light page's digits never settled"
    page.emulate_media(color_scheme="dark")
    assert shots(page) == light                          # digits and decoded images keep every pixel
    ink, ground = colours(page, "#abstract p")
    assert luminance(ground) < 0.05 and luminance(ink) > 0.6
    assert contrast(ink, ground) >= 7
    for selector in ("figcaption", "#results-table td", ".d-byline .byline-label", "a.citation", "h2"):
        fg, bg = colours(page, selector)
        assert contrast(fg, bg) >= 4.5, selector
    card = page.evaluate("getComputedStyle(document.querySelector('#explorer')).backgroundColor")
    assert card == "rgb(255, 255, 255)"                  # the figure's own drawing keeps its white ground
    for selector in ("#explorer canvas", "img[src*='.png']", "img[src*='.svg']"):
        assert page.evaluate(f"getComputedStyle(document.querySelector(\"{selector}\")).filter") == "none"
    page.emulate_media(color_scheme="light")
    ink, ground = colours(page, "#abstract p")
    assert ground == "rgb(255, 255, 255)" and luminance(ink) < 0.05


def test_inputs_have_distinct_names(page, server, site):
    data = json.loads((site / "data" / "figure-data.json").read_text())
    names = [d["name"] for d in data["inputs"]]
    assert len(set(names)) == len(names), names
    digits = [d for d in data["inputs"] if d["kind"] == "digit"]
    for d in digits:
        index = int(d["id"].rsplit("-", 1)[1])
        assert d["name"] == f"digit {d['id'].split('-')[1]}, test #{index}"
    open_article(page, server)
    near(page)
    page.wait_for_selector("#explorer[data-ready='true']", state="attached", timeout=30_000)
    labels = page.eval_on_selector_all("#explorer button[aria-label^='Input: ']", "bs => bs.map(b => b.ariaLabel)")
    assert len(labels) == len(names) and len(set(labels)) == len(labels)
    assert page.get_by_role("button", name=f"Input: {digits[1]['name']}", exact=True).count() == 1


def test_tables_that_scroll_say_so_and_scroll_by_keyboard(page, server):
    open_article(page, server, width=375)
    page.wait_for_timeout(300)
    wraps = page.locator(".table-wrap")
    scrolling = 0
    for k in range(wraps.count()):
        wrap = wraps.nth(k)
        wrap.scroll_into_view_if_needed()
        if not wrap.evaluate("el => el.scrollWidth > el.clientWidth + 1"):
            continue
        scrolling += 1
        assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
        assert "scrolls sideways" in wrap.get_attribute("aria-label")
        hint = wrap.evaluate("el => getComputedStyle(el, '::before').content")
        assert "Scroll sideways" in hint
        wrap.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("el => el.scrollLeft > 0", arg=wrap.element_handle())
        page.keyboard.press("ArrowRight")
        hint_box = wrap.evaluate("""el => { const r = el.getBoundingClientRect();
            return el.scrollLeft > 0 && getComputedStyle(el, '::before').position === 'sticky' && r.width > 0; }""")
        assert hint_box
    assert scrolling >= 2, "the sweep's tables should scroll on a phone"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_timeout(300)
    fits = page.locator("#results").locator(".table-wrap")
    assert fits.evaluate("el => el.scrollWidth <= el.clientWidth") and fits.get_attribute("tabindex") is None


def test_axe_finds_no_violations_in_the_dark_scheme(page, server):
    """axe-core in the dark colour scheme, with the explorer in use. (The light scheme at 1280
    and 375 px, as loaded and with the explorer in use, is audited by the benchmark's
    `axe_runs`, which tests/test_bench.py runs and holds to zero violations.)"""
    assert AXE.is_file(), "axe-core is missing: run `npm ci`"
    page.emulate_media(color_scheme="dark")
    open_article(page, server)
    near(page)
    page.wait_for_selector("#explorer[data-ready='true']", state="attached", timeout=30_000)
    page.get_by_role("button", name="Random", exact=True).click()
    page.get_by_role("button", name=re.compile("^Input: question mark")).click()
    page.wait_for_timeout(500)
    assert axe(page, server) == []
    assert page.errors == []
