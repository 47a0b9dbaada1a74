"""The leftover checks count only the private folders of the process under test: other processes on
the machine (test runs in parallel) make and abandon folders of the same kind at any time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from homeops.fsutil import private_tempdir
from leftovers import private_dirs

# A process that makes a private folder and dies without cleaning up (as under SIGKILL).
_ABANDON = """
import os
from homeops.fsutil import private_tempdir
held = private_tempdir("homeops-edit-")  # kept: a dropped generator would clean up
folder = held.__enter__()
print(os.getpid(), folder, flush=True)
os._exit(0)
"""


def test_another_process_abandoning_a_folder_does_not_count(shm_leftovers: Callable[[], set[str]]) -> None:
    before = shm_leftovers()
    done = subprocess.run([sys.executable, "-c", _ABANDON], capture_output=True, text=True, check=True)
    pid, theirs = done.stdout.split()
    try:
        assert Path(theirs).is_dir()  # abandoned, as a killed homeops leaves it until the next run
        assert shm_leftovers() == before
        assert private_dirs(int(pid)) == {theirs}  # what a test of that process looks at
        mine = private_tempdir("homeops-edit-")
        folder = mine.__enter__()
        assert shm_leftovers() == before | {folder.name}  # one of this process's own counts
        mine.__exit__(None, None, None)
        assert shm_leftovers() == before
    finally:
        shutil.rmtree(theirs, ignore_errors=True)
