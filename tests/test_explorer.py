"""The latent explorer in real Chromium, against the tiny build.

Decoded images and drawn inputs' codes are checked against the PyTorch models from the
tiny build's checkpoints, an independent computation of what the page must show.

After one epoch on 512 images the tiny models' codes span only a few hundredths, over
which the decoders' output hardly changes. Tests that need a visible change therefore
serve figure-data.json with every axis widened to [-WIDE, WIDE] (same origin, same file,
only the ranges differ); the others use the file as built.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from training.inputs import SHAPES, frame_like_mnist

WIDE = 6.0
ROOT = "#explorer"
DECODED = f"{ROOT} canvas[aria-label*='decoded']"
LATENTS = 4


@pytest.fixture(scope="module")
def figures(site):
    import json
    return json.loads((site / "data" / "figure-data.json").read_text())


def open_explorer(page, server, wide=False):
    """Loads the article and waits until the explorer has drawn its first decode."""
    if wide:
        def widen(route):
            response = route.fetch()
            figs = response.json()
            for m in figs["models"].values():
                for axis in m["axes"]:
                    axis["range"] = [-WIDE, WIDE]
            route.fulfill(response=response, json=figs)
        page.route("**/data/figure-data.json", widen)
    page.goto(server)
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


def assert_decoded(page, net, timeout=5.0) -> np.ndarray:
    """Waits (decodes run once per animation frame) until the decoded canvas shows `net`'s
    output for the sliders' values, within 2/255 per pixel; returns the canvas."""
    end = time.monotonic() + timeout
    while True:
        z, img = values(page), canvas_grey(page, DECODED)
        diff = np.abs(img - expected_image(net, z)).max()
        if diff <= 2:
            return img
        if time.monotonic() > end:
            raise AssertionError(f"decoded canvas differs from the decoder by {diff}/255 at z={z}")
        time.sleep(0.05)


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


def test_drag_changes_value_and_decodes_like_pytorch(page, server, nets):
    open_explorer(page, server, wide=True)
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
    assert -WIDE <= z[1] <= WIDE
    after = assert_decoded(page, nets["vae"])
    assert np.abs(after - before).max() > 2, "the decoded image did not change"
    no_errors(page)


def test_show_ae_switches_decoder_and_violins(page, server, nets):
    root = open_explorer(page, server, wide=True)
    page.get_by_role("button", name="Random", exact=True).click()
    vae_img = assert_decoded(page, nets["vae"])
    violins = root.locator(".ex-violins path")
    vae_violins = [violins.nth(i).get_attribute("d") for i in range(LATENTS)]
    z = values(page)
    assert root.get_attribute("data-model") == "vae"

    page.get_by_label("Show AE").check()
    assert root.get_attribute("data-model") == "ae"
    assert "AE decoded" in page.locator(DECODED).get_attribute("aria-label")
    assert values(page) == z                     # same latent (inside the widened ranges) ...
    ae_img = assert_decoded(page, nets["ae"])    # ... decoded by the AE
    assert np.abs(ae_img - vae_img).max() > 2, "AE and VAE decodes look the same"
    ae_violins = [violins.nth(i).get_attribute("d") for i in range(LATENTS)]
    assert all(a != v for a, v in zip(ae_violins, vae_violins))
    first = root.locator(".ex-line").first.get_attribute("data-input-id")
    assert root.locator(f".ex-line[data-input-id='{first}'][data-model='ae']").is_visible()
    assert root.locator(f".ex-line[data-input-id='{first}'][data-model='vae']").is_visible()  # greyed

    page.get_by_label("Show AE").uncheck()
    assert root.get_attribute("data-model") == "vae"
    assert [violins.nth(i).get_attribute("d") for i in range(LATENTS)] == vae_violins
    assert not root.locator(f".ex-line[data-input-id='{first}'][data-model='ae']").is_visible()
    assert_decoded(page, nets["vae"])
    no_errors(page)


