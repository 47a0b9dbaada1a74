"""The sops binary, and SOPS files recognised by their content.

Encryption and decryption run the real ``sops`` over stdin and stdout only: plaintext never touches a
disk, keys travel in the environment (``SOPS_AGE_KEY``), never in argv, and error messages are
scrubbed of plaintext and key material before they are raised.

A file is SOPS-encrypted when its content carries sops metadata with a MAC: a ``sops`` map holding
``mac`` in every YAML/JSON document (the binary format is JSON too), ``sops_mac=`` in a dotenv file,
a ``[sops]`` section with ``mac`` in an INI file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import HomeopsError, ToolError, UsageError, Where
from ..fsutil import private_tempdir
from ..load import jsonio, yamlio
from .config import CRYPT_OPTIONS, SopsConfig, load_sops_config

if TYPE_CHECKING:
    from .keys import AgeKey

Format = Literal["yaml", "json", "dotenv", "ini", "binary"]

#: Environment variables that would make sops pick keys other than the ones homeops asks for.
_KEY_SELECTION_ENV = (
    "SOPS_AGE_RECIPIENTS",
    "SOPS_PGP_FP",
    "SOPS_KMS_ARN",
    "SOPS_GCP_KMS_IDS",
    "SOPS_AZURE_KEYVAULT_URLS",
    "SOPS_VAULT_URIS",
    "SOPS_HUAWEICLOUD_KMS_IDS",
)
#: Where else sops would look for age keys (left out when a key is named with ``--age-key``).
_OTHER_KEY_SOURCES = ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE")
_TIMEOUT = 60.0
_KEY_HINT = (
    "sops needs an age key that is a recipient of this file: pass --age-key FILE, set "
    "SOPS_AGE_KEY_FILE, or put the key in sops' default keys.txt"
)


def sops_format(filename: str) -> Format:
    """The format sops infers from a file name (its ``--input-type``)."""
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".env"):
        return "dotenv"
    if name.endswith(".ini"):
        return "ini"
    return "binary"


# -- recognising encrypted content --------------------------------------------------------------


def metadata_of(data: bytes, filename: str = "") -> dict[str, Any] | None:
    """The sops metadata of an encrypted file (the ``sops`` map), or None when it is not encrypted.

    The file name picks the format to try first; the others are tried after it, so a file is
    recognised by its content whatever its name.
    """
    if b"sops" not in data or b"mac" not in data:
        return None
    try:
        text = yamlio.decode(data)
    except UnicodeDecodeError:
        return None
    orders: dict[Format, tuple[Format, ...]] = {
        "dotenv": ("dotenv", "yaml", "ini"),
        "ini": ("ini", "yaml", "dotenv"),
    }
    order = orders.get(sops_format(filename), ("yaml", "dotenv", "ini"))
    for fmt in order:
        found = _flat_metadata(text, fmt) if fmt in ("dotenv", "ini") else _tree_metadata(text)
        if found is not None:
            return found
    return None


def is_encrypted(data: bytes, filename: str = "") -> bool:
    """Whether ``data`` is a SOPS-encrypted file (judged by content; see :func:`metadata_of`)."""
    return metadata_of(data, filename) is not None


def recipients_of(ciphertext: bytes, filename: str = "") -> list[str]:
    """Age recipients and PGP fingerprints the file is encrypted to (key groups included), in order."""
    meta = metadata_of(ciphertext, filename)
    if meta is None:
        return []
    found: list[str] = []
    for group in [meta, *_as_list(meta.get("key_groups"))]:
        if isinstance(group, dict):
            found.extend(str(k["recipient"]) for k in _as_list(group.get("age")) if _has(k, "recipient"))
            found.extend(str(k["fp"]) for k in _as_list(group.get("pgp")) if _has(k, "fp"))
    return list(dict.fromkeys(found))


def rule_of(ciphertext: bytes, filename: str = "") -> dict[str, Any]:
    """The creation rule (as written in ``.sops.yaml``) that re-encrypts this file as it is now:
    same recipients, same key groups, same choice of encrypted values. Used by edit and rotate, which
    keep a file's settings as ``sops edit`` does.
    """
    meta = metadata_of(ciphertext, filename)
    if meta is None:
        raise UsageError("not a SOPS-encrypted file", where=Where(filename))
    unsupported = [k for k in ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms") if _as_list(meta.get(k))]
    groups = [g for g in _as_list(meta.get("key_groups")) if isinstance(g, dict)]
    for group in groups:
        unsupported.extend(k for k in ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms") if group.get(k))
    if unsupported:
        raise UsageError(
            f"encrypted with {', '.join(sorted(set(unsupported)))} keys, which homeops does not re-encrypt",
            where=Where(filename),
            hint="use 'sops edit' or 'sops updatekeys' for files with cloud KMS or Vault keys",
        )
    rule: dict[str, Any] = {}
    if groups:
        rule["key_groups"] = [_group_keys(g) for g in groups]
    else:
        rule.update(_group_keys(meta))
    for option in CRYPT_OPTIONS:
        value = meta.get(option)
        if value:
            rule[option] = str(value)
    if meta.get("mac_only_encrypted") in (True, "true"):
        rule["mac_only_encrypted"] = True
    threshold = meta.get("shamir_threshold")
    if threshold not in (None, 0, "0", ""):
        rule["shamir_threshold"] = int(str(threshold))
    return rule


def has_encrypted_values(ciphertext: bytes, filename: str = "") -> bool:
    """Whether at least one value outside the sops metadata is encrypted (``ENC[…]``).

    False for a file sops "encrypted" without touching any value, e.g. a document with no key
    matching the rule's ``encrypted_regex``: committing it would publish its content.
    """
    text = ciphertext.decode("utf-8", "replace")
    fmt = sops_format(filename)
    if fmt in ("dotenv", "ini"):
        in_sops = False
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                in_sops = stripped == "[sops]"
                continue
            if in_sops or stripped.startswith("sops_"):
                continue
            if "ENC[" in stripped:
                return True
        return False
    parsed = parse_documents(text)
    return any(
        _any_encrypted({k: v for k, v in doc.items() if k != "sops"})
        for doc in parsed
        if isinstance(doc, dict)
    )


# -- running sops -------------------------------------------------------------------------------


def encrypt(
    plaintext: bytes,
    *,
    filename: str,
    repo_root: Path,
    recipients: Sequence[str] | None = None,
    config: SopsConfig | None = None,
) -> bytes:
    """Encrypt ``plaintext`` as sops would encrypt the file ``filename`` of the repository.

    ``filename`` is repo-relative (forward slashes); it picks the creation rule and the format.
    ``config`` replaces the repository's ``.sops.yaml`` (``repo_root`` is then not read): a staging
    tree passes its real repository's configuration, rotate passes the updated one. ``recipients``
    (age public keys) replace the keys of the matching rule; its other settings (``encrypted_regex``…)
    still apply, and without a matching rule the whole file is encrypted to them.
    """
    rel = filename.replace(os.sep, "/")
    cfg = config if config is not None else load_sops_config(repo_root)
    if recipients is not None:
        if not recipients:
            raise UsageError("no recipients to encrypt to", where=Where(rel))
        rule = cfg.rule_for(rel) if cfg is not None else None
        raw = {k: v for k, v in (rule.raw if rule else {}).items() if k not in _KEY_FIELDS | {"path_regex"}}
        raw["age"] = ",".join(recipients)
        cfg = SopsConfig.build([raw], cfg.stores if cfg is not None else None)
    elif cfg is None or not cfg.rules:
        raise UsageError(
            "no .sops.yaml with creation rules: sops does not know whom to encrypt to",
            where=Where(rel),
            hint="run 'homeops secrets init' to create a key and a .sops.yaml",
        )
    elif cfg.rule_for(rel) is None:
        raise UsageError(
            f"no creation rule of {cfg.path} matches this file",
            where=Where(rel),
            hint="add a creation_rules entry whose path_regex matches it, or move the file",
        )
    fmt = sops_format(rel)
    with private_tempdir(prefix="homeops-sops-") as tmp:
        # sops matches path_regex against the file's path relative to the config's folder: with the
        # config in an empty folder and the override relative to it, that path is exactly ``rel``.
        (tmp / ".sops.yaml").write_bytes(cfg.text)
        from .. import proc  # here: checking a repository runs no sops

        result = proc.run(
            [
                "sops",
                "--disable-version-check",
                "--config",
                str(tmp / ".sops.yaml"),
                "encrypt",
                "--input-type",
                fmt,
                "--output-type",
                fmt,
                "--filename-override",
                rel,
            ],
            cwd=tmp,
            env=_env(),
            input=plaintext,
            timeout=_TIMEOUT,
            what=f"sops encrypt {rel}",
            hint="the message above comes from sops; secret values in it are redacted",
            redact=secret_fragments(plaintext),
        )
    return result.stdout


def decrypt(
    ciphertext: bytes,
    *,
    filename: str,
    repo_root: Path,
    age_key: str | None = None,
    only_this_key: bool = False,
) -> bytes:
    """Decrypt a SOPS file's content. ``age_key`` is key material (``AGE-SECRET-KEY-1…`` lines); without
    it sops finds keys itself (``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE``, its default keys.txt, SSH keys).
    ``only_this_key`` (a key named with ``--age-key``): sops may use no other key it would find.

    A file that does not decrypt says why: :class:`NoMatchingKey` (none of the keys is a recipient)
    or :class:`IntegrityError` (its MAC or a value does not match: changed after encryption).
    """
    rel = filename.replace(os.sep, "/")
    fmt = sops_format(rel)
    config = repo_root / ".sops.yaml"
    env = _env()
    unset: tuple[str, ...] = ()
    if age_key:
        env["SOPS_AGE_KEY"] = age_key
    if age_key and only_this_key:
        unset = _OTHER_KEY_SOURCES
    with contextlib.ExitStack() as stack:
        if unset:
            # No keys.txt under the user's config folder, no ~/.ssh keys: only the key given.
            empty = stack.enter_context(private_tempdir("homeops-nokeys-"))
            env.update(HOME=str(empty), XDG_CONFIG_HOME=str(empty))
        from .. import proc  # here: checking a repository runs no sops

        try:
            result = proc.run(
                [
                    "sops",
                    "--disable-version-check",
                    "--config",
                    # The config only sets output indentation here; a broken one must not stop a decrypt.
                    str(config) if _loads(repo_root) else os.devnull,
                    "decrypt",
                    "--input-type",
                    fmt,
                    "--output-type",
                    fmt,
                ],
                cwd=repo_root,
                env=env,
                unset=unset,
                input=ciphertext,
                timeout=_TIMEOUT,
                what=f"sops decrypt {rel}",
                hint=_KEY_HINT,
                redact=_key_fragments(age_key),
            )
        except ToolError as exc:
            raise _decrypt_error(exc, ciphertext, rel) from exc
    return result.stdout


def decrypt_with(ciphertext: bytes, *, filename: str, repo_root: Path, key: AgeKey | None) -> bytes:
    """:func:`decrypt` with the key :func:`homeops.secrets.keys.find_age_key` chose (None: let sops look)."""
    return decrypt(
        ciphertext,
        filename=filename,
        repo_root=repo_root,
        age_key=key.material if key else None,
        only_this_key=bool(key and key.explicit),
    )


class NoMatchingKey(HomeopsError):
    """None of the age keys sops could use is a recipient of the file."""


class IntegrityError(HomeopsError):
    """The file's MAC (or one of its values) does not match: it changed after it was encrypted."""


