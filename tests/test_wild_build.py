"""The build and the setup where the machine is not as expected: folders the build may not
write, a full disk, an unsupported or switched Python, and MNIST downloads that fail.

Read-only folders are made read-only for real: chmod does not stop root (tests often run
as root, CI too), so a test that needs one mounts it read-only (`mount --bind -o ro`), or
mounts a tiny tmpfs for a full disk, in a user and mount namespace of its own
(`unshare -rm`). Such a mount refuses writes to root and to anyone else alike, needs no
privileges and is gone when the namespace ends. Where the kernel allows no such namespace
those tests are skipped, and the tests that need none still run: a file where a folder is
expected, and a folder under /proc, which nobody can write either.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, run_build
from harness import TINY, imports_traced, one_error_line, refused_at_once


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def warm_copy(tiny_build, tmp_path: Path, drop: str = "") -> tuple[Path, Path]:
    """Copies of the tiny build's checkpoints and cache, less the cached stages named `drop`."""
    ckpt, cache = tmp_path / "ckpt", tmp_path / "cache"
    shutil.copytree(tiny_build["ckpt"], ckpt)
    shutil.copytree(tiny_build["cache"], cache)
    for stage in cache.glob(f"{drop}-*") if drop else ():
        shutil.rmtree(stage)
    return ckpt, cache


# ---- 8. folders the build cannot write ----

def in_namespace(script: str, *args, timeout: float = 300, env=None) -> subprocess.CompletedProcess:
    """`sh -c SCRIPT ARGS` in a user and mount namespace of its own, as its root."""
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


@functools.cache
def no_namespace() -> str | None:
    """Why a read-only bind mount cannot be made here, or None if it can."""
    if not shutil.which("unshare"):
        return "no unshare command"
    probe = Path(tempfile.mkdtemp())
    try:
        proc = in_namespace('mount --bind -o ro "$1" "$1" && ! touch "$1/x" 2>/dev/null', probe, timeout=30)
    finally:
        shutil.rmtree(probe)
    return None if proc.returncode == 0 else f"unshare -rm cannot mount here ({proc.stderr.strip()})"


def needs_namespace():
    if no_namespace():
        pytest.skip(f"{no_namespace()}: read-only and full folders cannot be made for root here")


READ_ONLY_RUN = 'mount --bind -o ro "$1" "$2" && cd "$3" && shift 3 && exec "$@"'


def build_read_only(source: Path, target: Path, cwd: Path, *args, timeout: float = 300, env=None):
    """build.py ARGS run in `cwd`, with `source` mounted read-only at `target`."""
    return in_namespace(READ_ONLY_RUN, source, target, cwd, sys.executable, REPO / "build.py", *args,
                        timeout=timeout, env=env)


@pytest.mark.parametrize("place", ["out", "ckpt", "cache"])
def test_read_only_folder_is_refused_before_any_work(place, tmp_path, mnist_dir):
    """A read-only checkout (the default --out dist lands in it), checkpoint folder or cache:
    one line naming the folder and the flag that moves it, exit 2, within a second, and
    nothing made anywhere (before, the build trained first and then failed with a traceback)."""
    needs_namespace()
    ro = tmp_path / "ro"
    ro.mkdir()
    args = ["--data-dir", mnist_dir, "--ckpt-dir", tmp_path / "ckpt", "--cache-dir", tmp_path / "cache", *TINY]
    args += {"out": [], "ckpt": ["--out", tmp_path / "out", "--ckpt-dir", ro / "ckpt"],
             "cache": ["--out", tmp_path / "out", "--cache-dir", ro]}[place]
    start = time.monotonic()
    proc = build_read_only(ro, ro, ro, *args, timeout=60, env=imports_traced())
    refused_at_once(proc, time.monotonic() - start)
    line = one_error_line(proc)
    flag = {"out": "--out", "ckpt": "--ckpt-dir", "cache": "--cache-dir"}[place]
    assert str(ro) in line and flag in line and "Read-only file system" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro"]        # nothing was made


