"""The page in the wild (issue 18, page items 1, 2, 3, 6 and narrow screens), in real Chromium.

Each test is a small input that a reader meets in practice and that the page once got
wrong: controls that showed a value the state no longer had, touch and pen on the maps,
a second finger on the draw pad, a fragment changed after load, a 320 px screen.
Touch runs through Chromium's own touch input (Playwright's touchscreen, and the DevTools
protocol for swipes and a second finger), so the browser decides what scrolls.
"""
from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from test_explorer import (LATENTS, ROOT, canvas_grey, clip, draw_shape, expected_image, open_page,
                           pad_ink, select, slider, swipe, values, wait_for)
from harness import near

MAP = "#map .scatter-panel[data-model='{}'] svg"
PAD = f"{ROOT} canvas[aria-label*='draw']"


@pytest.fixture(scope="module")
def data(site):
    return json.loads((site / "data" / "figure-data.json").read_text())


def first_of(data, name):
    """The first input called `name` ("digit 7" is the first digit 7, "digit 7, test #0"), as select() picks it."""
    return next(d for d in data["inputs"] if d["name"] == name or d["name"].startswith(f"{name}, test #"))


def named(name: str):
    """An accessible name that is `name`, or `name` with the test image's number after it."""
    return re.compile(rf"^{re.escape(name)}(, test #\d+)?$")


