"""The explorer shows both models at once (issue #19, "Side by side"), in real Chromium on the
tiny build: both decoded images in view, the other model's lines ghosted, the other model's
code following its rule, the same dice for both, and Roll 100 with a tally per model.

Decoded images and encoder readings are checked against the PyTorch models rebuilt from the
tiny build's checkpoints. Helpers come from test_explorer (same page, same conventions).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from test_explorer import (LATENTS, ROOT, assert_decoded, clip, data, no_errors, open_page,  # noqa: F401
                           select, slider, values, wait_for)

FRONT = {"vae": "VAE decoded image", "ae": "AE decoded image"}
OTHER = {"vae": "VAE decoded image (other model)", "ae": "AE decoded image (other model)"}
OTHER_CANVAS = f"{ROOT} .ex-other canvas"


def other_code(page) -> list[float]:
    """The other model's code as the page decodes it (the panel's data-z)."""
    text = page.locator(f"{ROOT} .ex-other").get_attribute("data-z")
    return [float(v) for v in text.split(",")] if text else []


def how(page) -> str:
    return page.locator(f"{ROOT} .ex-other").get_attribute("data-how")


def assert_other_decoded(page, net):
    """The other canvas shows `net`'s decode of the other code (once both have settled)."""
    return wait_for(lambda: len(other_code(page)) == LATENTS and
                    assert_decoded(page, net, OTHER_CANVAS, other_code(page)) is not None,
                    what="the other model's decode")


@pytest.mark.parametrize("size", [(1280, 900), (375, 740)])
def test_both_decoded_images_are_in_view_at_once(page, server, nets, data, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, server)
    front = page.get_by_role("img", name=FRONT["vae"], exact=True)
    behind = page.get_by_role("img", name=OTHER["ae"], exact=True)
    front.evaluate("el => el.scrollIntoView({ block: 'center' })")   # (if-needed leaves one 99 % in view as it is)
    for canvas in (front, behind):
        expect(canvas).to_be_in_viewport(ratio=1)
        assert canvas.bounding_box()["width"] >= (128 if canvas is front else 100)
    # at load the line sits on the first input: the AE shows its own code of that input
    first = data["inputs"][0]
    wait_for(lambda: how(page) == "input", what="the other model's rule")
    assert other_code(page) == pytest.approx(clip(first["codes"]["ae"], data["models"]["ae"]["axes"]), abs=1e-9)
    assert_decoded(page, nets["vae"])
    assert_other_decoded(page, nets["ae"])
    assert page.locator(ROOT).evaluate("r => r.scrollWidth <= r.clientWidth + 1")
    no_errors(page)


def test_dragging_latent_1_moves_the_front_and_the_other_reads_its_image(page, server, nets):
    """The other model follows its rule: off any input, its encoder reads the front decoder's
    image, and its decoder shows that code."""
    open_page(page, server, wide=True)
    before_other = other_code(page)
    box = slider(page, 0).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 80, steps=8)
    page.mouse.up()
    z = values(page)
    assert_decoded(page, nets["vae"])
    with torch.no_grad():
        want = nets["ae"].encode(nets["vae"].decode(torch.tensor([z])))[0][0].tolist()
    wait_for(lambda: how(page) == "read" and other_code(page) != before_other, what="the AE's reading")
    assert other_code(page) == pytest.approx(want, abs=2e-3)
    assert_other_decoded(page, nets["ae"])
    # the ghosted dashed line is that code, on the AE's own axes
    assert page.locator(f"{ROOT} .ex-ghost-code[data-model='ae']").count() == 1
    no_errors(page)


