"""The private temporary folders a process under test made, found by the process id in their names.

homeops names each private folder after the process that made it (``homeops-sops-<pid>-….homeops-
private``, see :func:`homeops.fsutil.private_tempdir`). Other processes on the machine (test runs in
parallel, other users of homeops) make, abandon and remove folders of the same kind in the same places
at any time, so a leftover check counts only the folders of the process it tests: this one for a
library call, the child's pid for a real homeops process.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from homeops.fsutil import PRIVATE_SUFFIX, ram_backed_base


def private_dirs(pid: int | None = None, *, prefixes: tuple[str, ...] = ("homeops-",)) -> set[str]:
    """The private folders process ``pid`` (default: this one) made that exist now, in the RAM-backed
    folder and in the system temporary folder; ``prefixes``: only those kinds (``homeops-sops-``)."""
    owner = os.getpid() if pid is None else pid
    found: set[str] = set()
    for base in {ram_backed_base() or tempfile.gettempdir(), tempfile.gettempdir()}:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            made = re.fullmatch(rf"(homeops-(?:[a-z]+-)*){owner}-.*{re.escape(PRIVATE_SUFFIX)}", name)
            if made and made.group(1).startswith(prefixes):
                found.add(os.path.join(base, name))
    return found


def private_files_holding(value: str, pid: int) -> list[str]:
    """Files of the private folders process ``pid`` made that hold ``value``."""
    found = []
    for folder in private_dirs(pid):
        for path in Path(folder).rglob("*"):
            try:
                if path.is_file() and value.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                pass  # going away
    return found