def new_page(browser, width=1280, height=900, touch=False):
    """A page of its own context that records errors: a phone's touch screen when `touch`."""
    extra = {"has_touch": True, "is_mobile": True} if touch else {}
    page = browser.new_context(viewport={"width": width, "height": height}, **extra).new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def center(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def to_middle(locator):
    locator.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")


def touch(cdp, kind, *points):
    """One DevTools touch event; points are (id, x, y) of the fingers down after it."""
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"id": k, "x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1} for k, x, y in points]})
    time.sleep(0.016)


# ---- 1. every control and every line is drawn from the state ----------------------------

def interp_value(page) -> float:
    return float(page.get_by_label("Interpolation").input_value())


def test_interpolation_slider_shows_the_walk_and_home_end_always_act(browser, server, data):
    """With two inputs selected the line sits on the newer one, so the slider shows 1 and
    Home walks to the older; after a drag the slider shows where the line is nearest the
    walk, never a position the state no longer has."""
    page = new_page(browser)
    open_page(page, server, wide=True)
    older, newer = first_of(data, "digit 1"), first_of(data, "digit 7")
    select(page, "digit 1")
    select(page, "digit 7")
    assert values(page) == pytest.approx(newer["codes"]["vae"], abs=1e-9)
    assert interp_value(page) == 1
    interp = page.get_by_label("Interpolation")
    interp.focus()
    page.keyboard.press("Home")
    assert values(page) == pytest.approx(older["codes"]["vae"], abs=1e-9)
    assert interp_value(page) == 0
    page.keyboard.press("End")
    assert values(page) == pytest.approx(newer["codes"]["vae"], abs=1e-9)
    interp.fill("0.5")
    # a drag leaves the walk: the slider follows the line, to its nearest point on the walk
    box = slider(page, 2).bounding_box()
    x, y = center(box)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 70, steps=5)
    page.mouse.up()
    z, a, b = np.array(values(page)), np.array(older["codes"]["vae"]), np.array(newer["codes"]["vae"])
    nearest = float(np.clip((z - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1))
    assert page.evaluate("latentExplorer.state.t") is None
    assert interp_value(page) == pytest.approx(nearest, abs=0.006)
    assert interp_value(page) != 0.5
    interp.focus()
    page.keyboard.press("Home")
    assert values(page) == pytest.approx(older["codes"]["vae"], abs=1e-9)
    # the line stays on the older input but leaves the walk: the slider shows 0, and Home still acts
    page.get_by_role("button", name=named("Decode digit 1")).first.click()
    assert page.evaluate("latentExplorer.state.t") is None and interp_value(page) == 0
    interp.focus()
    page.keyboard.press("Home")
    assert page.evaluate("latentExplorer.state.t") == 0
    page.get_by_role("button", name=named("Decode digit 1")).first.click()
    box = interp.bounding_box()
    page.mouse.click(box["x"] + 8, box["y"] + box["height"] / 2)     # a click on the thumb, where it is
    assert page.evaluate("latentExplorer.state.t") == 0
    assert page.errors == []
    page.context.close()


def test_beta_control_and_strip_follow_the_model_shown(browser, server, data, site, tiny_build):
    """The β control shows no β while the AE is shown (so choosing any β acts), and the
    interpolation strip walks in the VAE of the chosen β, as its decoder computes it."""
    from harness import load_models
    betas = json.loads((site / "data" / "betas.json").read_text())
    (name,) = betas["models"]
    page = new_page(browser)
    root = open_page(page, server)
    beta = page.get_by_label("β of the VAE")
    assert beta.input_value() == data["model_order"][0]
    page.get_by_label("Show AE").check()
    assert beta.input_value() == "", "the β control shows a VAE while the AE is shown"
    beta.select_option(data["model_order"][0])
    wait_for(lambda: root.get_attribute("data-model") == "vae", what="the VAE of the β chosen")
    select(page, "digit 1")
    select(page, "digit 7")
    beta.select_option(name)
    page.wait_for_selector(f"{ROOT}[data-model='{name}']", state="attached", timeout=30_000)
    assert beta.input_value() == name
    row = root.locator(".ex-strip-row").first
    wait_for(lambda: row.locator(".ex-strip-label").inner_text() == betas["models"][name]["label"],
             what="the strip's row of the chosen β")
    net = load_models(tiny_build["ckpt"], [name])[name]
    ends = [betas["inputs"][first_of(data, n)["id"]]["codes"][name] for n in ("digit 1", "digit 7")]
    cells = row.locator("canvas")
    for k, code in ((0, ends[0]), (cells.count() - 1, ends[1])):
        sel = f"{ROOT} .ex-strip-row:first-child canvas:nth-of-type({k + 1})"
        wait_for(lambda: np.abs(canvas_grey(page, sel) - expected_image(net, code)).max() <= 2,
                 what=f"cell {k} of the strip to show the β VAE's decode")
    assert page.errors == []
    page.context.close()


def test_a_drawing_line_follows_every_stroke(browser, server, data):
    """The drawing's coloured line is redrawn with its data after each stroke: it lies
    under the black line, which sits on the drawing's newest code."""
    page = new_page(browser)
    root = open_page(page, server, wide=True)
    strokes = [[(0.5, 0.05), (0.5, 0.95)], [(0.1, 0.5), (0.9, 0.5)], [(0.1, 0.1), (0.9, 0.9)]]
    seen = []
    for k in range(len(strokes)):
        draw_shape(page, strokes[k:k + 1])
        code = wait_for(lambda: (c := page.evaluate("""() => latentExplorer.state.input('drawing-1')?.codes.vae""")) and
                        c not in seen and c, what=f"the code after stroke {k + 1}")
        seen.append(code)
        line = root.locator(".ex-line[data-input-id='drawing-1']")
        wait_for(lambda: values(page) == pytest.approx(code, abs=1e-9), what="the snap to the drawing")
        black = root.locator(".ex-recon").get_attribute("d")
        for part in (".ex-stroke", ".ex-hit"):
            assert line.locator(part).get_attribute("d") == black, f"{part} after stroke {k + 1}"
    assert page.errors == []
    page.context.close()


# ---- 2. touch and pen on the maps -------------------------------------------------------

def test_touch_on_the_maps_scrolls_taps_and_drags(browser, server):
    """On a phone a vertical swipe over a map scrolls the page, a tap moves the code to
    the point tapped, the current code's marker can be dragged, and nothing throws."""
    page = new_page(browser, 375, 740, touch=True)
    open_page(page, server, wide=True)
    near(page, "map")
    cdp = page.context.new_cdp_session(page)
    plot = page.locator(MAP.format("vae"))
    marker = page.locator("#map [data-model='vae'] circle[aria-label='Current code']")
    to_middle(plot)
    page.wait_for_timeout(200)
    box, mark = plot.bounding_box(), center(marker.bounding_box())
    x = box["x"] + box["width"] * (0.3 if mark[0] > box["x"] + box["width"] / 2 else 0.7)
    z, y0 = values(page), page.evaluate("scrollY")
    swipe(cdp, x, box["y"] + box["height"] * 0.8, -160)
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") > y0 + 60, "a vertical swipe over the map did not scroll the page"
    assert values(page) == z
    # a tap moves the code there
    to_middle(plot)
    page.wait_for_timeout(200)
    box = plot.bounding_box()
    tap = (box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.4)
    page.touchscreen.tap(*tap)
    wait_for(lambda: values(page) != z, what="the tap to move the code")
    assert center(marker.bounding_box()) == pytest.approx(tap, abs=1.5)
    # the marker is a handle: a finger on it drags the code, and the page stays put
    y1 = page.evaluate("scrollY")
    start = center(marker.bounding_box())
    swipe(cdp, start[0], start[1], -50)
    page.wait_for_timeout(200)
    assert page.evaluate("scrollY") == y1
    assert center(marker.bounding_box()) == pytest.approx((start[0], start[1] - 50), abs=2)
    # a pen drags like a mouse, from wherever it touches down
    to_middle(plot)
    page.wait_for_timeout(200)
    box = plot.bounding_box()
    pen = [(box["x"] + box["width"] * u, box["y"] + box["height"] * 0.6) for u in (0.3, 0.45, 0.6)]
    for kind, (px, py) in zip(("mousePressed", "mouseMoved", "mouseMoved"), pen):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": px, "y": py, "button": "left", "buttons": 1,
                                              "clickCount": 1, "pointerType": "pen"})
    cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": pen[-1][0], "y": pen[-1][1], "button": "left",
                                          "clickCount": 1, "pointerType": "pen"})
    wait_for(lambda: center(marker.bounding_box()) == pytest.approx(pen[-1], abs=1.5), what="the pen's drag")
    # a tap in the other model's map switches to it
    ae = page.locator(MAP.format("ae"))
    to_middle(ae)
    page.wait_for_timeout(200)
    page.touchscreen.tap(*center(ae.bounding_box()))
    wait_for(lambda: page.locator(ROOT).get_attribute("data-model") == "ae", what="the switch to the AE")
    assert page.errors == []
    page.context.close()


