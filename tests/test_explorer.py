"""The explorer and the figures linked to it, in real Chromium, against the tiny build.

Decoded images and drawn inputs' codes are checked against the PyTorch models from the
tiny build's checkpoints, an independent computation of what the page must show.

After one epoch on 512 images the tiny models' codes span only a few hundredths, over
which the decoders' output hardly changes. Tests that need a visible change therefore
serve figure-data.json with every axis widened to [-WIDE, WIDE] (same origin, same file,
only the ranges differ); the others use the file as built.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from training.inputs import SHAPES, frame_like_mnist
from harness import near

WIDE = 6.0
ROOT = "#explorer"
DECODED = f"{ROOT} .ex-front canvas[aria-label*='decoded']"   # the front model's (the other's sits below)
LATENTS = 4


@pytest.fixture(scope="module")
def data(site):
    import json
    return json.loads((site / "data" / "figure-data.json").read_text())


def open_page(page, server, wide=False, fragment=""):
    """Loads the article and waits until the explorer has drawn its first decode."""
    if wide:
        def widen(route):
            response = route.fetch()
            figs = response.json()
            for m in figs["models"].values():
                for axis in m["axes"]:
                    axis["range"] = [-WIDE, WIDE]
            route.fulfill(response=response, json=figs)
        page.route("**/data/figure-data.json?*", widen)
    page.goto(server + fragment)
    near(page)
    page.wait_for_selector(f"{ROOT}[data-ready='true']", state="attached", timeout=30_000)
    page.locator(ROOT).scroll_into_view_if_needed()
    return page.locator(ROOT)


def slider(page, i):
    return page.get_by_role("slider", name=f"Latent {i + 1}", exact=True)


def values(page) -> list[float]:
    return [float(slider(page, i).get_attribute("aria-valuenow")) for i in range(LATENTS)]


def canvas_grey(page, selector) -> np.ndarray:
    """(32, 32) red channel of a 32x32 canvas."""
    rgba = page.evaluate("""sel => Array.from(document.querySelector(sel).getContext('2d')
        .getImageData(0, 0, 32, 32).data)""", selector)
    return np.array(rgba, dtype=np.int32).reshape(32, 32, 4)[..., 0]


def expected_image(net, z) -> np.ndarray:
    """What the page must draw for latent z: black ink on white, 255 - round(255 p)."""
    with torch.no_grad():
        p = net.decode(torch.tensor([z], dtype=torch.float32))[0, 0].numpy()
    return 255 - np.round(255 * p).astype(np.int32)


def wait_for(check, timeout=5.0, what="condition"):
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assert_decoded(page, net, selector=DECODED, z=None) -> np.ndarray:
    """Waits (decodes run once per animation frame) until the canvas shows `net`'s output
    for `z` (default: the sliders' values), within 2/255 per pixel; returns the canvas."""
    last = {}

    def check():
        last["z"] = values(page) if z is None else z
        img = canvas_grey(page, selector)
        last["diff"] = np.abs(img - expected_image(net, last["z"])).max()
        return img if last["diff"] <= 2 else None
    try:
        return wait_for(check)
    except AssertionError:
        raise AssertionError(f"{selector} differs from the decoder by {last['diff']}/255 at z={last['z']}")


def clip(code, axes):
    return [min(max(v, a["range"][0]), a["range"][1]) for v, a in zip(code, axes)]


def no_errors(page):
    assert page.errors == [], page.errors
    assert page.foreign == [], page.foreign


def line_point(page, input_id, model):
    """A viewport point where the line of `input_id` (for `model`) is the topmost element."""
    return page.evaluate("""([id, model]) => {
        const g = document.querySelector(`#explorer .ex-line[data-input-id="${id}"][data-model="${model}"]`);
        const path = g.querySelector('path'), n = path.getTotalLength(), m = path.getScreenCTM();
        for (let k = 1; k < 200; k++) {
          const p = path.getPointAtLength(n * ((k * 0.618) % 1));
          const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
          if (document.elementFromPoint(x, y)?.closest('.ex-line') === g) return [x, y];
        }
        return null;
    }""", [input_id, model])


def select(page, name):
    """Selects the first input called `name`; "digit 7" is the first digit 7 ("digit 7, test #0")."""
    button = page.get_by_role("button", name=re.compile(rf"^Input: {re.escape(name)}(, test #\d+)?$")).first
    if button.get_attribute("aria-pressed") != "true":
        button.click()
    assert button.get_attribute("aria-pressed") == "true"


def test_drag_changes_value_and_decodes_like_pytorch(page, server, nets):
    open_page(page, server, wide=True)
    before_z, before = values(page), assert_decoded(page, nets["vae"])
    box = slider(page, 1).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 60, steps=6)
    mid_z = values(page)                         # live while dragging, before the release
    assert mid_z[1] > before_z[1] and mid_z[0] == before_z[0]
    assert_decoded(page, nets["vae"])
    page.mouse.move(x + 5, y + 90, steps=8)
    page.mouse.up()
    z = values(page)
    assert z[1] < before_z[1] and [z[0], z[2], z[3]] == [before_z[0], before_z[2], before_z[3]]
    after = assert_decoded(page, nets["vae"])
    assert np.abs(after - before).max() > 2, "the decoded image did not change"
    verdict = page.locator(f"{ROOT} .ex-verdict")
    wait_for(lambda: verdict.get_attribute("data-digit"), what="the judge's verdict")
    no_errors(page)


