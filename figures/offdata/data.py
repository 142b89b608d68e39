"""Figure: off the data. What the decoders make of codes no training digit has: test digits'
codes with one value pushed to the end of its axis, and codes halfway between two test digits
of different classes (training/evaluation.py: edges, midpoints), a few of each per model, with
the judge's readings; and, for how far those readings can be trusted, images of uniform noise
the judge reads too (judge_on_non_digits). The shares over all of them are in metrics.json
("edges", "midpoints", "judge_fooled")."""
from __future__ import annotations

from figures import cells
from training.config import GRID_COLUMNS, MODELS

KINDS = ("edges", "midpoints")   # the explorer's "Leave the grey" and "Walk" steps, in that order


def compute(run) -> dict:
    from figures.pictures import save_grid
    from training.evaluation import sig
    out = {}
    shown = {f"{kind}-{m}": run.pictures[kind][m] for kind in KINDS for m in MODELS}
    for name, g in {**shown, "noise": run.pictures["noise"]}.items():
        save_grid(g["images"], run.path("img", f"offdata-{name}.png"))
        out[name] = {"labels": g["labels"].tolist(), "sure": sig(g["sure"], 3)}
    return {"verdicts": out}


def context(page: dict, stored: dict) -> list[dict]:
    """Per kind, per model: the share over all the build's decodes of that kind (`of` of them), and the grid shown."""
    threshold = page["data"]["judge"]["threshold"]
    out = []
    for kind in KINDS:
        for m in MODELS:
            grid = stored["verdicts"][f"{kind}-{m}"]
            measured = page["metrics"][kind][m]
            share, count = (measured["edge"], measured["pushed"]) if kind == "edges" else (measured["recognisable"], measured["pairs"])
            out.append(panel(kind, m, share, count, f"{kind}-{m}", grid, threshold))
    fooled = page["metrics"]["judge_fooled"]
    out.append(panel("noise", None, fooled["noise"], fooled["images"], "noise", stored["verdicts"]["noise"], threshold))
    return out


def panel(kind: str, model: str | None, share: float, count: int, name: str, grid: dict, threshold: float) -> dict:
    return {"kind": kind, "model": model, "share": share, "of": count, "img": f"img/offdata-{name}.png",
            "rows": -(-len(grid["labels"]) // GRID_COLUMNS), "cells": cells(grid["labels"], grid["sure"], threshold)}
