"""Errors a user can act on; build.py reports each as one line, without a traceback.
(A module of its own, free of torch, so that importing it costs nothing.)"""


class DataError(Exception):
    """A problem with the user's data that one line can explain."""


class TrainingError(Exception):
    """A training process failed; its own error has been printed already."""
