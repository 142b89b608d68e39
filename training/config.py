"""One place for the facts the whole project shares: sizes, names, defaults, and which
code shapes which result.

Everything else (training, figure data, export, the page) reads them from here;
the page receives them through the figure data the build writes.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LATENT_DIM = 4        # latent values per image: the four axes of the explorer
IMAGE_SIZE = 32       # MNIST's 28x28 digits, zero-padded by 2 pixels on each side
MNIST_SIZE = 28
PAD = (IMAGE_SIZE - MNIST_SIZE) // 2
PIXEL_BITS = 8        # grey levels of the source images: 2**8
FLOAT_BITS = 32       # bits of one latent value as the models store it (float32)
MODELS = ("vae", "ae")  # the main pair, in the order the page shows them
LABELS = {"ae": "AE", "vae": "VAE"}
TITLES = {"ae": "Autoencoder (AE)", "vae": "Variational autoencoder (VAE)"}


def variant_label(beta: float) -> str:
    """The page's name of a VAE trained with another beta than the main one."""
    return f"VAE (β = {beta:g})"

# The samplers whose draws the build decodes and scores (training/evaluation.py), in the
# order the article names them, with the names it gives them
SAMPLER_NAMES = {"prior": "N(0, I)", "fitted": "fitted normal", "mixture": "fitted mixture"}
SAMPLERS = tuple(SAMPLER_NAMES)

GRID_COLUMNS = 10      # images per row in the page's grids of decodes (dice rolls)
# The site stores each weight tensor as uint8 on an affine grid (a quarter of float32's
# bytes). Training rounds the final weights to that grid itself, so that metrics, figures
# and the browser all use the very same model.
WEIGHT_DTYPE = "uint8"

REPO = Path(__file__).resolve().parent.parent
DATA_ENV = "MNIST_DIR"  # environment variable naming the folder with the MNIST archives

PALETTE = REPO / "article" / "palette.json"   # the colours of the digits, for the page and the stills
# The code that trains a model (the training process and every module it imports): a change
# to any of it retrains every model
TRAINING_ENTRY = "training/worker.py"


def digest(*parts: bytes | str) -> str:
    """Short stable hash of the parts (16 hex digits)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\x00")
    return h.hexdigest()[:16]


IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)|import[ \t]+([^\n]+))", re.M)


def local_imports(path: str) -> set[str]:
    """The repository's Python files that the file `path` (relative to the repository)
    imports directly, inside functions too (found by reading its import statements), with
    the packages around them, whose __init__.py runs first."""
    source = (REPO / path).read_text(encoding="utf-8")
    return set(_local_imports(str(REPO), path, source))


@functools.lru_cache(maxsize=None)
def _local_imports(repo: str, path: str, source: str) -> frozenset[str]:
    here, out = Path(path).parent, set()
    for match in IMPORT.finditer(source):
        module, names, plain = match.groups()
        if plain is not None:
            found = [Path(*n.split()[0].split(".")) for n in plain.split("#")[0].split(",") if n.strip()]
        else:
            level = len(module) - len(module.lstrip("."))
            base = here.parents[level - 2] if level > 1 else here if level else Path()
            module = base.joinpath(*module.lstrip(".").split(".")) if module.strip(".") else base
            listed = names.split("#")[0].strip("() \n").replace("\n", " ").split(",")
            found = [module, *(module / n.split()[0] for n in listed if n.strip())]
        for name in found:
            for candidate in (Path(f"{name}.py"), *(p / "__init__.py" for p in (name, *name.parents))):
                if candidate.parts and (Path(repo) / candidate).is_file():
                    out.add(candidate.as_posix())
    return frozenset(out - {path})


def code_closure(entries) -> list[str]:
    """The repository's files that running `entries` (paths relative to the repository)
    reads as code: the entries and, for Python files, every module of the repository they
    import, however deep (`local_imports`)."""
    seen, todo = set(), [Path(p).as_posix() for p in entries]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += sorted(local_imports(path)) if path.endswith(".py") else []
    return sorted(seen)


def source_digest(entries) -> str:
    """Hash of the code that running `entries` reads (`code_closure`); a missing entry is an
    error, not an empty file."""
    missing = [p for p in entries if not (REPO / p).is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]} is named as code that shapes a result but does not exist in {REPO}")
    return digest(*[f"{p}\n".encode() + (REPO / p).read_bytes() for p in code_closure(entries)])


@dataclass(frozen=True)
class ModelArgs:
    """Architecture; identical for the AE and the VAE except `variational`."""
    latent_dim: int = LATENT_DIM
    channels: tuple[int, ...] = (8, 16, 32)   # conv widths at 16x16, 8x8, 4x4
    hidden: int = 64                           # dense layer between convs and latent
    decoder_hidden: tuple[int, ...] = (128, 256, 256)  # widths of the decoder's hidden layers
    variational: bool = False                  # VAE: encoder gives mean and log-variance

    @classmethod
    def from_dict(cls, d: dict) -> "ModelArgs":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes the trained weights. With the training code, its hash
    names the checkpoint."""
    model: ModelArgs = field(default_factory=ModelArgs)
    epochs: int = 16
    batch_size: int = 256
    lr: float = 1.1e-2            # peak learning rate of the one-cycle schedule
    beta: float = 1.0             # weight of the KL term (VAE only; 1 = the ELBO)
    mean_start: bool = True       # decoder's output bias starts at the mean digit's logits
    seed: int = 0
    train_limit: int = 0          # use only the first N training images (0 = all 60,000)
    test_limit: int = 0           # use only the first N test images (0 = all 10,000)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**{**d, "model": ModelArgs.from_dict(d["model"])})

    @property
    def name(self) -> str:
        """'ae' or 'vae' for the main pair; other latent sizes, betas and seeds say so:
        'vae-d2', 'ae-d16', 'vae-b0.25', 'ae-s1'."""
        kind = "vae" if self.model.variational else "ae"
        size = f"-d{self.model.latent_dim}" if self.model.latent_dim != LATENT_DIM else ""
        beta = f"-b{self.beta:g}" if self.model.variational and self.beta != 1 else ""
        seed = f"-s{self.seed}" if self.seed != TrainConfig.seed else ""
        return kind + size + beta + seed

    kind = "autoencoder"

    def key(self) -> str:
        """Hash of the config and of the training code: equal keys, equal weights."""
        return digest(json.dumps(self.to_dict(), sort_keys=True), source_digest([TRAINING_ENTRY]))

    def checkpoint_name(self) -> str:
        return f"{self.name}-{self.key()}.pt"


