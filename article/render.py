"""Render the article's Jinja2 templates into HTML, with math typeset at build time.

Templates write math with the `tex` filter (`{{ "a^2" | tex }}` inline,
`{{ "a^2" | tex(display=True) }}` for a display block). Each call leaves a
placeholder; after rendering, all formulas go to KaTeX in one Node process and the
placeholders are replaced with KaTeX's output, so the page needs no JavaScript to show
its math (only katex.min.css and its fonts). KaTeX writes each formula twice: as HTML for
the eye and as MathML (with the TeX source as its annotation) for screen readers.
"""
from __future__ import annotations

import json
import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
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


def percent(share: float, digits: int = 1) -> str:
    """A share (0 to 1) in per cent, rounded half up from its decimal digits (0.7305 -> 73.1)."""
    exact = Decimal(repr(share)).scaleb(2)
    return str(exact.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def render(pages: dict[str, tuple[str, dict]], node_modules: Path) -> dict[str, str]:
    """{page: (template in article/templates, or NAME/figure.j2 of a figure, context)} ->
    {page: HTML text}; the math of all pages is typeset in one KaTeX run."""
    formulas: list[tuple[str, bool]] = []

    def tex(source: str, display: bool = False) -> Markup:
        formulas.append((str(source), bool(display)))
        return Markup(f"\x00TEX{len(formulas) - 1}\x00")

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["tex"] = tex
    env.filters["pct"] = percent
    env.filters["g"] = "{:g}".format         # 1.0 -> 1, 0.25 -> 0.25: for lists of betas
    html = {page: env.get_template(template).render(**context) for page, (template, context) in pages.items()}
    typeset_all = typeset(formulas, node_modules)
    return {page: re.sub("\x00TEX(\\d+)\x00", lambda m: typeset_all[int(m.group(1))], text)
            for page, text in html.items()}