@pytest.mark.parametrize("place", ["file-in-the-way", "proc"])
def test_folder_that_cannot_be_made_is_refused_at_once(place, tmp_path, mnist_dir):
    """The same refusal where no mount is needed: a file where a folder is to be made, and a
    folder under /proc (neither root nor anyone else can make one there)."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    flag, folder = {"file-in-the-way": ("--cache-dir", blocker / "cache"),
                    "proc": ("--ckpt-dir", Path("/proc/latent-explorer-checkpoints"))}[place]
    start = time.monotonic()
    proc = run_build("--data-dir", mnist_dir, "--out", tmp_path / "out", "--ckpt-dir", tmp_path / "ckpt",
                     "--cache-dir", tmp_path / "cache", *TINY, flag, folder, check=False, timeout=60,
                     env=imports_traced())
    refused_at_once(proc, time.monotonic() - start)
    line = one_error_line(proc)
    assert str(folder) in line and flag in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"] and blocker.read_text() == "keep"


def test_no_writable_temporary_folder_is_refused_at_once(tmp_path, mnist_dir):
    """The libraries keep caches in the temporary folder (matplotlib's, Keras's and torch's
    when the home folder cannot take them): on a machine where none can be written (every
    candidate read-only, and the current folder too) that is refused at once, naming TMPDIR."""
    needs_namespace()
    work = tmp_path / "work"
    work.mkdir()
    script = ('w=$1; shift; for d in /tmp /var/tmp /usr/tmp; do [ ! -d $d ] || mount --bind -o ro $d $d || exit 9; done; '
              'mount -t tmpfs tmpfs "$w" && cd /proc && exec "$@" --out "$w/out" --ckpt-dir "$w/ckpt" --cache-dir "$w/cache"')
    env = {k: v for k, v in imports_traced().items() if k not in ("TMPDIR", "TEMP", "TMP")}
    start = time.monotonic()
    proc = in_namespace(script, work, sys.executable, REPO / "build.py", "--data-dir", mnist_dir, *TINY,
                        env=env, timeout=60)
    refused_at_once(proc, time.monotonic() - start)
    line = one_error_line(proc)
    assert "temporary folder" in line and "TMPDIR" in line, line


def test_read_only_data_folder_is_fine(tiny_build, tmp_path, mnist_dir):
    """The build only reads the data folder: mounted read-only, MNIST is read from it and the
    site published."""
    needs_namespace()
    ckpt, cache = warm_copy(tiny_build, tmp_path, drop="figure-dice")   # so MNIST is read again (a stage made in no time)
    data = tmp_path / "data"
    data.mkdir()
    proc = build_read_only(mnist_dir, data, tmp_path, "--data-dir", data, "--out", tmp_path / "out",
                           "--ckpt-dir", ckpt, "--cache-dir", cache, *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"loading MNIST from {data}" in proc.stderr and "figure-dice: made" in proc.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_read_only_checkpoints_are_fine_when_all_are_there(tiny_build, tmp_path, mnist_dir):
    """Checkpoints are only written when a model is trained: a read-only folder holding every
    checkpoint the build needs (shared from elsewhere, say) is used as it is."""
    needs_namespace()
    ckpt, cache = warm_copy(tiny_build, tmp_path)
    proc = build_read_only(ckpt, ckpt, tmp_path, "--data-dir", mnist_dir, "--out", tmp_path / "out",
                           "--ckpt-dir", ckpt, "--cache-dir", cache, *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out" / "index.html").is_file()


def copy_code(dst: Path) -> Path:
    """A copy of the code alone, without data/: its build's default data folder is dst/data."""
    dst.mkdir()
    for name in ["build.py", "store.py", "training", "figures", "article"]:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)
    return dst


