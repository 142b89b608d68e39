"""The article's math survives compiled templates kept between builds.

Jinja folds a filter into a template's compiled code when its argument is a literal, so a
`tex` filter with a side effect (registering the formula to typeset) would lose every
literal formula once the compiled template comes from the cache. The filter is pure: its
placeholder carries the formula, and typesetting reads the placeholders of the output.
"""
from __future__ import annotations

import jinja2
import pytest

from article import render as render_module
from article.render import render
from build import NODE_MODULES

PAGE = '<p>{{ "a^2+b^2" | tex }} and {{ x | tex(display=True) }} and {{ "a^2+b^2" | tex }}</p>\n'


def test_a_cached_template_still_typesets_every_formula(tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html.j2").write_text(PAGE)
    monkeypatch.setattr(render_module, "TEMPLATES", [templates])
    pages = {"page.html": ("page.html.j2", {"x": r"\frac{1}{2}"})}
    cache = tmp_path / "cache"
    cache.mkdir()
    first = render(pages, NODE_MODULES, cache)["page.html"]
    assert list(cache.rglob("__jinja2_*")), "no compiled template was kept"
    for kept in cache.rglob("katex.json"):      # typeset again from what the cached template writes
        kept.unlink()

    def no_compiling(*args, **kwargs):
        raise AssertionError("the template was compiled again instead of read from the cache")
    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    second = render(pages, NODE_MODULES, cache)["page.html"]
    for html in (first, second):
        assert html.count("<math") == 3 and html.count('display="block"') == 1, html
        assert html.count('<annotation encoding="application/x-tex">a^2+b^2</annotation>') == 2
        assert r'<annotation encoding="application/x-tex">\frac{1}{2}</annotation>' in html
        assert "\x00" not in html
    assert second == first
    assert render(pages, NODE_MODULES, cache)["page.html"] == first    # typeset formulas read back


def test_a_formula_katex_refuses_is_one_error(tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html.j2").write_text('{{ "\\\\frac{1}" | tex }}\n')
    monkeypatch.setattr(render_module, "TEMPLATES", [templates])
    with pytest.raises(render_module.UserError, match="KaTeX could not typeset"):
        render({"page.html": ("page.html.j2", {})}, NODE_MODULES, tmp_path / "cache")
