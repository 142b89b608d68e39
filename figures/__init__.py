"""The article's figures, one folder each, and what the build does with a figure.

A figure NAME is the folder figures/NAME/ with
- `figure.j2`: its markup, a `<figure id="fig-NAME">`, included by the article where the
  prose needs it, and shown alone on `figure-NAME.html` when the figure has a `page`;
- optionally `data.py` with `compute(run) -> dict`, run by the build on the trained models
  (see `Run`) in a cached stage of its own, `figure-NAME`: its "data" is merged into the
  page's data/figure-data.json, its "numbers" into metrics.json, and the files it writes
  under `run.folder / "img"` and `run.folder / "data"` are published; and
  `context(page, stored) -> dict`, what its markup reads as `{{ NAME }}` (by default, what
  `compute` returned);
- optionally a view, `NAME.js`: an ES module whose default export `(root, app)` starts the
  figure in its element with `data-view="NAME"`, and the modules it imports;
- optionally styles (`*.css`) and pictures (`*.svg`, published under img/).
The article's list of figures, in order, is `article/outline.py: FIGURES`; a figure's number
is its place there. Nothing here reads that list, so that a figure's cache key (the code of
its data.py, followed through its imports) does not change when a figure is added.
Rendering the page imports each data.py that defines a `context`, so such a data.py imports
numpy, torch, matplotlib and the like inside `compute`, never at its top: a template-only
rebuild stays fast.
"""
from __future__ import annotations

import ast
import functools
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLOSE = 0.05          # shares within this of each other are "about the same" in the prose
# the models a figure's data is computed from (Figure.models)
MODEL_SETS = {"main": "the main pair and the judge", "sweep": "the sweep's models, the other seeds and the judge"}
RESULT = "result.json"    # what a figure's compute returned, in its stage folder


@dataclass(frozen=True)
class Figure:
    name: str                 # its folder under figures/ and its id, fig-NAME
    page: bool = False        # also shown on a page of its own, figure-NAME.html
    models: str = "main"      # the models its data.py computes from (a key of MODEL_SETS)

    @property
    def stage(self) -> str:
        """The name of the build's cached stage that holds what its data.py computed."""
        return f"figure-{self.name}"

    @property
    def computes(self) -> bool:
        """Whether it has a data.py with a `compute`, read from the source (nothing imported)."""
        return "compute" in functions(self.name)

    @property
    def code(self) -> str:
        """Its data.py, relative to the repository: the code its stage runs."""
        return f"figures/{self.name}/data.py"


def folder(name: str) -> Path:
    return HERE / name


def module(name: str):
    """The figure's data.py as a module, or None when it has none."""
    return importlib.import_module(f"figures.{name}.data") if (folder(name) / "data.py").is_file() else None


def functions(name: str) -> frozenset[str]:
    """The functions the figure's data.py defines at its top level, read from its source."""
    path = folder(name) / "data.py"
    return _functions(path.read_text(encoding="utf-8")) if path.is_file() else frozenset()


@functools.lru_cache(maxsize=None)
def _functions(source: str) -> frozenset[str]:
    return frozenset(node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))


def compute(figure: Figure, run) -> None:
    """Runs the figure's `compute(run)` and writes its result to run.folder (read back by `result`)."""
    (run.folder / RESULT).write_text(json.dumps(module(figure.name).compute(run), separators=(",", ":")))


def result(stage_folder: Path) -> dict:
    """What a figure's `compute` returned, from its stage folder."""
    return json.loads((stage_folder / RESULT).read_text())


def contexts(figs, page: dict, stored: dict[str, dict]) -> dict[str, object]:
    """What the markup of each figure in `figs` reads as {{ NAME }}: its `context(page)`, or
    what its `compute` stored. `page` holds the page's metrics, data and config."""
    out = {}
    for f in figs:
        if "context" in functions(f.name):
            out[f.name] = module(f.name).context(page, stored.get(f.name))
        elif f.name in stored:
            out[f.name] = stored[f.name]
    return out


class Run:
    """What a figure's `compute` gets: the trained models by name (`models`; `judge`), their
    training metrics and configs, MNIST (`mnist`: x_train, y_train, x_test, y_test, images
    (N, 1, 32, 32) in [0, 1]), the run's seed, the stage folder to write into, and each
    model's training codes, computed once (`codes(name)`: (N, D) numpy, the VAE's means),
    and `pictures`, the decodes the shared measurements made for the stills (article/measure.py:
    `measure`, or read back from its cached stage by `load_pictures`). `sweep` names the sweep's
    models and `seeds` the main pair's other seeds ("ae-s1", ...; training/config.py: replicas).
    """

    def __init__(self, models: dict, metrics: dict, configs: dict, mnist: tuple, seed: int, folder: Path,
                 sweep=(), seeds=()):
        self.models, self.metrics, self.configs, self.mnist = models, metrics, configs, mnist
        self.seed, self.folder, self.pictures, self._codes = seed, Path(folder), {}, {}
        self.sweep, self.seeds = list(sweep), list(seeds)

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
