"""The article's figures: one folder each, and the one list of them (FIGURES).

A figure NAME is the folder figures/NAME/ with
- `figure.j2`: its markup, a `<figure id="fig-NAME">`, included by the article where the
  prose needs it, and shown alone on `figure-NAME.html` when the figure has a `page`;
- optionally `data.py` with `compute(run) -> dict`, run by the build stage `stage` on the
  trained models (see `Run`): its "data" is merged into the page's data/figure-data.json,
  its "numbers" into metrics.json, and the files it writes under `run.folder / "img"` and
  `run.folder / "data"` are published; and `context(page) -> dict`, what its markup reads
  as `{{ NAME }}` (by default, what `compute` returned);
- optionally a view, `NAME.js`: an ES module whose default export `(root, app)` starts the
  figure in its element with `data-view="NAME"`, and the modules it imports;
- optionally styles (`*.css`) and pictures (`*.svg`, published under img/).
A figure's number is its place in FIGURES. Rendering the page imports each data.py that
defines a `context`, so such a data.py imports numpy, torch, matplotlib and the like inside
`compute`, never at its top: a template-only rebuild stays fast.
"""
from __future__ import annotations

import ast
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLOSE = 0.05          # shares within this of each other are "about the same" in the prose
STAGES = {"figures": "the main pair and the judge", "sweep": "the sweep's models and the judge"}


@dataclass(frozen=True)
class Figure:
    name: str                 # its folder under figures/ and its id, fig-NAME
    page: bool = False        # also shown on a page of its own, figure-NAME.html
    stage: str = "figures"    # the build stage that computes its data (a key of STAGES)


FIGURES = (
    Figure("pair", page=True),
    Figure("ae"),
    Figure("vae"),
    Figure("reparam"),
    Figure("map", page=True),
    Figure("explorer", page=True),
    Figure("recon", page=True),
    Figure("traversals", page=True),
    Figure("dice", page=True),
    Figure("train", page=True),
    Figure("sweep", page=True, stage="sweep"),
)


def folder(name: str) -> Path:
    return HERE / name


def module(name: str):
    """The figure's data.py as a module, or None when it has none."""
    return importlib.import_module(f"figures.{name}.data") if (folder(name) / "data.py").is_file() else None


def in_stage(stage: str) -> list[Figure]:
    return [f for f in FIGURES if f.stage == stage]


def stage_code(stage: str) -> list[str]:
    """The code a stage runs (paths relative to the repository; their imports are followed
    by training.config.code_closure): the shared measurements for "figures", and the data.py
    of each figure it computes."""
    shared = ["article/measure.py"] if stage == "figures" else []
    return shared + [f"figures/{f.name}/data.py" for f in in_stage(stage) if (folder(f.name) / "data.py").is_file()]


def compute(stage: str, run) -> None:
    """Runs `compute(run)` of every figure of `stage` that has one, in list order, and writes
    each result to run.folder / "NAME.json" (read back by `results`)."""
    for f in in_stage(stage):
        mod = module(f.name)
        if mod is not None and hasattr(mod, "compute"):
            (run.folder / f"{f.name}.json").write_text(json.dumps(mod.compute(run), separators=(",", ":")))


def results(stage: str, stage_folder: Path) -> dict[str, dict]:
    """What `compute` stored in a stage's folder, by figure name."""
    return {f.name: json.loads((stage_folder / f"{f.name}.json").read_text()) for f in in_stage(stage)
            if (stage_folder / f"{f.name}.json").is_file()}


def contexts(page: dict, stored: dict[str, dict]) -> dict[str, object]:
    """What each figure's markup reads as {{ NAME }}: its `context(page)`, or what its
    `compute` stored. `page` holds the page's metrics, data and config."""
    out = {}
    for f in FIGURES:
        if has_context(f.name):
            out[f.name] = module(f.name).context(page, stored.get(f.name))
        elif f.name in stored:
            out[f.name] = stored[f.name]
    return out


def has_context(name: str) -> bool:
    """Whether the figure's data.py defines `context`, read from its source: rendering the page
    imports only the data.py files that do."""
    path = folder(name) / "data.py"
    return path.is_file() and any(isinstance(node, ast.FunctionDef) and node.name == "context"
                                  for node in ast.parse(path.read_text(encoding="utf-8")).body)


class Run:
    """What a figure's `compute` gets: the trained models by name (`models`; `judge`), their
    training metrics and configs, MNIST (`mnist`: x_train, y_train, x_test, y_test, images
    (N, 1, 32, 32) in [0, 1]), the run's seed, the stage folder to write into, and each
    model's training codes, computed once (`codes(name)`: (N, D) numpy, the VAE's means).
    In the sweep stage, `sweep` names its families' models and `seeds` the main pair's other
    seeds ("ae-s1", ...; training/config.py: replicas)."""

    def __init__(self, models: dict, metrics: dict, configs: dict, mnist: tuple, seed: int, folder: Path):
        self.models, self.metrics, self.configs, self.mnist = models, metrics, configs, mnist
        self.seed, self.folder, self.pictures, self._codes = seed, Path(folder), {}, {}
        self.sweep, self.seeds = [], []

    @property
    def judge(self):
        return self.models["judge"]

    def codes(self, name: str):
        if name not in self._codes:
            from training.evaluation import encode
            self._codes[name] = encode(self.models[name], self.mnist[0])
        return self._codes[name][0]

    def logvar(self, name: str):
        self.codes(name)
        return self._codes[name][1]

    def path(self, kind: str, name: str) -> Path:
        """Where to write a file the site publishes: kind "img" or "data"."""
        out = self.folder / kind
        out.mkdir(exist_ok=True)
        return out / name


def cells(labels, sure, threshold: float) -> list[dict]:
    """The judge's marks on a grid of decodes (the `grid` macro draws them): per image its
    digit, its probability, and whether that makes it recognisable."""
    return [{"label": int(l), "sure": s, "ok": s >= threshold} for l, s in zip(labels, sure)]
