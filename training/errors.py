"""Errors a user can act on; build.py reports each as one line, without a traceback.
(A module of its own, free of torch, so that importing it costs nothing.)"""
from __future__ import annotations

import errno

FOLDER_FLAGS = "--out, --ckpt-dir and --cache-dir"


class UserError(Exception):
    """A problem the user can fix, explained in one line that names the problem and the fix."""


def file_problem(e: OSError) -> str:
    """One line for an OSError met while the build reads or writes a file: the file, what
    went wrong, and the fix."""
    where = e.filename or "a file or folder"
    what = e.strerror or str(e)
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space on that disk, or choose other folders with " + FOLDER_FLAGS
    elif e.errno == errno.EROFS:
        fix = "that file system is read-only: choose writable folders with " + FOLDER_FLAGS
    elif e.errno in (errno.EACCES, errno.EPERM):
        fix = "give the build access to it, or choose other folders with " + FOLDER_FLAGS
    else:
        fix = "check that path, or choose other folders with " + FOLDER_FLAGS
    return f"the build could not use {where} ({what}): {fix}, and run the build again"
