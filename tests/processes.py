"""Real ``homeops`` processes for the crash, signal and permission tests.

:func:`start_paused` runs ``python -m homeops …`` with ``HOMEOPS_PAUSE_AT`` set, and returns once the
process says it reached that point (it then waits there for good), so that a test can send it a real
signal, SIGKILL included. :func:`run_unprivileged` runs homeops without the capabilities that let
root read any file, so that a file with mode 000 is unreadable even when the tests run as root.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

HOMEOPS = [sys.executable, "-m", "homeops"]


class Paused:
    """A homeops process stopped at a pause point."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: bytes) -> None:
        self.process = process
        self.stderr = stderr

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int, timeout: float = 30.0) -> int:
        """Send ``signum`` and wait for the process to end; its exit status (negative: killed)."""
        os.kill(self.process.pid, signum)
        self.process.wait(timeout=timeout)
        rest = self.process.stderr.read() if self.process.stderr else b""
        self.stderr += rest
        return self.process.returncode

    def kill(self) -> int:
        return self.signal(signal.SIGKILL)


def start_paused(
    argv: Sequence[str | Path],
    point: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Paused:
    """Start homeops and return once it printed ``homeops: paused at POINT`` (POINT[:N] stops at the
    N-th time). Fails the test when the process ends or the time runs out first."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["HOMEOPS_PAUSE_AT"] = point
    process = subprocess.Popen(
        [*HOMEOPS, *(str(a) for a in argv)],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    marker = f"homeops: paused at {point.split(':')[0]}\n".encode()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while marker not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                process.kill()
                pytest.fail(f"homeops never reached {point}: {seen.decode(errors='replace')}")
            if selector.select(timeout=min(left, 1.0)):
                chunk = os.read(process.stderr.fileno(), 65536)
                if not chunk:
                    process.wait()
                    pytest.fail(
                        f"homeops ended (code {process.returncode}) before {point}: "
                        f"{seen.decode(errors='replace')}"
                    )
                seen += chunk
    return Paused(process, seen)


def run(argv: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run homeops to the end in a process of its own."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.pop("HOMEOPS_PAUSE_AT", None)
    return subprocess.run(
        [*prefix, *HOMEOPS, *(str(a) for a in argv)],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def unprivileged_prefix() -> list[str]:
    """The argv prefix that makes file permissions apply to this user (drops root's override)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): permissions cannot be tested")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def run_unprivileged(
    argv: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run homeops so that a file with mode 000 cannot be read, even by root."""
    return run(argv, cwd=cwd, env=env, prefix=unprivileged_prefix())
