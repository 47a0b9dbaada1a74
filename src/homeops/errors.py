"""The one exception root of homeops and the exit codes the CLI maps them to.

Library code raises these; only the CLI catches them (once, at the top) and turns them into
``homeops: error: …`` on stderr and a documented exit code.
"""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: errors load on the warm path
if TYPE_CHECKING:
    from typing import Self


class ExitCode(IntEnum):
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    FINDINGS = 1
    """Findings at or above ``--fail-on`` (check), differences found (diff --exit-code)."""
    USAGE = 2
    """Bad arguments, bad configuration, a path that does not exist."""
    FAILURE = 3
    """The work could not be done: a tool failed, a render failed, a write was refused."""
    MISSING_TOOL = 4
    """A required external program (sops, kubectl, git) is not installed."""
    INTERRUPTED = 130


class Where:
    """A place in the repository that an error or finding points at (an immutable value).

    Written out rather than a dataclass: every command imports this module, and ``dataclasses``
    (which imports ``inspect``) would add a tenth of ``homeops --help``'s start-up.
    """

    __slots__ = ("line", "path")

    path: str
    """Path relative to the repository root, with forward slashes."""
    line: int
    """1-based line, 0 when unknown."""

    def __init__(self, path: str, line: int = 0) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "line", line)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Where is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: Where is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Where:
            return NotImplemented
        assert isinstance(other, Where)
        return (self.path, self.line) == (other.path, other.line)

    def __hash__(self) -> int:
        return hash((self.path, self.line))

    def __reduce__(self) -> tuple[type[Where], tuple[str, int]]:
        return Where, (self.path, self.line)

    def __repr__(self) -> str:
        return f"Where(path={self.path!r}, line={self.line!r})"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class HomeopsError(Exception):
    """Root of every error homeops raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, where: Where | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def at(self, where: Where | None) -> Self:
        """This error, copied, at another place. Errors kept in a cache are raised again to every
        caller that reaches the same cause; each caller locating one its own way needs its own copy."""
        # __new__, not __init__: subclasses build their message from other arguments
        moved = type(self).__new__(type(self), *self.args)
        moved.__dict__.update(self.__dict__)
        moved.where = where
        moved.__cause__, moved.__suppress_context__ = self.__cause__, self.__suppress_context__
        return moved.with_traceback(self.__traceback__)

    def __str__(self) -> str:
        text = self.message
        if self.where:
            path = self.where.path
            # a message that already opens with the file names it once, with the line
            opens = text.startswith(path) and text[len(path) : len(path) + 1] in (":", " ")
            text = f"{self.where}{text[len(path) :]}" if opens else f"{self.where}: {text}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(HomeopsError):
    """The command line or a configuration file asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """`.homeops.yaml` or another configuration file is invalid."""


class LoadError(HomeopsError):
    """A file could not be read or parsed."""


class KustomizeError(HomeopsError):
    """A kustomize build failed (bad reference, bad patch, load restriction)."""


class UnsupportedFeature(KustomizeError):
    """The native kustomize engine does not implement a feature this folder uses."""

    def __init__(self, feature: str, *, where: Where | None = None) -> None:
        super().__init__(f"unsupported kustomize feature: {feature}", where=where)
        self.feature = feature


class SubstitutionError(HomeopsError):
    """Flux post-build variable substitution failed (bad syntax, strict mode and an undefined var)."""


class RenderError(HomeopsError):
    """A Flux Kustomization or HelmRelease could not be rendered."""


class ToolError(HomeopsError):
    """An external program ran and failed."""

    def __init__(
        self,
        message: str,
        *,
        argv: list[str],
        cwd: str | None,
        returncode: int | None,
        output: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.argv = argv
        self.cwd = cwd
        self.returncode = returncode
        self.output = output

    def __str__(self) -> str:
        lines = [self.message, f"  command: {' '.join(self.argv)}"]
        if self.cwd:
            lines.append(f"  cwd: {self.cwd}")
        lines.append(f"  return code: {self.returncode}" if self.returncode is not None else "  timed out")
        if self.output.strip():
            lines.append("  output:")
            lines.extend(f"    {line}" for line in self.output.rstrip().splitlines())
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class MissingTool(HomeopsError):
    """An external program is not installed."""

    exit_code = ExitCode.MISSING_TOOL

    def __init__(self, tool: str, install: str) -> None:
        super().__init__(f"'{tool}' is not installed or not on PATH", hint=install)
        self.tool = tool


class WriteError(HomeopsError):
    """A write to the repository was refused or failed; nothing was changed."""


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT, SIGTERM, SIGHUP, …) ended the run; raised so that cleanup code runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