# ---- 3. the draw pad ----------------------------------------------------------------------

def test_draw_pad_keeps_to_the_first_finger(browser, server):
    """A second finger on the pad neither draws nor ends the drawing; the first finger's
    stroke is used when it lifts."""
    page = new_page(browser, 375, 740, touch=True)
    open_page(page, server)
    cdp = page.context.new_cdp_session(page)
    pad = page.locator(PAD)
    to_middle(pad)
    page.wait_for_timeout(200)
    box = pad.bounding_box()
    at = lambda u, v: (box["x"] + u * box["width"], box["y"] + v * box["height"])   # noqa: E731
    one, two = at(0.2, 0.2), at(0.8, 0.8)
    touch(cdp, "touchStart", (0, *one))
    for k in range(1, 6):
        touch(cdp, "touchMove", (0, *at(0.2, 0.2 + 0.06 * k)))
    touch(cdp, "touchStart", (0, *at(0.2, 0.5)), (1, *two))
    for k in range(1, 6):
        touch(cdp, "touchMove", (0, *at(0.2, 0.5)), (1, *at(0.8 - 0.06 * k, 0.8)))
    touch(cdp, "touchMove", (0, *at(0.2, 0.5)))                   # the second finger lifts
    page.wait_for_timeout(600)
    assert page.get_by_role("button", name="Input: drawing 1", exact=True).count() == 0, \
        "the drawing was used while the first finger was still down"
    for k in range(1, 4):
        touch(cdp, "touchMove", (0, *at(0.2 + 0.1 * k, 0.5)))
    touch(cdp, "touchEnd")
    page.get_by_role("button", name="Input: drawing 1", exact=True).wait_for()
    ink = pad_ink(page)
    h, w = ink.shape
    assert ink[int(0.78 * h):int(0.82 * h), int(0.55 * w):int(0.85 * w)].max() == 0, "the second finger drew"
    assert ink[int(0.48 * h):int(0.52 * h), int(0.45 * w):int(0.5 * w)].max() > 0, "the first finger's stroke stopped"
    assert page.errors == []
    page.context.close()


def test_a_tap_leaves_a_dot_and_enter_on_an_empty_pad_says_so(browser, server):
    """Enter on an empty pad says what to do, where it is seen and heard; a tap draws a dot."""
    page = new_page(browser, 375, 740, touch=True)
    open_page(page, server)
    pad = page.locator(PAD)
    pad.focus()
    page.keyboard.press("Enter")
    note = page.locator(f"{ROOT} .ex-draw [aria-live], {ROOT} .ex-draw [role='status']").filter(
        has_text="draw something first")
    wait_for(lambda: note.count() == 1 and note.is_visible(), what="a visible word about the empty pad")
    assert page.get_by_role("button", name="Input: drawing 1", exact=True).count() == 0
    to_middle(pad)
    page.wait_for_timeout(200)
    page.touchscreen.tap(*center(pad.bounding_box()))
    assert pad_ink(page).sum() > 10, "a tap left no dot"
    page.get_by_role("button", name="Input: drawing 1", exact=True).wait_for()
    assert note.count() == 0 or not note.is_visible()
    assert page.errors == []
    page.context.close()


