"""The benchmark runs end to end on tiny data and writes every figure it promises.

Tiny data makes the numbers meaningless (one epoch on 512 images); this only checks that
bench/bench.py works and that its results file has the agreed shape. It writes to a
temporary file, never to bench/results.json. It measures a copy of the session's tiny build
(`--from-build`) instead of training one more: the cold build it would time is the very
build the `tiny_build` fixture makes.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

from conftest import REPO, TINY

KEYS = ["cold_build_s", "rebuild_template_s", "vae_neg_elbo_784", "vae_prior_recognisable", "ae_recon_bce_784",
        "vae_recon_bce_784", "decode_ms_page_backend", "decode_ms_default_backend", "decode_ratio",
        "drag_frame_p95_ms", "hover_frame_p95_ms", "interactive_ms", "transfer_gzip_bytes", "model_bytes"]
REPORT_ONLY = {"decode_ms_default_backend", "decode_ratio"}
# measured by the tiny run too; zero is a real value for these (violations, tensor growth)
NEW_KEYS = ["axe_load_1280", "axe_interactive_1280", "axe_load_375", "axe_interactive_375", "train_first_update_s",
            "train_epoch_s", "train_drag_frame_p95_ms", "train_tensor_growth", "train_fetch_gzip_bytes",
            "train_before_gzip_bytes"]
# Lighthouse takes about a minute a run: the tiny run skips it (--no-lighthouse) but must still list it
LIGHTHOUSE = ["lh_mobile_performance", "lh_desktop_performance", "lh_accessibility", "lh_best_practices", "lh_seo"]
SHARES = {"vae_prior_recognisable"}


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def test_bench_tiny(tmp_path, mnist_dir, tiny_build):
    results_file = REPO / "bench" / "results.json"
    before = results_file.read_bytes() if results_file.exists() else None
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "bench.py"), "--tiny", "--runs", "1",
                           "--build-runs", "1", "--no-lighthouse", "--out", str(out), "--data-dir", str(mnist_dir),
                           "--from-build", str(tiny_build["out"].parent)],
                          cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())

    results = doc["results"]
    assert set(KEYS) <= set(results), set(KEYS) - set(results)
    assert results["cold_build_s"]["skipped"] is True and results["cold_build_s"]["runs"] == []
    assert "pass" not in results["cold_build_s"]
    for key in KEYS:
        if key == "cold_build_s":
            continue
        r = results[key]
        least = 0 if key in SHARES else 1e-12          # a tiny model's samples may all fail the judge
        assert is_number(r["median"]) and r["median"] >= least, (key, r)
        assert r["runs"] and all(is_number(v) and v >= least for v in r["runs"]), (key, r)
        if key in SHARES:
            assert r["median"] <= 1, (key, r)
        assert isinstance(r["target"], str) and r["measure"], (key, r)
        if key in REPORT_ONLY:
            assert "pass" not in r, (key, r)
        else:
            assert isinstance(r["pass"], bool), (key, r)
    for key in NEW_KEYS:
        r = results[key]
        assert is_number(r["median"]) and r["median"] >= 0 and len(r["runs"]) == 1, (key, r)
        assert isinstance(r["pass"], bool) and r["target"] and r["measure"], (key, r)
    for width in (1280, 375):                   # the article's audit in the light scheme (the dark one: test_apparatus)
        assert results[f"axe_load_{width}"]["median"] == results[f"axe_interactive_{width}"]["median"] == 0, \
            doc["page_details"][f"axe_ids_{width}"]
    for key in LIGHTHOUSE:
        assert results[key]["skipped"] is True and results[key]["median"] is None and "pass" not in results[key]
        assert results[key]["target"] and results[key]["measure"], (key, results[key])
    assert results["train_epoch_s"]["median"] > 0 and results["train_fetch_gzip_bytes"]["median"] > 0
    assert len(results["train_tensor_growth"]["tensors"]) >= 3           # counts after each epoch, reported
    assert doc["page_details"]["train_foreign_requests"] == [0]
    assert doc["page_details"]["train_page_errors"] == [[]]
    assert isinstance(doc["all_pass"], bool)
    assert results["ae_recon_bce_784"]["pass"] == (
        results["ae_recon_bce_784"]["median"] < results["vae_recon_bce_784"]["median"])
    assert results["rebuild_template_s"]["cache_hit"] is True, "template-only rebuild retrained or re-exported"
    assert results["decode_ms_page_backend"]["backend"] == "wasm"
    assert results["decode_ms_default_backend"]["backend"] in {"webgl", "cpu", "webgpu", "wasm"}
    assert doc["page_details"]["foreign_requests"] == [0]
    assert doc["page_details"]["page_errors"] == [[]]

    m = doc["machine"]
    assert m["cpu_count"] >= 1 and m["python"] and m["torch"] and m["date"]
    assert doc["settings"]["tiny"] is True and doc["settings"]["runs"] == 1 and doc["settings"]["from_build"] is True
    tiny = " ".join(a for a in TINY if a != "--quiet")  # the same tiny data as the other tests
    assert tiny in " ".join(doc["settings"]["build_args"]), doc["settings"]
    assert "measure" in proc.stdout and "median" in proc.stdout  # the printed table
    after = results_file.read_bytes() if results_file.exists() else None
    assert after == before, "the tiny run must not touch bench/results.json"
