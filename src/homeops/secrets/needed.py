"""What the repository's ExternalSecrets expect to find in the vault (1Password, …) before a push.

For every ExternalSecret (group ``external-secrets.io``): its store, the vault items it reads
(``dataFrom[].extract.key``, ``data[].remoteRef.key``/``property``) and the keys its target template
uses (``{{ .KEY }}`` in ``target.template.data`` and ``templateFrom``). Template keys are traced back
to an item when the ExternalSecret says where they come from: ``data[].secretKey``, a prefix added by
a ``rewrite`` (``(.*)`` → ``prefix_$1``), or a single extracted item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..load.tree import Document, SourceTree
from ..model.base import get_path, split_api_version, strings

GROUP = "external-secrets.io"
KINDS = ("ExternalSecret", "ClusterExternalSecret")


@dataclass(frozen=True, slots=True)
class VaultItem:
    """An item the store must hold."""

    key: str
    """The item's name (``remoteRef.key``, ``extract.key``), or ``find: …`` for a search."""
    fields: tuple[str, ...] = ()
    """Fields read from it; empty when the whole item is read and no template narrows it."""
    how: str = "extract"
    """``extract``, ``remoteRef`` or ``find``."""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "fields": list(self.fields), "how": self.how}


@dataclass(frozen=True, slots=True)
class NeededSecret:
    """One ExternalSecret and what it needs."""

    path: str
    line: int
    kind: str
    namespace: str
    name: str
    store_kind: str
    store_name: str
    target: str
    """Name of the Kubernetes Secret it creates."""
    items: tuple[VaultItem, ...]
    template_keys: tuple[str, ...]
    """Keys the target template references (``{{ .KEY }}``)."""
    unattributed: tuple[str, ...] = ()
    """Template keys that could come from any of several extracted items."""
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "store": {"kind": self.store_kind, "name": self.store_name},
            "target": self.target,
            "items": [i.to_json() for i in self.items],
            "template_keys": list(self.template_keys),
            "unattributed": list(self.unattributed),
            "notes": list(self.notes),
        }


def needed(repo: str | Path | SourceTree) -> list[NeededSecret]:
    """Every ExternalSecret of the repository, in file order, with the vault items it needs."""
    tree = repo if isinstance(repo, SourceTree) else SourceTree(repo)
    documents = [
        doc for rel in tree.yaml_files() for doc in tree.documents(rel) if isinstance(doc.data, dict)
    ]
    config_maps = _config_maps(documents)
    return [
        _needed(doc, config_maps)
        for doc in documents
        if isinstance(doc.data, dict)
        and doc.data.get("kind") in KINDS
        and split_api_version(str(doc.data.get("apiVersion", "")))[0] == GROUP
    ]


