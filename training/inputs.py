"""The explorer's inputs the models never saw, drawn in code, and MNIST-style framing.

Each shape is a list of strokes (polylines) in a unit box, y pointing down. They are
rasterised with round, thick pens at 10x resolution and then framed the way MNIST's
digits were: the ink's bounding box scaled to fit 20x20 with anti-aliasing, placed in
a 28x28 field so that its centre of mass lands in the middle, then zero-padded to
32x32. The page's "draw your own" canvas applies the same framing in JavaScript.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .config import MNIST_SIZE, PAD

BOX = 20          # MNIST fits each digit's bounding box into 20x20 pixels
HIRES = 280       # drawing resolution before the framing
PEN = 26          # pen width at HIRES (about 2 px after framing, like MNIST strokes)
INK = 0.05        # least ink (0 to 1) that counts as part of a drawing


def _arc(cx, cy, r, a0, a1, n=24):
    a = np.radians(np.linspace(a0, a1, n))
    return list(zip(cx + r * np.cos(a), cy + r * np.sin(a)))


# name -> (accessible label, strokes); coordinates in [0, 1], y down
SHAPES = {
    "question-mark": ("question mark", [
        _arc(0.5, 0.3, 0.2, 180, 360 + 40) + [(0.5, 0.52), (0.5, 0.66)],
        [(0.5, 0.84), (0.5, 0.86)],
    ]),
    "letter-a": ("letter A", [
        [(0.2, 0.9), (0.5, 0.1), (0.8, 0.9)],
        [(0.32, 0.6), (0.68, 0.6)],
    ]),
    "stickman": ("stickman", [
        _arc(0.5, 0.16, 0.1, 0, 360, 32),           # head
        [(0.5, 0.26), (0.5, 0.62)],                  # body
        [(0.22, 0.42), (0.5, 0.36), (0.78, 0.42)],   # arms
        [(0.28, 0.92), (0.5, 0.62), (0.72, 0.92)],   # legs
    ]),
}


def rasterise(strokes, size: int = HIRES, pen: int = PEN) -> np.ndarray:
    """Strokes in the unit box -> (size, size) float32 ink in [0, 1]."""
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [(x * (size - 1), y * (size - 1)) for x, y in stroke]
        draw.line(pts, fill=255, width=pen, joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=255)
    return np.asarray(img, dtype=np.float32) / 255.0


def frame_like_mnist(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink in [0, 1] -> (32, 32) uint8, framed as MNIST frames its digits.

    Returns all zeros for an empty drawing.
    """
    out = np.zeros((MNIST_SIZE + 2 * PAD,) * 2, dtype=np.uint8)
    ys, xs = np.nonzero(ink > INK)
    if len(ys) == 0:
        return out
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), Image.LANCZOS),
                       dtype=np.float32)
    total = small.sum()
    cy = (small.sum(1) * np.arange(nh)).sum() / total
    cx = (small.sum(0) * np.arange(nw)).sum() / total
    top = int(round(MNIST_SIZE / 2 - 0.5 - cy)) + PAD
    left = int(round(MNIST_SIZE / 2 - 0.5 - cx)) + PAD
    field = np.zeros((MNIST_SIZE + 2 * PAD + 2 * nh, MNIST_SIZE + 2 * PAD + 2 * nw), np.float32)
    field[top + nh:top + 2 * nh, left + nw:left + 2 * nw] = small  # offset by (nh, nw): no negatives
    core = field[nh:nh + MNIST_SIZE + 2 * PAD, nw:nw + MNIST_SIZE + 2 * PAD]
    core[:PAD], core[-PAD:], core[:, :PAD], core[:, -PAD:] = 0, 0, 0, 0  # keep the border empty
    return np.clip(core, 0, 255).round().astype(np.uint8)


def ood_images() -> dict[str, tuple[str, np.ndarray]]:
    """name -> (label, (32, 32) uint8 image, white ink on black like MNIST)."""
    return {name: (label, frame_like_mnist(rasterise(strokes)))
            for name, (label, strokes) in SHAPES.items()}
