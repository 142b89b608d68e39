"""The build as a user runs it: file set, caching, publishing, refusals, interruptions.

Every test that could lose a user's files runs on copies in a temporary folder.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

import build
import store
from conftest import REPO, copy_project, load_json, run_build
from harness import imports_traced, one_error_line, refused_at_once
from article.outline import FIGURES as FIGURE_ORDER

MODEL_DIRS = ["ae-encoder", "ae-decoder", "vae-encoder", "vae-decoder"]
NOTHING_DONE = {"trained": [], "loaded_models": False, "measured": False, "figures_computed": [], "exported": False,
                "betas_computed": False}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_build(tiny_build, tmp_path: Path, *keep: str) -> list:
    """Copies of the tiny build's folders named in `keep` (out, ckpt, cache) under `tmp_path`;
    returns the build's arguments pointing at the copies (the others empty)."""
    args = list(tiny_build["args"])
    for name, flag in (("out", "--out"), ("ckpt", "--ckpt-dir"), ("cache", "--cache-dir")):
        if name in keep:
            shutil.copytree(tiny_build[name], tmp_path / name)
        args[args.index(flag) + 1] = tmp_path / name
    return args


def test_full_file_set(site):
    for rel in ["index.html", "style.css", "metrics.json", "data/figure-data.json", "data/pca.bin",
                "js/main.js", "js/explorer.js", "lib/tf-core.min.js", "lib/tf-layers.min.js",
                "lib/tfjs-backend-wasm-simd.wasm", "lib/d3.min.js", "lib/katex/katex.min.css", store.STAMP]:
        assert (site / rel).is_file(), rel
    for name in MODEL_DIRS:
        manifest = load_json(site / "models" / name / "model.json")
        shards = [p for group in manifest["weightsManifest"] for p in group["paths"]]
        assert shards and all((site / "models" / name / p).stat().st_size > 0 for p in shards)
    assert list((site / "lib/katex/fonts").glob("*.woff2"))
    assert store.damage(site, load_json(site / store.STAMP)["files"]) is None
    assert not list(site.parent.glob(f".{site.name}.*"))   # no temp or old folders left over


def test_rebuild_reuses_everything(tiny_build, tmp_path):
    """Nothing changed: no training, no figure data, no conversion; same models published
    (on a copy of the session's build, which other tests read meanwhile)."""
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    out, cache = tmp_path / "out", tmp_path / "cache"
    models_before = snapshot(out / "models")
    pages_before = {p.name: p.read_bytes() for p in out.glob("*.html")}
    assert list(cache.glob("render-*/__jinja2_*")), "no compiled template kept in the cache"
    run_build(*args)
    assert load_json(cache / "last-build.json") == NOTHING_DONE
    assert snapshot(out / "models") == models_before
    # rendered again from the compiled templates and formulas kept in the cache: the same pages
    assert {p.name: p.read_bytes() for p in out.glob("*.html")} == pages_before


def test_template_change_only_rerenders(tiny_build, tmp_path):
    project = copy_project(tmp_path / "project")
    args = copy_build(tiny_build, tmp_path, "ckpt", "cache")
    ckpts = snapshot(tmp_path / "ckpt")
    template = project / "article/templates/index.html.j2"
    template.write_text(template.read_text().replace("</body>", "<p id=probe>changed</p></body>"))
    subprocess.run([sys.executable, str(project / "build.py"), *map(str, args)], check=True,
                   capture_output=True)
    assert "<p id=probe>changed</p>" in (tmp_path / "out" / "index.html").read_text()
    assert load_json(tmp_path / "cache" / "last-build.json") == NOTHING_DONE
    assert snapshot(tmp_path / "ckpt") == ckpts


ANSWER_DATA = '''"""Figure: how many parameters the VAE has (a test's throwaway figure)."""


def compute(run) -> dict:
    value = sum(p.numel() for p in run.models["vae"].parameters())
    return {"data": {"answer": value}, "value": value}
'''
ANSWER_VIEW = """export default function (root, app) {
  root.textContent = `The view counts ${app.data.answer} parameters.`;
}
"""
ANSWER_MARKUP = """<figure class="d-figure" id="fig-answer">
  <div data-view="answer"></div>
  <figcaption>Figure {{ fig.answer }}. The VAE has <span id="answer-value">{{ answer.value }}</span> parameters.</figcaption>
</figure>
"""