def test_random_stays_in_range_and_varies(page, server, nets, figures):
    open_explorer(page, server)
    dice = page.get_by_role("button", name="Random", exact=True)
    for model in ("vae", "ae"):
        if model == "ae":
            page.get_by_label("Show AE").check()
        axes = figures["models"][model]["axes"]
        seen = []
        for _ in range(2):
            dice.click()
            z = values(page)
            for i, (v, a) in enumerate(zip(z, axes)):
                assert a["range"][0] <= v <= a["range"][1], (model, i, v, a["range"])
                assert float(slider(page, i).get_attribute("aria-valuemin")) == a["range"][0]
                assert float(slider(page, i).get_attribute("aria-valuemax")) == a["range"][1]
            seen.append(z)
        assert seen[0] != seen[1]
        assert_decoded(page, nets[model])
    no_errors(page)


def test_select_inputs_and_snap_to_a_line(page, server, figures):
    root = open_explorer(page, server)
    by_name = {d["name"]: d for d in figures["inputs"]}
    for name in ("question mark", "letter A"):
        button = page.get_by_role("button", name=f"Input: {name}", exact=True)
        if button.get_attribute("aria-pressed") != "true":
            button.click()
        assert button.get_attribute("aria-pressed") == "true"
    pressed = page.locator(f"{ROOT} button[aria-pressed='true']").count()
    assert pressed >= 2
    assert root.locator(".ex-line[data-model='vae']").count() == pressed
    for name in ("question mark", "letter A"):
        assert root.locator(f".ex-line[data-input-id='{by_name[name]['id']}']").is_visible()

    axes = figures["models"]["vae"]["axes"]
    for name in ("question mark", "letter A"):
        point = line_point(page, by_name[name]["id"], "vae")
        assert point, f"no clickable point on the line of {name}"
        page.mouse.dblclick(*point)
        assert values(page) == pytest.approx(clip(by_name[name]["codes"]["vae"], axes), abs=1e-9)

    # the keyboard and touch route to the same snap: the legend's button
    digit = next(d for d in figures["inputs"] if d["kind"] == "digit")
    button = page.get_by_role("button", name=f"Input: {digit['name']}", exact=True).first
    if button.get_attribute("aria-pressed") != "true":
        button.click()
    page.get_by_role("button", name=f"Decode {digit['name']}", exact=True).first.click()
    assert values(page) == pytest.approx(clip(digit["codes"]["vae"], axes), abs=1e-9)

    page.get_by_role("button", name="Input: letter A", exact=True).click()   # deselect
    assert page.get_by_role("button", name="Input: letter A", exact=True).get_attribute("aria-pressed") == "false"
    assert root.locator(f".ex-line[data-input-id='{by_name['letter A']['id']}']").count() == 0
    no_errors(page)


def draw_shape(page, strokes, margin=0.12):
    """Draws strokes given in the unit box onto the drawing canvas with the mouse."""
    box = page.locator(f"{ROOT} canvas[aria-label*='draw']").bounding_box()
    size = box["width"] * (1 - 2 * margin)
    to_px = lambda p: (box["x"] + box["width"] * margin + p[0] * size,
                       box["y"] + box["height"] * margin + p[1] * size)
    for stroke in strokes:
        page.mouse.move(*to_px(stroke[0]))
        page.mouse.down()
        for p in stroke[1:]:
            page.mouse.move(*to_px(p), steps=2)
        page.mouse.up()