def test_show_ae_keeps_the_digit(page, server, nets, data):
    """Ticking Show AE moves the black line to the AE's code of what is on screen: an input's
    own code when the line sits on it, else the AE encoder's code of the decoded image."""
    root = open_page(page, server, wide=True)
    digit = next(d for d in data["inputs"] if d["name"].startswith("digit 7,"))     # the first, as select() picks
    select(page, "digit 7")
    assert values(page) == pytest.approx(digit["codes"]["vae"], abs=1e-9)
    violins = root.locator(".ex-violins path")
    vae_violins = [violins.nth(i).get_attribute("d") for i in range(LATENTS)]
    page.get_by_label("Show AE").check()
    assert root.get_attribute("data-model") == "ae"
    assert values(page) == pytest.approx(digit["codes"]["ae"], abs=1e-9)
    assert_decoded(page, nets["ae"])
    assert "AE decoded" in page.locator(DECODED).get_attribute("aria-label")
    assert [violins.nth(i).get_attribute("d") for i in range(LATENTS)] != vae_violins
    assert root.locator(".ex-line[data-model='vae']").count() == 0      # no line on axes not its own
    # off any input: the other encoder reads the decoded image
    page.get_by_label("Show AE").uncheck()
    handle = slider(page, 0)
    handle.focus()
    page.keyboard.press("PageUp")
    z_vae = values(page)
    shown = nets["vae"].decode(torch.tensor([z_vae]))
    page.get_by_label("Show AE").check()
    with torch.no_grad():
        want = nets["ae"].encode(shown)[0][0].tolist()
    wait_for(lambda: root.get_attribute("data-model") == "ae", what="the switch")
    assert values(page) == pytest.approx(want, abs=2e-3)
    no_errors(page)


def test_the_same_dice_for_both_models_and_a_fitted_normal(page, server, nets, data):
    open_page(page, server)
    for model in ("vae", "ae"):
        if model == "ae":
            page.get_by_label("Show AE").check()
        axes = data["models"][model]["axes"]
        for button in ("Random", "Fitted normal"):
            seen = []
            for _ in range(2):
                page.get_by_role("button", name=button, exact=True).click()
                z = values(page)
                for i, (v, a) in enumerate(zip(z, axes)):
                    assert a["range"][0] <= v <= a["range"][1], (model, i, v, a["range"])
                seen.append(z)
            assert seen[0] != seen[1]
            assert_decoded(page, nets[model])
        # N(0, I): the axes leave room beyond the violins and reach at least +-3
        assert all(a["range"][0] <= -3 and a["range"][1] >= 3 for a in axes)
    no_errors(page)


def test_select_inputs_snap_and_sigma(page, server, data):
    root = open_page(page, server)
    by_name = {d["name"]: d for d in data["inputs"]}
    for name in ("question mark", "letter A"):
        select(page, name)
        assert values(page) == pytest.approx(clip(by_name[name]["codes"]["vae"], data["models"]["vae"]["axes"]))
    pressed = page.locator(f"{ROOT} button[aria-pressed='true']").count()
    assert root.locator(".ex-line[data-model='vae']").count() == pressed
    # the VAE's lines carry +-2 sigma on each axis
    sigma = root.locator(f".ex-line[data-input-id='{by_name['letter A']['id']}'] .ex-sigma line")
    assert sigma.count() == LATENTS
    axes = data["models"]["vae"]["axes"]
    page.get_by_role("button", name="Decode question mark", exact=True).click()    # the keyboard's way
    assert values(page) == pytest.approx(clip(by_name["question mark"]["codes"]["vae"], axes), abs=1e-9)
    point = line_point(page, by_name["letter A"]["id"], "vae")                      # the mouse's way
    assert point, "no clickable point on the line of letter A"
    page.mouse.dblclick(*point)
    assert values(page) == pytest.approx(clip(by_name["letter A"]["codes"]["vae"], axes), abs=1e-9)
    page.get_by_role("button", name="Input: letter A", exact=True).click()   # deselect
    assert root.locator(f".ex-line[data-input-id='{by_name['letter A']['id']}']").count() == 0
    no_errors(page)