def test_adding_a_figure_takes_a_folder_a_line_and_an_include(tiny_build, tmp_path, browser):
    """The README's recipe for a new figure, followed to the letter on a copy of the project:
    a folder with its data function, view and markup, one line in the list of figures, one
    include in the article. The tiny build then computes its number from the models, the
    article and the figure's own page show it, and its view starts in Chromium."""
    from harness import serve_site
    project = copy_project(tmp_path / "project")
    args = copy_build(tiny_build, tmp_path, "ckpt", "cache")
    tree = lambda: {f"{part}/{k}": v for part in ("build.py", "store.py", "training", "figures", "article")   # noqa: E731
                    for k, v in (snapshot(project / part) if (project / part).is_dir()
                                 else {"": (project / part).read_bytes()}).items() if "__pycache__" not in k}
    before = tree()
    figure = project / "figures" / "answer"
    figure.mkdir()
    (figure / "data.py").write_text(ANSWER_DATA)
    (figure / "answer.js").write_text(ANSWER_VIEW)
    (figure / "figure.j2").write_text(ANSWER_MARKUP)
    listing = project / "article" / "outline.py"
    text = listing.read_text()
    assert text.count('    Figure("sweep", page=True, models="sweep"),\n') == 1
    listing.write_text(text.replace('    Figure("sweep", page=True, models="sweep"),\n',
                                    '    Figure("sweep", page=True, models="sweep"),\n    Figure("answer", page=True),\n'))
    article = project / "article" / "templates" / "sections" / "beyond.j2"
    article.write_text(article.read_text().replace('{% include "sweep/figure.j2" %}',
                                                   '{% include "sweep/figure.j2" %}\n  {% include "answer/figure.j2" %}'))
    proc = subprocess.run([sys.executable, str(project / "build.py"), *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = tree()
    assert {k for k in after if before.get(k) != after[k]} == {
        "figures/answer/data.py", "figures/answer/answer.js", "figures/answer/figure.j2", "article/outline.py",
        "article/templates/sections/beyond.j2"}
    # the new figure's data is computed, and nothing else: every other stage comes from the cache
    assert load_json(tmp_path / "cache" / "last-build.json") == {**NOTHING_DONE, "loaded_models": True,
                                                                 "figures_computed": ["answer"]}
    site = tmp_path / "out"
    want = load_json(site / "metrics.json")["vae"]["parameters"]
    number = len(FIGURE_ORDER) + 1
    for page in ("index.html", "figure-answer.html"):
        html = (site / page).read_text()
        assert f'<span id="answer-value">{want}</span>' in html, page
        assert f"Figure {number}." in html
    assert (site / "js" / "answer.js").is_file()
    with serve_site(site) as url:
        pg = browser.new_page()
        pg.goto(url + "figure-answer.html")
        # a locator, not wait_for_function: its polling evaluates a string, which the page's CSP forbids
        expect(pg.locator("[data-view=answer]")).to_contain_text("parameters", timeout=30_000)
        assert pg.text_content("[data-view=answer]") == f"The view counts {want} parameters."
        pg.close()


def workers_of(pid: int) -> list[int]:
    """Pids of the training processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"training.worker" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_build_leaves_previous_site_and_checkpoints(tiny_build, tmp_path):
    # the cache is copied too, so that the last run below only has to render: what it checks
    # (checkpoints reused, leftovers cleaned, a fresh site published) needs no stage made again
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    site_before, ckpt_before = snapshot(tmp_path / "out"), snapshot(tmp_path / "ckpt")
    long_run = [sys.executable, str(REPO / "build.py"), *map(str, args), "--retrain", "--epochs", "100000"]
    # SIGKILL just after the training processes start: they die with the build
    proc = subprocess.Popen(long_run, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while not (workers := workers_of(proc.pid)) and time.monotonic() < end:
        time.sleep(0.01)
    assert workers, "no training process started"
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    time.sleep(1.0)
    assert not [w for w in workers if running(w)], "training processes outlived the killed build"
    # SIGINT while training is under way
    for sig in (signal.SIGINT,):
        proc = subprocess.Popen(long_run, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:                # wait until training is under way
            if " epoch " in line:
                break
        workers = workers_of(proc.pid)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "nothing was published" in err and "Traceback" not in err
        assert snapshot(tmp_path / "out") == site_before
        assert snapshot(tmp_path / "ckpt") == ckpt_before
        time.sleep(1.0)
        assert not [w for w in workers if running(w)]
    # the next run picks up: it reuses the checkpoints, cleans up and publishes a fresh site
    run_build(*args)
    assert load_json(tmp_path / "cache/last-build.json")["trained"] == []
    assert (tmp_path / "out" / "index.html").is_file()
    left = [p for d in ("out", "ckpt", "cache") for p in (tmp_path / d).iterdir() if p.name.endswith(".tmp")]
    assert not left and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupt_during_tensorflow_import_never_publishes(tiny_build, tmp_path):
    """However late the SIGINT (or SIGTERM) comes while TF.js conversion starts, the build
    exits 130 (143) and neither the cache nor the site keeps anything of it, unless the
    conversion had finished: then the cache keeps its stage, whole."""
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    for stage in (tmp_path / "cache").glob("tfjs-*"):
        shutil.rmtree(stage)
    site_before = snapshot(tmp_path / "out")
    for delay, sig in ((0.0, signal.SIGINT), (0.8, signal.SIGINT), (2.0, signal.SIGTERM)):
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), *map(str, args)],
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if "converting" in line:
                break
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        kept = list((tmp_path / "cache").glob("tfjs-*"))
        if kept:                                 # too late: the conversion had finished, and was kept whole
            assert proc.returncode in (0, 128 + sig) and store.stage_damage(kept[0]) is None, (delay, err[-2000:])
            assert proc.returncode == 0 or snapshot(tmp_path / "out") == site_before, delay
            break
        assert proc.returncode == 128 + sig, (delay, err[-2000:])
        assert snapshot(tmp_path / "out") == site_before, delay


def test_an_interrupt_a_library_turns_into_its_own_error_still_ends_the_build(tmp_path, monkeypatch, capsys):
    """TensorFlow's extension modules, interrupted while they load, raise ImportError instead of
    KeyboardInterrupt (CI saw it once, in the test above): the build still exits 130 with its
    one line, not a traceback. The interrupt is real (a SIGINT to this process); what the library
    does with it is played by the stand-in for the build's work."""
    def work(args, check):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None
    monkeypatch.setattr(build, "build", work)
    monkeypatch.setattr(build, "check_writable", lambda args, out: None)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = build.main(["--out", str(tmp_path / "out"), "--ckpt-dir", str(tmp_path / "ckpt"),
                           "--cache-dir", str(tmp_path / "cache"), "--data-dir", str(tmp_path)])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err = capsys.readouterr().err
    assert code == 130 and "interrupted: nothing was published" in err and "Traceback" not in err, err


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_are_cleaned(tiny_build, tmp_path):
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    pid = dead_pid()
    stale = [tmp_path / "cache" / f".tfjs-0123.{pid}.tmp", tmp_path / "ckpt" / f".vae-0123.pt.{pid}.tmp",
             tmp_path / f".out.{pid}.tmp"]
    stale[0].mkdir()
    stale[1].write_bytes(b"partial")
    stale[2].mkdir()
    (stale[2] / store.STAMP).write_text(store.STAMP_TEXT)
    foreign = tmp_path / f".out.{dead_pid()}.tmp"             # not stamped: not ours, kept
    foreign.mkdir()
    run_build(*args)
    assert [p for p in stale if p.exists()] == []
    assert foreign.is_dir()


@pytest.mark.parametrize("where", ["repo", "above-repo", ".", "..", "data", "ckpt", "above-ckpt", "cache",
                                   "unstamped", "file"])
def test_out_refuses_folders_it_did_not_make(where, tiny_build, tmp_path, mnist_dir):
    args = copy_build(tiny_build, tmp_path, "ckpt", "cache")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    target = {"repo": REPO, "above-repo": REPO.parent, "data": mnist_dir, "ckpt": tmp_path / "ckpt",
              "above-ckpt": tmp_path, "cache": tmp_path / "cache", "unstamped": mine,
              "file": mine / "notes.txt", ".": REPO, "..": REPO.parent}[where]
    before = {p: snapshot(p) for p in (mine, tmp_path / "ckpt")}
    args[args.index("--out") + 1] = where if where in (".", "..") else target   # as typed in the repository
    start = time.monotonic()
    proc = run_build(*args, check=False, env=imports_traced())
    refused_at_once(proc, time.monotonic() - start)
    line = one_error_line(proc)
    assert str(Path(target).resolve()) in line and "--out" in line
    assert {p: snapshot(p) for p in before} == before
    assert (REPO / ".git").exists() and not list(REPO.parent.glob(".*.old"))   # a worktree's .git is a file


@pytest.mark.parametrize("harm", ["truncated", "flipped", "no manifest", "missing"])
def test_each_kind_of_damage_to_a_cached_stage_is_named_and_the_stage_made_again(harm, tmp_path):
    """The cache's check of a stage against its manifest, for each way a stage gets damaged:
    the problem is named once, the stage is removed and made again, whole."""
    said, calls = [], []

    def make(folder):
        calls.append(folder)
        (folder / "sub").mkdir()
        (folder / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 4)
        (folder / "shared.json").write_text('{"a": 1}')

    cache = store.Cache(tmp_path, said.append)
    path, made = cache.make("figures", "k1", make)
    assert made and cache.ready("figures", "k1")
    if harm == "truncated":
        (path / "sub" / "weights.bin").write_bytes(bytes(100))
        want = "sub/weights.bin has 100 bytes instead of 1024"
    elif harm == "flipped":                                       # same size, one byte flipped
        blob = bytearray((path / "shared.json").read_bytes())
        blob[3] ^= 0x01
        (path / "shared.json").write_bytes(bytes(blob))
        want = "shared.json does not match its hash"
    elif harm == "no manifest":
        (path / store.MANIFEST).unlink()
        want = f"{store.MANIFEST} is missing or unreadable"
    else:
        (path / "shared.json").unlink()
        want = "shared.json is missing"
    path, made = cache.make("figures", "k1", make)
    assert made and len(calls) == 2
    assert said[-2] == f"cached stage figures-k1 is damaged ({want}); making it again", said
    assert cache.ready("figures", "k1") and (path / "shared.json").read_text() == '{"a": 1}'


def test_remembered_hashes_follow_a_rewritten_file(tmp_path):
    """The checkpoints' hashes that name the stages are remembered by size and modification time:
    a checkpoint rewritten (same size, new bytes) is hashed again."""
    weights, memo = tmp_path / "vae.pt", tmp_path / "hashes.json"
    weights.write_bytes(b"a" * 64)
    first = store.file_hashes([weights], memo)[weights]
    assert first == store.file_hash(weights) and memo.is_file()
    assert store.file_hashes([weights], memo)[weights] == first                 # remembered
    weights.write_bytes(b"b" * 64)
    later = weights.stat().st_mtime_ns + 1_000_000_000                             # a coarse clock ticks too
    os.utime(weights, ns=(later, later))
    assert store.file_hashes([weights], memo)[weights] == store.file_hash(weights) != first


def test_damaged_cache_is_reported_and_made_again(tiny_build, tmp_path):
    """A real build with two cached stages damaged (a truncated weight shard, a flipped byte):
    each is reported, made again, and the site comes out the same. (Every kind of damage:
    the test above; the stages damaged here are the two cheap ones to make again.)"""
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    good = snapshot(tmp_path / "out")
    cache = tmp_path / "cache"
    (shard,) = (cache / next(cache.glob("tfjs-*")).name / "vae-decoder").glob("*.bin")
    shard.write_bytes(shard.read_bytes()[:100])                  # truncated
    (betas,) = cache.glob("betas-*")
    blob = bytearray((betas / "betas.json").read_bytes())
    blob[10] ^= 0x01                                             # same size, one byte flipped
    (betas / "betas.json").write_bytes(bytes(blob))
    proc = run_build(*args)
    for stage in ("tfjs", "betas"):
        assert re.search(rf"cached stage {stage}-\w+ is damaged", proc.stderr), (stage, proc.stderr[-2000:])
    assert "betas.json does not match its hash" in proc.stderr
    assert "has 100 bytes instead of" in proc.stderr
    assert not re.search(r"cached stage (measure|figure-\w+)-", proc.stderr)
    assert snapshot(tmp_path / "out") == good
    assert load_json(cache / "last-build.json") == {**NOTHING_DONE, "loaded_models": True, "exported": True,
                                                    "betas_computed": True}


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--epochs", "-1"], ["--batch-size", "0"],
                                   ["--lr", "-1"], ["--lr", "nan"], ["--beta", "-1"], ["--beta", "inf"], ["--beta", "nan"],
                                   ["--device", "nonsense"], ["--device", "cuda:x"], ["--port", "70000"],
                                   ["--seed", "1.5"]])