# ---- 6. the URL ---------------------------------------------------------------------------

def pressed(page, name) -> bool:
    return page.get_by_role("button", name=named(f"Input: {name}")).first.get_attribute("aria-pressed") == "true"


def test_a_changed_fragment_takes_effect(browser, server, data):
    """Editing the fragment and following an in-page link that changes it show that state;
    a link to a section leaves the explorer as it is."""
    page = new_page(browser)
    root = open_page(page, server)
    three, mark = first_of(data, "digit 3"), first_of(data, "question mark")
    page.evaluate(f"location.hash = '#m=ae&in={three['id']}'")
    wait_for(lambda: root.get_attribute("data-model") == "ae", what="the edited fragment's model")
    assert values(page) == pytest.approx(clip(three["codes"]["ae"], data["models"]["ae"]["axes"]), abs=1e-9)
    assert pressed(page, "digit 3") and not pressed(page, data["inputs"][0]["name"])
    page.evaluate(f"""() => {{ const a = document.createElement('a');
        a.href = '#m=vae&in={three['id']},{mark['id']}&t=0.25'; a.textContent = 'the walk';
        a.id = 'test-link'; document.querySelector('#explorer').before(a); }}""")
    page.click("#test-link")
    wait_for(lambda: root.get_attribute("data-model") == "vae", what="the link's model")
    assert page.evaluate("latentExplorer.state.t") == 0.25 and pressed(page, "question mark")
    want = values(page)
    page.evaluate("location.hash = '#results-table'")             # a section, not a state
    page.wait_for_timeout(400)
    assert values(page) == want and pressed(page, "question mark")
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_link_into_the_article_lands_on_its_target_and_it_stays(browser, server, width):
    """The sections of text skip their layout until near view, with an estimated height (style.css);
    laid out, the ones above a link's target grow or shrink. The target must stay at the top of the
    screen, for an address opened with a fragment and for a link followed in the page."""
    page = new_page(browser, width)
    page.goto(server + "#cite")
    page.wait_for_load_state("load")
    top = lambda target: page.evaluate(f"document.getElementById('{target}').getBoundingClientRect().top")
    wait_for(lambda: abs(top("cite")) <= 1, what="the opened link's target at the top")
    page.wait_for_timeout(500)
    assert abs(top("cite")) <= 1
    for target in ("information", "references"):
        page.evaluate(f"location.hash = '#{target}'")
        wait_for(lambda: abs(top(target)) <= 1, what=f"#{target} at the top")
        page.wait_for_timeout(500)
        # a figure above that starts late may move it; once the layout is still again it is put back
        # (on a busy machine that can take longer than the pause above)
        wait_for(lambda: abs(top(target)) <= 1, timeout=3.0, what=f"#{target} back at the top once the page is still")
    # Back, while the page still holds #references, lands on #information again, and it stays
    page.go_back()
    wait_for(lambda: abs(top("information")) <= 1, what="#information at the top after Back")
    page.wait_for_timeout(1500)
    wait_for(lambda: abs(top("information")) <= 1, timeout=3.0, what="#information still at the top after Back")
    # read on from there, follow a link, come Back: to where the reading was, not to #information
    page.mouse.move(width / 2, 300)
    page.mouse.wheel(0, 600)
    wait_for(lambda: top("information") < -300, what="scrolled on")
    page.wait_for_timeout(500)
    reading = top("information")
    page.evaluate("location.hash = '#references'")
    wait_for(lambda: abs(top("references")) <= 1, what="#references at the top")
    page.go_back()
    wait_for(lambda: abs(top("information") - reading) <= 2, what=f"the reading place ({reading:.0f} px) after Back")
    page.wait_for_timeout(1000)
    assert abs(top("information") - reading) <= 2, (top("information"), reading)
    assert page.errors == []
    page.context.close()


