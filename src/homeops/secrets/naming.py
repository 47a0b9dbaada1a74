"""Which files are SOPS secret files by name (``*.sops.yaml`` and friends)."""

from __future__ import annotations

import re

#: Formats sops reads as structured trees (anything else is "binary").
STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json", ".env", ".ini")

_SOPS_NAME = re.compile(r"[^/]\.sops\.(?:ya?ml|json|env|ini)$")


def is_sops_file(rel: str) -> bool:
    """Whether a repo-relative path names a file meant to be SOPS-encrypted.

    ``secret.sops.yaml`` is; ``.sops.yaml`` (the configuration) and templates such as
    ``secret.sops.yaml.j2`` (inputs to render, never committed as secrets) are not.
    """
    base = rel.rsplit("/", 1)[-1]
    return base != ".sops.yaml" and _SOPS_NAME.search(base) is not None
