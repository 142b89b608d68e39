"""Render the article's Jinja2 templates into HTML, with math typeset at build time.

Templates write math with the `tex` filter (`{{ "a^2" | tex }}` inline,
`{{ "a^2" | tex(display=True) }}` for a display block). The filter is pure: it leaves a
placeholder that carries the formula itself. After rendering, every placeholder found in
the pages goes to KaTeX in one Node process and is replaced with KaTeX's output, so the
page needs no JavaScript to show its math (only katex.min.css and its fonts). KaTeX writes
each formula twice: as HTML for the eye and as MathML (with the TeX source as its
annotation) for screen readers.

Because the filter has no side effect, Jinja may fold it into a template's compiled code
when its argument is a literal, and the compiled templates can be kept between builds
(Jinja's bytecode cache, in the build's cache folder): a template-only rebuild then
compiles only the template that changed. KaTeX's output is kept there too, by formula, so
a rebuild starts Node only for formulas it has not typeset before.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jinja2
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from training.errors import UserError

HERE = Path(__file__).resolve().parent
TEMPLATES = [HERE / "templates", HERE.parent / "figures"]   # the shell, and each figure's NAME/figure.j2

_KATEX_JS = """
const katex = require('katex');
const items = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = items.map(([tex, display]) =>
  katex.renderToString(tex, {displayMode: display, throwOnError: true, output: 'htmlAndMathml'}));
process.stdout.write(JSON.stringify(out));
"""


def typeset(items: list[tuple[str, bool]], node_modules: Path) -> list[str]:
    """[(tex, display)] -> KaTeX HTML strings, in one `node` call."""
    if not items:
        return []
    proc = subprocess.run(["node", "-e", _KATEX_JS], input=json.dumps(items), text=True,
                          capture_output=True, cwd=node_modules.parent)
    if proc.returncode:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "node failed"
        raise UserError(f"KaTeX could not typeset the article's math ({last}): fix the formula in the template")
    return json.loads(proc.stdout)


WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def percent(share: float, digits: int = 1) -> str:
    """A share (0 to 1) in per cent, rounded half up from its decimal digits (0.7305 -> 73.1)."""
    exact = Decimal(repr(share)).scaleb(2)
    return str(exact.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def points(a: float, b: float) -> float:
    """a - b in percentage points, from the two shares as the page prints them (`percent`), so
    that a reader's own subtraction of the printed numbers agrees."""
    return float(Decimal(percent(a)) - Decimal(percent(b)))


# \x00TEX<i|d><the formula, base64>\x00: inline or display, and the TeX itself
PLACEHOLDER = re.compile("\x00TEX([id])([A-Za-z0-9+/=]*)\x00")


def tex(source: str, display: bool = False) -> Markup:
    """The `tex` filter: a placeholder that carries the formula (no side effect, so that
    Jinja may fold it into compiled code)."""
    encoded = base64.b64encode(str(source).encode("utf-8")).decode("ascii")
    return Markup(f"\x00TEX{'d' if display else 'i'}{encoded}\x00")


class QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's bytecode cache in a folder of its own; a cache that cannot be read or written
    (a read-only cache folder, say) only means compiling again."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            self.directory and Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def cache_folder(cache_dir: Path, node_modules: Path) -> Path:
    """Where compiled templates and typeset formulas are kept: named by this module's code,
    Jinja's version and KaTeX's, since these decide what compiled code (folded filters
    included) a template becomes and what HTML a formula does."""
    katex = node_modules / "katex" / "package.json"
    key = hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()
                         + (katex.read_bytes() if katex.is_file() else b"")).hexdigest()[:16]
    return Path(cache_dir) / f"render-{key}"


def typeset_pages(html: dict[str, str], node_modules: Path, folder: Path | None = None) -> dict[str, str]:
    """Every math placeholder in `html` ({page: text}) replaced with KaTeX's output; the
    formulas of all pages not typeset before (kept in `folder`/katex.json) are typeset in
    one KaTeX run, each distinct one once."""
    found = {(m.group(2), m.group(1) == "d") for text in html.values() for m in PLACEHOLDER.finditer(text)}
    kept = {}
    if folder is not None:
        try:
            kept = {(b64, display): out for b64, display, out in json.loads((folder / "katex.json").read_text())}
        except (OSError, ValueError, TypeError):
            kept = {}
    done = {k: kept[k] for k in found if k in kept}
    todo = sorted(found - done.keys())
    done.update(zip(todo, typeset([(base64.b64decode(b64).decode("utf-8"), display) for b64, display in todo],
                                  node_modules)))
    if folder is not None and todo:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            part = folder / f".katex.json.{os.getpid()}.tmp"
            part.write_text(json.dumps(sorted([b64, display, out] for (b64, display), out in done.items())))
            os.replace(part, folder / "katex.json")
        except OSError:
            pass                                 # a cache that cannot be written only means typesetting again
    return {page: PLACEHOLDER.sub(lambda m: done[(m.group(2), m.group(1) == "d")], text)
            for page, text in html.items()}


def render(pages: dict[str, tuple[str, dict]], node_modules: Path, cache_dir: Path | None = None) -> dict[str, str]:
    """{page: (template in article/templates, or NAME/figure.j2 of a figure, context)} ->
    {page: HTML text}; the math of all pages is typeset in one KaTeX run. With `cache_dir`,
    compiled templates and typeset formulas are kept there (see cache_folder) and reused:
    a rebuild compiles only the templates that changed and typesets only new formulas."""
    folder = cache = None
    if cache_dir is not None:
        folder = cache_folder(cache_dir, node_modules)
        for old in Path(cache_dir).glob("render-*"):     # made by another version of this code
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        cache = QuietBytecodeCache(str(folder))
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, bytecode_cache=cache)
    env.filters["tex"] = tex
    env.filters["pct"] = percent
    env.filters["g"] = "{:g}".format         # 1.0 -> 1, 0.25 -> 0.25: for lists of betas
    env.filters["words"] = lambda n: WORDS[n] if 0 <= n < len(WORDS) else f"{n:,}"   # 3 -> three
    html = {page: env.get_template(template).render(**context) for page, (template, context) in pages.items()}
    return typeset_pages(html, node_modules, folder)
