"""Flux's kinds as JSON Schema, converted from the ``@kubernetes-models/flux-cd`` npm tarball.

This runs at development time only: ``tools/flux_schemas.py`` converts the pinned tarball into
``validate/data/flux-schemas.json``, which homeops ships and reads (see :mod:`homeops.validate.sources`);
a test checks that the shipped file is what this converter makes of the pinned tarball.

The package is generated from the Flux controllers' API types (the same types the CRDs are generated
from) and ships one TypeScript declaration per type: every field, whether it is required, its type, its
enumerated values, the type it refers to. Those declarations are read here, without Node: each
``export interface`` becomes one definition, each top-level kind (a literal ``apiVersion`` and
``kind``) one entry of the catalog. Its compiled validators add the integer fields' exact type.

What the declarations do not say is not checked rather than guessed: patterns and length limits that
only the CRDs carry, CEL rules. Every Flux object is closed to undeclared fields, as the CRDs (structural
schemas) are, except where the type is free-form JSON (``values``, ``patch`` bodies).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import posixpath
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .openapi import OBJECT_META, Schema, kind_key, ref

PACKAGE = "@kubernetes-models/flux-cd"
VERSION = "4.0.0"
TARBALL = f"kubernetes-models-flux-cd-{VERSION}.tgz"
"""The file name ``npm pack`` gives the pinned tarball."""
INTEGRITY = "sha512-/C/WIRCMUHhZLWzJk2oUW8VunCvd3FeRdU4MNxp4Skpc6Ny1SFFJWgpArhoRqWeEnSYpOd2a9a18D9tw4Gx23Q=="
"""The npm registry's integrity string of the pinned tarball: a tarball that differs is not converted."""
LICENCE = "MIT"
TARBALL_ENV = "HOMEOPS_FLUX_MODELS"
"""Names the tarball when it is not in the environment's ``share/homeops`` folder."""


def local_tarball() -> Path | None:
    """The pinned tarball, when this machine has it (``$HOMEOPS_FLUX_MODELS``, else where
    ``tools/flux_schemas.py`` keeps it: ``<environment>/share/homeops/``)."""
    explicit = os.environ.get(TARBALL_ENV)
    for candidate in [Path(explicit)] if explicit else [Path(sys.prefix) / "share" / "homeops" / TARBALL]:
        if candidate.is_file():
            return candidate
    return None


def licence_text(tarball: Path) -> str:
    """The package's own licence file."""
    for name, data in _members(gzip.decompress(tarball.read_bytes())):
        if name == "package/LICENSE":
            return data.decode("utf-8")
    raise ValueError(f"{tarball} has no package/LICENSE")


_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_IMPORT = re.compile(r'^import \{ ([^}]*) \} from "([^"]+)";', re.M)
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends ([\w, ]+))? \{\n(.*?)^\}", re.M | re.S)
_FIELD = re.compile(r'^    "([^"]+)"(\??): (.*)$')
_LITERAL = re.compile(r'"([^"]*)"')
_ENUM = re.compile(r'"[^"]*"(?: \| "[^"]*")*')
_ARRAY = re.compile(r"Array<(.+)>")
_MAPPING = re.compile(r"\{ \[key: string\]: (.+); \}")
_EXPORTED = re.compile(r"export type \{ \w+ as (\w+)")
_INTEGER_FIELD = re.compile(r'void 0!==data(?:\.(\w+)|\["([^"]+)"\])&&\(validate(\d+)\(')