def test_drawn_stickman_becomes_an_input_of_both_models(page, server, nets, figures):
    root = open_explorer(page, server)
    draw_shape(page, SHAPES["stickman"][1])
    button = page.get_by_role("button", name="Input: drawing 1", exact=True)
    button.wait_for()
    assert button.get_attribute("aria-pressed") == "true"

    # framed in JS as training/inputs.py frames drawings
    ink = page.evaluate("""() => { const c = document.querySelector('#explorer canvas[aria-label*="draw"]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return [c.width, c.height, Array.from(d.data.filter((_, k) => k % 4 === 3))]; }""")
    width, height, alpha = ink
    ink = np.array(alpha, dtype=np.float32).reshape(height, width) / 255
    pixels = 255 - canvas_grey(page, f"{ROOT} button[aria-label='Input: drawing 1'] canvas")
    framed = frame_like_mnist(ink).astype(np.int32)
    assert pixels.sum() > 0
    assert np.abs(pixels - framed).max() <= 3, np.abs(pixels - framed).max()

    # encoded by both encoders: the drawing's line in each view sits at that encoder's code
    x = torch.from_numpy(pixels.astype(np.float32) / 255)[None, None]
    codes = {}
    with torch.no_grad():
        for kind in ("vae", "ae"):
            codes[kind] = nets[kind].encode(x)[0][0].tolist()
    assert root.locator(".ex-line[data-input-id='drawing-1'][data-model='vae']").is_visible()
    vae_axes, ae_axes = figures["models"]["vae"]["axes"], figures["models"]["ae"]["axes"]
    assert values(page) == pytest.approx(clip(codes["vae"], vae_axes), abs=1e-4)   # snapped on stroke end
    assert_decoded(page, nets["vae"])

    page.get_by_label("Show AE").check()
    assert root.locator(".ex-line[data-input-id='drawing-1'][data-model='ae']").is_visible()
    point = line_point(page, "drawing-1", "ae")
    assert point, "no clickable point on the drawing's line"
    page.mouse.dblclick(*point)
    assert values(page) == pytest.approx(clip(codes["ae"], ae_axes), abs=1e-4)
    assert_decoded(page, nets["ae"])

    # Clear starts a new drawing; clearing an empty canvas is harmless
    page.get_by_role("button", name="Clear", exact=True).click()
    page.get_by_role("button", name="Clear", exact=True).click()
    draw_shape(page, SHAPES["question-mark"][1])
    page.get_by_role("button", name="Input: drawing 2", exact=True).wait_for()
    assert page.get_by_role("button", name="Input: drawing 1", exact=True).count() == 1
    no_errors(page)


def test_arrow_keys_move_a_focused_point(page, server, nets, figures):
    open_explorer(page, server)
    lo, hi = figures["models"]["vae"]["axes"][2]["range"]
    handle = slider(page, 2)
    handle.focus()
    page.keyboard.press("Home")
    assert float(handle.get_attribute("aria-valuenow")) == lo
    page.keyboard.press("ArrowUp")
    small = float(handle.get_attribute("aria-valuenow")) - lo
    assert small == pytest.approx(0.01 * (hi - lo))
    page.keyboard.press("PageUp")
    big = float(handle.get_attribute("aria-valuenow")) - lo - small
    assert big == pytest.approx(0.1 * (hi - lo))
    page.keyboard.press("ArrowDown")
    assert float(handle.get_attribute("aria-valuenow")) == pytest.approx(lo + big)
    page.keyboard.press("End")
    page.keyboard.press("ArrowUp")                  # clamped at the top
    assert float(handle.get_attribute("aria-valuenow")) == hi
    assert_decoded(page, nets["vae"])
    no_errors(page)


def test_resize_keeps_values_and_fits_a_phone(page, server, nets):
    root = open_explorer(page, server)
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
    for i in range(LATENTS):
        lo, hi = (float(slider(page, i).get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax"))
        assert where(i) == pytest.approx((z[i] - lo) / (hi - lo), abs=0.01)
    assert_decoded(page, nets["vae"])
    no_errors(page)


def test_missing_models_show_a_message(page, server):
    page.route("**/models/vae-decoder/**", lambda route: route.abort())
    page.goto(server)
    root = page.locator(ROOT)
    page.wait_for_selector(f"{ROOT}[data-error='true']", state="attached", timeout=30_000)
    message = root.locator(".ex-message")
    assert message.is_visible() and "could not be loaded" in message.inner_text()
    assert root.get_attribute("data-ready") is None
