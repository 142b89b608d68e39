"""MNIST from the four original archives, zero-padded to 32x32, as in-memory tensors.

The archives are read from a folder the user names (`--data-dir` or the MNIST_DIR
environment variable), checked against their published MD5 sums and parsed straight
from the gzip stream: nothing is unpacked to disk, so nothing is ever written next to
the archives or left behind in a temporary folder. Only when the folder is the
project's own `data/` and archives are missing are they downloaded, from torchvision's
MNIST mirrors (which needs internet), each checked before it is kept: a failed or cut
short download is reported as such and leaves no file behind.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from pathlib import Path

from .config import PAD, REPO
from .errors import UserError

DEFAULT_DATA_DIR = REPO / "data"
# archive -> (MD5 of the .gz as published, IDX magic number)
ARCHIVES = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 2051),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 2049),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 2051),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 2049),
}


def _find_archive(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / name, data_dir / "MNIST" / "raw" / name, data_dir / "raw" / name):
        if candidate.is_file():
            return candidate
    return None


def needs_download(data_dir: Path) -> bool:
    """True if archives are missing from the project's own data/, the one folder the
    build downloads them into."""
    data_dir = Path(data_dir)
    return (data_dir.resolve() == DEFAULT_DATA_DIR.resolve()
            and any(_find_archive(data_dir, name) is None for name in ARCHIVES))


def _fetch(url: str, dest: Path, md5: str, timeout: float) -> str | None:
    """Downloads `url` to `dest` if it arrives whole and matches `md5`; else says what
    happened, in a few words, and leaves nothing behind."""
    import http.client       # here, not at the top: a build that downloads nothing never needs them
    import urllib.error
    import urllib.parse
    import urllib.request
    host = urllib.parse.urlsplit(url).netloc
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        got, size = hashlib.md5(), 0
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as f:
            for block in iter(lambda: response.read(1 << 20), b""):
                f.write(block)
                got.update(block)
                size += len(block)
            announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and size < int(announced):
            return f"{host} stopped after {size} of {announced} bytes"
        if got.hexdigest() != md5:
            return f"{host} sent a file that does not match its published MD5 (cut short or altered)"
        os.replace(tmp, dest)
        return None
    except urllib.error.HTTPError as e:
        hint = " (a proxy or firewall refusing?)" if e.code in (403, 407) else ""
        return f"{host} answered {e.code} {e.reason}{hint}"
    except urllib.error.URLError as e:
        return f"{host} could not be reached ({getattr(e.reason, 'strerror', None) or e.reason}; offline?)"
    except (TimeoutError, ConnectionError, http.client.HTTPException) as e:
        return f"the download from {host} broke off ({getattr(e, 'strerror', None) or e})"
    finally:
        tmp.unlink(missing_ok=True)


def download(data_dir: Path, mirrors: list[str] | None = None, timeout: float = 30) -> None:
    """Downloads the archives missing from `data_dir` into data_dir/MNIST/raw/ (where
    torchvision keeps them), trying each of `mirrors` (torchvision's by default) in turn;
    UserError in one line naming what each mirror did, when one cannot be had."""
    if mirrors is None:
        from torchvision.datasets import MNIST
        mirrors = MNIST.mirrors
    folder = Path(data_dir) / "MNIST" / "raw"
    made = [d for d in (folder, folder.parent, Path(data_dir)) if not d.exists()]
    for name, (md5, _) in ARCHIVES.items():
        if _find_archive(Path(data_dir), name) is not None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        failures = []
        for mirror in mirrors:
            failure = _fetch(mirror + name, folder / name, md5, timeout)
            if failure is None:
                break
            failures.append(failure)
        else:
            for d in made:                   # the folders made for nothing
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise UserError(
                f"MNIST archive {name} could not be downloaded into {folder}: {'; '.join(failures)}. "
                f"Fix the connection, or fetch the four archives yourself and pass --data-dir (or set "
                f"MNIST_DIR) to their folder")


def locate_archives(data_dir: Path) -> dict[str, Path]:
    """Paths of the four MNIST archives in `data_dir`, verified; UserError if not usable.
    The project's own data/ receives a download of what it misses."""
    data_dir = Path(data_dir)
    if needs_download(data_dir):
        download(data_dir)
    found = {name: _find_archive(data_dir, name) for name in ARCHIVES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise UserError(
            f"MNIST archive {missing[0]} not found in {data_dir}: pass --data-dir (or set "
            f"MNIST_DIR) to the folder holding the four MNIST .gz files")
    for name, path in found.items():
        if hashlib.md5(path.read_bytes()).hexdigest() != ARCHIVES[name][0]:
            raise UserError(
                f"MNIST archive {path} is corrupt (MD5 mismatch): replace it with the original "
                f"file, or point --data-dir at a good copy")
    return found


def read_idx(path: Path, magic: int):
    """An IDX file (big-endian header, then unsigned bytes) from its .gz archive, as an
    array. (numpy is imported here, as torch is below: build.py's checks use this module.)"""
    import numpy as np
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise UserError(f"MNIST archive {path} cannot be unpacked ({e}): replace it with the "
                        f"original file") from None
    head = np.frombuffer(data[:4], ">u4")
    dims = int(head[0] & 0xFF) if len(head) else 0
    shape = tuple(int(n) for n in np.frombuffer(data[4:4 + 4 * dims], ">u4"))
    if not len(head) or head[0] != magic or len(shape) != dims or len(data) != 4 + 4 * dims + int(np.prod(shape)):
        raise UserError(f"MNIST archive {path} is not the IDX file it should be: replace it "
                        f"with the original file")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _pad(images):
    """(N, 28, 28) uint8 -> (N, 1, 32, 32) float32 tensor in [0, 1], zero border."""
    import numpy as np
    import torch
    x = np.zeros((len(images), 1, images.shape[1] + 2 * PAD, images.shape[2] + 2 * PAD), np.float32)
    x[:, 0, PAD:-PAD, PAD:-PAD] = images / np.float32(255)
    return torch.from_numpy(x)


def load_mnist(data_dir: Path, train_limit: int = 0, test_limit: int = 0):
    """Returns (x_train, y_train, x_test, y_test); x: (N, 1, 32, 32) float32 in [0, 1],
    y: (N,) int64 labels. A limit of 0 keeps every image."""
    import numpy as np
    import torch
    paths = locate_archives(Path(data_dir))
    arrays = {name: read_idx(path, ARCHIVES[name][1]) for name, path in paths.items()}
    out = []
    for split, limit in (("train", train_limit), ("t10k", test_limit)):
        images, labels = arrays[f"{split}-images-idx3-ubyte.gz"], arrays[f"{split}-labels-idx1-ubyte.gz"]
        limit = limit or len(images)
        out += [_pad(images[:limit]), torch.from_numpy(labels[:limit].astype(np.int64))]
    return tuple(out)
