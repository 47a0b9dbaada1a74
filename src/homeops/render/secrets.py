"""Secrets while rendering: SOPS-encrypted objects decrypted in memory, stand-ins or placeholders; redaction.

Flux decrypts SOPS-encrypted objects of a Kustomization before applying them, so what it applies (and
what a HelmRelease's ``valuesFrom`` or a Kustomization's ``substituteFrom`` reads) is the plaintext.
With an age key, the object's file is decrypted by the real ``sops`` over stdin/stdout; nothing
decrypted is written anywhere. What rendering then sees depends on whether secrets are to be shown:

* shown (``--show-secrets``): the encrypted leaves are swapped for their plaintext;
* otherwise (the default): each is swapped for a *stand-in*, ``<redacted #…>``, named by a keyed
  digest of the plaintext (the key derives from the age key, so the same value always gets the same
  stand-in and a changed value a different one, in both revisions of a diff). A decrypted values
  document (a multi-line YAML mapping, such as a ``values.yaml`` key) keeps its keys and gets a
  stand-in for each value. The plaintext never reaches Helm, a template, an error message or any
  output, so no escaping or encoding a chart applies to a value can carry it out.

Without a key every encrypted leaf becomes a placeholder that names a digest of its ciphertext, so a
re-encrypted value still shows up as a change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HomeopsError, RenderError
from ..load.yamlio import parse
from ..model.base import Origin, Resource

REDACTED = "<redacted>"
STAND_IN_PREFIX = "<redacted #"
_ENC_PREFIX = "ENC["


def placeholder(ciphertext: str) -> str:
    """The stand-in for one encrypted value when no key can decrypt it."""
    return f"<sops-encrypted #{hashlib.sha256(ciphertext.encode()).hexdigest()[:10]}>"


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<sops-encrypted #")


def is_stand_in(value: Any) -> bool:
    """Whether ``value`` holds a stand-in for a decrypted value (alone or inside a longer string)."""
    return isinstance(value, str) and STAND_IN_PREFIX in value


class StandIns:
    """What rendering sees instead of decrypted values unless they are to be shown."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def text(self, value: str) -> str:
        """The stand-in for one value: equal for equal values, unguessable without the key."""
        if value == "":
            return value  # an empty value says nothing; keeping it keeps ``if .Values.x`` meaning the same
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:12]
        return f"{STAND_IN_PREFIX}{digest}>"

    def value(self, value: str) -> str:
        """A decrypted string as rendering sees it: a multi-line YAML mapping (a values document) keeps its
        keys with a stand-in for every value; anything else is one stand-in."""
        if "\n" in value.strip():
            parsed = parse(value)
            doc = parsed.documents[0] if parsed.failure is None and len(parsed.documents) == 1 else None
            if isinstance(doc, dict):
                # JSON is YAML: the document is read back by valuesFrom without a YAML writer.
                return json.dumps(self._leaves(doc), default=str)
        return self.text(value)

    def leaf(self, value: str, path: tuple[str, ...], obj: Mapping[str, Any]) -> str:
        """A decrypted leaf of ``obj`` at ``path``; base64 fields (``data`` of a Secret, ``binaryData``)
        keep their encoding around the stand-in of what they decode to."""
        encoded = path[:1] == ("binaryData",) or (path[:1] == ("data",) and is_secret(obj))
        if not encoded:
            return self.value(value)
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return self.text(value)
        return base64.b64encode(self.value(decoded).encode()).decode()

    def _leaves(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._leaves(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._leaves(v) for v in value]
        if value is None or isinstance(value, bool):
            return value  # structure, not content: a switch of the chart
        return self.text(value if isinstance(value, str) else _scalar_text(value))


def _stand_in_key(age_key: str | None) -> bytes:
    # From the age key: stable across runs and revisions, and no better than a random key to anyone
    # without it (who could decrypt the values anyway with it).
    if not age_key:
        import secrets

        return secrets.token_bytes(32)
    return hashlib.sha256(b"homeops stand-ins\0" + age_key.encode()).digest()


class Decryptor:
    """Decrypts repository files with sops, once per file, keeping the plaintext in memory only."""

    def __init__(
        self,
        read_bytes: Callable[[str], bytes],
        repo_root: Path,
        age_key: str | None,
        *,
        show: bool = False,
        only_this_key: bool = False,
    ) -> None:
        self._read = read_bytes
        self._root = repo_root
        self.age_key = age_key
        """Age identities (``AGE-SECRET-KEY-1…`` lines); None: every encrypted value is a placeholder."""
        self.show = show
        """Render with the plaintext; False: with stand-ins (:class:`StandIns`)."""
        self.only_this_key = only_this_key
        """The key was named explicitly (``--age-key``): sops may not fall back to keys it finds."""
        self.stand_ins = StandIns(_stand_in_key(age_key))
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

    def plaintext(self, origin: Origin) -> Any:
        """The decrypted document at ``origin`` (never to be shown: :func:`reveal` gives what may be);
        raises RenderError when sops cannot decrypt it."""
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
        """The values of a SOPS-encrypted Secret (``stringData`` and decoded ``data``; stand-ins unless
        shown), or None without a key or when sops cannot decrypt it. For Flux ``substituteFrom``."""
        if not self.enabled:
            return None
        revealed = reveal(res.obj, res.origin, self)
        if revealed.problem is not None:
            return None
        from ..model.kinds import Secret

        return Secret(Resource(revealed.obj, res.origin)).values()

    def _decrypt(self, rel: str) -> tuple[Any, ...] | HomeopsError:
        from ..secrets.sops import decrypt

        try:
            plaintext = decrypt(
                self._read(rel),
                filename=rel,
                repo_root=self._root,
                age_key=self.age_key,
                only_this_key=self.only_this_key,
            )
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
        if path[:1] in (("data",), ("binaryData",)):
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
    """``obj`` as rendering sees it: encrypted leaves replaced by their plaintext when secrets are shown,
    else by stand-ins (or by placeholders when there is no key or sops fails), ``sops`` metadata removed."""
    plain: Any = None
    problem: str | None = "SOPS-encrypted and no age key was given"
    if decryptor.enabled:
        try:
            plain = decryptor.plaintext(origin)
            problem = None
        except RenderError as exc:
            problem = exc.message
    out = {k: v for k, v in obj.items() if k != "sops"}
    conceal = None if decryptor.show else decryptor.stand_ins
    top = plain if isinstance(plain, dict) else {}
    swapped = {
        # a document encrypted whole (no encrypted_regex) has its identity encrypted too: it is not a
        # secret value (never counted sensitive, see _leaves), and the object needs it to be one
        k: _swap(v, top.get(k), None if k in _IDENTITY else conceal, out, (str(k),))
        for k, v in out.items()
    }
    return Revealed(swapped, plain is not None, problem)


_IDENTITY = frozenset({"apiVersion", "kind", "metadata"})


def _swap(
    value: Any, plain: Any, conceal: StandIns | None, obj: Mapping[str, Any], path: tuple[str, ...]
) -> Any:
    if isinstance(value, dict):
        return {
            k: _swap(v, plain.get(k) if isinstance(plain, dict) else None, conceal, obj, (*path, str(k)))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _swap(v, plain[i] if isinstance(plain, list) and i < len(plain) else None, conceal, obj, path)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str) and value.startswith(_ENC_PREFIX):
        if plain is not None and not (isinstance(plain, str) and plain.startswith(_ENC_PREFIX)):
            text = plain if isinstance(plain, str) else _scalar_text(plain)
            return text if conceal is None else conceal.leaf(text, path, obj)
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