def draw_shape(page, strokes, margin=0.12):
    """Draws strokes given in the unit box onto the drawing canvas with the mouse."""
    box = page.locator(f"{ROOT} canvas[aria-label*='draw']").bounding_box()
    size = box["width"] * (1 - 2 * margin)
    to_px = lambda p: (box["x"] + box["width"] * margin + p[0] * size,   # noqa: E731
                       box["y"] + box["height"] * margin + p[1] * size)
    for stroke in strokes:
        page.mouse.move(*to_px(stroke[0]))
        page.mouse.down()
        for p in stroke[1:]:
            page.mouse.move(*to_px(p), steps=2)
        page.mouse.up()


def pad_ink(page) -> np.ndarray:
    width, height, alpha = page.evaluate("""() => { const c = document.querySelector('#explorer canvas[aria-label*="draw"]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return [c.width, c.height, Array.from(d.data.filter((_, k) => k % 4 === 3))]; }""")
    return np.array(alpha, dtype=np.float32).reshape(height, width) / 255


def test_drawn_stickman_becomes_an_input_of_both_models(page, server, nets, data):
    root = open_page(page, server)
    draw_shape(page, SHAPES["stickman"][1])
    button = page.get_by_role("button", name="Input: drawing 1", exact=True)
    button.wait_for()
    assert button.get_attribute("aria-pressed") == "true"
    pixels = 255 - canvas_grey(page, f"{ROOT} button[aria-label='Input: drawing 1'] canvas")
    framed = frame_like_mnist(pad_ink(page)).astype(np.int32)
    assert pixels.sum() > 0 and np.abs(pixels - framed).max() <= 3

    x = torch.from_numpy(pixels.astype(np.float32) / 255)[None, None]
    with torch.no_grad():
        codes = {kind: nets[kind].encode(x)[0][0].tolist() for kind in ("vae", "ae")}
    assert values(page) == pytest.approx(clip(codes["vae"], data["models"]["vae"]["axes"]), abs=1e-4)
    assert_decoded(page, nets["vae"])
    # the reconstructions figure shows the drawing beside both reconstructions
    recon = page.locator("#recon")
    recon.scroll_into_view_if_needed()
    assert_decoded(page, nets["ae"], "#recon canvas[aria-label='AE reconstruction']", codes["ae"])
    assert_decoded(page, nets["vae"], "#recon canvas[aria-label='VAE reconstruction']", codes["vae"])

    page.get_by_label("Show AE").check()
    assert values(page) == pytest.approx(clip(codes["ae"], data["models"]["ae"]["axes"]), abs=1e-4)
    page.get_by_role("button", name="Clear", exact=True).click()
    page.get_by_role("button", name="Clear", exact=True).click()
    draw_shape(page, SHAPES["question-mark"][1])
    page.get_by_role("button", name="Input: drawing 2", exact=True).wait_for()
    assert page.get_by_role("button", name="Input: drawing 1", exact=True).count() == 1
    assert root.get_attribute("data-model") == "ae"
    no_errors(page)