def test_read_only_checkout_that_must_download_mnist_is_refused_at_once(tmp_path):
    """Without MNIST_DIR or --data-dir the build downloads MNIST into the checkout's data/: in
    a read-only checkout that is refused at once, pointing at --data-dir."""
    needs_namespace()
    project = copy_code(tmp_path / "project")
    env = {k: v for k, v in imports_traced().items() if k != "MNIST_DIR"}
    start = time.monotonic()
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", READ_ONLY_RUN, "sh", project, project, project,
                           sys.executable, project / "build.py", "--out", tmp_path / "out", "--ckpt-dir",
                           tmp_path / "ckpt", "--cache-dir", tmp_path / "cache", *TINY],
                          capture_output=True, text=True, timeout=60, env=env)
    refused_at_once(proc, time.monotonic() - start)
    line = one_error_line(proc)
    assert str(project / "data") in line and "--data-dir" in line and "MNIST" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_full_disk_while_publishing_is_one_line_and_keeps_the_site(tiny_build, tmp_path, mnist_dir):
    """A write that fails late (the disk fills while the new site is assembled): one line,
    exit 2, and the previous site is there unchanged, with nothing half-made beside it."""
    needs_namespace()
    ckpt, cache = warm_copy(tiny_build, tmp_path)
    site = tiny_build["out"]
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    disk, after = tmp_path / "disk", tmp_path / "after"
    disk.mkdir()
    after.mkdir()
    # a disk that holds the previous site and a third of a new one; what is left on it is
    # copied out before the namespace, and its disk, goes
    script = ('size=$1 disk=$2 site=$3 after=$4; shift 4; mount -t tmpfs -o size="$size" tmpfs "$disk" && '
              'cp -a "$site" "$disk/site" && "$@" --out "$disk/site"; rc=$?; cp -a "$disk/." "$after/"; exit $rc')
    proc = in_namespace(script, size + size // 3, disk, site, after, sys.executable, REPO / "build.py",
                        "--data-dir", mnist_dir, "--ckpt-dir", ckpt, "--cache-dir", cache, *TINY)
    line = one_error_line(proc)
    assert "No space left on device" in line and str(disk) in line, line
    assert sorted(p.name for p in after.iterdir()) == ["site"]         # no temporary site left
    assert snapshot(after / "site") == snapshot(site)


def test_full_disk_while_saving_a_checkpoint_is_one_line(tiny_build, tmp_path, mnist_dir):
    """A checkpoint that does not fit on the disk: the training process says so in one line
    (no traceback), the build exits 2, and the other checkpoints are kept."""
    needs_namespace()
    disk, after = tmp_path / "disk", tmp_path / "after"
    disk.mkdir()
    after.mkdir()
    kept = [p for p in tiny_build["ckpt"].glob("*.pt") if not p.name.startswith("judge-")]
    # room for the other checkpoints and not for the judge's (0.28 MB), which is trained again
    room = sum(p.stat().st_size for p in kept) + 64 * 1024
    script = ('size=$1 disk=$2 after=$3 n=$4; shift 4; mount -t tmpfs -o size="$size" tmpfs "$disk" || exit 1; '
              'while [ "$n" -gt 0 ]; do cp "$1" "$disk/"; shift; n=$((n - 1)); done; '
              '"$@" --ckpt-dir "$disk"; rc=$?; cp -a "$disk/." "$after/"; exit $rc')
    proc = in_namespace(script, room, disk, after, len(kept), *kept, sys.executable, REPO / "build.py",
                        "--data-dir", mnist_dir, "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache",
                        *TINY)
    line = one_error_line(proc)
    assert "judge-" in line and str(disk) in line, line
    assert snapshot(after) == {p.name: p.read_bytes() for p in kept}
    assert not (tmp_path / "out").exists()


def test_write_that_fails_after_publishing_is_one_line(tiny_build, tmp_path, mnist_dir):
    """Any write that fails is one line, exit 2, even one the first check cannot foresee (here
    the build's report in the cache, where a folder stands in its way)."""
    ckpt, cache = warm_copy(tiny_build, tmp_path)
    (cache / "last-build.json").unlink(missing_ok=True)
    (cache / "last-build.json").mkdir()
    proc = run_build("--data-dir", mnist_dir, "--out", tmp_path / "out", "--ckpt-dir", ckpt,
                     "--cache-dir", cache, *TINY, check=False)
    line = one_error_line(proc)
    assert str(cache / "last-build.json") in line, line
    assert (tmp_path / "out" / "index.html").is_file()


