"""``homeops new``: a complete homelab repository in one of the seeds' layouts, written all at once.

Secrets: the ``SECRET_*`` settings are encrypted with the real sops when an age recipient is known
(``--age-recipient``, ``--age-key``, or the one key of sops' own key file) and then live in
``cluster-secrets.sops.yaml``. Without a recipient nothing is encrypted and nothing secret is written:
the domain and ACME e-mail (not credentials) go into the settings ConfigMap, marked, and the Secret is
optional in ``substituteFrom`` so that the repository checks clean until the user moves them. The
1Password service-account token and the age key are bootstrap secrets created in the cluster by hand
(the README says how); they never go into Git.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError, WriteError
from ..fsutil import abandoned_dirs, held_tempdir
from ..journal import pause_point
from .app import AppOptions, plan_app
from .files import FileSet
from .layouts import LAYOUT_BUILDERS, Settings, Skeleton
from .model import LAYOUTS
from .readme import readme
from .yamltext import dump

_AGE_RECIPIENT = re.compile(r"^age1[0-9a-z]{58}$")
_AGE_HINT = "an age public key looks like age1… (62 characters)"
EXAMPLE_APP = "example"


@dataclass(frozen=True, slots=True)
class NewOptions:
    """What ``homeops new`` was asked for (also the library call)."""

    layout: str
    domain: str = "example.com"
    email: str | None = None
    """ACME account e-mail (default ``admin@<domain>``)."""
    timezone: str = "Etc/UTC"
    git_url: str = "https://github.com/example/home-ops"
    age_recipient: str | None = None
    """Public age key to encrypt the cluster secrets to (None: write nothing secret)."""
    force: bool = False


@dataclass(frozen=True, slots=True)
class NewResult:
    root: Path
    files: tuple[str, ...]
    encrypted: tuple[str, ...]
    """Files written SOPS-encrypted."""
    recipient: str | None


def find_recipient(explicit: str | None = None, key_file: str | Path | None = None) -> str | None:
    """The age public key to encrypt to: ``explicit``, else the key of ``key_file`` or of the key sops
    would use (``$SOPS_AGE_KEY``, ``$SOPS_AGE_KEY_FILE``, sops' keys.txt) when it holds exactly one."""
    from ..secrets import keys

    if explicit is not None:
        if not _AGE_RECIPIENT.match(explicit):
            raise UsageError(f"{explicit!r} is not an age public key", hint=_AGE_HINT)
        return explicit
    key = keys.find_age_key(key_file)
    if key is None:
        return None
    publics = sorted(set(key.public_keys()))
    if len(publics) == 1:
        return publics[0]
    raise UsageError(
        f"{key.source} holds {len(publics)} age keys; homeops does not guess which one this repository uses",
        hint="pass --age-recipient with one of: " + ", ".join(publics),
    )


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    if target.is_dir() and any(p.name != ".git" for p in target.iterdir()) and not force:
        raise UsageError(
            f"{target} is not empty", hint="choose an empty or new folder, or pass --force to write over it"
        )


def sops_config(recipient: str, top: str) -> str:
    """The ``.sops.yaml`` of a new repository: Kubernetes Secrets under ``top`` encrypt data only."""
    from ..secrets.ops import sops_config_text

    return sops_config_text([top], recipient, writer="homeops new")[0]


def create_repo(target: str | Path, options: NewOptions) -> NewResult:
    """Write a new repository into ``target`` (created if missing); all files or none.

    ``options.age_recipient`` decides whether the cluster secrets are encrypted (see the module
    docstring); :func:`find_recipient` finds one the way the CLI does.
    """
    if options.layout not in LAYOUTS:
        raise UsageError(f"unknown layout {options.layout!r}", hint=f"use one of: {', '.join(LAYOUTS)}")
    root = Path(target)
    sweep_stages(root.parent)
    _check_target(root, options.force)
    recipient = options.age_recipient
    if recipient is not None and not _AGE_RECIPIENT.match(recipient):
        raise UsageError(f"{recipient!r} is not an age public key", hint=_AGE_HINT)
    settings = Settings(
        domain=options.domain,
        email=options.email or f"admin@{options.domain}",
        timezone=options.timezone,
        git_url=options.git_url,
        encrypted=recipient is not None,
    )
    skeleton: Skeleton = LAYOUT_BUILDERS[options.layout](settings)
    files = FileSet(root)
    for rel, text in skeleton.files.items():
        files.write(rel, text)
    for conventions in skeleton.conventions:
        namespace = None if conventions.layout == "layered" else "default"
        plan_app(conventions, AppOptions(EXAMPLE_APP, namespace=namespace), files)
    encrypted = _encrypt(root, files, skeleton, recipient) if recipient else ()
    files.write("README.md", readme(options.layout, settings, skeleton))
    written = _commit_new(root, files)
    return NewResult(root.resolve(), tuple(written), encrypted, recipient)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


STAGE_SUFFIX = ".homeops-new"
"""Ends the name of the folder a new repository is written in beside its target (``.NAME.*``)."""


def _commit_new(root: Path, files: FileSet) -> list[str]:
    """Write a new repository so that an interruption leaves nothing behind.

    Into a missing or empty folder the whole tree is written beside it and renamed into place in one
    step; into a folder that already holds files (``--force``, or a ``.git``) the files are written as
    one transaction. The staging folder is held while it is written: one that a killed run left
    (SIGKILL: no cleanup can run) is removed by the next ``homeops new`` beside it (:func:`sweep_stages`).
    """
    if root.exists() and any(root.iterdir()):
        return files.commit("new")
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        with held_tempdir(prefix=f".{root.name}.", suffix=STAGE_SUFFIX, dir=root.parent) as stage:
            try:
                for rel, text in sorted(files.pending().items()):
                    target = stage / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                pause_point("new.stage")
                os.chmod(stage, 0o777 & ~_umask())
                if root.exists():
                    root.rmdir()
                os.rename(stage, root)
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
    except OSError as exc:
        raise WriteError(f"cannot write {root}: {exc.strerror or exc}; nothing was written") from exc
    return sorted(files.pending())


def sweep_stages(folder: Path) -> list[str]:
    """Remove the staging folders that killed ``homeops new`` runs left in ``folder``; their paths.
    A writer alive holds its own, which is never taken."""
    found = abandoned_dirs(folder, lambda name: name.startswith(".") and name.endswith(STAGE_SUFFIX))
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def _encrypt(root: Path, files: FileSet, skeleton: Skeleton, recipient: str) -> tuple[str, ...]:
    from ..secrets import sops
    from ..secrets.config import parse_sops_config

    top = next(iter(skeleton.secrets)).split("/", 1)[0] if skeleton.secrets else "kubernetes"
    text = sops_config(recipient, top)
    config = parse_sops_config(text.encode("utf-8"))
    files.write(".sops.yaml", text)
    for rel, secret in skeleton.secrets.items():
        ciphertext = sops.encrypt(dump(secret).encode("utf-8"), filename=rel, repo_root=root, config=config)
        files.write(rel, ciphertext.decode("utf-8"))
    return tuple(sorted(skeleton.secrets))
