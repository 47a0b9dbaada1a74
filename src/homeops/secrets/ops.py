"""The operations behind ``homeops secrets``: init, encrypt, decrypt, show, rotate (edit, status and
needed live in their own modules and are re-exported here).

Each operation holds the repository's write lock from its first read to its last write, and its
writes are all-or-nothing: each new content is computed in memory first, and only when all succeeded
are they committed together as one :class:`homeops.journal.Transaction` (which a crash cannot leave
half-done). Plaintext is never written to the repository except by an explicit :func:`decrypt`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import HomeopsError, MissingTool, UsageError, Where, WriteError
from ..fsutil import atomic_write
from ..journal import Transaction, locked, write_file
from ..load import yamlio
from ..load.tree import SourceTree, normalize
from . import keys
from . import sops as sops_
from .config import CONFIG_NAME, SopsConfig, load_sops_config, parse_sops_config
from .edit import edit
from .needed import needed
from .paths import committable, find_repo_root, read, repo_relative
from .scan import scan
from .status import status

__all__ = [
    "DecryptResult",
    "EncryptResult",
    "InitResult",
    "RotateResult",
    "decrypt",
    "edit",
    "encrypt",
    "find_repo_root",
    "init",
    "needed",
    "rotate",
    "show",
    "status",
]

#: Top-level folders that hold Kubernetes manifests in the usual layouts.
KUBERNETES_DIRS = ("bootstrap", "kubernetes", "clusters", "infrastructure", "apps")
KUBERNETES_ENCRYPTED_REGEX = "^(data|stringData)$"
WHOLE_FILE_REGEX = r"\.sops\.(ya?ml|json|env|ini)$"


# -- init ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitResult:
    key_file: Path
    public_key: str
    appended: bool
    """The key was added to an existing key file (its other keys were kept)."""
    sops_config: Path
    rules: tuple[str, ...]
    """``path_regex`` of each rule written, in order."""
    warnings: tuple[str, ...] = ()
    """What the user should know (``.sops.yaml`` ignored by Git)."""


def init(repo: str | Path, *, key_file: str | Path | None = None, force: bool = False) -> InitResult:
    """Create an age key where sops finds it and a ``.sops.yaml`` fitted to the repository's layout.

    The key goes to ``key_file``, else ``$SOPS_AGE_KEY_FILE``, else sops' default ``keys.txt``; inside
    the repository only where Git ignores it (cluster-template's ``./age.key``). An existing key file
    is kept and the new key appended to it (sops tries every key of the file, so other repositories
    keep working). An existing ``.sops.yaml`` is only replaced with ``force``; one that Git ignores
    is written with a warning.
    """
    root = Path(repo).resolve()
    with locked(root, "secrets init"):
        return _init(root, key_file, force)


def _init(root: Path, key_file: str | Path | None, force: bool) -> InitResult:
    tree = SourceTree(root)
    config_path = root / CONFIG_NAME
    if config_path.exists() and not force:
        raise WriteError(
            f"{CONFIG_NAME} already exists",
            where=Where(CONFIG_NAME),
            hint="pass --force to replace it (its rules and recipients are lost)",
        )
    target = Path(key_file).expanduser() if key_file is not None else keys.key_file_for_writing()
    target = target if target.is_absolute() else Path.cwd() / target
    _refuse_committable_key(root, target, "choose a path outside the repository")
    public, private = keys.generate_age_key()
    text, regexes = _initial_config(tree, public)
    parse_sops_config(text.encode("utf-8"))  # what we write must read back
    appended = keys.write_key(target, public, private, note=f"homeops secrets init: {root}")
    write_file(root, CONFIG_NAME, text, what="secrets init")
    warnings: list[str] = []
    if not committable(root, CONFIG_NAME):
        warnings.append(
            f"{CONFIG_NAME} is ignored by Git (.gitignore): it will not be committed, so sops elsewhere "
            "(your other machines, CI, teammates) will not find its creation rules; remove it from "
            ".gitignore"
        )
    return InitResult(target, public, appended, config_path, regexes, tuple(warnings))


def _refuse_committable_key(root: Path, target: Path, elsewhere: str) -> None:
    """A private key may live inside the repository only where Git will not commit it (cluster-template
    keeps ``./age.key``, listed in ``.gitignore``)."""
    if not keys.inside(target, root):
        return
    rel = Path(os.path.realpath(target)).relative_to(root).as_posix()
    if committable(root, rel):
        raise UsageError(
            f"refusing to store the age key at {rel}: Git would commit it (it is not ignored)",
            where=Where(rel),
            hint=f"add {rel} to .gitignore (a private key in a Git repository is one push away from "
            f"public), or {elsewhere}",
        )


def _initial_config(tree: SourceTree, public: str) -> tuple[str, tuple[str, ...]]:
    return sops_config_text(sorted(_kubernetes_secret_dirs(tree)), public)


def sops_config_text(
    kube_dirs: Sequence[str], public: str, *, writer: str = "homeops secrets init"
) -> tuple[str, tuple[str, ...]]:
    """A ``.sops.yaml``: Kubernetes Secrets under ``kube_dirs`` encrypt data only, the rest whole.

    Returns the text and the path regexes of its rules, in order.
    """
    lines = [
        "---",
        f"# Written by `{writer}`. For each file sops uses the first rule whose path_regex",
        "# matches the file's path relative to this file.",
        "creation_rules:",
    ]
    regexes: list[str] = []
    if kube_dirs:
        alternatives = kube_dirs[0] if len(kube_dirs) == 1 else f"({'|'.join(kube_dirs)})"
        regex = rf"^{alternatives}/.+\.sops\.ya?ml$"
        regexes.append(regex)
        lines += [
            "  # Kubernetes Secrets: only data and stringData are encrypted, so kind and metadata stay",
            "  # readable for Flux, kustomize and reviewers.",
            f"  - path_regex: '{regex}'",
            f"    encrypted_regex: '{KUBERNETES_ENCRYPTED_REGEX}'",
            "    mac_only_encrypted: true",
            f"    age: {public}",
        ]
    regexes.append(WHOLE_FILE_REGEX)
    lines += [
        "  # Every other secret file (Talos secrets, env, JSON and INI files) is encrypted whole.",
        f"  - path_regex: '{WHOLE_FILE_REGEX}'",
        f"    age: {public}",
        "stores:",
        "  yaml:",
        "    indent: 2",
        "",
    ]
    return "\n".join(lines), tuple(regexes)


def _kubernetes_secret_dirs(tree: SourceTree) -> set[str]:
    """Top-level folders whose secret files are Kubernetes objects (encrypt data/stringData only).

    Judged by the files already there: every document must be a Kubernetes object, and encrypted
    ones must have been encrypted partially. Known manifest folders without secret files count too.
    """
    verdict: dict[str, bool] = {}
    for secret in scan(tree):
        if secret.unreadable or "/" not in secret.path or not secret.path.endswith((".yaml", ".yml")):
            continue
        top = secret.path.split("/", 1)[0]
        verdict[top] = verdict.get(top, True) and _kubernetes_shaped(
            secret.data, secret.path, secret.encrypted
        )
    for name in KUBERNETES_DIRS:
        if name not in verdict and tree.is_dir(name):
            verdict[name] = True
    return {name for name, ok in verdict.items() if ok}


def _kubernetes_shaped(data: bytes, rel: str, encrypted: bool) -> bool:
    if encrypted:
        meta = sops_.metadata_of(data, rel) or {}
        return bool(meta.get("encrypted_regex"))
    parsed = yamlio.parse(data)
    documents = [d for d in parsed.documents if d is not None]
    return (
        parsed.failure is None
        and bool(documents)
        and all(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in documents)
    )


# -- encrypt ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncryptResult:
    encrypted: tuple[str, ...]
    """Files encrypted in place by this call."""
    skipped: tuple[str, ...]
    """Files that were encrypted already (left byte-identical)."""


def encrypt(
    repo: str | Path,
    *,
    paths: Iterable[str] | None = None,
    config: SopsConfig | None = None,
) -> EncryptResult:
    """Encrypt in place every ``*.sops.*`` file (YAML, JSON, dotenv, INI) not encrypted yet.

    ``paths`` (repo-relative) limits the work to those files; ``config`` replaces the repository's
    ``.sops.yaml`` (a staging tree passes its real repository's). All or nothing: if any file cannot
    be encrypted, no file is changed and the error lists every failure.
    """
    root = Path(repo).resolve()
    with locked(root, "secrets encrypt"):
        return _encrypt(root, paths, config)


def _encrypt(root: Path, paths: Iterable[str] | None, config: SopsConfig | None) -> EncryptResult:
    if paths is None:
        tree = SourceTree(root)
        found = [s for s in scan(tree) if s.named]
        unreadable = [(s.path, s.unreadable) for s in found if s.unreadable]
        if unreadable:
            raise _batch_error(
                "encrypt",
                [(rel, UsageError(f"cannot read it: {why}")) for rel, why in unreadable],
                len(found),
            )
        candidates = [(s.path, s.data) for s in found]
    else:
        candidates = [(rel, read(root, rel)) for rel in sorted(set(_checked(paths)))]
    cfg = config if config is not None else load_sops_config(root)
    plaintext = {rel for rel, data in candidates if not sops_.is_encrypted(data, rel)}
    if plaintext and (cfg is None or not cfg.rules):
        raise UsageError(
            f"{len(plaintext)} file(s) to encrypt but no .sops.yaml with creation rules in {root}",
            hint="run 'homeops secrets init' to create a key and a .sops.yaml",
        )
    staged: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    failures: list[tuple[str, HomeopsError]] = []
    for rel, data in candidates:
        if rel not in plaintext:
            skipped.append(rel)
            continue
        try:
            ciphertext = sops_.encrypt(data, filename=rel, repo_root=root, config=cfg)
            if data.strip() and not sops_.has_encrypted_values(ciphertext, rel):
                raise UsageError(
                    "sops would leave every value of this file in plaintext",
                    where=Where(rel),
                    hint="its creation rule's encrypted_regex matches none of its keys; "
                    "give it a rule that encrypts it (or rename it if it is no secret)",
                )
        except MissingTool:
            raise
        except HomeopsError as exc:
            failures.append((rel, exc))
            continue
        staged.append((rel, ciphertext))
    written = _write_all(root, "encrypt", staged, failures, len(candidates) - len(skipped))
    return EncryptResult(written, tuple(skipped))


def _checked(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        norm = normalize(path.replace(os.sep, "/"))
        if not norm:
            raise UsageError(f"{path}: not a path inside the repository")
        if norm.rsplit("/", 1)[-1] == CONFIG_NAME:
            continue
        yield norm


def _write_all(
    root: Path,
    verb: str,
    staged: list[tuple[str, bytes]],
    failures: list[tuple[str, HomeopsError]],
    attempted: int,
) -> tuple[str, ...]:
    """Write every staged file in one transaction, or none when any file of the batch failed."""
    if failures:
        raise _batch_error(verb, failures, attempted)
    with Transaction(root, f"secrets {verb}") as txn:
        for rel, text in staged:
            txn.write(rel, text)
    return tuple(rel for rel, _ in staged)


def _batch_error(verb: str, failures: Sequence[tuple[str, HomeopsError]], total: int) -> WriteError:
    lines = [f"could not {verb} {len(failures)} of {total} file(s); no file was changed:"]
    for rel, exc in failures:
        detail = str(exc).splitlines()
        if detail and detail[0].startswith(f"{rel}:"):
            detail[0] = detail[0][len(rel) + 1 :].strip()
        lines.append(f"  {rel}: {detail[0] if detail else type(exc).__name__}")
        lines.extend(f"    {line}" for line in detail[1:])
    return WriteError("\n".join(lines))


# -- decrypt and show ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecryptResult:
    decrypted: tuple[str, ...]
    skipped: tuple[str, ...]
    """Files that were not encrypted (left untouched)."""


def decrypt(
    repo: str | Path, paths: Iterable[str | Path], *, age_key_file: str | Path | None = None
) -> DecryptResult:
    """Decrypt files in place (plaintext lands in the working tree: only on explicit request).

    All or nothing, like :func:`encrypt`.
    """
    root = Path(repo).resolve()
    with locked(root, "secrets decrypt"):
        return _decrypt(root, paths, age_key_file)


def _decrypt(root: Path, paths: Iterable[str | Path], age_key_file: str | Path | None) -> DecryptResult:
    key = keys.find_age_key(age_key_file)
    staged: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    failures: list[tuple[str, HomeopsError]] = []
    rels = [repo_relative(root, p) for p in paths]
    for rel in rels:
        data = read(root, rel)
        if not sops_.is_encrypted(data, rel):
            skipped.append(rel)
            continue
        try:
            plaintext = sops_.decrypt_with(data, filename=rel, repo_root=root, key=key)
        except MissingTool:
            raise
        except HomeopsError as exc:
            failures.append((rel, exc))
            continue
        staged.append((rel, plaintext))
    written = _write_all(root, "decrypt", staged, failures, len(rels) - len(skipped))
    return DecryptResult(written, tuple(skipped))


def show(path: str | Path, *, age_key_file: str | Path | None = None) -> bytes:
    """The decrypted content of one file, for the caller to print (nothing is written)."""
    root = find_repo_root(path)
    rel = repo_relative(root, path)
    data = read(root, rel)
    if not sops_.is_encrypted(data, rel):
        raise UsageError("not a SOPS-encrypted file", where=Where(rel), hint="it is plaintext already")
    key = keys.find_age_key(age_key_file)
    return sops_.decrypt_with(data, filename=rel, repo_root=root, key=key)


# -- rotate -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RotateResult:
    old_public_key: str
    new_public_key: str
    key_file: Path
    """Where the new key was written."""
    rotated: tuple[str, ...]
    """Files re-encrypted to the new key."""
    skipped: tuple[str, ...]
    """Encrypted files not encrypted to the old key (left untouched)."""
    key_secrets: tuple[str, ...]
    """Files that held the old private key (the in-cluster ``sops-age`` Secret): now hold the new one."""


def rotate(
    repo: str | Path,
    *,
    new_key_file: str | Path | None = None,
    age_key_file: str | Path | None = None,
) -> RotateResult:
    """Replace the current age key by a new one: every file encrypted to it is decrypted in memory
    and re-encrypted to the new key (keeping its other recipients and settings), and ``.sops.yaml``
    names the new key wherever it named the old one. One transaction: on any failure the repository
    and the key file are as they were.

    The new key is appended to the current key file (or written to ``new_key_file``), and the old
    key is kept there until you remove it: the cluster still needs it until its ``sops-age`` Secret
    holds the new key.
    """
    root = Path(repo).resolve()
    with locked(root, "secrets rotate"):
        return _rotate(root, new_key_file, age_key_file)


def _rotate(root: Path, new_key_file: str | Path | None, age_key_file: str | Path | None) -> RotateResult:
    tree = SourceTree(root)
    cfg = load_sops_config(root)
    if cfg is None:
        raise UsageError(f"no {CONFIG_NAME} in {root}", hint="run 'homeops secrets init' first")
    key = keys.find_age_key(age_key_file)
    if key is None:
        raise UsageError("no age key found to rotate", hint="pass --age-key FILE or set SOPS_AGE_KEY_FILE")
    config_text = cfg.text.decode("utf-8")
    current = [
        (identity, pub)
        for identity, pub in zip(key.identities, key.public_keys(), strict=True)
        if pub in config_text
    ]
    if len(current) != 1:
        raise UsageError(
            f"{len(current)} of the keys in {key.source} are recipients in {CONFIG_NAME}; "
            "expected exactly one",
            hint="pass --age-key with a file holding only the key to rotate",
        )
    old_identity, old_public = current[0]
    target = _new_key_target(root, key, new_key_file)
    new_public, new_private = keys.generate_age_key()
    new_config_text = config_text.replace(old_public, new_public)
    new_cfg = parse_sops_config(new_config_text.encode("utf-8"))

    staged: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    key_secrets: list[str] = []
    failures: list[tuple[str, HomeopsError]] = []
    found = list(scan(tree))
    unreadable = [s for s in found if s.unreadable]
    failures.extend((s.path, UsageError(f"cannot read it: {s.unreadable}")) for s in unreadable)
    encrypted = [s for s in found if s.encrypted]
    for secret in encrypted:
        if old_public not in sops_.recipients_of(secret.data, secret.path):
            skipped.append(secret.path)
            continue
        try:
            plaintext = sops_.decrypt(
                secret.data, filename=secret.path, repo_root=root, age_key=old_identity, only_this_key=True
            )
            if old_identity.encode() in plaintext:
                plaintext = plaintext.replace(old_identity.encode(), new_private.encode())
                key_secrets.append(secret.path)
            rule = _swap_recipient(sops_.rule_of(secret.data, secret.path), old_public, new_public)
            ciphertext = sops_.encrypt(
                plaintext,
                filename=secret.path,
                repo_root=root,
                config=SopsConfig.build([rule], new_cfg.stores),
            )
        except MissingTool:
            raise
        except HomeopsError as exc:
            failures.append((secret.path, exc))
            continue
        staged.append((secret.path, ciphertext))
    if failures:
        raise _batch_error("re-encrypt", failures, len(encrypted) - len(skipped) + len(unreadable))

    previous = target.read_bytes() if target.exists() else None
    keys.write_key(
        target, new_public, new_private, note=f"rotated from {old_public} by homeops secrets rotate"
    )
    try:
        with Transaction(root, "secrets rotate") as txn:
            for rel, ciphertext in staged:
                txn.write(rel, ciphertext)
            txn.write(CONFIG_NAME, new_config_text)
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            atomic_write(target, previous, mode=0o600)
        raise
    return RotateResult(
        old_public, new_public, target, tuple(r for r, _ in staged), tuple(skipped), tuple(key_secrets)
    )


def _new_key_target(root: Path, key: keys.AgeKey, new_key_file: str | Path | None) -> Path:
    if new_key_file is not None:
        target = Path(new_key_file).expanduser()
    elif key.path is not None:
        target = key.path
    else:
        target = keys.key_file_for_writing()
    target = target if target.is_absolute() else Path.cwd() / target
    _refuse_committable_key(root, target, "choose a path outside it with --new-key-file")
    return target


def _swap_recipient(rule: dict[str, object], old: str, new: str) -> dict[str, object]:
    def swap(value: object) -> object:
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return new if value == old else value

    return {k: swap(v) for k, v in rule.items()}
