"""Rules for seed rule "Secrets stay encrypted": nothing readable that should not be."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from ..kustomize.kfile import KUSTOMIZATION_FILES
from ..model.base import Origin, Resource
from ..model.kinds import Secret, is_sops_encrypted
from ..secrets.generators import FIX as GENERATOR_FIX
from ..secrets.generators import exposures
from ..secrets.generators import is_placeholder as _is_placeholder
from .base import Hit, Severity, rule
from .context import Context

SOPS_FILE = re.compile(r"\.sops\.(ya?ml|json|env|ini)$")


@rule(
    id="SEC001",
    name="plaintext-secret",
    family="secrets",
    severity=Severity.ERROR,
    seed="Secrets stay encrypted: all secrets use SOPS encryption before committing",
    summary="A Kubernetes Secret with readable data is committed",
    why="Homelab repositories are usually public; a Secret's data in Git is readable by anyone (base64 "
    "is an encoding, not encryption) and stays in the history even after it is removed.",
    bad="apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secret\nstringData:\n  API_KEY: hunter2\n",
    good="# app-secret.sops.yaml, encrypted with 'homeops secrets encrypt'\napiVersion: v1\nkind: Secret\n"
    "metadata:\n  name: app-secret\nstringData:\n  API_KEY: ENC[AES256_GCM,data:...]\nsops:\n  mac: ...\n",
    fix="Move the values into 1Password (an ExternalSecret) or encrypt the file with SOPS "
    "('homeops secrets encrypt'), then rotate the exposed credentials.",
    one_per_line=True,
)
def plaintext_secret(ctx: Context) -> Iterator[Hit]:
    for res in ctx.subjects_of(("", "Secret")):
        readable = readable_keys(res)
        if not readable:
            continue
        field, key = readable[0]
        keys = ", ".join(sorted({str(k) for _, k in readable}))
        generated = ctx.tree.parsed(res.origin.path).documents
        written = generated[res.origin.index] if res.origin.index < len(generated) else None
        if not (isinstance(written, dict) and written.get("kind") == "Secret"):
            continue  # built by a secretGenerator: SEC005 names the literal, env file or file at its line
        yield ctx.hit(
            res,
            (field, key),
            f"Secret {Secret(res).name!r} is committed in plaintext (keys: {keys})",
            "encrypt it with SOPS ('homeops secrets encrypt') or replace it with an ExternalSecret",
        )


def readable_keys(res: Resource) -> list[tuple[str, str]]:
    """(field, key) of every value of a Secret that is readable: neither encrypted nor a placeholder."""
    if is_sops_encrypted(res.obj):
        return []
    out = []
    for field in ("data", "stringData"):
        values = res.obj.get(field)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            text = _decoded(value) if field == "data" else value
            if not _is_placeholder(text) and not _encrypted_text(text):
                out.append((field, str(key)))
    return out


def _decoded(value: Any) -> Any:
    import base64
    import binascii

    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return value


def _encrypted_text(value: Any) -> bool:
    """SOPS ciphertext (an encrypted env or file a generator read)."""
    return isinstance(value, str) and ("ENC[AES256_GCM," in value or "sops_mac=" in value)


@rule(
    id="SEC002",
    name="sops-file-not-encrypted",
    family="secrets",
    severity=Severity.ERROR,
    seed="Secret flow: Rendered (*.sops.yaml, pre-encrypt) → Encrypted (committed)",
    summary="A *.sops.* file is not encrypted",
    why="The .sops. name promises encryption; a rendered but not yet encrypted file (configure stopped "
    "half-way, a manual edit) commits plaintext credentials while looking safe.",
    bad="# cluster-secrets.sops.yaml\nstringData:\n  SECRET_DOMAIN: example.com\n",
    good="# cluster-secrets.sops.yaml\nstringData:\n  SECRET_DOMAIN: ENC[AES256_GCM,data:...]\n"
    "sops:\n  mac: ...\n",
    fix="Run 'homeops secrets encrypt' before committing (the pre-commit hook enforces it).",
)
def sops_not_encrypted(ctx: Context) -> Iterator[Hit]:
    for path in ctx.tree.files():
        name = path.rsplit("/", 1)[-1]
        if not SOPS_FILE.search(name) or name == ".sops.yaml":
            continue
        if not _file_encrypted(ctx, path):
            yield Hit(
                path, 1, "file is named *.sops.* but is not SOPS-encrypted", "run 'homeops secrets encrypt'"
            )


def _file_encrypted(ctx: Context, path: str) -> bool:
    if path.endswith((".yaml", ".yml")):
        parsed = ctx.tree.parsed(path)
        docs = [d for d in parsed.documents if d is not None]
        return bool(docs) and all(isinstance(d, dict) and is_sops_encrypted(d) for d in docs)
    try:
        raw = ctx.tree.read_bytes(path)
    except OSError:
        return True
    if path.endswith(".json"):
        return b'"sops"' in raw and b'"mac"' in raw
    return b"sops_mac=" in raw


@rule(
    id="SEC003",
    name="sops-no-creation-rule",
    family="secrets",
    severity=Severity.WARNING,
    seed="Secrets stay encrypted; secret rotation requires re-encryption",
    summary="An encrypted file is not covered by any .sops.yaml creation rule",
    why="sops decides recipients from .sops.yaml; a file no rule covers cannot be re-encrypted by "
    "'sops updatekeys' or a key rotation, so it silently keeps the old key.",
    bad="# .sops.yaml\ncreation_rules:\n  - path_regex: kubernetes/.*\\.sops\\.yaml\n"
    "# but the file is talos/talsecret.sops.yaml\n",
    good="creation_rules:\n  - path_regex: talos/.*\\.sops\\.yaml\n    age: age1...\n"
    "  - path_regex: kubernetes/.*\\.sops\\.yaml\n    age: age1...\n",
    fix="Add a creation rule whose path_regex matches the file (or move the file where a rule applies).",
)
def sops_no_rule(ctx: Context) -> Iterator[Hit]:
    from ..errors import HomeopsError
    from ..secrets.config import load_sops_config

    try:
        config = load_sops_config(ctx.tree.root)
    except HomeopsError as exc:
        where = exc.where
        yield Hit(
            where.path if where else ".sops.yaml",
            where.line if where else 1,
            f".sops.yaml cannot be used: {exc.message}",
            exc.hint,
        )
        return
    encrypted = _encrypted_files(ctx)
    if not encrypted:
        return
    if config is None:
        yield Hit(
            encrypted[0],
            1,
            f"{len(encrypted)} encrypted file(s) but no .sops.yaml in the repository",
            "run 'homeops secrets init' to create one",
        )
        return
    for path in encrypted:
        try:
            covered = config.rule_for(path) is not None
        except HomeopsError as exc:
            yield Hit(".sops.yaml", exc.where.line if exc.where else 1, exc.message, exc.hint)
            return
        if not covered:
            yield Hit(path, 1, "no .sops.yaml creation rule matches this encrypted file")


def _encrypted_files(ctx: Context) -> list[str]:
    """Every SOPS-encrypted file, judged by content whatever its name, as ``homeops secrets status``
    lists them (templates and ``.sops.yaml`` itself left out)."""
    from ..load.tree import TEMPLATE_SUFFIXES
    from ..secrets.naming import STRUCTURED_SUFFIXES
    from ..secrets.sops import is_encrypted

    found = []
    for path in ctx.tree.files():
        name = path.rsplit("/", 1)[-1]
        if name in (".sops.yaml", ".sops.yml") or path.endswith(TEMPLATE_SUFFIXES):
            continue
        if path.endswith((".yaml", ".yml")):
            encrypted = _file_encrypted(ctx, path)  # from the parse every rule shares
        elif path.endswith(STRUCTURED_SUFFIXES) or SOPS_FILE.search(name):
            try:
                encrypted = is_encrypted(ctx.tree.read_bytes(path), path)
            except OSError:
                encrypted = False
        else:
            continue
        if encrypted:
            found.append(path)
    return found


# -- literal credentials in HelmRelease values ---------------------------------------------------

#: Keys whose literal value is a credential whatever it looks like.
_CREDENTIAL_ENDINGS = (
    "password",
    "passwd",
    "passphrase",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "clientsecret",
    "authkey",
    "apisecret",
    "webhooksecret",
    "encryptionkey",
)
#: Keys that hold either a secret value or the name of a Secret (``githubConfigSecret: runner-secret``).
_AMBIGUOUS_ENDINGS = ("secret",)
_NOT_PASSWORDS = frozenset({"bypass", "compass", "surpass", "overpass", "underpass", "trespass"})
_REFERENCE_ENDINGS = (
    "name",
    "ref",
    "file",
    "path",
    "env",
    "secretname",
    "existingsecret",
    "keyname",
    "length",
)
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def _credential_key(key: str, value: str, siblings: Any = None) -> bool:
    verdict = _key_verdict(key)
    if verdict is True and _names_a_key(key, value, siblings):
        return False
    # "…Secret: app-secret" names a Secret; a value that is not a resource name is the secret itself.
    return verdict is True or (verdict is None and not _K8S_NAME.match(value.strip()))


#: Keys next to which a "...Key" field names a key inside that Secret, not a credential.
_SECRET_REFERENCES = ("existingsecret", "secretname", "secretref", "existingsecretname", "secret")
#: What the name of a key in a Secret looks like: admin-password, AWS_SECRET_ACCESS_KEY, password.
_KEY_NAME = re.compile(r"^([a-z][a-z0-9]*([-_.][a-z0-9]+)*|[A-Z][A-Z0-9]*(_[A-Z0-9]+)*)$")
_KEY_WORDS = ("password", "passwd", "secret", "token", "key", "pass", "credential", "auth")


def _names_a_key(key: str, value: str, siblings: Any) -> bool:
    """``secretKey: password`` or ``adminPasswordExistingSecretKey: admin-password``: a field ending in
    "Key" that names a key of a Secret given next to it (or whose value reads like such a key name)."""
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    if not norm.endswith("key"):
        return False
    if "existingsecret" in norm:
        return True
    if isinstance(siblings, dict):
        names = {re.sub(r"[^a-z0-9]", "", str(k).lower()) for k in siblings}
        if any(n.endswith(_SECRET_REFERENCES) for n in names):
            return True
    text = value.strip()
    return bool(_KEY_NAME.match(text)) and any(w in text.lower() for w in _KEY_WORDS) and len(text) <= 40


@functools.lru_cache(maxsize=4096)
def _key_verdict(key: str) -> bool | None:
    """Whether a key names a credential: True, False, or None when its value decides (memoised)."""
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    if norm.endswith(_REFERENCE_ENDINGS) or norm.startswith(("existing", "use", "enable", "create")):
        return False
    if norm.endswith(_CREDENTIAL_ENDINGS):
        return True
    # Abbreviations in the last word of the key: DB_PASS, PAPERLESS_DBPASS, ADMIN_PWD (not "bypass").
    last = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower())[-1]
    if last in ("pass", "pwd") or (last.endswith(("pass", "pwd")) and last not in _NOT_PASSWORDS):
        return True
    return None if norm.endswith(_AMBIGUOUS_ENDINGS) else False


def _literal(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if (
        len(text) < 4
        or "${" in text
        or "{{" in text
        or text.startswith(("/", "./", "$"))
        or _is_placeholder(text)
    ):
        return False
    return text.lower() not in ("true", "false", "none", "null", "changeme", "secret", "password")


Found = list[tuple[tuple[str | int, ...], str]]
"""(path, key) of credential-named keys holding literal strings."""


def literal_credentials(values: Any, seen: dict[int, tuple[Any, Found]] | None = None) -> Found:
    """(path, key) of every credential-named key holding a literal string, depth first.

    ``seen``: what the containers walked so far hold, by identity, for a caller walking many values
    that share containers (an overlay's objects share what its patches leave alone with the base's,
    cluster after cluster; YAML aliases): each container is walked once. The values must not change
    meanwhile.
    """
    return list(_credentials(values, {} if seen is None else seen))


def _credentials(values: Any, seen: dict[int, tuple[Any, Found]]) -> Found:
    # A key that never names a credential is ruled out (memoised) before its value is looked at.
    ident = id(values)
    known = seen.get(ident)
    if known is not None:
        return known[1]
    found: Found = []
    if isinstance(values, dict):
        for key, item in values.items():
            if isinstance(item, str):  # (only a string can be a literal credential)
                if (
                    isinstance(key, str)
                    and _key_verdict(key) is not False
                    and _literal(item)
                    and _credential_key(key, item, values)
                ):
                    found.append(((key,), key))
            elif isinstance(item, (dict, list)):
                below = _credentials(item, seen)
                if below:  # (most containers hold none)
                    found.extend(((key, *path), name) for path, name in below)
    elif isinstance(values, list):
        for i, item in enumerate(values):
            if isinstance(item, dict):
                name = item.get("name")
                if isinstance(name, str) and "value" in item and _key_verdict(name) is not False:
                    if _literal(item["value"]) and _credential_key(name, str(item["value"])):
                        found.append(((i, "value"), name))
                        continue
            if isinstance(item, (dict, list)):  # (nothing else holds a credential-named key)
                below = _credentials(item, seen)
                if below:
                    found.extend(((i, *path), name) for path, name in below)
    seen[ident] = (values, found)  # the container kept alive with it: its id stays its own
    return found


@rule(
    id="SEC004",
    name="literal-credential",
    family="secrets",
    severity=Severity.ERROR,
    seed="Secrets stay as placeholders: HelmRelease values reference secrets, never hold them",
    summary="A password, token or key is written literally in HelmRelease values",
    why="Values are plain text in a public repository; a credential there is exposed exactly like a "
    "plaintext Secret.",
    bad="values:\n  env:\n    DB_PASSWORD: mySecretPassword123\n",
    good="values:\n  envFrom:\n    - secretRef:\n        name: app-secret   # from an ExternalSecret\n",
    fix="Put the value in 1Password (ExternalSecret) or a SOPS-encrypted Secret and reference it "
    "(envFrom/secretKeyRef, valuesFrom, or the chart's existingSecret).",
    one_per_line=True,
)
def literal_credential(ctx: Context) -> Iterator[Hit]:
    seen: dict[int, tuple[Any, Found]] = {}  # the releases of several clusters share their bases' values
    for res, release in ctx.helm_releases():
        for path, key in literal_credentials(release.values, seen):
            hit = ctx.hit(
                res,
                ("spec", "values", *path),
                f"HelmRelease {release.name!r} sets {key!r} to a literal value",
                "reference a Secret instead (envFrom/secretKeyRef, valuesFrom or existingSecret)",
            )
            yield hit


# -- secretGenerator --------------------------------------------------------------------------------


@rule(
    id="SEC005",
    name="plaintext-secret-generator",
    family="secrets",
    severity=Severity.ERROR,
    seed="Secrets stay encrypted: all secrets use SOPS encryption before committing",
    summary="A kustomize secretGenerator builds a Secret from plaintext literals, env files or files",
    why="A secretGenerator is a Secret written another way: its literals and the env files and files it "
    "reads are committed as they are, readable by anyone who can read the repository, exactly like a "
    "plaintext Secret (which SEC001 catches).",
    bad="secretGenerator:\n  - name: app-secret\n    literals:\n      - API_KEY=hunter2\n"
    "    envs:\n      - ./app.env        # API_TOKEN=abc123, not encrypted\n",
    good="secretGenerator:\n  - name: app-secret\n    envs:\n      - ./app.sops.env   # encrypted with "
    "'homeops secrets encrypt'; Flux decrypts it\n    literals:\n      - DOMAIN=${SECRET_DOMAIN}\n",
    fix="Encrypt the env file or file with SOPS (kustomize-controller decrypts it before the build), move "
    "literal values into such a file, or use an ExternalSecret; then rotate the exposed credentials.",
)
def plaintext_secret_generator(ctx: Context) -> Iterator[Hit]:
    def read(rel: str) -> bytes | None:
        try:
            return ctx.tree.read_bytes(rel) if ctx.tree.is_file(rel) else None
        except OSError:
            return None

    for path in sorted(ctx.applied_files):  # what a build reads: Flux applies nothing else
        folder, _, name = path.rpartition("/")
        if name not in KUSTOMIZATION_FILES:
            continue
        try:
            parsed = ctx.tree.parsed(path)
        except OSError:
            continue  # reported as a load problem
        for index, (doc, line) in enumerate(zip(parsed.documents, parsed.lines, strict=False)):
            if not isinstance(doc, dict) or "secretGenerator" not in doc:
                continue
            res = Resource(doc, Origin(path, line, index))
            for exposure in exposures(doc, folder, read):
                yield ctx.hit(res, exposure.field, exposure.message, GENERATOR_FIX)