def _decrypt_error(exc: ToolError, ciphertext: bytes, rel: str) -> HomeopsError:
    output = exc.output
    if "MAC mismatch" in output or "message authentication failed" in output:
        what = (
            "its MAC does not match its content" if "MAC mismatch" in output else "a value does not decrypt"
        )
        return IntegrityError(
            f"{what}: the file was changed after it was encrypted (edited by hand, a bad merge, or "
            "tampered with)",
            where=Where(rel),
            hint="restore it from Git (git log -p -- FILE) and make the change again with "
            "'homeops secrets edit'",
        )
    if "Failed to get the data key" in output:
        recipients = recipients_of(ciphertext, rel)
        shown = ", ".join(f"{r[:12]}…{r[-6:]}" if len(r) > 24 else r for r in recipients) or "nobody"
        return NoMatchingKey(
            f"cannot decrypt: no age key of yours is a recipient (it is encrypted to {shown})",
            where=Where(rel),
            hint="pass --age-key with the key of one of these recipients, or ask its owner to add "
            "yours (add your public key to .sops.yaml and run 'sops updatekeys')",
        )
    return exc


def secret_fragments(plaintext: bytes) -> list[str]:
    """Pieces of a plaintext that must not appear in an error message: each line and each value."""
    text = plaintext.decode("utf-8", "replace")
    found: set[str] = set()
    for line in text.splitlines():
        stripped = line.strip()
        if len(stripped) >= 3:
            found.add(stripped)
        for sep in (":", "="):
            if sep in stripped:
                value = stripped.split(sep, 1)[1].strip().strip("'\"")
                if len(value) >= 3:
                    found.add(value)
        found.update(token for token in stripped.split() if len(token) >= 6)
    return sorted(found, key=len, reverse=True)