# ---- 9. setup.sh: the Python it runs on ----

FAKE_PYTHON = """#!/bin/sh
# a stand-in for Python VERSION: answers --version, records any other call, and makes a
# stand-in .venv when asked to (python -m venv [--clear] .venv)
echo "python $*" >> "$CALLS"
case "$1" in
  --version) echo "Python VERSION" ;;
  -m) [ "$2" = venv ] || exit 1
      rm -rf .venv && mkdir -p .venv/bin && printf 'home = /fake\\nversion = VERSION\\n' > .venv/pyvenv.cfg
      cp "$(dirname "$0")/pip" .venv/bin/pip && ln -s "$0" .venv/bin/python ;;
  *) exit 1 ;;
esac
"""
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def setup_copy(tmp_path: Path, version: str) -> tuple[Path, dict]:
    """A copy of setup.sh with its requirements, and an environment whose PATH starts with a
    stand-in python3 of `version` and recorders for pip, npm, apt-get, sudo and chromium (so
    every step is either recorded or already satisfied: nothing is installed or fetched)."""
    project, bin_dir = tmp_path / "project", tmp_path / "bin"
    project.mkdir()
    bin_dir.mkdir()
    for name in ("setup.sh", "requirements.txt", "package.json", "package-lock.json"):
        shutil.copy(REPO / name, project / name)
    (project / "node_modules").mkdir()
    (project / "node_modules" / ".package-lock.json").write_text("{}")   # newer than the lockfile:
    os.utime(project / "package-lock.json", (0, 0))                          # npm ci is not needed
    for name in ("pip", "npm", "apt-get", "sudo", "chromium"):
        (bin_dir / name).write_text(RECORDER)
    (bin_dir / "python3").write_text(FAKE_PYTHON.replace("VERSION", version))
    for p in bin_dir.iterdir():
        p.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls"), "HOME": str(tmp_path)}
    return project, env


def calls(tmp_path: Path) -> list[str]:
    f = tmp_path / "calls"
    return f.read_text().splitlines() if f.exists() else []


@pytest.mark.parametrize("version", ["3.10.12", "3.13.1", "2.7.18"])
def test_setup_refuses_an_unsupported_python_first(version, tmp_path):
    project, env = setup_copy(tmp_path, version)
    start = time.monotonic()
    proc = subprocess.run(["./setup.sh"], cwd=project, env=env, capture_output=True, text=True, timeout=30)
    assert time.monotonic() - start < 2
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert version.rsplit(".", 1)[0] in lines[0] and "3.11" in lines[0] and "PYTHON=" in lines[0], lines[0]
    assert calls(tmp_path) == ["python --version"]                      # nothing installed, nothing fetched
    assert not (project / ".venv").exists()


def test_setup_names_a_python_that_is_missing(tmp_path):
    project, env = setup_copy(tmp_path, "3.11.7")
    proc = subprocess.run(["./setup.sh"], cwd=project, env={**env, "PYTHON": "python3.11-not-here"},
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "python3.11-not-here" in proc.stderr, proc.stderr
    assert calls(tmp_path) == []


def stale_venv(project: Path, version: str) -> None:
    """A .venv as `python -m venv` leaves it, made by Python `version`."""
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = /elsewhere/bin\ninclude-system-site-packages = false\n"
                                     f"version = {version}\n")
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (venv / "bin" / "python").chmod(0o755)
    (venv / "bin" / "pip").write_text(RECORDER)
    (venv / "bin" / "pip").chmod(0o755)
    (venv / "old-package").write_text("built for another Python")


@pytest.mark.parametrize("python", ["python3", "python3.12"])
def test_setup_makes_again_a_venv_of_another_python(python, tmp_path):
    """A .venv made by Python 3.10 (or, choosing PYTHON=python3.12, by 3.11) is made again by
    the chosen Python before pip runs; the real install steps are then run as usual."""
    version = {"python3": "3.11.7", "python3.12": "3.12.1"}[python]
    project, env = setup_copy(tmp_path, version)
    if python != "python3":
        (tmp_path / "bin" / "python3").rename(tmp_path / "bin" / python)
    stale_venv(project, {"python3": "3.10.12", "python3.12": "3.11.7"}[python])
    proc = subprocess.run(["./setup.sh"], cwd=project, env={**env, "PYTHON": python},
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path) == ["python --version", "python -m venv --clear .venv",
                               "pip install -q --disable-pip-version-check -r requirements.txt"]
    assert not (project / ".venv" / "old-package").exists()
    assert f"version = {version}" in (project / ".venv" / "pyvenv.cfg").read_text()


