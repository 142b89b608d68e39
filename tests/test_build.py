"""The build as a user runs it: file set, caching, atomic publishing, --help."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from conftest import REPO, load_json, run_build

MODEL_DIRS = ["ae-encoder", "ae-decoder", "vae-encoder", "vae-decoder"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_full_file_set(site):
    for rel in ["index.html", "style.css", "metrics.json", "data/figures.json", "data/pca.bin",
                "js/main.js", "js/explorer.js", "lib/tf-core.min.js", "lib/tf-layers.min.js",
                "lib/tfjs-backend-wasm-simd.wasm", "lib/d3.min.js", "lib/katex/katex.min.css"]:
        assert (site / rel).is_file(), rel
    for name in MODEL_DIRS:
        manifest = load_json(site / "models" / name / "model.json")
        shards = [p for group in manifest["weightsManifest"] for p in group["paths"]]
        assert shards and all((site / "models" / name / p).stat().st_size > 0 for p in shards)
    assert list((site / "lib/katex/fonts").glob("*.woff2"))
    assert not list(site.parent.glob(f".{site.name}.*"))   # no temp or old folders left over


def test_rebuild_reuses_everything(tiny_build):
    """Nothing changed: no training, no figure data, no conversion; same models published."""
    models_before = snapshot(tiny_build["out"] / "models")
    run_build(*tiny_build["args"])
    report = load_json(tiny_build["cache"] / "last-build.json")
    assert report == {"trained": [], "loaded_models": False, "figures_computed": False,
                      "exported": False}
    assert snapshot(tiny_build["out"] / "models") == models_before


def copy_project(dst: Path) -> Path:
    """A copy of the code (not of node_modules, linked) whose templates a test may edit."""
    dst.mkdir()
    for name in ["build.py", "training", "article", "figures"]:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)
    (dst / "node_modules").symlink_to(REPO / "node_modules")
    return dst


def test_template_change_only_rerenders(tiny_build, tmp_path):
    project = copy_project(tmp_path / "project")
    cache = tmp_path / "cache"
    shutil.copytree(tiny_build["cache"], cache)
    ckpts = snapshot(tiny_build["ckpt"])
    template = project / "article/templates/index.html.j2"
    template.write_text(template.read_text().replace("</body>", "<p id=probe>changed</p></body>"))
    args = [a if a != tiny_build["cache"] else cache for a in tiny_build["args"]]
    out = tmp_path / "dist"
    args[args.index("--out") + 1] = out
    subprocess.run([sys.executable, str(project / "build.py"), *map(str, args)], check=True,
                   capture_output=True)
    assert "<p id=probe>changed</p>" in (out / "index.html").read_text()
    assert load_json(cache / "last-build.json") == {"trained": [], "loaded_models": False,
                                                    "figures_computed": False, "exported": False}
    assert snapshot(tiny_build["ckpt"]) == ckpts


def test_killed_build_leaves_previous_site_and_checkpoints(tiny_build, tmp_path):
    out, ckpt = tmp_path / "dist", tmp_path / "ckpt"
    shutil.copytree(tiny_build["out"], out)
    shutil.copytree(tiny_build["ckpt"], ckpt)
    site_before, ckpt_before = snapshot(out), snapshot(ckpt)
    args = list(tiny_build["args"])
    args[args.index("--out") + 1] = out
    args[args.index("--ckpt-dir") + 1] = ckpt
    args[args.index("--cache-dir") + 1] = tmp_path / "cache"
    for sig in (signal.SIGKILL, signal.SIGINT):
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), *map(str, args), "--retrain",
                                 "--epochs", "100000"], stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:                # wait until training is under way
            if " epoch " in line:
                break
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "untouched" in err and "Traceback" not in err
        assert snapshot(out) == site_before
        assert snapshot(ckpt) == ckpt_before
    # the next run picks up: it reuses the checkpoints and publishes a fresh site
    run_build(*args)
    assert load_json(tmp_path / "cache/last-build.json")["trained"] == []
    assert (out / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    for flag in ["--data-dir", "--out", "--ckpt-dir", "--cache-dir", "--device", "--epochs",
                 "--beta", "--seed", "--retrain", "--serve", "--port"]:
        assert flag in out
    assert "(default: 8000)" in out and "(default: auto)" in out


def test_serve_prints_url_and_serves_site(tiny_build):
    import urllib.request
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), *map(str, tiny_build["args"]),
                             "--serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        with urllib.request.urlopen(url + "lib/tfjs-backend-wasm-simd.wasm") as r:
            assert r.headers["Content-Type"] == "application/wasm"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
