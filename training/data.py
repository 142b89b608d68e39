"""MNIST from local archives, zero-padded to 32x32, as in-memory tensors.

The four original `.gz` archives are read from a folder the user names (`--data-dir`
or the MNIST_DIR environment variable). They are checked against torchvision's own
MD5 sums, unpacked into a temporary folder and parsed by `torchvision.datasets.MNIST`,
so nothing is ever written next to the archives. Only when the folder is the
project's own `data/` and the archives are missing do we let torchvision download
them (which needs internet). torch and torchvision are imported only when used, so
that a build with everything cached starts fast.
"""
from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

from .config import PAD, REPO
from .errors import DataError

DEFAULT_DATA_DIR = REPO / "data"


def _find_archive(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / name, data_dir / "MNIST" / "raw" / name, data_dir / "raw" / name):
        if candidate.is_file():
            return candidate
    return None


def locate_archives(data_dir: Path) -> dict[str, Path]:
    """Paths of the four MNIST archives in `data_dir`, verified; DataError if not usable."""
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import check_integrity
    data_dir = Path(data_dir)
    md5 = {url.rsplit("/", 1)[-1]: m for url, m in MNIST.resources}
    found = {name: _find_archive(data_dir, name) for name in md5}
    missing = [n for n, p in found.items() if p is None]
    if missing and data_dir.resolve() == DEFAULT_DATA_DIR.resolve():
        try:  # only the project's own data/ may receive a download
            MNIST(str(data_dir), train=True, download=True)
        except Exception:
            pass
        found = {n: _find_archive(data_dir, n) for n in found}
        missing = [n for n, p in found.items() if p is None]
    if missing:
        raise DataError(
            f"MNIST archive {missing[0]} not found in {data_dir}: pass --data-dir (or set "
            f"MNIST_DIR) to the folder holding the four MNIST .gz files")
    for name, path in found.items():
        if not check_integrity(str(path), md5[name]):
            raise DataError(
                f"MNIST archive {path} is corrupt (MD5 mismatch): replace it with the original "
                f"file, or point --data-dir at a good copy")
    return found


def _pad(images):
    """(N, 28, 28) uint8 tensor -> (N, 1, 32, 32) float32 in [0, 1], zero border."""
    import torch.nn.functional as F
    x = images.unsqueeze(1).float().div_(255.0)
    return F.pad(x, (PAD, PAD, PAD, PAD))


def load_mnist(data_dir: Path, train_limit: int = 0, test_limit: int = 0):
    """Returns (x_train, y_train, x_test, y_test); x: (N, 1, 32, 32) float32 in [0, 1]."""
    from torchvision.datasets import MNIST
    archives = locate_archives(Path(data_dir))
    with tempfile.TemporaryDirectory(prefix="mnist-") as tmp:
        raw = Path(tmp) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for name, path in archives.items():
            try:
                with gzip.open(path, "rb") as src, open(raw / name[:-3], "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError) as e:
                raise DataError(f"MNIST archive {path} cannot be unpacked ({e}): replace it "
                                f"with the original file") from None
        try:
            train = MNIST(tmp, train=True, download=False)
            test = MNIST(tmp, train=False, download=False)
        except Exception as e:  # a well-formed gzip with a bad payload
            raise DataError(f"MNIST archives in {data_dir} cannot be parsed ({e}): replace "
                            f"them with the original files") from None
        xtr, ytr, xte, yte = train.data, train.targets, test.data, test.targets
    if train_limit:
        xtr, ytr = xtr[:train_limit], ytr[:train_limit]
    if test_limit:
        xte, yte = xte[:test_limit], yte[:test_limit]
    return _pad(xtr), ytr.clone(), _pad(xte), yte.clone()