def test_bad_flags_are_one_line_at_once(flags, tiny_build, tmp_path):
    args = copy_build(tiny_build, tmp_path, "cache", "ckpt")     # a warm cache ignores no flag
    start = time.monotonic()
    proc = run_build(*args, *flags, check=False, env=imports_traced())
    line = one_error_line(proc)
    assert flags[0] in line and repr(flags[1]) in line
    refused_at_once(proc, time.monotonic() - start)
    assert not (tmp_path / "out").exists()


def test_cuda_without_cuda_is_refused(tmp_path):
    if build.cuda_available():
        pytest.skip("this machine has CUDA")
    proc = run_build("--device", "cuda", "--out", tmp_path / "out", check=False)
    assert "--device cpu" in one_error_line(proc)


@pytest.mark.skipif(not build.cuda_available(), reason="needs a CUDA device")
def test_cuda_build_trains_and_measures_on_the_gpu(tiny_build, tmp_path):
    """Only where CUDA is present (CI has none): `--device auto` trains every model on the GPU
    and the build completes with every check it makes (TF.js against PyTorch included); its
    numbers agree with the CPU build's as far as another device's float32 arithmetic allows."""
    import torch
    args = copy_build(tiny_build, tmp_path)
    proc = run_build(*args, "--device", "auto")
    for ckpt in (tmp_path / "ckpt").glob("*.pt"):
        assert torch.load(ckpt, weights_only=True)["metrics"]["device"] == "cuda", ckpt.name
    gpu, cpu = load_json(tmp_path / "out" / "metrics.json"), load_json(tiny_build["out"] / "metrics.json")
    assert gpu.keys() == cpu.keys() and len(gpu["sweep"]) == len(cpu["sweep"])
    for m in ("ae", "vae"):
        assert gpu[m]["test_recon_bce_784"] == pytest.approx(cpu[m]["test_recon_bce_784"], rel=0.1)
    assert "CUDA" in (tmp_path / "out" / "index.html").read_text(), proc.stderr[-500:]


