"""What a repository installs before Flux runs: bootstrap helmfile releases, applied files, objects.

Homelab repos bootstrap the core (CNI, DNS, cert-manager, external-secrets, the 1Password store, Flux
itself) with a helmfile whose hooks ``kubectl apply`` files from the Flux tree, and apply the secrets
Flux needs from ``bootstrap/`` kustomize folders (often through ``op inject``). Whatever bootstrap
creates exists before any Flux Kustomization reconciles: nothing needs to ``dependsOn`` it, and a
``substituteFrom`` or ``secretRef`` naming it is satisfied.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from ..errors import HomeopsError
from ..kustomize import build
from ..load.tree import SourceTree, normalize
from ..model.base import Origin, Resource
from ..records import NamedTuple, Record

_TEMPLATE = re.compile(r"\{\{-?\s*\.Release\.(Name|Namespace)\s*-?\}\}")
#: ``{{ requiredEnv "ROOT_DIR" }}`` and the like: cluster-template's helmfile roots values files there.
_ROOT_DIR = re.compile(r"\{\{-?\s*(?:requiredEnv|env)\s+\"ROOT_DIR\"\s*-?\}\}/?")


class Release(NamedTuple):
    name: str
    namespace: str
    chart: str
    values: tuple[str, ...] = ()
    """Repo-relative values files the release is installed with (those homeops can resolve)."""


class Bootstrap(Record):
    __slots__ = ("applied_files", "folders", "helmfiles", "objects", "releases")

    releases: list[Release]
    applied_files: set[str]
    """Repo-relative files (or folders, for ``-k``) that bootstrap applies with kubectl."""
    helmfiles: list[str]
    objects: list[Resource]
    """Objects defined under ``bootstrap/`` folders (kustomize roots built, loose manifests as written)."""
    folders: set[str]
    """The ``bootstrap/`` kustomize folders (applied with ``kubectl apply -k`` by bootstrap scripts)."""

    def __init__(
        self,
        releases: list[Release] | None = None,
        applied_files: set[str] | None = None,
        helmfiles: list[str] | None = None,
        objects: list[Resource] | None = None,
        folders: set[str] | None = None,
    ) -> None:
        self.releases = [] if releases is None else releases
        self.applied_files = set() if applied_files is None else applied_files
        self.helmfiles = [] if helmfiles is None else helmfiles
        self.objects = [] if objects is None else objects
        self.folders = set() if folders is None else folders

    def applies(self, path: str) -> bool:
        return path in self.applied_files or any(
            path.startswith(folder + "/") for folder in (*self.applied_files, *self.folders)
        )

    def installs(self, chart_or_name: str) -> bool:
        return any(chart_or_name in (r.name, r.chart.rsplit("/", 1)[-1]) for r in self.releases)


def _is_helmfile(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("releases"), list) and "apiVersion" not in data


def find_bootstrap(tree: SourceTree) -> Bootstrap:
    """Every helmfile in the repository, what it installs and applies, and the bootstrap objects."""
    result = Bootstrap()
    _bootstrap_objects(tree, result)
    for rel in tree.yaml_files():
        name = posixpath.basename(rel)
        if "helmfile" not in rel and not name.startswith("helmfile"):
            continue
        parsed = tree.parsed(rel)
        for doc in parsed.documents:
            if _is_helmfile(doc):
                result.helmfiles.append(rel)
                _read_helmfile(tree, rel, doc, result)
    return result


def _read_helmfile(tree: SourceTree, rel: str, doc: dict[str, Any], result: Bootstrap) -> None:
    base = posixpath.dirname(rel)
    for release in doc["releases"]:
        if not isinstance(release, dict) or not isinstance(release.get("name"), str):
            continue
        name = release["name"]
        namespace = str(release.get("namespace") or "default")
        files = tuple(_values_files(tree, base, release.get("values")))
        result.releases.append(Release(name, namespace, str(release.get("chart") or name), files))
        for hook in release.get("hooks") or []:
            if isinstance(hook, dict) and hook.get("command") == "kubectl":
                values = {"Name": name, "Namespace": namespace}
                for target in _applied(hook.get("args")):
                    resolved = _TEMPLATE.sub(partial(_release_value, values), target)
                    path = normalize(posixpath.join(base, resolved))
                    if path is not None and tree.exists(path):
                        result.applied_files.add(path)


def _values_files(tree: SourceTree, base: str, values: Any) -> Iterator[str]:
    for item in values if isinstance(values, list) else []:
        if not isinstance(item, str):
            continue  # inline values
        rooted = _ROOT_DIR.match(item)
        text = item[rooted.end() :] if rooted else item
        if "{{" in text:
            continue
        path = normalize(text if rooted else posixpath.join(base, text))
        if path is not None and tree.is_file(path):
            yield path


def _release_value(values: dict[str, str], match: re.Match[str]) -> str:
    return values[match.group(1)]


def _applied(args: Any) -> Iterator[str]:
    if not isinstance(args, list) or "apply" not in args:
        return
    items = [str(a) for a in args]
    for i, arg in enumerate(items):
        for flag in ("--filename", "-f", "--kustomize", "-k"):
            if arg == flag and i + 1 < len(items):
                yield items[i + 1]
            elif arg.startswith(flag + "="):
                yield arg.split("=", 1)[1]


def _in_bootstrap(path: str) -> bool:
    return "bootstrap" in path.split("/")[:-1]


def _bootstrap_objects(tree: SourceTree, result: Bootstrap) -> None:
    files = [f for f in tree.yaml_files() if _in_bootstrap(f)]
    roots = sorted(
        posixpath.dirname(f)
        for f in files
        if posixpath.basename(f) in ("kustomization.yaml", "kustomization.yml")
        and _kind(tree, f) == "Kustomization"
    )
    top = [r for r in roots if not any(r != o and r.startswith(o + "/") for o in roots)]
    covered: set[str] = set()
    result.folders.update(top)
    for root in top:
        try:
            built = build(tree, root, flux=False, fallback=False)
        except HomeopsError:
            continue  # a broken bootstrap folder is not Flux's concern
        covered |= built.files
        result.objects.extend(built.resources)
    for rel in files:
        if rel in covered or any(rel.startswith(r + "/") for r in roots):
            continue
        for index, (data, line) in enumerate(
            zip(tree.parsed(rel).documents, tree.parsed(rel).lines, strict=True)
        ):
            if isinstance(data, dict) and "apiVersion" in data and isinstance(data.get("kind"), str):
                result.objects.append(Resource(data, Origin(rel, line, index)))


def _kind(tree: SourceTree, rel: str) -> str | None:
    docs = tree.parsed(rel).documents
    first = docs[0] if docs else None
    kind = first.get("kind", "Kustomization") if isinstance(first, dict) else None
    return str(kind) if kind is not None else None
