"""Age keys: generate them, find the one sops would use, write key files safely.

A key file holds one or more identities (``AGE-SECRET-KEY-1…``) with ``#`` comment lines, the format of
``age-keygen`` and of SOPS' ``keys.txt``; sops tries every identity in it. Key material is never
logged: :class:`AgeKey` keeps identities out of its ``repr``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError, WriteError
from ..fsutil import atomic_write

IDENTITY_PREFIX = "AGE-SECRET-KEY-1"


@dataclass(frozen=True, slots=True)
class AgeKey:
    """The age identities sops will decrypt with, and where they came from."""

    source: str
    """``SOPS_AGE_KEY`` or the key file's path."""
    identities: tuple[str, ...] = field(repr=False)
    path: Path | None = None
    """The key file, when the key came from one."""
    explicit: bool = False
    """Named on the command line (``--age-key``): the only key sops may use, whatever else it finds."""

    @property
    def material(self) -> str:
        """The identities as sops reads them from ``SOPS_AGE_KEY`` (one per line)."""
        return "\n".join(self.identities)

    def public_keys(self) -> tuple[str, ...]:
        return tuple(public_key_of(identity) for identity in self.identities)


def generate_age_key() -> tuple[str, str]:
    """A new X25519 age key pair: (public ``age1…``, private ``AGE-SECRET-KEY-1…``)."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public()), str(identity)


def public_key_of(identity: str) -> str:
    """The public recipient of a private age identity."""
    import pyrage

    try:
        return str(pyrage.x25519.Identity.from_str(identity).to_public())
    except pyrage.IdentityError:  # its message may quote the identity: never show it
        raise UsageError("an age key is malformed", hint="check the AGE-SECRET-KEY-1… line") from None


def parse_identities(text: str) -> tuple[str, ...]:
    """The identities of a key file's text (comments and blank lines skipped)."""
    return tuple(
        line.strip() for line in text.splitlines() if line.strip().upper().startswith(IDENTITY_PREFIX)
    )


def default_key_file(env: Mapping[str, str] | None = None) -> Path:
    """Where sops looks for age keys when nothing is set: ``<user config dir>/sops/age/keys.txt``.

    Go's ``os.UserConfigDir``: ``$XDG_CONFIG_HOME``, else ``~/Library/Application Support`` on macOS,
    else ``~/.config``.
    """
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg:
        base = Path(xdg)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(env.get("HOME") or Path.home()) / ".config"
    return base / "sops" / "age" / "keys.txt"


def key_file_for_writing(env: Mapping[str, str] | None = None) -> Path:
    """Where a new key goes so that sops finds it: ``$SOPS_AGE_KEY_FILE`` if set, else the default."""
    env = os.environ if env is None else env
    explicit = env.get("SOPS_AGE_KEY_FILE")
    return Path(explicit).expanduser() if explicit else default_key_file(env)


def find_age_key(explicit: str | Path | None = None, env: Mapping[str, str] | None = None) -> AgeKey | None:
    """The age key to decrypt with, in this order: an explicit key file (``--age-key``),
    ``$SOPS_AGE_KEY``, ``$SOPS_AGE_KEY_FILE``, then sops' default key file. None when there is none
    (sops may still find SSH keys or run ``$SOPS_AGE_KEY_CMD``). A key file that exists but cannot
    be read is an error naming it, not a key silently skipped.
    """
    env = os.environ if env is None else env
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not _exists(path):
            raise UsageError(
                f"{path}: no such age key file", hint="pass the file age-keygen wrote (keys.txt)"
            )
        return replace(_from_file(path), explicit=True)
    if env.get("SOPS_AGE_KEY"):
        identities = parse_identities(env["SOPS_AGE_KEY"])
        if identities:
            return AgeKey("SOPS_AGE_KEY", identities)
    if env.get("SOPS_AGE_KEY_FILE"):
        path = Path(env["SOPS_AGE_KEY_FILE"]).expanduser()
        if _exists(path):
            return _from_file(path)
    path = default_key_file(env)
    return _from_file(path) if _exists(path) else None


def _exists(path: Path) -> bool:
    """Whether there is a file at ``path``; a folder on the way that cannot be searched says so."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return True


def _unreadable(path: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot read the age key file {path}: {exc.strerror or exc}",
        hint="the key file (and its folder) must be readable by you; it should be yours with mode 0600",
    )


def _from_file(path: Path) -> AgeKey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _unreadable(path, exc) from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file, so not an age key file") from None
    identities = parse_identities(text)
    if not identities:
        raise UsageError(f"{path} holds no age key (no AGE-SECRET-KEY-1… line)")
    return AgeKey(str(path), identities, path)


def key_file_entry(public: str, private: str, *, note: str | None = None) -> str:
    """One key in age-keygen's format, with an optional note line."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"# created: {created}", f"# public key: {public}"]
    if note:
        lines.append(f"# {note}")
    lines.append(private)
    return "\n".join(lines) + "\n"


def write_key(path: Path, public: str, private: str, *, note: str | None = None) -> bool:
    """Add a key to ``path`` (mode 0600, folder 0700), atomically. Existing keys are kept: the new
    one is appended, since sops tries every identity of the file. Returns whether the file existed.
    """
    existed = path.exists()
    previous = ""
    if existed:
        try:
            previous = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WriteError(f"cannot read the existing key file {path}: {exc}") from None
        if previous and not previous.endswith("\n"):
            previous += "\n"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    atomic_write(path, previous + key_file_entry(public, private, note=note), mode=0o600)
    return existed


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (resolved) lies inside ``root`` (resolved)."""
    resolved, base = path.expanduser().resolve(), root.resolve()
    return resolved == base or base in resolved.parents