def test_setup_keeps_a_venv_of_the_same_python(tmp_path):
    project, env = setup_copy(tmp_path, "3.11.9")
    stale_venv(project, "3.11.7")                  # another patch release: the same ABI
    proc = subprocess.run(["./setup.sh"], cwd=project, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path) == ["python --version",
                               "pip install -q --disable-pip-version-check -r requirements.txt"]
    assert (project / ".venv" / "old-package").exists()


# ---- 10. MNIST downloads that fail ----

class Mirror(http.server.BaseHTTPRequestHandler):
    """A loopback MNIST mirror: /good/NAME serves the archive, /forbidden/ answers 403 as a
    proxy may, /short/ announces the whole archive and stops half way, /unsized/ sends half
    of it without announcing a length."""
    archives: Path

    def do_GET(self):
        _, how, name = self.path.split("/", 2)
        if how == "forbidden":
            self.send_error(403, "Forbidden")
            return
        data = (self.archives / name).read_bytes()
        self.send_response(200)
        if how != "unsized":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data if how == "good" else data[:len(data) // 2])
        self.close_connection = True

    def log_message(self, *a):
        pass


@pytest.fixture
def mirror(mnist_dir, monkeypatch):
    """URL of a loopback mirror; no proxy is used, so nothing leaves 127.0.0.1."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    handler = type("M", (Mirror,), {"archives": next(mnist_dir.rglob("train-images-idx3-ubyte.gz")).parent})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.handle_error = lambda *a: None  # a client leaving a cut-short answer early is no error
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def locate_in(data: Path, mirrors: list[str], monkeypatch):
    """training.data.locate_archives as the build calls it for its own data folder (here
    `data`), with torchvision's MNIST mirrors set to `mirrors`."""
    from torchvision.datasets import MNIST

    import training.data
    monkeypatch.setattr(training.data, "DEFAULT_DATA_DIR", data)
    monkeypatch.setattr(MNIST, "mirrors", mirrors)
    return training.data.locate_archives(data)


@pytest.mark.parametrize("how", ["offline", "forbidden", "short", "unsized"])
def test_failed_download_says_what_happened_and_leaves_nothing(how, mirror, tmp_path, monkeypatch):
    from training.errors import UserError
    url = f"http://127.0.0.1:{closed_port()}/" if how == "offline" else f"{mirror}{how}/"
    data = tmp_path / "data"
    with pytest.raises(UserError) as refused:
        locate_in(data, [url], monkeypatch)
    line = str(refused.value)
    assert "\n" not in line and "train-images-idx3-ubyte.gz" in line and "--data-dir" in line, line
    assert "not found" not in line, line
    said = {"offline": "could not be reached (Connection refused", "forbidden": "answered 403 Forbidden",
            "short": "stopped after 4956211 of 9912422 bytes", "unsized": "does not match its published MD5"}[how]
    assert said in line, line
    assert not data.exists() or not [p for p in data.rglob("*") if p.is_file()]   # no partial file kept


def test_download_tries_the_next_mirror_and_keeps_only_whole_files(mirror, tmp_path, monkeypatch):
    data = tmp_path / "data"
    found = locate_in(data, [f"{mirror}forbidden/", f"{mirror}short/", f"{mirror}good/"], monkeypatch)
    assert sorted(found) == sorted(p.name for p in (data / "MNIST" / "raw").iterdir())
    for path in found.values():                                           # whole archives, in place
        with gzip.open(path) as f:
            assert len(f.read()) > 0
    assert sorted(p.name for p in data.rglob("*") if p.is_file()) == sorted(found)
