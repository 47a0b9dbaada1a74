"""``configure`` as one transaction: render → encrypt → check, then write everything or nothing.

Every step works in a private temporary directory (0700, RAM-backed when possible, removed whatever
happens, SIGTERM and SIGHUP included). Only when all steps succeed are the outputs and the ledger
written to the repository, as one :class:`homeops.journal.Transaction`, under the repository's write
lock: a failure or an interruption before that leaves the repository exactly as it was; signals
during the final renames are held back until they are done, and a run killed there (SIGKILL) is
finished by the next homeops write. Every output is resolved through its symlinks first: one that
leads out of the repository is refused, by a dry run too, which writes nothing at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError, Where
from ..fsutil import private_tempdir
from ..journal import Transaction, confine, locked, pause_point, state_dir
from . import linemap, makejinja_setup, minijinja_setup
from .encrypt import EncryptStep
from .ledger import LEDGER_PATH, Ledger, LedgerEntry, load_ledger
from .model import (
    CheckFailed,
    CheckFn,
    ConfigureOptions,
    ConfigureResult,
    EncryptionFailed,
    FileReport,
    Output,
    Status,
    Step,
    Work,
)


class CheckStep:
    """Run the repository check over the repository as it would be after the write."""

    name = "check"

    def __init__(self, check: CheckFn) -> None:
        self.check = check

    def run(self, work: Work) -> None:
        tree = work.scratch / "candidate"
        build_candidate(work, tree)
        errors = self.check(tree)
        if errors:
            raise CheckFailed(list(errors))


def build_candidate(work: Work, tree: Path) -> None:
    """The repository's files (what Git tracks) with the new outputs over them; never plaintext secrets."""
    from ..load.tree import SourceTree

    for rel in SourceTree(work.repo_root).files():
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work.repo_root / rel, target)
    for rel, output in work.outputs.items():
        if rel in work.skipped or output.content is None:
            continue
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.content)


def default_steps(repo_root: Path, check: CheckFn | None = None) -> list[Step]:
    """Render (each template setup found), encrypt, then check when a check is given."""
    steps: list[Step] = []
    toml = makejinja_setup.find(repo_root)
    if toml is not None:
        steps.append(makejinja_setup.MakejinjaStep(toml))
    mini = minijinja_setup.find(repo_root)
    if mini is not None:
        steps.append(minijinja_setup.MinijinjaStep(mini))
    if not steps:
        raise UsageError(
            f"{repo_root}: no template setup found",
            hint="configure renders repos with a makejinja.toml (cluster-template) or a .minijinja.toml",
        )
    steps.append(EncryptStep())
    if check is not None:
        steps.append(CheckStep(check))
    return steps


def configure(
    repo_root: str | Path,
    options: ConfigureOptions | None = None,
    *,
    check: CheckFn | None = None,
    steps: Sequence[Step] | None = None,
) -> ConfigureResult:
    """Render the repository's templates, encrypt its secrets, check, and write it all or nothing."""
    options = options or ConfigureOptions()
    root = Path(repo_root)
    if not root.is_dir():
        raise UsageError(f"{repo_root}: not a directory")
    root = root.resolve()
    chosen = list(steps) if steps is not None else default_steps(root, check)
    # A dry run writes nothing, not even the lock: it reads the repository as it is.
    guard = contextlib.nullcontext() if options.dry_run else locked(root, "configure")
    with guard, private_tempdir("homeops-configure-") as scratch:
        previous = load_ledger(root)
        rendered = scratch / "rendered"
        rendered.mkdir(mode=0o700)
        work = Work(repo_root=root, scratch=scratch, options=options, rendered_dir=rendered)
        if options.dry_run and any(state_dir(root).glob("txn-*")):
            work.warnings.append(
                "an interrupted homeops write is pending in this repository; the next write "
                "command (configure without --dry-run) finishes it first"
            )
        for step in chosen:
            step.run(work)
            pause_point("configure.step")
        plan = _plan(work, previous)
        if not options.dry_run and (plan.writes or plan.ledger is not None or work.empty_dirs):
            _commit(root, plan, work.empty_dirs)
    return ConfigureResult(
        repo_root=root,
        setups=tuple(work.setups),
        files=tuple(plan.reports),
        warnings=tuple(work.warnings),
        rendered_only=tuple(work.rendered_only),
        stale=tuple(plan.stale),
        dry_run=options.dry_run,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    writes: list[Output]
    reports: list[FileReport]
    ledger: bytes | None
    """New ledger content, None when unchanged."""
    stale: list[str]


def _plan(work: Work, previous: Ledger | None) -> _Plan:
    from ..secrets import sops

    root = work.repo_root
    writes: list[Output] = []
    reports: list[FileReport] = []
    entries: dict[str, LedgerEntry] = {}
    old = dict(previous.entries) if previous else {}
    for rel in sorted(set(work.outputs) | set(work.skipped)):
        output = work.outputs.get(rel)
        if rel in work.skipped or output is None or output.content is None:
            reason = work.skipped.get(rel, "secret not encrypted (no encrypt step ran)")
            reports.append(FileReport(rel, Status.SKIPPED, reason))
            if rel in old:
                entries[rel] = old[rel]
            continue
        if output.secret and not sops.is_encrypted(output.content, rel):
            # Whatever the steps did, a secret reaches the repository as ciphertext or not at all.
            raise EncryptionFailed(f"refusing to write {rel}: it is not SOPS-encrypted", where=Where(rel))
        entries[rel] = LedgerEntry(
            source=output.source,
            sha256=hashlib.sha256(output.content).hexdigest(),
            encrypted=output.secret,
            lines=linemap.encode(list(output.lines)),
        )
        target = confine(root, rel)  # refused, dry run or not, when a symlink leads out of the repo
        if not target.exists():
            writes.append(output)
            reports.append(FileReport(rel, Status.CREATED))
            continue
        same = target.is_file() and target.read_bytes() == output.content
        same_mode = output.mode is None or stat.S_IMODE(target.stat().st_mode) == output.mode
        if same and same_mode:
            reports.append(FileReport(rel, Status.UNCHANGED))
        else:
            writes.append(output)
            reports.append(FileReport(rel, Status.CHANGED, "permissions" if same else "content"))
    ledger = Ledger(entries).to_json()
    current = root / LEDGER_PATH
    if (current.is_file() and current.read_bytes() == ledger) or (not entries and not current.exists()):
        ledger_out: bytes | None = None
    else:
        ledger_out = ledger
    stale = sorted(set(old) - set(entries))
    return _Plan(writes, reports, ledger_out, stale)


def _commit(root: Path, plan: _Plan, empty_dirs: Sequence[str]) -> None:
    with Transaction(root, "configure") as tx:
        for output in plan.writes:
            tx.write(output.path, output.content or b"", mode=output.mode)
        if plan.ledger is not None:
            tx.write(LEDGER_PATH, plan.ledger)
        folders = [confine(root, rel) for rel in empty_dirs]
    for output in plan.writes:
        if output.mtime is not None:
            with contextlib.suppress(OSError):
                os.utime(confine(root, output.path), (output.mtime, output.mtime))
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
