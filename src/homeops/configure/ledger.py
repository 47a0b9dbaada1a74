"""The ledger of generated files, ``.homeops/ledger.json``: which template made which output.

Each output records its template, the sha256 of the bytes configure wrote, and a map from output
lines to template lines (see :mod:`.linemap` for how it is made and its limits).

Encrypted outputs record the sha256 of the *ciphertext*, never anything computed from the plaintext:
a hash (or an HMAC under a key derived from nothing secret) of a short secret can be brute-forced,
while the ciphertext hash reveals nothing the committed file does not. So for a secret "edited by
hand" means "the file changed since configure wrote it", which includes re-encryption (``sops
updatekeys``, key rotation); deciding whether its plaintext changed needs the key and a decryption.
Their line maps are carried over to the ciphertext by matching keys (SOPS keeps keys and order).

The file is JSON with sorted keys and a stable layout, so it diffs cleanly in Git.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import LoadError, Where
from ..load import jsonio
from ..load.walk import LeadsOutside, read_inside
from . import linemap

LEDGER_PATH = ".homeops/ledger.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    source: str
    """Repo-relative template that produced the output."""
    sha256: str
    """sha256 of the bytes written (the ciphertext for encrypted outputs)."""
    encrypted: bool = False
    lines: str = ""
    """Output line → template line runs, as :func:`linemap.encode` writes them."""


@dataclass(frozen=True, slots=True)
class Ledger:
    """The outputs of the last configure run, keyed by repo-relative output path."""

    entries: Mapping[str, LedgerEntry]

    def source_of(self, rel_output: str) -> str | None:
        """The template that produced this output."""
        entry = self.entries.get(rel_output)
        return entry.source if entry else None

    def edited_by_hand(self, repo_root: Path) -> list[str]:
        """Outputs whose content no longer matches what configure wrote (deleted ones included), sorted."""
        edited = []
        for path, entry in sorted(self.entries.items()):
            try:
                digest = hashlib.sha256((repo_root / path).read_bytes()).hexdigest()
            except OSError:
                edited.append(path)
                continue
            if digest != entry.sha256:
                edited.append(path)
        return edited

    def template_line(self, rel_output: str, output_line: int) -> tuple[str, int] | None:
        """The (template, line) that produced ``output_line`` (1-based) of an output, if known."""
        entry = self.entries.get(rel_output)
        if entry is None:
            return None
        line = linemap.lookup(entry.lines, output_line)
        return (entry.source, line) if line else None

    def to_json(self) -> bytes:
        outputs = {
            path: {"encrypted": e.encrypted, "lines": e.lines, "sha256": e.sha256, "source": e.source}
            for path, e in sorted(self.entries.items())
        }
        document = {
            "format": FORMAT,
            "generator": "homeops configure",
            "note": "Generated files and their templates. sha256 is of the bytes written (ciphertext for "
            "encrypted outputs). Do not edit.",
            "outputs": outputs,
        }
        return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Ledger:
        document = jsonio.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(
                f"unknown ledger format {document.get('format') if isinstance(document, dict) else None!r}"
            )
        entries = {
            str(path): LedgerEntry(
                source=str(e["source"]),
                sha256=str(e["sha256"]),
                encrypted=bool(e.get("encrypted", False)),
                lines=str(e.get("lines", "")),
            )
            for path, e in document["outputs"].items()
        }
        return cls(entries)


def load_ledger(repo_root: Path) -> Ledger | None:
    """The repository's ledger, or None when configure never wrote one."""
    try:
        data = read_inside(repo_root, LEDGER_PATH)
    except FileNotFoundError:
        return None
    except LeadsOutside as exc:
        raise LoadError(str(exc), where=Where(LEDGER_PATH), hint="delete it; configure writes it") from exc
    except OSError as exc:
        raise LoadError(f"cannot read the ledger: {exc.strerror or exc}", where=Where(LEDGER_PATH)) from exc
    try:
        return Ledger.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoadError(
            f"the ledger is damaged: {exc}",
            where=Where(LEDGER_PATH),
            hint="delete it and run 'homeops configure' to write it again",
        ) from exc