@dataclass(frozen=True)
class JudgeConfig:
    """The judge: a small digit classifier that only scores decoded images (training/judge.py)."""
    channels: tuple[int, ...] = (8, 16)   # widths of its two 5x5 convolutions (each then pooled)
    hidden: int = 64                      # dense layer before the ten classes
    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-3                      # peak learning rate of the one-cycle schedule
    seed: int = 0
    train_limit: int = 0
    test_limit: int = 0

    kind = "judge"
    name = "judge"
    to_dict, key, checkpoint_name = TrainConfig.to_dict, TrainConfig.key, TrainConfig.checkpoint_name

    @classmethod
    def from_dict(cls, d: dict) -> "JudgeConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


CONFIGS = {c.kind: c for c in (TrainConfig, JudgeConfig)}

# The sweep: AE and VAE pairs at these latent sizes, and VAEs at these betas with the main
# latent size, all trained by the main pair's recipe (training/sweep.py measures them).
SWEEP_DIMS = (2, 4, 8, 16)
SWEEP_BETAS = (0.25, 0.5, 4.0)
# The main pair is trained this many times, with the run's seed and the next ones, so that the
# article can tell what holds from what one training run happened to give
SEEDS = 3


def families(main: dict[str, TrainConfig], dims=SWEEP_DIMS, betas=SWEEP_BETAS) -> list[TrainConfig]:
    """Configs of the sweep: an AE and a VAE per latent size in `dims`, and VAEs at the main
    latent size with each beta in `betas`; everything else is the main pair's, so the main
    pair is one of them whenever `dims` holds its latent size."""
    out = []
    for d in dims:
        for name in ("ae", "vae"):
            base = main[name]
            out.append(dataclasses.replace(base, model=dataclasses.replace(base.model, latent_dim=d)))
    for beta in betas:
        out.append(dataclasses.replace(main["vae"], beta=float(beta)))
    return list({c.name: c for c in out}.values())


def replicas(main: dict[str, TrainConfig], seeds: int = SEEDS) -> dict[str, TrainConfig]:
    """The main pair (`main`: {"ae": config, "vae": config}) trained again with the next
    `seeds` - 1 seeds, by name: {"ae-s1": ..., "vae-s1": ..., "ae-s2": ...} for a run with
    seed 0. Everything but the seed (weights' start, shuffles, noise) is the main pair's."""
    out = [dataclasses.replace(config, seed=config.seed + k) for k in range(1, seeds) for config in main.values()]
    return {c.name: c for c in out}