#: types of other packages the declarations refer to, and what the API server makes of them
_EXTERNAL: dict[str, Schema] = {
    "IIoK8sApimachineryPkgApisMetaV1ObjectMeta": ref(OBJECT_META),
    "IIoK8sApimachineryPkgApisMetaV1ListMeta": {"type": ["object", "null"]},
    "IIoK8sApimachineryPkgApisMetaV1Condition": {"type": ["object", "null"]},
    "IIoK8sApimachineryPkgApisMetaV1Time": {"type": ["string", "null"]},
    "IIoK8sApimachineryPkgApisMetaV1LabelSelector": ref("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
    "IIoK8sApiextensionsApiserverPkgApisApiextensionsV1JSON": {},
}


def verified(tarball: Path) -> bool:
    """Whether the tarball is exactly the pinned one (npm's sha512 integrity)."""
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode() == INTEGRITY


def shipped_text(tarball: Path) -> str:
    """The text of ``flux-schemas.json`` for the pinned tarball: where it came from, then each kind
    and each definition on a line of its own (sorted), so that a regeneration diffs by definition."""
    bundle = flux_bundle(tarball)

    def block(items: dict[str, Any]) -> str:
        rows = [f"    {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(items.items())]
        return "{\n" + ",\n".join(rows) + "\n  }"

    source = {"package": PACKAGE, "version": VERSION, "integrity": INTEGRITY, "licence": LICENCE}
    return (
        f'{{\n  "source": {json.dumps(source)},\n  "kinds": {block(bundle["kinds"])},\n'
        f'  "defs": {block(bundle["defs"])}\n}}\n'
    )


def flux_bundle(tarball: Path) -> dict[str, Any]:
    """{"defs": {name: schema}, "kinds": {kind key: def name}} of every Flux kind in the tarball."""
    declarations: dict[str, str] = {}
    compiled: dict[str, str] = {}
    for name, data in _members(gzip.decompress(tarball.read_bytes())):
        name = name.removeprefix("package/")
        if name.endswith(".d.ts") and "/" in name and not name.endswith("index.d.ts"):
            declarations[name.removesuffix(".d.ts")] = data.decode("utf-8")
        elif name.startswith("_schemas/") and name.endswith(".js"):
            compiled[name.removeprefix("_schemas/").removesuffix(".js")] = data.decode("utf-8")
    defs: dict[str, Schema] = {}
    kinds: dict[str, str] = {}
    parents: dict[str, list[str]] = {}
    for module, text in sorted(declarations.items()):
        found = _module(module, text, compiled)
        if found is None:
            continue
        schema, identity, bases = found
        defs[_def_name(module)] = schema
        parents[_def_name(module)] = bases
        if identity is not None:
            kinds[kind_key(*identity)] = _def_name(module)
    for name in defs:
        _inherit(name, defs, parents, set())
    return {"defs": defs, "kinds": kinds}


def _inherit(name: str, defs: dict[str, Schema], parents: dict[str, list[str]], busy: set[str]) -> None:
    """Copy the fields of the interfaces ``name`` extends into it (Go's inlined structs)."""
    bases = parents.pop(name, [])
    busy.add(name)
    for base in bases:
        if base in busy or base not in defs:
            continue
        _inherit(base, defs, parents, busy)
        schema, inherited = defs[name], defs[base]
        schema["properties"] = {**inherited.get("properties", {}), **schema.get("properties", {})}
        required = [*inherited.get("required", []), *schema.get("required", [])]
        if required:
            schema["required"] = list(dict.fromkeys(required))


def _members(raw: bytes) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every file of an (uncompressed) ustar archive, as npm writes them.

    Read directly rather than with :mod:`tarfile`, whose per-member bookkeeping costs ten times the
    whole read for the thousand small files of this package.
    """
    offset, long_name = 0, None
    while offset + 512 <= len(raw):
        header = raw[offset : offset + 512]
        if not header.strip(b"\0"):
            return
        size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        kind = header[156:157]
        body = raw[offset + 512 : offset + 512 + size]
        offset += 512 + (size + 511) // 512 * 512
        if kind == b"x":  # a pax header: the next member's long path
            for record in body.decode("utf-8", "replace").splitlines():
                if " path=" in record:
                    long_name = record.split(" path=", 1)[1]
            continue
        name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "replace")
        prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
        path = long_name or (f"{prefix}/{name}" if prefix else name)
        long_name = None
        if kind in (b"0", b"\0"):
            yield path, body


def _def_name(module: str) -> str:
    return "flux:" + module


def _module(
    module: str, text: str, compiled: dict[str, str]
) -> tuple[Schema, tuple[str, str] | None, list[str]] | None:
    text = _COMMENT.sub("", text)
    imports: dict[str, str] = {}
    for names, source in _IMPORT.findall(text):
        for imported in names.split(","):
            imported = imported.strip()
            if source.startswith("."):
                path = posixpath.join(posixpath.dirname(module), source.removesuffix(".js"))
                imports[imported] = _def_name(posixpath.normpath(path))
            else:
                imports[imported] = imported  # another package: see _EXTERNAL
    match = _INTERFACE.search(text)
    if match is None:
        return None
    properties: dict[str, Schema] = {}
    required: list[str] = []
    identity: dict[str, str] = {}
    bases = [imports[b.strip()] for b in (match.group(2) or "").split(",") if b.strip() in imports]
    for field, optional, type_text in _fields(match.group(3)):
        literal = _LITERAL.fullmatch(type_text)
        if field in ("apiVersion", "kind") and literal and not optional:
            identity[field] = literal.group(1)
            properties[field] = {"type": "string"}
            continue
        properties[field] = _type(type_text, imports)
        if not optional:
            required.append(field)
    _integers(module, text, properties, compiled)
    schema: Schema = {"type": ["object", "null"], "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    if "apiVersion" in identity and "kind" in identity:
        schema["type"] = "object"
        return schema, (identity["apiVersion"], identity["kind"]), bases
    return schema, None, bases


def _fields(body: str) -> list[tuple[str, str, str]]:
    """(name, "?" when optional, type) of an interface body; a type may span lines (``{ [key: …] }``)."""
    out: list[list[str]] = []
    for line in body.splitlines():
        start = _FIELD.match(line)
        if start:
            out.append([start.group(1), start.group(2), start.group(3)])
        elif out:
            out[-1][2] += " " + line.strip()
    return [(name, optional, " ".join(text.split()).removesuffix(";")) for name, optional, text in out]


def _type(text: str, imports: dict[str, str]) -> Schema:
    if text == "string":
        return {"type": ["string", "null"]}
    if text == "boolean":
        return {"type": ["boolean", "null"]}
    if text == "number":
        return {"type": ["number", "null"]}
    if text in ("any", "unknown"):
        return {}
    if _ENUM.fullmatch(text):
        return {"type": ["string", "null"], "enum": [*_LITERAL.findall(text), None]}
    array = _ARRAY.fullmatch(text)
    if array:
        return {"type": ["array", "null"], "items": _type(array.group(1), imports)}
    mapping = _MAPPING.fullmatch(text)
    if mapping:
        return {"type": ["object", "null"], "additionalProperties": _type(mapping.group(1), imports)}
    target = imports.get(text)
    if target is None:
        return {}  # a form these declarations do not use: accept rather than guess
    if target.startswith("flux:"):
        return ref(target)
    return _EXTERNAL.get(target, {})


def _integers(module: str, text: str, properties: dict[str, Schema], compiled: dict[str, str]) -> None:
    """Narrow ``number`` fields to integers where the package's compiled validator checks for one."""
    numbers = [name for name, schema in properties.items() if schema.get("type") == ["number", "null"]]
    if not numbers:
        return
    exported = _EXPORTED.search(text)
    code = compiled.get(exported.group(1)[1:]) if exported else None
    if code is None:
        return
    for plain, quoted, number in _INTEGER_FIELD.findall(code):
        field = plain or quoted
        if field not in numbers:
            continue
        body = re.search(rf"function validate{number}\(.*?return validate{number}\.errors", code, re.S)
        if body and 'params:{type:"integer"}' in body.group(0):
            properties[field] = {**properties[field], "type": ["integer", "null"]}