def test_keyboard_drawing_makes_an_input(page, server):
    open_page(page, server)
    pad = page.get_by_label("Canvas to draw your own input")
    show = page.get_by_role("button", name="Show me: draw something")
    show.scroll_into_view_if_needed()
    show.click()                                                 # a mouse, then the page focuses the pad
    for _ in range(40):
        if page.evaluate("document.activeElement.matches('.ex-pad')"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement.matches('.ex-pad')")
    assert not page.locator(f"{ROOT} .ex-pad-keys").is_visible() and not page.locator(f"{ROOT} .ex-pad-pen").is_visible()
    assert page.locator(f"{ROOT} .ex-pad-hint").is_visible()
    page.keyboard.press("Shift+Tab")                             # and back, from the keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('.ex-pad')")
    assert page.locator(f"{ROOT} .ex-pad-keys").is_visible()     # the hint is announced and shown
    assert page.locator(f"{ROOT} .ex-pad-pen").is_visible() and not page.locator(f"{ROOT} .ex-pad-hint").is_visible()
    for key in ["ArrowUp"] * 5 + ["Space"] + ["ArrowDown"] * 9 + ["Space", "ArrowUp", "ArrowUp", "ArrowLeft", "ArrowLeft",
                                                                  "Space", "ArrowRight"] + ["ArrowRight"] * 4 + ["Enter"]:
        page.keyboard.press(key)
    page.get_by_role("button", name="Input: drawing 1", exact=True).wait_for()
    assert pad_ink(page).sum() > 100
    page.keyboard.press("Escape")
    assert pad_ink(page).sum() == 0
    no_errors(page)


def test_reconstructions_and_samples_of_q(page, server, nets, data):
    open_page(page, server)
    select(page, "stickman")
    item = next(d for d in data["inputs"] if d["name"] == "stickman")
    recon = page.locator("#recon")
    recon.scroll_into_view_if_needed()
    target = np.frombuffer(__import__("base64").b64decode(item["pixels"]), np.uint8).reshape(32, 32)
    assert np.array_equal(255 - canvas_grey(page, "#recon canvas[aria-label='Input']"), target)
    for m in ("ae", "vae"):
        assert_decoded(page, nets[m], f"#recon canvas[aria-label='{data['models'][m]['label']} reconstruction']",
                       item["codes"][m])
        shown = float(recon.locator(f"[data-model='{m}'] .recon-nats").get_attribute("data-value"))
        with torch.no_grad():
            p = nets[m].decode(torch.tensor([item["codes"][m]]))[0, 0, 2:30, 2:30].double().clamp(1e-7, 1 - 1e-7)
        t = torch.from_numpy(target[2:30, 2:30] / 255.0)
        want = float(-(t * p.log() + (1 - t) * (1 - p).log()).sum())
        assert shown == pytest.approx(want, rel=1e-3)
    page.get_by_role("button", name="Draw samples of q(z|x)").click()
    assert recon.locator(".recon-samples canvas").count() == 8
    no_errors(page)


def test_map_marks_and_sets_the_current_code(page, server, nets):
    open_page(page, server, wide=True)
    page.locator("#map").scroll_into_view_if_needed()
    marker = page.locator("#map [data-model='vae'] circle[aria-label='Current code']")
    wait_for(lambda: marker.get_attribute("data-x"), what="the marker")
    before = (marker.get_attribute("data-x"), marker.get_attribute("data-y"))
    slider(page, 0).focus()
    page.keyboard.press("PageUp")
    after = (marker.get_attribute("data-x"), marker.get_attribute("data-y"))
    assert after != before, "the marker did not follow Latent 1"
    # a click in the map sets the code to that point of the plane and decodes it
    z0 = values(page)
    page.locator("#map").scroll_into_view_if_needed()
    plot = page.locator("#map .scatter-panel[data-model='vae'] svg").bounding_box()
    page.mouse.click(plot["x"] + plot["width"] * 0.3, plot["y"] + plot["height"] * 0.3)
    z1 = values(page)
    assert z1 != z0
    assert_decoded(page, nets["vae"])
    # arrow keys move it; a click in the other model's map switches to that model
    overlay = page.locator("#map .scatter-panel[data-model='vae'] svg")
    overlay.focus()
    page.keyboard.press("ArrowRight")
    assert values(page) != z1
    page.locator("#map").scroll_into_view_if_needed()
    ae_plot = page.locator("#map .scatter-panel[data-model='ae'] svg").bounding_box()
    page.mouse.click(ae_plot["x"] + ae_plot["width"] * 0.6, ae_plot["y"] + ae_plot["height"] * 0.5)
    wait_for(lambda: page.locator(ROOT).get_attribute("data-model") == "ae", what="the switch to the AE")
    assert_decoded(page, nets["ae"])
    no_errors(page)


def test_interpolation_walks_between_the_last_two_inputs(page, server, data):
    root = open_page(page, server)
    first = {}                                           # the first input of each name, as select() picks
    for d in data["inputs"]:
        first.setdefault(d["name"].split(",")[0], d)
    axes = data["models"]["vae"]["axes"]
    select(page, "digit 1")
    select(page, "digit 7")
    interp = page.get_by_label("Interpolation")
    interp.fill("0")
    assert values(page) == pytest.approx(clip(first["digit 1"]["codes"]["vae"], axes), abs=1e-9)
    interp.fill("1")
    assert values(page) == pytest.approx(clip(first["digit 7"]["codes"]["vae"], axes), abs=1e-9)
    interp.fill("0.5")
    mid = [(a + b) / 2 for a, b in zip(first["digit 1"]["codes"]["vae"], first["digit 7"]["codes"]["vae"])]
    assert values(page) == pytest.approx(clip(mid, axes), abs=1e-9)
    assert root.locator(".ex-strip canvas").count() == 2 * 9
    no_errors(page)


def test_the_url_restores_the_state_and_ignores_garbage(page, server, browser):
    open_page(page, server)
    select(page, "digit 3")
    select(page, "question mark")
    page.get_by_label("Interpolation").fill("0.3")
    page.get_by_label("Show AE").check()
    # the address is written after a pause (longer on a busy machine), once the last change is made
    expect(page).to_have_url(re.compile(r"#.*m=ae.*in=[^&]*question-mark"), timeout=10_000)
    url = page.url
    want = values(page)
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_page(fresh, url.split("#")[0], fragment="#" + url.split("#")[1])
    assert values(fresh) == want
    assert fresh.locator(ROOT).get_attribute("data-model") == "ae"
    assert fresh.get_by_role("button", name="Input: question mark", exact=True).get_attribute("aria-pressed") == "true"
    fresh.context.close()
    junk = browser.new_context().new_page()
    errors = []
    junk.on("console", lambda m: m.type == "error" and errors.append(m.text))
    junk.on("pageerror", lambda e: errors.append(str(e)))
    open_page(junk, server, fragment="#m=%E0%A4&z=1,nope,,&in=<img src=x>,digit-9-9&t=-4&__proto__=1")
    assert junk.locator(ROOT).get_attribute("data-model") == "vae" and errors == []
    junk.context.close()


def swipe(cdp, x, y, dy, steps=10):
    """A one-finger touch from (x, y) moving dy pixels vertically, through the DevTools protocol."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + dy * k / steps}]})
        time.sleep(0.016)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_touch_scrolls_outside_the_handles_and_drags_on_them(browser, server):
    page = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True).new_page()
    open_page(page, server)
    cdp = page.context.new_cdp_session(page)
    plot = page.locator(f"{ROOT} svg.ex-plot").bounding_box()
    z, y0 = values(page), page.evaluate("scrollY")
    swipe(cdp, plot["x"] + 4, plot["y"] + plot["height"] * 0.7, -150)       # the plot's edge, no handle
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") > y0 + 50, "a vertical swipe on the plot did not scroll the page"
    assert values(page) == z
    track = page.locator(f"{ROOT} .ex-tracks rect").nth(2).bounding_box()   # a tap on an axis: no jump
    swipe(cdp, track["x"] + track["width"] / 2, track["y"] + 10, 0, steps=1)
    page.wait_for_timeout(200)
    assert values(page) == z
    handle = slider(page, 0)
    handle.scroll_into_view_if_needed()
    box, y1 = handle.bounding_box(), page.evaluate("scrollY")
    swipe(cdp, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, -40)   # on a handle: a drag
    page.wait_for_timeout(200)
    assert values(page)[0] > z[0] and page.evaluate("scrollY") == y1
    page.context.close()


def test_phone_width_keeps_values_and_a_large_decoded_image(page, server, nets):
    root = open_page(page, server)
    page.get_by_role("button", name="Random", exact=True).click()
    z = values(page)

    def where(i):
        """Height of point i within its axis, 0 at the bottom and 1 at the top."""
        box, track = slider(page, i).bounding_box(), root.locator(".ex-tracks rect").nth(i).bounding_box()
        return 1 - (box["y"] + box["height"] / 2 - track["y"]) / track["height"]

    page.set_viewport_size({"width": 375, "height": 740})
    page.wait_for_timeout(300)
    assert values(page) == z
    assert root.evaluate("r => r.scrollWidth <= r.clientWidth + 1"), "the explorer overflows a phone's width"
    assert page.locator(DECODED).bounding_box()["width"] >= 128
    for i in range(LATENTS):
        lo, hi = (float(slider(page, i).get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax"))
        assert where(i) == pytest.approx((z[i] - lo) / (hi - lo), abs=0.01)
    assert_decoded(page, nets["vae"])
    # each point's value is written where no tick label is, inside the plot, wherever the points are
    clash = root.evaluate("""async r => {
      const box = e => e.getBoundingClientRect(), plot = box(r.querySelector('svg.ex-plot'));
      const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      const ranges = [...r.querySelectorAll('.ex-handle [role=slider]')].map(h => [+h.ariaValueMin, +h.ariaValueMax]);
      const out = [];
      for (let k = 1; k < 40; k++) {                       // the points at 39 heights up their axes
        latentExplorer.state.setLatent(ranges.map(([lo, hi]) => lo + (hi - lo) * k / 40));
        await new Promise(requestAnimationFrame);
        const ticks = [...r.querySelectorAll('svg.ex-plot .tick text')].map(box);
        [...r.querySelectorAll('.ex-handle text')].map(box).forEach((v, i) => {
          if (v.left < plot.left || v.right > plot.right) out.push(`value ${i + 1} outside the plot at ${k}/40`);
          if (ticks.some(t => meets(v, t))) out.push(`value ${i + 1} over a tick label at ${k}/40`);
        });
      }
      return out;
    }""")
    assert not clash, clash
    no_errors(page)


def test_missing_or_damaged_model_files_are_named(page, server, site):
    page.route("**/models/vae-decoder/**", lambda route: route.abort())
    page.goto(server)
    near(page)
    page.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
    message = page.locator(f"{ROOT} .ex-message").inner_text()
    assert "VAE decoder" in message and "models/vae-decoder/model.json" in message
    assert page.locator(ROOT).get_attribute("data-ready") is None
    # same size, different bytes: the probe tells
    page2 = page.context.new_page()
    (shard,) = (site / "models" / "vae-decoder").glob("*.bin")
    damaged = bytearray(shard.read_bytes())
    for k in range(0, len(damaged), 97):
        damaged[k] ^= 0x5A
    page2.route(f"**/models/vae-decoder/{shard.name}?*", lambda route: route.fulfill(body=bytes(damaged)))
    page2.goto(server)
    near(page2)
    page2.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
    message = page2.locator(f"{ROOT} .ex-message").inner_text()
    assert "VAE decoder" in message and "models/vae-decoder/" in message and "damaged" in message


def test_beta_family_loads_when_chosen_and_keeps_the_digit(page, server, browser, site, tiny_build):
    """The β control swaps in a VAE of the family: its files load only then, the line moves
    to that VAE's code of the input on screen, drawings made before get its code too (as
    PyTorch computes it), Show AE returns to it, and the address restores it."""
    import json

    from harness import load_models
    betas = json.loads((site / "data" / "betas.json").read_text())
    (name,) = betas["models"]                              # the tiny build has one extra beta
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    open_page(page, server)
    page.evaluate("""() => { const w = 280, ink = new Uint8ClampedArray(w * w);    // alpha, as the pad gives
        for (let y = 60; y < 220; y++) for (let x = 130; x < 150; x++) ink[y * w + x] = 255;
        return latentExplorer.useDrawing(ink, w, w, true); }""")
    select(page, "digit 3")
    assert not [u for u in asked if "betas.json" in u or f"/{name}-" in u]
    page.get_by_label("β of the VAE").select_option(name)
    page.wait_for_selector(f"{ROOT}[data-model='{name}']", state="attached", timeout=30_000)
    assert [u for u in asked if f"/{name}-decoder/" in u]
    shown = page.evaluate("latentExplorer.state.selected.at(-1).id")
    assert values(page) == pytest.approx(clip(betas["inputs"][shown]["codes"][name], betas["models"][name]["axes"]),
                                         abs=1e-9)
    drawn = page.evaluate(f"""() => {{ const d = latentExplorer.state.inputs.find(d => d.kind === 'drawn');
        return {{ pixels: Array.from(d.pixels), code: d.codes['{name}'] }}; }}""")
    model = load_models(tiny_build["ckpt"], [name])[name]
    with torch.no_grad():
        mu = model.encode(torch.tensor(drawn["pixels"], dtype=torch.float32).reshape(1, 1, 32, 32) / 255)[0][0]
    assert drawn["code"] == pytest.approx(mu.tolist(), abs=1e-4)
    page.get_by_label("Show AE").check()
    page.wait_for_selector(f"{ROOT}[data-model='ae']", state="attached")
    page.get_by_label("Show AE").uncheck()
    page.wait_for_selector(f"{ROOT}[data-model='{name}']", state="attached")
    page.wait_for_timeout(400)                             # the address is written after a pause
    assert f"m={name}" in page.url
    want = values(page)
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    fresh.goto(page.url)
    near(fresh)
    fresh.wait_for_selector(f"{ROOT}[data-model='{name}']", state="attached", timeout=30_000)
    assert values(fresh) == want
    fresh.context.close()
    no_errors(page)
