"""``secretGenerator`` entries of a kustomization that put plaintext into a Secret.

kustomize turns ``literals`` (``KEY=value``), ``envs`` (dotenv files) and ``files`` into the data of a
Secret it generates; kustomize-controller decrypts SOPS-encrypted env files and files before the
build, so only those may hold real values. A value that is only a Flux substitution (``${VAR}``) or a
secret-manager reference (``op://…``) is filled in elsewhere and is not a secret in the repository.
Shared by rule SEC005 and the pre-commit check of staged files.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from ..load.tree import normalize
from ..records import NamedTuple

_PLACEHOLDER = re.compile(r"^(\s*(\$\{[^}]*\}|\{\{[^}]*\}\})\s*)*$")
#: References a secret manager resolves at deploy time (1Password ``op inject``, vals, AVP).
_REFERENCE = re.compile(r"^\s*(op://[^\n]+|ref\+\S+|<path:[^>]+>|vault:\S+)\s*$")

FIX = (
    "encrypt the file with SOPS (name it *.sops.env or *.sops.yaml and run 'homeops secrets encrypt'; "
    "Flux decrypts it before the build), or move the value to your vault and use an ExternalSecret"
)


def is_placeholder(value: Any) -> bool:
    """Empty, only ``${VAR}`` / ``{{ .x }}`` placeholders, or a secret-manager reference (``op://…``)."""
    if value is None:
        return True
    return isinstance(value, str) and bool(_PLACEHOLDER.match(value) or _REFERENCE.match(value))


class Exposure(NamedTuple):
    """One ``secretGenerator`` source that puts plaintext into a Secret."""

    field: tuple[str | int, ...]
    """Where in the kustomization document: ``("secretGenerator", 0, "literals", 1)``."""
    message: str


def exposures(doc: Any, folder: str, read: Callable[[str], bytes | None]) -> list[Exposure]:
    """The plaintext sources of the ``secretGenerator`` entries of one kustomization document.

    ``folder``: the kustomization's folder (repo-relative); ``read``: the content of a repo-relative
    file, None when it is missing (a missing file is a build error, reported elsewhere).
    """
    generators = doc.get("secretGenerator") if isinstance(doc, dict) else None
    if not isinstance(generators, list):
        return []
    from .sops import is_encrypted  # only when a kustomization has a secretGenerator

    found: list[Exposure] = []
    for i, entry in enumerate(generators):
        if not isinstance(entry, dict):
            continue
        name = entry.get("name") or "?"
        for j, literal in enumerate(_strings(entry.get("literals"))):
            key, _, value = literal.partition("=")
            if not is_placeholder(value.strip().strip("'\"")):
                found.append(
                    Exposure(
                        ("secretGenerator", i, "literals", j),
                        f"secretGenerator {name!r} writes the literal value of {key.strip()} into the "
                        "Secret in plaintext",
                    )
                )
        sources = [("envs", s) for s in _strings(entry.get("envs"))]
        sources += [("env", s) for s in _strings([entry.get("env")])]
        sources += [("files", s) for s in _strings(entry.get("files"))]
        counters: dict[str, int] = {}
        for section, source in sources:
            index = counters.get(section, 0)
            counters[section] = index + 1
            path = source.split("=", 1)[1] if section == "files" and "=" in source else source
            rel = normalize(posixpath.join(folder, path.strip()))
            data = read(rel) if rel is not None else None
            if data is None or is_encrypted(data, rel or "") or not _holds_values(data, section):
                continue
            at: tuple[str | int, ...] = (
                ("secretGenerator", i, "env") if section == "env" else ("secretGenerator", i, section, index)
            )
            kind = "file" if section == "files" else "env file"
            message = f"secretGenerator {name!r} reads the plaintext {kind} {path.strip()} into the Secret"
            found.append(Exposure(at, message))
    return found


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _holds_values(data: bytes, section: str) -> bool:
    """Whether a source file holds a real value (not only blanks, comments and placeholders)."""
    text = data.decode("utf-8", "replace")
    if section == "files":
        return not is_placeholder(text.strip())
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        value = stripped.split("=", 1)[1].strip().strip("'\"")
        if not is_placeholder(value):
            return True
    return False