def test_port_in_use_suggests_port_0(tiny_build, tmp_path):
    args = copy_build(tiny_build, tmp_path, "cache", "ckpt")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_build(*args, "--serve", "--port", port, check=False, timeout=30)
    line = one_error_line(proc)
    assert "--port 0" in line and str(port) in line
    assert not (tmp_path / "out").exists()                     # refused before building


def test_stage_keys_follow_the_code_each_stage_runs(tmp_path, monkeypatch):
    """A cached stage is made again when any file of the code it runs changes, found by
    following its imports (also those inside functions), and only then: a change to one
    figure's code, or a figure added to the list, leaves the other figures' stages cached."""
    from training import config
    copy = tmp_path / "repo"
    for part in ("training", "figures", "article"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(config, "REPO", copy)
    monkeypatch.setattr(build, "REPO", copy)
    monkeypatch.setattr(build, "PALETTE", copy / "article" / "palette.json")
    plan = build.stage_plan(["sweep-model"], ["beta-model"])
    computed = {f.stage for f in FIGURE_ORDER if f.computes}
    assert {"figure-map", "figure-sweep", "figure-dice"} <= computed and "figure-pair" not in computed
    assert set(plan) == {"measure", "tfjs", "betas", *computed}
    assert "figure-sweep" not in build.stage_plan([], [])            # no sweep models, no sweep figure
    assert plan["figure-sweep"][0] == ["sweep-model", "judge"]
    closure = {stage: set(config.code_closure(code)) for stage, (_, code) in plan.items()}
    # imported at the top, inside a function, and as the package around a module
    assert {"training/evaluation.py", "article/measure.py", "training/inputs.py"} <= closure["measure"]
    assert {"figures/map/data.py", "figures/pictures.py", "figures/__init__.py", "article/measure.py",
            "article/palette.json"} <= closure["figure-map"]
    assert {"figures/sweep/data.py", "figures/dice/data.py", "figures/pictures.py"} <= closure["figure-sweep"]
    assert {"training/export_tfjs.py", "article/measure.py"} <= closure["betas"]
    assert not any(p.startswith(("figures/", "article/")) for p in closure["tfjs"])
    assert not any("outline" in p for c in closure.values() for p in c)   # the list of figures shapes no result
    keys = lambda: {s: config.source_digest(code) for s, (_, code) in plan.items()}   # noqa: E731
    changed = lambda before, after: {s for s in before if before[s] != after[s]}        # noqa: E731
    before = keys()
    edit = lambda path: path.write_text(path.read_text() + "\n# changed\n")          # noqa: E731
    edit(copy / "figures" / "pictures.py")
    after = keys()
    assert changed(before, after) == {s for s in plan if "figures/pictures.py" in closure[s]}
    assert {"figure-map", "figure-sweep"} <= changed(before, after) and "measure" not in changed(before, after)
    edit(copy / "figures" / "map" / "data.py")
    assert changed(after, keys()) == {"figure-map"}


def test_no_import_circle_and_training_knows_no_page():
    """training/ imports nothing from figures/ or article/, and no module imports itself
    through others."""
    from training.config import local_imports
    files = [p.relative_to(REPO).as_posix() for part in ("training", "figures", "article")
             for p in (REPO / part).rglob("*.py")] + ["build.py", "store.py", "harness.py"]
    graph = {f: local_imports(f) for f in files}
    for f in files:
        if f.startswith("training/"):
            assert not {i for i in graph[f] if not i.startswith("training/")}, f
    done, path = set(), []

    def visit(f):
        assert f not in path, "import circle: " + " -> ".join(path[path.index(f):] + [f])
        if f in done:
            return
        path.append(f)
        for g in sorted(graph.get(f, ())):
            visit(g)
        path.pop()
        done.add(f)
    for f in files:
        visit(f)


def test_port_not_permitted_suggests_port_0(monkeypatch):

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    import http.server
    monkeypatch.setattr(http.server, "ThreadingHTTPServer", refuse)
    with pytest.raises(build.UserError, match=r"port 80 \(Permission denied\).*--port 0"):
        build.open_server(Path("."), 80)


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    for flag in ["--data-dir", "--out", "--ckpt-dir", "--cache-dir", "--device", "--epochs",
                 "--beta", "--seed", "--retrain", "--serve", "--port"]:
        assert flag in out
    assert "(default: 8000)" in out and "(default: auto)" in out


def test_serve_prints_url_and_serves_site(tiny_build, tmp_path):
    import urllib.request
    args = copy_build(tiny_build, tmp_path, "out", "ckpt", "cache")
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), *map(str, args),
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
    assert os.path.isdir(tmp_path / "out")
