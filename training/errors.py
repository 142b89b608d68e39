"""Errors a user can act on; build.py reports each as one line, without a traceback.
(A module of its own, free of torch, so that importing it costs nothing.)"""


class UserError(Exception):
    """A problem the user can fix, explained in one line that names the problem and the fix."""
