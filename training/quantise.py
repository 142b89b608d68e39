"""The 8-bit weights the site ships: each weight tensor on a 256-level affine grid.

Training rounds its final weights to exactly that grid (`round_weights`), so that the
metrics, the figures and the browser all use the very same model.
"""
from __future__ import annotations

import numpy as np
import torch


def affine_uint8(w: np.ndarray) -> np.ndarray:
    """Round a float32 array to the 256-level grid the tensorflowjs converter stores it on,
    and return the values TF.js decodes from it (v * scale + min, in float64 -> float32).

    Mirrors tensorflowjs.quantization.quantize_weights: the grid spans [min, max], nudged
    so that 0 is exactly representable when the range covers it (as in TF Lite).
    """
    lo, hi = np.float64(w.min()), np.float64(w.max())
    if lo == hi:
        return w.copy()
    scale = (hi - lo) / 255
    if lo <= 0 <= hi:
        lo = -np.round((0 - lo) / scale) * scale
        hi = 255 * scale + lo
    q = np.round((w.clip(lo, hi) - lo) / scale).astype(np.uint8)
    return (q.astype(np.float64) * scale + lo).astype(np.float32)


@torch.no_grad()
def round_weights(model: torch.nn.Module) -> None:
    """Round every parameter to what the site stores (config.WEIGHT_DTYPE: uint8)."""
    for p in model.parameters():
        p.copy_(torch.from_numpy(affine_uint8(p.detach().cpu().numpy())))
