"""Everything the build writes to disk, written so that nothing is ever lost.

- Cached stages (`cache/NAME-KEY/`) are made in a temporary folder and renamed into
  place; each carries a MANIFEST.json of its files with sizes and SHA-256 hashes, and
  is checked against it before use. A damaged stage is reported and made again.
- The site is published only into a folder this build made itself: every site it
  publishes holds a stamp file (STAMP) that also lists the site's files and hashes,
  and is checked before the swap. Anything else at `--out` is refused.
- Temporary files carry the pid of the process that made them; those of processes that
  are gone are removed on the next run.

No torch here: a build that only re-renders imports nothing heavy.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from training.errors import UserError

MANIFEST = "MANIFEST.json"
STAMP = ".latent-explorer-site"        # marks a folder as a site this build published
STAMP_TEXT = "made by the latent explorer's build.py; the build may replace this folder"
TMP = re.compile(r"^\..+\.(\d+)\.tmp$")  # .NAME.PID.tmp


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(paths, memo: Path) -> dict[Path, str]:
    """{path: SHA-256} of each file, remembered in the JSON file `memo` by the file's size and
    modification time, so that a file is read again only once it has been rewritten. The memo
    keeps the files of the last call only."""
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    entries = {}
    for path in map(Path, paths):
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        entry = known.get(str(path))
        entries[str(path)] = entry if isinstance(entry, list) and entry[:2] == stamp else [*stamp, file_hash(path)]
    if entries != known:
        with contextlib.suppress(OSError):
            memo.write_text(json.dumps(entries))
    return {Path(p): e[2] for p, e in entries.items()}


def inventory(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """{relative path: {"bytes", "sha256"}} of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": file_hash(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in skip}


def damage(folder: Path, listed: dict[str, dict]) -> str | None:
    """What is wrong with `folder` against its list of files, or None if nothing."""
    for rel, want in listed.items():
        p = folder / rel
        if not p.is_file():
            return f"{rel} is missing"
        if p.stat().st_size != want["bytes"]:
            return f"{rel} has {p.stat().st_size} bytes instead of {want['bytes']}"
        if file_hash(p) != want["sha256"]:
            return f"{rel} does not match its hash"
    return None


def stage_damage(folder: Path) -> str | None:
    try:
        listed = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{MANIFEST} is missing or unreadable"
    return damage(folder, listed)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path, prefix: str = "", stamped: bool = False) -> None:
    """Removes `.PREFIX*.PID.tmp` files and folders in `folder` whose process is gone
    (only stamped folders when `stamped`)."""
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        m = TMP.match(p.name)
        if not (m and p.name.startswith("." + prefix)) or alive(int(m.group(1))):
            continue
        if p.is_dir() and not p.is_symlink():
            if not stamped or (p / STAMP).is_file():
                shutil.rmtree(p, ignore_errors=True)
        elif not stamped:
            p.unlink(missing_ok=True)


class Cache:
    """Stages of the build, each a folder named by what it was made from."""

    def __init__(self, folder: Path, log=print, check=lambda: None):
        self.folder, self.log, self.check = Path(folder), log, check
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale(self.folder)

    def path(self, name: str, key: str) -> Path:
        return self.folder / f"{name}-{key}"

    def ready(self, name: str, key: str) -> bool:
        """True if the stage exists and is whole; a damaged one is reported and removed."""
        final = self.path(name, key)
        if not final.is_dir():
            return False
        problem = stage_damage(final)
        if problem is None:
            return True
        self.log(f"cached stage {final.name} is damaged ({problem}); making it again")
        shutil.rmtree(final)
        return False

    def make(self, name: str, key: str, make) -> tuple[Path, bool]:
        """The stage's folder, made by `make(folder)` unless it is ready; (path, made)."""
        final = self.path(name, key)
        if self.ready(name, key):
            return final, False
        tmp = self.folder / f".{name}-{key}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        start = time.perf_counter()
        try:
            with writing_in(self.folder):
                make(tmp)
                (tmp / MANIFEST).write_text(json.dumps({"files": inventory(tmp)}, indent=0))
            self.check()                              # an interrupted build keeps nothing
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.log(f"{name}: made in {time.perf_counter() - start:.0f} s")
        return final, True


@contextlib.contextmanager
def writing_in(folder: Path):
    """Makes an OSError raised inside name `folder` when it names no file, or names the
    source of a copy that found the disk full, so that the line reporting it says where."""
    try:
        yield
    except shutil.Error as e:                 # copytree's list of (source, destination, reason)
        first = str(e.args[0][0][2]) if e.args and isinstance(e.args[0], list) and e.args[0] else str(e)
        code = re.match(r"\[Errno (\d+)\] ([^:]+)", first)
        raise (OSError(int(code[1]), code[2], str(folder)) if code else OSError(first)) from None
    except OSError as e:
        if not e.filename or e.errno in (errno.ENOSPC, errno.EDQUOT):
            e.filename = str(folder)
        raise


def unwritable(folder: Path) -> str | None:
    """Why the build could not write in `folder` (or make it, if missing), or None if it can.
    It tries: in `folder`, or in the nearest folder above it that exists, it makes and
    removes an empty folder, since permission bits tell nothing about a read-only mount,
    and nothing at all for root."""
    folder = Path(folder).absolute()
    there = next(p for p in (folder, *folder.parents) if p.exists() or p.is_symlink())
    if not there.is_dir():
        return f"{there} is not a folder"
    try:   # named like the build's other temporary files, so that a leftover gets removed
        os.rmdir(tempfile.mkdtemp(prefix=".write-check.", suffix=f".{os.getpid()}.tmp", dir=there))
    except OSError as e:
        return f"{e.strerror or e}" + ("" if there == folder else f" in {there}")
    return None


def check_out(out: Path, protected: dict[str, Path]) -> None:
    """Refuses (UserError) an `--out` that the build may not replace: a folder equal to or
    above one of `protected` (name -> path), a file, or a non-empty folder without STAMP."""
    out = Path(out).resolve()
    for what, path in protected.items():
        path = Path(path).resolve()
        if out == path or out in path.parents:
            where = "is" if out == path else "holds"
            raise UserError(f"--out {out} {where} {what} ({path}), which the build must not "
                            f"replace: publish the site into a folder of its own, such as --out dist")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError(f"--out {out} is a file, not a site folder: move it away or choose "
                        f"another --out")
    if out.is_dir() and not (out / STAMP).is_file() and any(out.iterdir()):
        raise UserError(f"--out {out} holds files this build did not make: empty that folder or "
                        f"choose another --out (the build replaces only folders it published)")


def publish(stage: Path, out: Path, check=lambda: None) -> None:
    """Stamps `stage` with the list of its files, checks it, and swaps it in as `out`;
    the previous site is removed only once the new one is in place."""
    (stage / STAMP).write_text(json.dumps({"note": STAMP_TEXT, "files": inventory(stage, skip=(STAMP,))}, indent=0))
    problem = damage(stage, json.loads((stage / STAMP).read_text())["files"])
    if problem:
        raise UserError(f"the new site failed its own check ({problem}): the previous site in "
                        f"{out} is untouched; run the build again")
    check()
    old = out.with_name(f".{out.name}.old")
    if old.exists() and (old / STAMP).is_file():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """Undoes what an interrupted build left next to `out`: a half-done swap, and the
    stamped temporary sites of builds that are gone."""
    old = out.with_name(f".{out.name}.old")
    if (old / STAMP).is_file():
        if not out.exists():
            os.replace(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)
    remove_stale(out.parent, prefix=out.name + ".", stamped=True)
