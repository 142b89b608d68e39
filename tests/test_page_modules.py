"""The page's own modules in Node (tests/js/*.test.mjs, node:test), against the Python side.

This test computes what the modules must give (framing by training/inputs.py, map points
by figures/map/data.py, decodes and codes by the tiny build's PyTorch models), writes
it to a fixtures file and runs `node --test` on tests/js with FIXTURES and SITE set.
"""
from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import torch

from conftest import REPO
from figures.map.data import dequantise_pca
from training.inputs import HIRES, INK, SHAPES, frame_like_mnist, rasterise


def framing_cases(data: dict) -> list[dict]:
    """Ink bytes of a few drawings at the pad's size and smaller, with their framing."""
    cases = []
    for name, (_, strokes) in SHAPES.items():
        for size, shift in ((HIRES, 0.0), (97, 0.15)):
            moved = [[(x * 0.6 + shift, y * 0.5 + shift / 2) for x, y in s] for s in strokes]
            ink = np.round(rasterise(moved, size, max(3, size // 11)) * 255).astype(np.uint8)
            cases.append({"name": f"{name}@{size}", "width": size, "height": size, "ink": ink.ravel().tolist(),
                          "expected": frame_like_mnist(ink / 255).ravel().tolist()})
    return cases


@torch.no_grad()
def test_page_modules_in_node(tiny_build, nets, tmp_path):
    site = tiny_build["out"]
    data = json.loads((site / "data" / "figure-data.json").read_text())
    points, labels = dequantise_pca(data["pca"], data["models"], (site / data["pca"]["file"]).read_bytes())
    codes = np.random.default_rng(0).normal(size=(5, data["latent_dim"])).astype(np.float32) * 2
    image = torch.from_numpy(np.asarray(
        frame_like_mnist(rasterise(SHAPES["stickman"][1])), np.float32) / 255)[None, None]
    fixtures = {
        "framing": {"framing": {**data["framing"], "image_size": data["image_size"]},
                    "cases": framing_cases(data)},
        "pca": {"expected": {"points": {m: points[m][:200].tolist() for m in points},
                             "labels": labels[:200].tolist()},
                "projections": {m: [[list(map(float, z)), list(map(float, (z - np.array(p["mean"])) @ np.array(p["components"]).T))]
                                    for z in codes] for m, p in ((m, data["models"][m]["pca"]) for m in data["model_order"])}},
        "decode": {m: {"codes": codes.tolist(),
                       "images": nets[m].decode(torch.from_numpy(codes)).permute(0, 2, 3, 1).reshape(len(codes), -1).tolist()}
                   for m in nets},
        "encode": {m: {"image": image.ravel().tolist(), "mean": nets[m].encode(image)[0][0].tolist(),
                       "logvar": None if nets[m].encode(image)[1] is None else nets[m].encode(image)[1][0].tolist()}
                   for m in nets},
    }
    assert data["framing"]["ink"] == INK
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    proc = subprocess.run(["node", "--test", "--test-reporter=tap", "tests/js/"], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "FIXTURES": str(path), "SITE": str(site)}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# skipped 0" in proc.stdout and "# fail 0" in proc.stdout, proc.stdout[-2000:]