def test_random_gives_both_models_the_same_code(page, server, nets, data):
    # wide axes: nothing is clipped, so both codes are the dice themselves
    open_page(page, server, wide=True)
    for _ in range(3):
        page.get_by_role("button", name="Random", exact=True).click()
        wait_for(lambda: how(page) == "dice", what="the dice rule")
        assert other_code(page) == values(page)
    assert_decoded(page, nets["vae"])
    assert_other_decoded(page, nets["ae"])
    # the axes as built: one draw, clipped to each model's own axes
    page.goto("about:blank")
    open_page(page, server)
    lo_hi = {m: [a["range"] for a in data["models"][m]["axes"]] for m in ("vae", "ae")}
    for _ in range(5):
        page.get_by_role("button", name="Random", exact=True).click()
        wait_for(lambda: how(page) == "dice", what="the dice rule")
        zf, zo = values(page), other_code(page)
        for i in range(LATENTS):
            inside = [lo_hi["vae"][i][0] < zf[i] < lo_hi["vae"][i][1], lo_hi["ae"][i][0] < zo[i] < lo_hi["ae"][i][1]]
            if all(inside):
                assert zf[i] == zo[i]
            else:   # one was clipped: a single draw lies beyond that bound
                raw = zf[i] if inside[0] else zo[i]
                assert clip([raw] * LATENTS, data["models"]["vae"]["axes"])[i] == pytest.approx(zf[i]) or not inside[1]
                assert clip([raw] * LATENTS, data["models"]["ae"]["axes"])[i] == pytest.approx(zo[i]) or not inside[0]
    no_errors(page)


def test_roll_100_keeps_a_tally_per_model(page, server, data):
    open_page(page, server)
    roll = page.get_by_role("button", name="Roll 100 codes for both models", exact=True)
    tally = page.locator(ROOT).get_by_role("status").filter(has_text="N(0, I)")
    for n in (100, 200):
        roll.click()
        expect(tally).to_contain_text(f"of {n}", timeout=30_000)
        counts = re.findall(r"(\w+) (\d+) of (\d+)", tally.text_content())
        assert [c[0] for c in counts] == [data["models"][m]["label"] for m in data["model_order"]]
        assert all(int(total) == n and 0 <= int(k) <= n for _, k, total in counts)
    no_errors(page)


def test_the_other_models_lines_are_ghosted_and_show_ae_swaps_them(page, server, nets, data):
    root = open_page(page, server, wide=True)
    select(page, "digit 7")
    select(page, "letter A")
    ids = page.evaluate("latentExplorer.state.selected.map(s => s.id)")     # the first input's, digit 7, letter A
    assert len(ids) == 3
    ghosts = root.locator(".ex-ghost[data-model='ae'][data-input-id]")
    assert sorted(ghosts.evaluate_all("gs => gs.map(g => g.dataset.inputId)")) == sorted(ids)
    for g in ghosts.evaluate_all("gs => gs.map(g => getComputedStyle(g).stroke)"):
        r, gr, b = map(int, re.findall(r"\d+", g)[:3])
        assert r == gr == b and r > 100, g                    # grey, lighter than the black line
    assert root.locator(".ex-line[data-model='ae']").count() == 0   # the AE has no live lines behind
    # the line sits on letter A: the AE shows its own code of letter A
    letter = next(d for d in data["inputs"] if d["name"] == "letter A")
    wait_for(lambda: how(page) == "input", what="the input rule")
    vae_code = values(page)
    # Show AE brings the AE to the front with the code it showed; the VAE goes behind with its own
    page.get_by_label("Show AE").check()
    wait_for(lambda: root.get_attribute("data-model") == "ae", what="the switch")
    assert values(page) == pytest.approx(letter["codes"]["ae"], abs=1e-9)
    expect(page.get_by_role("img", name=FRONT["ae"], exact=True)).to_be_visible()
    expect(page.get_by_role("img", name=OTHER["vae"], exact=True)).to_be_visible()
    wait_for(lambda: other_code(page) == pytest.approx(vae_code, abs=1e-9), what="the VAE behind")
    assert root.locator(".ex-ghost[data-model='vae'][data-input-id]").count() == 3
    assert_decoded(page, nets["ae"])
    assert_other_decoded(page, nets["vae"])
    no_errors(page)


def test_the_same_fitted_dice_for_both(page, server, data):
    """Fitted: one eps, each model's own fitted normal (z = mean + L eps)."""
    open_page(page, server, wide=True)
    page.get_by_role("button", name="Fitted normal", exact=True).click()
    wait_for(lambda: how(page) == "dice", what="the dice rule")
    fit = {m: data["models"][m]["fitted"] for m in ("vae", "ae")}
    eps = np.linalg.solve(np.array(fit["vae"]["chol"]), np.array(values(page)) - fit["vae"]["mean"])
    want = np.array(fit["ae"]["mean"]) + np.array(fit["ae"]["chol"]) @ eps
    assert other_code(page) == pytest.approx(np.clip(want, -6, 6).tolist(), abs=1e-6)
    no_errors(page)
