"""The explorer beside its steps (issue: major revision, "Guided steps beside the explorer"):
on a wide screen it stays in view while the reader works through the invitations and their
"Show me" buttons; on a phone the page keeps one column and never scrolls sideways; and the
selected input's reconstructions sit next to the explorer's decoded images. In Chromium, on
the tiny build, by accessible names."""
from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from harness import near
from test_explorer import assert_decoded, canvas_grey, data, no_errors, open_page, select  # noqa: F401

FRONT, OTHER = "VAE decoded image", "AE decoded image (other model)"


def box(page, selector) -> dict:
    return page.evaluate("""sel => { const r = document.querySelector(sel).getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }""", selector)


# a part of the explorer wholly on the screen, above the "Back to the step" button at its foot
SHOWN = """sel => { const r = document.querySelector(sel).getBoundingClientRect();
    return r.height > 0 && r.top >= -1 && r.bottom <= innerHeight - 60; }"""


def show_me_first(page):
    """Presses the first invitation's "Show me" and waits for the page to settle."""
    page.get_by_role("button", name=re.compile(r"^Show me")).first.click()
    for _ in range(40):                          # a smooth scroll, if there is one
        before = page.evaluate("scrollY")
        page.wait_for_timeout(100)
        if page.evaluate("scrollY") == before:
            break


def test_the_explorer_stays_in_view_while_the_reader_scrolls_through_the_steps(page, server):
    """1280x900: after a "Show me", scrolling the steps' text down by 1.5 screens keeps both
    decoded images in view; the explorer fits the screen and covers none of the steps."""
    open_page(page, server)
    show_me_first(page)
    front = page.get_by_role("img", name=FRONT, exact=True)
    other = page.get_by_role("img", name=OTHER, exact=True)
    for canvas in (front, other):
        expect(canvas).to_be_in_viewport(ratio=1)
    steps = page.locator("ol.invitations")
    start = page.evaluate("scrollY")
    page.mouse.move(box(page, "ol.invitations")["left"] + 40, 450)   # the wheel over the steps' text
    page.mouse.wheel(0, 1350)
    for _ in range(50):
        page.wait_for_timeout(100)
        if page.evaluate("scrollY") >= start + 1300:
            break
    assert page.evaluate("scrollY") >= start + 1300, "the page did not scroll through the steps"
    expect(steps).to_be_in_viewport()
    for canvas in (front, other):
        expect(canvas).to_be_in_viewport(ratio=1)
    figure, explorer = box(page, "#fig-explorer"), box(page, "#explorer")
    assert explorer["bottom"] - explorer["top"] <= 900, "the explorer is taller than the screen"
    assert figure["right"] <= box(page, "ol.invitations")["left"], "the explorer covers the steps"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    no_errors(page)


IN_VIEW = """() => [...document.querySelectorAll('#explorer .ex-decoded, #explorer .ex-decoded-other, #explorer .ex-plot')]
    .every(el => { const r = el.getBoundingClientRect(); return r.height > 0 && r.top >= -1 && r.bottom <= innerHeight + 1; })"""


