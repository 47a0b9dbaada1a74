"""``configMapGenerator`` and ``secretGenerator``: objects made from literals, env files and files.

The name suffix is kustomize's content hash: the SHA-256 of a JSON encoding (Go's
``encoding/json``: sorted keys, ``<``, ``>``, ``&`` escaped) of kind, data and type, with an empty
name (kustomize looks the name up under a key that never matches), cut to ten characters and
with ``0 1 3 a e`` swapped for ``g h k m t`` so the suffix cannot read as a number or a word.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import KustomizeError, Where
from ..model.base import Origin
from . import kfile
from .kfile import GeneratorArgs, GeneratorOptions, Kustomization
from .loader import Loader
from .resid import Res

BEHAVIORS = ("create", "merge", "replace")


def merge_options(local: GeneratorOptions | None, glob: GeneratorOptions | None) -> GeneratorOptions | None:
    """kustomize's MergeGlobalOptionsIntoLocal: local labels and annotations win, flags are or-ed."""
    if glob is None:
        return local
    if local is None:
        local = GeneratorOptions()
    return GeneratorOptions(
        labels=tuple({**dict(glob.labels), **dict(local.labels)}.items()),
        annotations=tuple({**dict(glob.annotations), **dict(local.annotations)}.items()),
        disable_name_suffix_hash=local.disable_name_suffix_hash or glob.disable_name_suffix_hash,
        immutable=local.immutable or glob.immutable,
    )


def generate(loader: Loader, kust: Kustomization, args: GeneratorArgs, where: Where) -> Res:
    """The ConfigMap or Secret one generator entry makes."""
    secret = args.section == "secretGenerator"
    kind = "Secret" if secret else "ConfigMap"
    if not args.name:
        raise KustomizeError(f"a {args.section} entry has no name", where=where, hint="add 'name:'")
    behavior = args.behavior or "create"
    if behavior not in BEHAVIORS:
        raise KustomizeError(
            f"unknown behavior {args.behavior!r} for {kind} {args.name!r}",
            where=where,
            hint="use create, merge or replace",
        )
    pairs = _pairs(loader, kust, args, where)
    metadata: dict[str, Any] = {"name": args.name}
    if args.namespace:
        metadata["namespace"] = args.namespace
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    if secret:
        obj["type"] = args.type or "Opaque"
        if pairs:
            obj["data"] = {key: base64.b64encode(value).decode("ascii") for key, value in pairs.items()}
    else:
        data: dict[str, str] = {}
        binary: dict[str, str] = {}
        for key, value in pairs.items():
            try:
                data[key] = value.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = base64.b64encode(value).decode("ascii")
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
    options = merge_options(args.options, kust.generator_options)
    if options is not None:
        if options.labels:
            metadata["labels"] = dict(sorted(options.labels))
        if options.annotations:
            metadata["annotations"] = dict(sorted(options.annotations))
        if options.immutable:
            obj["immutable"] = True
    res = Res(obj, Origin(kust.path, where.line))
    res.replace(obj)
    res.behavior = behavior
    res.hash_suffix = not (options is not None and options.disable_name_suffix_hash)
    return res


def _pairs(loader: Loader, kust: Kustomization, args: GeneratorArgs, where: Where) -> dict[str, bytes]:
    """Key/value pairs in kustomize's order: env files, then literals, then files."""
    pairs: list[tuple[str, bytes]] = []
    for i, entry in enumerate(args.envs):
        content = _read(loader, kust, entry, where, "env file", (args.section, args.index, "envs", i))
        pairs.extend(_env_file(content, entry, where))
    for literal in args.literals:
        key, sep, text_value = literal.partition("=")
        if not sep or not key:
            raise KustomizeError(
                f"invalid literal {literal!r} in {args.name!r}, expected key=value",
                where=where,
                hint="write literals as KEY=VALUE",
            )
        pairs.append((key, _unquote(text_value).encode("utf-8")))
    for i, source in enumerate(args.files):
        name, path = _file_source(source, where)
        pairs.append((name, _read(loader, kust, path, where, "file", (args.section, args.index, "files", i))))
    result: dict[str, bytes] = {}
    for key, value in pairs:
        if key in result:
            raise KustomizeError(
                f"{args.name!r} repeats the key {key!r}",
                where=where,
                hint="each key of a generated ConfigMap or Secret must be unique",
            )
        result[key] = value
    return result


def _read(
    loader: Loader, kust: Kustomization, entry: str, where: Where, what: str, at: tuple[str | int, ...]
) -> bytes:
    try:
        rel = loader.resolve(kust.directory, entry, where, what)
        loader.check_root_only(kust.directory, rel, entry, where, what)
        return loader.read_bytes(rel, where, what)
    except KustomizeError as exc:
        if exc.where is where and not kust.generated:
            # the line of the entry itself, not of its generator
            exc.where = Where(kust.path, kfile.line_of(loader.tree, kust.path, list(at)) or where.line)
        raise


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _file_source(source: str, where: Where) -> tuple[str, str]:
    count = source.count("=")
    if count == 0:
        return source.rstrip("/").rsplit("/", 1)[-1] or source, source
    key, _, path = source.partition("=")
    if count > 1:
        raise KustomizeError(f"file source {source!r}: key name or file path contains '='", where=where)
    if not key:
        raise KustomizeError(f"file source {source!r} has no key name", where=where)
    if not path:
        raise KustomizeError(f"file source {source!r} has no file path", where=where)
    return key, path


def _env_file(content: bytes, name: str, where: Where) -> list[tuple[str, bytes]]:
    pairs: list[tuple[str, bytes]] = []
    for number, raw in enumerate(content.split(b"\n")):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            raise KustomizeError(
                f"line {number + 1} of env file {name} is not valid UTF-8", where=where
            ) from None
        if number == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        line = line.decode("utf-8").lstrip().encode("utf-8")
        if not line or line.startswith(b"#"):
            continue
        key, _, value = line.partition(b"=")
        pairs.append((key.decode("utf-8"), value))
    return pairs


def content_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix for a generated ConfigMap or Secret."""
    kind = obj.get("kind")
    if kind == "ConfigMap":
        encoded: dict[str, Any] = {"kind": "ConfigMap", "name": "", "data": _field(obj, "data")}
        if isinstance(obj.get("binaryData"), dict):
            encoded["binaryData"] = obj["binaryData"]
    elif kind == "Secret":
        encoded = {"kind": "Secret", "type": _field(obj, "type"), "name": "", "data": _field(obj, "data")}
        if isinstance(obj.get("stringData"), dict):
            encoded["stringData"] = obj["stringData"]
    else:
        encoded = obj
    import hashlib  # here: a check without generators does not start OpenSSL

    digest = hashlib.sha256(go_json(encoded).encode("utf-8")).hexdigest()
    return digest[:10].translate(_HASH_LETTERS)


_HASH_LETTERS = str.maketrans("013ae", "ghkmt")


def _field(obj: dict[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        return ""
    return value


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it (sorted keys, HTML characters escaped)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
