"""Secrets while rendering: SOPS-encrypted objects decrypted in memory, or marked placeholders; redaction.

Flux decrypts SOPS-encrypted objects of a Kustomization before applying them, so what it applies (and
what a HelmRelease's ``valuesFrom`` reads) is the plaintext. With an age key, the object's file is
decrypted by the real ``sops`` over stdin/stdout and the encrypted leaves of the built object are
swapped for their plaintext; nothing decrypted is written anywhere. Without a key every encrypted leaf
becomes a placeholder that names a digest of its ciphertext, so a re-encrypted value still shows up
as a change.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HomeopsError, RenderError
from ..load.yamlio import parse
from ..model.base import Origin, Resource

REDACTED = "<redacted>"
_ENC_PREFIX = "ENC["


def placeholder(ciphertext: str) -> str:
    """The stand-in for one encrypted value when no key can decrypt it."""
    return f"<sops-encrypted #{hashlib.sha256(ciphertext.encode()).hexdigest()[:10]}>"


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<sops-encrypted #")


class Decryptor:
    """Decrypts repository files with sops, once per file, keeping the plaintext in memory only."""

    def __init__(self, read_bytes: Callable[[str], bytes], repo_root: Path, age_key: str | None) -> None:
        self._read = read_bytes
        self._root = repo_root
        self.age_key = age_key
        """Age identities (``AGE-SECRET-KEY-1…`` lines); None: every encrypted value is a placeholder."""
        self._docs: dict[str, tuple[Any, ...] | HomeopsError] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._sensitive: set[str] = set()

    def sensitive(self) -> frozenset[str]:
        """Every plaintext value decrypted so far (and the decoded form of base64 ``data``), to keep out
        of anything shown; values shorter than 4 characters are left out (they would mask too much)."""
        with self._guard:
            return frozenset(self._sensitive)

    @property
    def enabled(self) -> bool:
        return bool(self.age_key)

    def document(self, origin: Origin) -> Any:
        """The decrypted document at ``origin``; raises RenderError when sops cannot decrypt it."""
        with self._guard:
            lock = self._locks.setdefault(origin.path, threading.Lock())
        with lock:
            found = self._docs.get(origin.path)
            if found is None:
                found = self._decrypt(origin.path)
                self._docs[origin.path] = found
        if isinstance(found, HomeopsError):
            raise found
        if origin.index >= len(found):
            raise RenderError(f"{origin.path}: sops returned no document {origin.index}")
        return found[origin.index]

    def secret_values(self, res: Resource) -> dict[str, str] | None:
        """The values of a SOPS-encrypted Secret (``stringData`` and decoded ``data``), or None
        without a key or when sops cannot decrypt it. For Flux ``substituteFrom``; kept in memory."""
        if not self.enabled:
            return None
        try:
            doc = self.document(res.origin)
        except HomeopsError:
            return None
        if not isinstance(doc, dict):
            return None
        from ..model.kinds import Secret

        return Secret(Resource({k: v for k, v in doc.items() if k != "sops"}, res.origin)).values()

    def _decrypt(self, rel: str) -> tuple[Any, ...] | HomeopsError:
        from ..secrets.sops import decrypt

        try:
            plaintext = decrypt(self._read(rel), filename=rel, repo_root=self._root, age_key=self.age_key)
        except OSError as exc:
            return RenderError(f"cannot read {rel}: {exc.strerror or exc}")
        except HomeopsError as exc:
            return RenderError(f"{rel}: sops could not decrypt it: {exc.message}", hint=exc.hint)
        parsed = parse(plaintext)
        if parsed.failure is not None:
            return RenderError(f"{rel}: sops output is not YAML (line {parsed.failure.line})")
        found: set[str] = set()
        for doc in parsed.documents:
            _leaves(doc, found, ())
        with self._guard:
            self._sensitive |= {v for v in found if len(v) >= 4}
        return tuple(parsed.documents)


def _leaves(value: Any, out: set[str], path: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if path or key not in ("sops", "apiVersion", "kind", "metadata"):
                _leaves(item, out, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            _leaves(item, out, path)
    elif isinstance(value, str):
        _sensitive_text(value, out)
        if path[:1] == ("data",):
            import base64
            import binascii

            try:
                _sensitive_text(base64.b64decode(value, validate=True).decode("utf-8"), out)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pass


def _sensitive_text(text: str, out: set[str]) -> None:
    out.add(text)
    if "\n" in text.strip():
        # A document in a key (values.yaml): its own string values may surface one by one.
        parsed = parse(text)
        for doc in parsed.documents if parsed.failure is None else ():
            _strings(doc, out)


def _strings(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, str) and len(value) >= 6:
        out.add(value)


@dataclass(frozen=True, slots=True)
class Revealed:
    obj: dict[str, Any]
    decrypted: bool
    problem: str | None = None
    """Why encrypted values are placeholders (no key, sops failed); None when decrypted."""


def reveal(obj: Mapping[str, Any], origin: Origin, decryptor: Decryptor) -> Revealed:
    """``obj`` as Flux applies it: encrypted leaves replaced by their plaintext (or by placeholders when
    there is no key or sops fails), the ``sops`` metadata removed."""
    plain: Any = None
    problem: str | None = "SOPS-encrypted and no age key was given"
    if decryptor.enabled:
        try:
            plain = decryptor.document(origin)
            problem = None
        except RenderError as exc:
            problem = exc.message
    out = {k: v for k, v in obj.items() if k != "sops"}
    return Revealed(_swap(out, plain), plain is not None, problem)


def _swap(value: Any, plain: Any) -> Any:
    if isinstance(value, dict):
        return {k: _swap(v, plain.get(k) if isinstance(plain, dict) else None) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _swap(v, plain[i] if isinstance(plain, list) and i < len(plain) else None)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str) and value.startswith(_ENC_PREFIX):
        if plain is not None and not (isinstance(plain, str) and plain.startswith(_ENC_PREFIX)):
            return plain if isinstance(plain, str) else _scalar_text(plain)
        return placeholder(value)
    return value


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- redaction --------------------------------------------------------------------------------------


def scrub(value: Any, sensitive: frozenset[str], marker: Callable[[str], str]) -> Any:
    """A copy of ``value`` where every string containing a sensitive value has it replaced by
    ``marker(value)`` (longest first, so a value that contains another is masked whole)."""
    if not sensitive:
        return value
    ordered = sorted(sensitive, key=lambda s: (-len(s), s))

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str):
            for secret in ordered:
                if secret in item:
                    item = item.replace(secret, marker(secret))
        return item

    return walk(value)


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def redact(obj: Mapping[str, Any], marker: Callable[[str, str, Any], str] | None = None) -> dict[str, Any]:
    """A copy of a Secret with every ``data``/``stringData`` value replaced (other objects: unchanged copy
    of the top level). ``marker(field, key, value)`` chooses the replacement; default ``<redacted>``."""
    out = dict(obj)
    if not is_secret(obj):
        return out
    for field in ("data", "stringData"):
        values = obj.get(field)
        if isinstance(values, dict):
            out[field] = {
                k: (marker(field, str(k), v) if marker is not None else REDACTED) for k, v in values.items()
            }
    return out


def age_key_material(explicit: str | Path | None = None) -> str | None:
    """Age identities from ``--age-key FILE``, else ``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE`` or sops'
    default key file; None when there is no key (encrypted values render as placeholders)."""
    from ..secrets.keys import find_age_key

    found = find_age_key(explicit)
    return found.material if found is not None else None