def test_an_address_to_a_figure_that_grows_as_it_starts_stays_on_it(browser, server):
    """On a phone the explorer, opened by its address, starts about a second after the page lands on
    it and grows to twice its height; the page then kept a point inside it in place and left the
    reader in the middle of the figure. Its top must end at the top of the screen again."""
    page = new_page(browser, 375, 812, touch=True)
    page.goto(server + "#fig-explorer")
    page.locator("#explorer[data-ready='true']").wait_for(state="attached", timeout=60_000)
    top = lambda: page.evaluate("document.getElementById('fig-explorer').getBoundingClientRect().top")
    wait_for(lambda: abs(top()) <= 1, timeout=5.0, what="the explorer at the top once started")
    page.wait_for_timeout(500)
    assert abs(top()) <= 1
    assert page.errors == []
    page.context.close()


def written(page):
    """Waits until the page has written its state into the address (after a pause)."""
    wait_for(lambda: page.evaluate("""async () => { const { toHash } = await import('./js/state.js');
        return location.hash === `#${toHash(latentExplorer.state)}`; }"""), what="the address to be written")


def test_back_and_forward_restore_and_drags_do_not_grow_history(browser, server, data):
    """Choosing inputs or a model makes a history entry, drags and keys do not; Back and
    Forward show each entry's state."""
    page = new_page(browser)
    root = open_page(page, server, wide=True)
    length = lambda: page.evaluate("history.length")     # noqa: E731
    start = length()
    select(page, "digit 3")
    written(page)
    select(page, "question mark")
    written(page)
    pushed = length()
    assert pushed == start + 2
    box = slider(page, 1).bounding_box()
    x, y = center(box)
    for k in range(4):                                   # drags and keys replace the entry
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x, y - 20 - 10 * k, steps=4)
        page.mouse.up()
        y -= 20 + 10 * k
        written(page)
    slider(page, 0).focus()
    page.keyboard.press("PageUp")
    written(page)
    assert length() == pushed
    dragged = values(page)
    page.get_by_label("Show AE").check()
    wait_for(lambda: root.get_attribute("data-model") == "ae", what="the switch to the AE")
    written(page)
    assert length() == pushed + 1
    page.go_back()
    wait_for(lambda: root.get_attribute("data-model") == "vae", what="Back to the VAE")
    assert values(page) == pytest.approx(dragged, abs=1e-12), (values(page), dragged, page.url)
    page.go_back()
    wait_for(lambda: not pressed(page, "question mark"), what="Back to before the question mark")
    assert pressed(page, "digit 3")
    page.go_forward()
    wait_for(lambda: pressed(page, "question mark"), what="Forward to the question mark")
    assert values(page) == pytest.approx(dragged, abs=1e-12)
    page.go_forward()
    wait_for(lambda: root.get_attribute("data-model") == "ae", what="Forward to the AE")
    assert page.errors == []
    page.context.close()


# ---- 7. narrow screens --------------------------------------------------------------------

def phone_with_a_walk(browser, server, width, height):
    """A touch page of this size with the article open and two digits selected (so that
    the interpolation's controls show too)."""
    page = new_page(browser, width, height, touch=True)
    open_page(page, server)
    select(page, "digit 1")
    select(page, "digit 7")
    return page


def test_nothing_scrolls_sideways_at_320_px(browser, server):
    page = phone_with_a_walk(browser, server, 320, 640)
    for y in range(0, page.evaluate("document.documentElement.scrollHeight"), 500):   # every lazy figure
        page.evaluate(f"scrollTo(0, {y})")
        page.wait_for_timeout(30)
    page.wait_for_timeout(300)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        if (!r.width || s.visibility === 'hidden') return false;
        for (let p = e.parentElement; p; p = p.parentElement) {
          if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return false;   // scrolls inside
        }
        return r.right > 320.5 || r.left < -0.5;          // innerWidth grows with the page on a phone
    }).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')).slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, wide
    assert page.errors == []
    page.context.close()


def test_controls_are_at_least_24_px_on_a_phone(browser, server):
    page = phone_with_a_walk(browser, server, 375, 740)
    page.locator("#map").scroll_into_view_if_needed()
    small = page.evaluate("""() => [...document.querySelectorAll(
          ['#explorer', '#map', '#recon'].flatMap(f => ['button', 'input', 'select', '[role=slider]']
            .map(c => `${f} ${c}`)).join(', '))]
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width && r.height && (r.width < 24 || r.height < 24))
        .map(([e, r]) => `${e.getAttribute('aria-label') || e.textContent.trim() || e.className.baseVal || e.className}` +
          ` ${r.width.toFixed(1)}x${r.height.toFixed(1)}`)""")
    assert page.locator(f"{ROOT} [role=slider]").count() == LATENTS
    assert page.get_by_label("Interpolation").is_visible()
    assert small == [], small
    assert page.errors == []
    page.context.close()
