"""The article's figures in reading order: a figure's number is its place here.

Adding a figure is one line here, its folder under figures/ (figures/__init__.py says what
the folder holds) and one include in the prose of its section (templates/sections/).
"""
from figures import Figure

FIGURES = (
    Figure("pair", page=True),
    Figure("ae"),
    Figure("vae"),
    Figure("reparam"),
    Figure("map", page=True),
    Figure("explorer", page=True),
    Figure("recon", page=True),
    Figure("traversals", page=True),
    Figure("offdata"),
    Figure("dice", page=True),
    Figure("train", page=True),
    Figure("sweep", page=True, models="sweep"),
)
