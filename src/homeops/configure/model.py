"""The values the configure pipeline passes between its steps, and what it reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from ..errors import ConfigError, ExitCode, HomeopsError, Where

#: The check the lead wires in: given the repository as it would be after the write, error strings.
CheckFn = Callable[[Path], list[str]]


@dataclass(frozen=True, slots=True)
class ConfigureOptions:
    """What ``homeops configure`` was asked to do (CLI flags and library callers share it)."""

    dry_run: bool = False
    """Run every step but write nothing."""
    encrypt: bool = True
    """Encrypt ``*.sops.*`` outputs; when off they are not written at all (never in plaintext)."""
    defines: Mapping[str, object] = field(default_factory=dict)
    """Extra template variables, ``-D key=value`` (minijinja) / makejinja ``data_vars``."""
    allow_undefined: bool = False
    """Let an undefined value print as empty text, as makejinja does outside ``undefined = "strict"``."""


class Status(Enum):
    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Output:
    """One generated file, as it will be (or was) written to the repository."""

    path: str
    """Repo-relative output path."""
    source: str
    """Repo-relative template that produced it."""
    lines: tuple[int, ...]
    """Template line of each line of the written content (0: unknown)."""
    secret: bool = False
    """A ``*.sops.*`` file: the written content is ciphertext."""
    mode: int | None = None
    """Permissions to give the file (makejinja ``copy_metadata``), None to keep or default."""
    mtime: float | None = None
    """Modification time to give the file (makejinja ``copy_metadata``)."""
    content: bytes | None = None
    """What to write; None for a secret not (yet) encrypted, or one left as it is."""


@dataclass(frozen=True, slots=True)
class FileReport:
    path: str
    status: Status
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ConfigureResult:
    """What configure did (or, with ``dry_run``, would do)."""

    repo_root: Path
    setups: tuple[str, ...]
    """Template setups found, e.g. ``makejinja (makejinja.toml)``."""
    files: tuple[FileReport, ...]
    warnings: tuple[str, ...]
    rendered_only: tuple[str, ...] = ()
    """Templates rendered to validate them but whose output is not kept in the repo (minijinja)."""
    stale: tuple[str, ...] = ()
    """Outputs of an earlier run that no template produces now (left in place)."""
    dry_run: bool = False

    def with_status(self, status: Status) -> list[FileReport]:
        return [f for f in self.files if f.status is status]


@dataclass
class Work:
    """The mutable state of one configure run, handed from step to step.

    Not frozen on purpose: each step adds to it. It lives only for the run.
    """

    repo_root: Path
    scratch: Path
    """Private temporary directory (0700, RAM-backed when possible), removed when the run ends."""
    options: ConfigureOptions
    rendered_dir: Path
    """Where templates are rendered: plaintext, inside ``scratch``."""
    outputs: dict[str, Output] = field(default_factory=dict)
    setups: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rendered_only: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Outputs not to write, with why."""
    empty_dirs: list[str] = field(default_factory=list)
    """Folders to create even when empty (makejinja ``keep_empty``)."""
    template_dirs: list[str] = field(default_factory=list)
    """Repo-relative template folders a renderer has claimed (so no other one renders them)."""


class Step(Protocol):
    """One stage of the pipeline (render, encrypt, check). Raising fails the whole transaction."""

    name: str

    def run(self, work: Work) -> None: ...


class ValidationFailed(ConfigError):
    """The template input values are invalid; every problem is listed."""

    def __init__(self, issues: list[tuple[Where, str]], hint: str | None = None) -> None:
        first_where, first = issues[0]
        super().__init__(first, where=first_where, hint=hint)
        self.issues = issues

    def __str__(self) -> str:
        lines = [f"{where}: {message}" if str(where) else message for where, message in self.issues]
        text = "invalid template input values:\n" + "\n".join(f"  {line}" for line in lines)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class TemplateError(HomeopsError):
    """A template could not be rendered (syntax error, undefined variable, failing function)."""


class EncryptionFailed(HomeopsError):
    """A rendered secret could not be encrypted."""


class CheckFailed(HomeopsError):
    """The check of the rendered repository found errors; nothing was written."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, errors: list[str]) -> None:
        super().__init__(
            f"check found {len(errors)} error(s) in the rendered repository; nothing was written",
            hint="fix the templates or their input values and run configure again",
        )
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {e}" for e in self.errors), f"  hint: {self.hint}"])
