"""Figure: dice rolls. For each sampler the figure shows, the first draws the build decoded
(a grid image), the judge's reading of each, and the sampler's score over all its draws."""
from __future__ import annotations

import math

from figures import cells
from training.config import GRID_COLUMNS

SHOWN = ("vae_prior", "ae_prior", "ae_fitted", "ae_mixture")   # in the order the text discusses them


def compute(run) -> dict:
    from figures.pictures import save_grid
    from training.evaluation import sig
    grids = run.pictures["grids"]
    for name, grid in grids.items():
        save_grid(grid["images"], run.path("img", f"dice-{name}.png"))
    return {"verdicts": {k: {"labels": g["labels"].tolist(), "sure": sig(g["sure"], 3)} for k, g in grids.items()}}


def context(page: dict, stored: dict) -> list[dict]:
    """For each grid shown: the sampler's score, its cells, and its histogram's bars."""
    threshold = page["data"]["judge"]["threshold"]
    out = []
    for name in SHOWN:
        s, grid = page["metrics"]["sampling"][name], stored["verdicts"][name]
        top = max(range(10), key=lambda d: s["counts"][d])
        out.append({**s, "name": name, "img": f"img/dice-{name}.png", "top": top,
                    "rows": math.ceil(len(grid["labels"]) / GRID_COLUMNS),
                    "bars": [100 * n / (max(s["counts"]) or 1) for n in s["counts"]],   # % of the tallest
                    "top_share": s["counts"][top] / max(1, sum(s["counts"])),
                    "cells": cells(grid["labels"], grid["sure"], threshold)})
    return out
