"""Which secret files are encrypted, to whom, and whether that agrees with ``.sops.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..load.tree import SourceTree
from .config import ALTERNATE_NAME, CreationRule, SopsConfig, load_sops_config
from .scan import scan
from .sops import recipients_of

#: Problem codes of a file (stable: they appear in ``--output json``).
NOT_ENCRYPTED = "not-encrypted"
"""Named ``*.sops.*`` but plaintext."""
NO_RULE = "no-rule"
"""No creation rule of ``.sops.yaml`` matches the file."""
RECIPIENTS_DIFFER = "recipients-differ"
"""Encrypted to other recipients than its creation rule names."""
UNREADABLE = "unreadable"
"""The file cannot be read (permission denied): nothing is known of it."""


@dataclass(frozen=True, slots=True)
class FileStatus:
    path: str
    encrypted: bool
    recipients: tuple[str, ...]
    """Who can decrypt it now (age recipients, PGP fingerprints)."""
    rule: int | None
    """1-based number of the creation rule that matches it, None when none does."""
    expected: tuple[str, ...]
    """The recipients that rule names."""
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "encrypted": self.encrypted,
            "recipients": list(self.recipients),
            "rule": self.rule,
            "expected_recipients": list(self.expected),
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class SecretsStatus:
    config: str | None
    """Path of ``.sops.yaml``, None when the repository has none."""
    files: tuple[FileStatus, ...]
    config_problems: tuple[str, ...]
    """What is wrong with ``.sops.yaml`` itself (``file:line: message``)."""

    @property
    def ok(self) -> bool:
        return not self.config_problems and not any(f.problems for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The stable ``--output json`` shape (``version`` changes only when a field changes meaning)."""
        return {
            "version": 1,
            "config": self.config,
            "config_problems": list(self.config_problems),
            "files": [f.to_json() for f in self.files],
        }


def status(repo: str | Path | SourceTree) -> SecretsStatus:
    """The state of every secret file of the repository (no key needed: nothing is decrypted)."""
    tree = repo if isinstance(repo, SourceTree) else SourceTree(repo)
    config_problems: list[str] = []
    cfg: SopsConfig | None
    try:
        cfg = load_sops_config(tree)
    except ConfigError as exc:
        cfg = None
        config_problems.append(str(exc))
    if cfg is None and tree.is_file(ALTERNATE_NAME):
        config_problems.append(f"{ALTERNATE_NAME}: sops only reads .sops.yaml; rename the file")
    if cfg is not None:
        config_problems.extend(f"{cfg.path}:{line}: {message}" for line, message in cfg.problems())
    files = []
    for secret in scan(tree):
        rule = _rule(cfg, secret.path, config_problems)
        recipients = tuple(recipients_of(secret.data, secret.path)) if secret.encrypted else ()
        expected = rule.recipients if rule else ()
        problems = []
        if secret.unreadable:
            problems.append(UNREADABLE)
        elif not secret.encrypted:
            problems.append(NOT_ENCRYPTED)
        if rule is None:
            problems.append(NO_RULE)
        elif secret.encrypted and set(recipients) != set(expected):
            problems.append(RECIPIENTS_DIFFER)
        files.append(
            FileStatus(
                secret.path,
                secret.encrypted,
                recipients,
                rule.index + 1 if rule else None,
                expected,
                tuple(problems),
            )
        )
    return SecretsStatus(cfg.path if cfg else None, tuple(files), tuple(dict.fromkeys(config_problems)))


def _rule(cfg: SopsConfig | None, rel: str, problems: list[str]) -> CreationRule | None:
    if cfg is None:
        return None
    try:
        return cfg.rule_for(rel)
    except ConfigError as exc:
        problems.append(str(exc).splitlines()[0])
        return None
