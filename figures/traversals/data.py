"""Figure: what each latent value does. Per model, per axis, decodes from the 1st to the 99th
percentile of the training codes (training/evaluation.py: traversals), as one grid image per
model with the judge's readings."""
from __future__ import annotations

from figures import cells
from training.config import MODELS


def compute(run) -> dict:
    from figures.pictures import save_grid
    for model, images in run.pictures["traversals"].items():
        dim, steps = images.shape[:2]
        save_grid(images.reshape(dim * steps, *images.shape[2:]), run.path("img", f"traversal-{model}.png"), steps)
    return {}


def context(page: dict, stored: dict) -> dict:
    """Per model, per axis: the judge's readings along the axis and the digits it passes."""
    threshold = page["data"]["judge"]["threshold"]
    out = {}
    for m in MODELS:
        t = page["metrics"]["traversals"][m]
        rows = []
        for values, labels, sure in zip(t["values"], t["labels"], t["sure"]):
            row = cells(labels, sure, threshold)
            digits = []
            for c in row:                                # recognised digits, in order, no repeats
                if c["ok"] and (not digits or digits[-1] != c["label"]):
                    digits.append(c["label"])
            rows.append({"cells": row, "digits": digits, "from": values[0], "to": values[-1]})
        out[m] = {"rows": rows, "img": f"img/traversal-{m}.png", "cells": [c for r in rows for c in r["cells"]],
                  "mean_digits": sum(len(set(r["digits"])) for r in rows) / len(rows),
                  "single": sum(len(set(r["digits"])) <= 1 for r in rows)}
    return out