# -- helpers ------------------------------------------------------------------------------------

_KEY_FIELDS = frozenset(
    {
        "age",
        "pgp",
        "kms",
        "gcp_kms",
        "azure_keyvault",
        "hc_vault_transit_uri",
        "hckms",
        "key_groups",
        "plugins",
    }
)


def _env() -> dict[str, str]:
    env = dict.fromkeys(_KEY_SELECTION_ENV, "")
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    return env


def _loads(repo_root: Path) -> bool:
    try:
        return load_sops_config(repo_root) is not None
    except UsageError:
        return False


def _key_fragments(age_key: str | None) -> list[str]:
    if not age_key:
        return []
    return [line.strip() for line in age_key.splitlines() if line.strip()]


def _tree_metadata(text: str) -> dict[str, Any] | None:
    documents = [d for d in parse_documents(text) if d is not None]
    if not documents:
        return None
    first: dict[str, Any] | None = None
    for doc in documents:
        meta = doc.get("sops") if isinstance(doc, dict) else None
        if not isinstance(meta, dict) or "mac" not in meta:
            return None  # one plaintext document is enough to make the file unsafe
        first = first or meta
    return first


def parse_documents(text: str) -> tuple[Any, ...]:
    """The documents of a YAML or JSON text; empty when it does not parse."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        # sops indents JSON with tabs, which YAML does not accept everywhere.
        try:
            return (jsonio.loads(text),)
        except ValueError:
            pass
    parsed = yamlio.parse(text)
    return () if parsed.failure else parsed.documents


_FLAT_SEP = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")


def _flat_metadata(text: str, fmt: Format) -> dict[str, Any] | None:
    pairs: list[tuple[str, str]] = []
    in_sops = False
    for line in text.splitlines():
        stripped = line.strip()
        if fmt == "ini":
            if stripped.startswith("[") and stripped.endswith("]"):
                in_sops = stripped == "[sops]"
                continue
            if not in_sops:
                continue
            match = _FLAT_SEP.match(stripped)
            if match:
                pairs.append((match.group(1), match.group(2)))
        elif stripped.startswith("sops_") and "=" in stripped:
            key, value = stripped.split("=", 1)
            pairs.append((key[len("sops_") :], value))
    meta = _unflatten(pairs)
    return meta if "mac" in meta else None


def _unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """sops' flat metadata keys (``age__list_0__map_recipient``) back into a tree."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.split("__")
        path: list[str | int] = [parts[0]]
        for part in parts[1:]:
            if part.startswith("list_") and part[5:].isdigit():
                path.append(int(part[5:]))
            elif part.startswith("map_"):
                path.append(part[4:])
            else:
                path[-1] = f"{path[-1]}__{part}"
        _set(root, path, value)
    return root


def _set(node: Any, path: list[str | int], value: str) -> None:
    for step, nxt in itertools.pairwise(path):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if node[step] is None:
                node[step] = empty
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value


def _any_encrypted(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("ENC[")
    if isinstance(value, dict):
        return any(_any_encrypted(v) for v in value.values())
    if isinstance(value, list):
        return any(_any_encrypted(v) for v in value)
    return False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _has(entry: Any, key: str) -> bool:
    return isinstance(entry, Mapping) and bool(entry.get(key))


def _group_keys(group: Mapping[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    age = [str(k["recipient"]) for k in _as_list(group.get("age")) if _has(k, "recipient")]
    pgp = [str(k["fp"]) for k in _as_list(group.get("pgp")) if _has(k, "fp")]
    if age:
        keys["age"] = age
    if pgp:
        keys["pgp"] = pgp
    return keys
