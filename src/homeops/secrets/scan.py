"""Find a repository's secret files: those named ``*.sops.*`` and those whose content is SOPS-encrypted.

A file that cannot be read is listed too (it might be either), marked :attr:`SecretFile.unreadable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..load.tree import TEMPLATE_SUFFIXES, SourceTree
from .naming import STRUCTURED_SUFFIXES, is_sops_file
from .sops import is_encrypted


@dataclass(frozen=True, slots=True)
class SecretFile:
    """A file that is, or should be, SOPS-encrypted."""

    path: str
    """Repo-relative path."""
    data: bytes = field(repr=False)
    encrypted: bool
    named: bool
    """Named ``*.sops.*``, so it must be encrypted."""
    unreadable: str | None = None
    """Why the file could not be read (``Permission denied``); then ``data`` is empty and whether it is
    encrypted is unknown."""


def scan(tree: SourceTree) -> Iterator[SecretFile]:
    """Every secret file of the tree, in path order (``.gitignore`` honoured, templates skipped)."""
    for rel in tree.files():
        if rel.endswith(TEMPLATE_SUFFIXES) or rel.rsplit("/", 1)[-1] in (".sops.yaml", ".sops.yml"):
            continue
        named = is_sops_file(rel)
        if not named and not rel.endswith(STRUCTURED_SUFFIXES):
            continue
        try:
            data = tree.read_bytes(rel)
        except FileNotFoundError:
            continue
        except OSError as exc:
            # Never skipped silently: a rotate would leave it encrypted to the old key only.
            yield SecretFile(rel, b"", False, named, exc.strerror or str(exc))
            continue
        encrypted = is_encrypted(data, rel)
        if named or encrypted:
            yield SecretFile(rel, data, encrypted, named)