def test_one_column_on_phones_and_on_paper(page, server):
    """The explorer is docked (sticky, beside the steps) only on a wide screen, where a link to a
    docked section still scrolls to it; at 375 and 320 px it sits above the steps in one column,
    "Show me" brings its decoded images and axes into view and nothing scrolls sideways; printed,
    nothing sticks."""
    open_page(page, server)
    position = "getComputedStyle(document.getElementById('fig-explorer')).position"
    assert page.evaluate(position) == "sticky"
    # the docked sections have no box of their own: a link to one still arrives at its heading
    page.get_by_role("link", name="what we measured", exact=True).click()
    heading = page.get_by_role("heading", name="What we measured, and what you can try")
    expect(heading).to_be_in_viewport(timeout=5_000)
    for width, height in ((375, 740), (320, 640)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        assert page.evaluate(position) == "static"
        assert box(page, "ol.invitations")["top"] >= box(page, "#fig-explorer")["bottom"]
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), f"sideways at {width} px"
        page.evaluate("scrollTo(0, document.body.scrollHeight)")
        page.get_by_role("button", name=re.compile(r"^Show me")).first.click()
        # taller than the screen here: what comes into view is the part that answers the step,
        # both decoded images and the axes, together
        for _ in range(40):
            page.wait_for_timeout(100)
            if page.evaluate(IN_VIEW):
                break
        assert page.evaluate(IN_VIEW), (width, box(page, "#explorer .ex-decoded"), box(page, "#explorer .ex-plot"))
        # a step about another part of the explorer brings that part into view too, above the way back
        for step, part in (("draw something", ".ex-pad-box"), ("walk from one digit to another", ".ex-interp"),
                           ("roll the dice", ".ex-random")):
            page.evaluate("scrollTo(0, document.body.scrollHeight)")
            page.get_by_role("button", name=f"Show me: {step}").click()
            seen = lambda: page.evaluate(SHOWN, f"#explorer {part}")
            for _ in range(40):
                page.wait_for_timeout(100)
                if seen():
                    break
            assert seen(), (width, step, box(page, f"#explorer {part}"), page.evaluate("innerHeight"))
            if step == "roll the dice":                  # and what the dice drew, under the buttons
                assert page.evaluate(SHOWN, "#explorer .ex-decoded"), (width, box(page, "#explorer .ex-decoded"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(media="print")
    assert page.evaluate(position) == "static"
    no_errors(page)


def test_show_me_from_far_below_lands_on_the_explorer_and_offers_the_way_back(browser, server):
    """A phone reader who arrived by a link to a section far below the explorer: "Show me" still
    brings the explorer's decoded images and axes into view although what lies above it grows on
    the way there (figures that start as they come near), and a "Back to the step" button returns
    to the step, focused."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "#beyond")
    step = page.get_by_role("button", name=re.compile(r"^Show me\W+leave the grey$"))
    step.scroll_into_view_if_needed()
    # on the way, something above the explorer grows, as a figure does that starts as it comes near
    page.evaluate("""() => { const grows = document.createElement('div');
      document.getElementById('fig-explorer').before(grows);
      setTimeout(() => { grows.style.height = '900px'; }, 250); }""")
    step.click()
    where, still = None, 0
    for _ in range(100):                         # until the page has stopped moving for half a second
        page.wait_for_timeout(100)
        now = page.evaluate("[scrollY, document.getElementById('fig-explorer').getBoundingClientRect().top]")
        still, where = (still + 1 if now == where else 0), now
        if still == 5:
            break
    assert page.evaluate(IN_VIEW), (box(page, "#explorer .ex-decoded"), box(page, "#explorer .ex-plot"))
    back = page.get_by_role("button", name="Back to the step: leave the grey")
    expect(back).to_be_visible()
    page.evaluate("scrollTo(0, 0)")                 # offered only while the explorer is on the screen
    expect(back).to_be_hidden()
    page.evaluate("document.querySelector('#explorer .ex-front').scrollIntoView()")
    expect(back).to_be_visible()
    back.click()
    expect(step).to_be_in_viewport(timeout=5_000)
    expect(step).to_be_focused()
    expect(back).to_be_hidden()
    context.close()
    assert not errors, errors


def test_the_reconstructions_sit_next_to_the_decoded_images(page, server, nets, data):
    """1280x900: the selected input and each model's reconstruction of it (its decoder on the
    input's own code) are in the same screen as the explorer's decoded images."""
    open_page(page, server)
    select(page, "stickman")
    item = next(d for d in data["inputs"] if d["name"] == "stickman")
    page.get_by_role("img", name=FRONT, exact=True).scroll_into_view_if_needed()
    shown = [page.get_by_role("img", name=n, exact=True) for n in
             (FRONT, OTHER, "Selected input", "VAE reconstruction of the selected input",
              "AE reconstruction of the selected input")]
    for img in shown:
        expect(img).to_be_in_viewport(ratio=1)
    expect(page.locator("#explorer").get_by_text("Input: stickman")).to_be_visible()
    target = np.frombuffer(__import__("base64").b64decode(item["pixels"]), np.uint8).reshape(32, 32)
    assert np.array_equal(255 - canvas_grey(page, "#explorer canvas[aria-label='Selected input']"), target)
    for m in ("vae", "ae"):
        name = f"{data['models'][m]['label']} reconstruction of the selected input"
        assert_decoded(page, nets[m], f"#explorer canvas[aria-label='{name}']", item["codes"][m])
    no_errors(page)


@pytest.mark.parametrize("width, height", [(375, 667), (1280, 900)])
def test_tabbing_to_the_pad_brings_its_keys_into_view(browser, server, width, height):
    """The pad, reached by Tab from below the screen's edge, comes into view with the line of keys
    under it (the browser alone scrolls only the pad's own box into view): on a phone, and on a wide
    screen where the explorer, docked, has not yet reached the top of the screen and stuck there."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(server)
    near(page, "explorer")
    page.locator("#explorer .ex-ood button").last.wait_for()
    pad = page.get_by_label("Canvas to draw your own input")
    # the last stranger focused; the pad just below the screen, the explorer where it starts (its rail's
    # top: on a wide screen it sticks only once that has reached the top of the screen)
    page.evaluate("""() => { const t = [...document.querySelectorAll('#explorer .ex-ood button')].pop();
        t.focus({ preventScroll: true }); const p = document.querySelector('#explorer .ex-pad');
        const f = document.getElementById('fig-explorer'), within = p.getBoundingClientRect().top - f.getBoundingClientRect().top;
        scrollBy(0, f.parentElement.getBoundingClientRect().top - (innerHeight - 4 - within)); }""")
    page.wait_for_timeout(300)
    assert box(page, "#explorer .ex-pad")["top"] > height - 100
    page.keyboard.press("Tab")
    page.wait_for_timeout(400)
    assert pad.evaluate("el => el === document.activeElement")
    keys = box(page, "#explorer .ex-pad-keys")
    assert 0 <= box(page, "#explorer .ex-pad")["top"] and keys["bottom"] <= height + 1, keys   # 1 px: sub-pixel layout
    context.close()


def test_show_me_jumps_to_an_explorer_that_has_not_started(browser, server):
    """A phone reader who reached the steps by a link, the explorer not yet started: "Show me" jumps
    there and settles at once, instead of gliding for a second towards where the explorer was before
    it started and grew, then jumping (a newcomer's trial: 20 positions over 1.4 s)."""
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "#try-dice")
    page.wait_for_timeout(1500)
    assert page.evaluate("document.getElementById('explorer').dataset.ready") is None
    page.get_by_role("button", name="Show me: roll the dice").tap()
    seen = []
    for _ in range(40):                          # 1.2 s and more: the scroll positions on the way
        y = page.evaluate("scrollY")
        if not seen or seen[-1] != y:
            seen.append(y)
        page.wait_for_timeout(30)
    assert len(seen) <= 4, seen
    for _ in range(40):
        if page.evaluate(SHOWN, "#explorer .ex-random"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(SHOWN, "#explorer .ex-random"), box(page, "#explorer .ex-random")
    context.close()