def by_store(secrets: Iterable[NeededSecret]) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(store kind, store name) → item → fields, merged over all ExternalSecrets."""
    merged: dict[tuple[str, str], dict[str, set[str]]] = {}
    for secret in secrets:
        items = merged.setdefault((secret.store_kind, secret.store_name), {})
        for item in secret.items:
            items.setdefault(item.key, set()).update(item.fields)
    return merged


# -- one ExternalSecret -------------------------------------------------------------------------


def _needed(doc: Document, config_maps: dict[str, list[dict[str, Any]]]) -> NeededSecret:
    assert isinstance(doc.data, dict)
    obj: dict[str, Any] = doc.data
    kind = str(obj.get("kind"))
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    name = str(metadata.get("name", ""))
    namespace = str(metadata.get("namespace", "")) if kind == "ExternalSecret" else ""
    spec = get_path(obj, "spec", "externalSecretSpec") if kind == "ClusterExternalSecret" else obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    store = spec.get("secretStoreRef") if isinstance(spec.get("secretStoreRef"), dict) else {}
    assert isinstance(store, dict)
    target = get_path(spec, "target", "name")
    notes: list[str] = []

    template_keys = _template_keys(spec, namespace, config_maps, notes)
    items: dict[tuple[str, str], set[str]] = {}
    provided: set[str] = set()
    for entry in _dicts(spec.get("data")):
        ref = entry.get("remoteRef") if isinstance(entry.get("remoteRef"), dict) else {}
        assert isinstance(ref, dict)
        if ref.get("key") is None:
            continue
        fields = items.setdefault((str(ref["key"]), "remoteRef"), set())
        if ref.get("property") is not None:
            fields.add(str(ref["property"]))
        if entry.get("secretKey") is not None:
            provided.add(str(entry["secretKey"]))

    remaining = [k for k in template_keys if k not in provided]
    plain_extracts: list[str] = []
    for entry in _dicts(spec.get("dataFrom")):
        extract = entry.get("extract")
        if isinstance(extract, dict) and extract.get("key") is not None:
            key = str(extract["key"])
            fields = items.setdefault((key, "extract"), set())
            if extract.get("property") is not None:
                fields.add(str(extract["property"]))
            prefix = _rewrite_prefix(entry.get("rewrite"))
            if prefix is None:
                plain_extracts.append(key)
                continue
            claimed = [k for k in remaining if k.startswith(prefix)]
            fields.update(k[len(prefix) :] for k in claimed)
            remaining = [k for k in remaining if k not in claimed]
        elif isinstance(entry.get("find"), dict):
            items.setdefault((_describe_find(entry["find"]), "find"), set())
    unattributed: list[str] = []
    if remaining and len(plain_extracts) == 1:
        items[(plain_extracts[0], "extract")].update(remaining)
    elif remaining and plain_extracts:
        unattributed = remaining

    return NeededSecret(
        path=doc.path,
        line=doc.line,
        kind=kind,
        namespace=namespace,
        name=name,
        store_kind=str(store.get("kind") or "SecretStore"),
        store_name=str(store.get("name") or ""),
        target=str(target) if target is not None else name,
        items=tuple(VaultItem(key, tuple(sorted(fields)), how) for (key, how), fields in items.items()),
        template_keys=tuple(template_keys),
        unattributed=tuple(unattributed),
        notes=tuple(notes),
    )


_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_FIELD = re.compile(r"(?<![\w)\].])\.([A-Za-z_][A-Za-z0-9_]*)")
_INDEX = re.compile(r"\bindex\s+\.\s+\"([^\"]+)\"")


def template_keys_of(text: str) -> list[str]:
    """Keys a Go template reads from its data: ``{{ .KEY }}``, ``{{ .KEY | b64dec }}``,
    ``{{ index . "key-with-dash" }}``."""
    found: list[str] = []
    for action in _ACTION.findall(text):
        found.extend(_FIELD.findall(action))
        found.extend(_INDEX.findall(action))
    return list(dict.fromkeys(found))


def _template_keys(
    spec: dict[str, Any], namespace: str, config_maps: dict[str, list[dict[str, Any]]], notes: list[str]
) -> list[str]:
    template = get_path(spec, "target", "template")
    if not isinstance(template, dict):
        return []
    texts = list(strings(template.get("data")))
    for entry in _dicts(template.get("templateFrom")):
        if isinstance(entry.get("literal"), str):
            texts.append(entry["literal"])
        for source in ("configMap", "secret"):
            ref = entry.get(source)
            if not isinstance(ref, dict):
                continue
            ref_name = str(ref.get("name", ""))
            wanted = [str(i.get("key")) for i in _dicts(ref.get("items"))]
            found = [cm for cm in config_maps.get(ref_name, []) if _namespace_of(cm) in ("", namespace)]
            if source == "secret" or not found:
                notes.append(
                    f"templateFrom {source} {ref_name!r} is not in the repository: its keys are not listed"
                )
                continue
            data = found[0].get("data") if isinstance(found[0].get("data"), dict) else {}
            assert isinstance(data, dict)
            texts.extend(str(data[k]) for k in (wanted or list(data)) if isinstance(data.get(k), str))
    keys: list[str] = []
    for text in texts:
        keys.extend(template_keys_of(text))
    return list(dict.fromkeys(keys))


def _rewrite_prefix(rewrites: Any) -> str | None:
    """The prefix a ``rewrite`` list adds to every key, when its last step is ``(.*)`` → ``P$1``."""
    prefix = None
    for rewrite in _dicts(rewrites):
        regexp = rewrite.get("regexp")
        if not isinstance(regexp, dict):
            continue
        source, target = str(regexp.get("source", "")), str(regexp.get("target", ""))
        match = re.fullmatch(r"(.*)\$\{?1\}?", target)
        if source in ("(.*)", "^(.*)$") and match:
            prefix = match.group(1)
    return prefix


def _describe_find(find: dict[str, Any]) -> str:
    parts = []
    if isinstance(find.get("name"), dict) and find["name"].get("regexp"):
        parts.append(f"name~{find['name']['regexp']}")
    if isinstance(find.get("tags"), dict):
        parts.extend(f"tag {k}={v}" for k, v in find["tags"].items())
    if find.get("path"):
        parts.append(f"path {find['path']}")
    return "find: " + (", ".join(parts) or "all")


def _config_maps(documents: list[Document]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        data = doc.data
        if isinstance(data, dict) and data.get("kind") == "ConfigMap" and data.get("apiVersion") == "v1":
            name = get_path(data, "metadata", "name")
            if isinstance(name, str):
                found.setdefault(name, []).append(data)
    return found


def _namespace_of(obj: dict[str, Any]) -> str:
    value = get_path(obj, "metadata", "namespace")
    return str(value) if value is not None else ""


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))
