"""Where Flux starts reading a repository: each cluster's entry points.

A cluster applies what it was bootstrapped with and what that applies in turn, nothing else. The
entry points homeops recognises, strongest first:

* a self-syncing Kustomization: ``flux bootstrap`` writes ``<path>/flux-system/gotk-sync.yaml`` with a
  GitRepository and a ``flux-system`` Kustomization whose ``spec.path`` covers that very file; other
  bootstraps do the same by hand (a Kustomization whose path covers its own file, named
  ``flux-system``, in a ``gotk-sync`` file, or next to the GitRepository it reads);
* a flux-operator ``FluxInstance``'s ``spec.sync``: the operator creates a source and a Kustomization,
  both named after the FluxInstance's namespace (or ``sync.name``), syncing ``sync.path``;
* the ``flux-instance`` Helm chart's values (``instance.sync``), which become that FluxInstance: in a
  HelmRelease, or in a values file a bootstrap helmfile installs the chart with;
* Flux Kustomizations a bootstrap applies itself (helmfile ``kubectl apply`` hooks, ``bootstrap/``
  kustomize folders);
* cluster-template's bootstrap folder ``kubernetes/flux/cluster`` (``kubernetes/<cluster>/flux/cluster``),
  which its FluxInstance syncs, when nothing above is found.

When no entry point is found at all, the roots are guessed as homeops always did: Flux Kustomizations
whose file no other Kustomization's path covers. :attr:`Entries.guessed` says so.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..load.tree import SourceTree, normalize
from ..model.base import Origin, Resource, get_path
from ..model.flux import FLUX_KUSTOMIZE_GROUP, FLUX_SOURCE_GROUP
from ..records import NamedTuple
from .bootstrap import Bootstrap

FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io"

#: Folder names under ``kubernetes/`` that are not cluster names.
_NOT_CLUSTER_NAMES = frozenset(
    {
        "apps",
        "flux",
        "components",
        "bootstrap",
        "infrastructure",
        "infra",
        "platform",
        "core",
        "crds",
        "config",
        "base",
        "templates",
        "talos",
        "system",
        "cluster",
        "clusters",
        "shared",
        "common",
    }
)

_SYNC_KINDS = ("GitRepository", "OCIRepository", "Bucket")


class Entry(NamedTuple):
    """One way into a cluster: the Kustomization Flux starts from."""

    cluster: str
    ks: Resource
    """The root Kustomization as written (namespace defaulted), or made from a sync definition; its
    origin is where the entry point is written."""
    how: str
    """Why this is an entry point, for people: ``flux-system in clusters/home/flux-system/gotk-sync.yaml``."""
    source_url: str | None = None
    """The Git URL the entry syncs, when written down (other GitRepositories of that URL are this
    repository too)."""
    synthesized: bool = False
    """``ks`` is made from a sync definition; it is not a document of the repository."""


class Entries(NamedTuple):
    entries: list[Entry]
    guessed: bool
    """No entry point was found: the roots are guessed from which files no Kustomization covers."""
    notes: list[str]
    """Sync definitions that could not be used, and why."""


def is_flux_ks(res: Resource) -> bool:
    return res.kind == "Kustomization" and res.group == FLUX_KUSTOMIZE_GROUP


def ks_path(res: Resource) -> str | None:
    """The normalised repo-relative ``spec.path`` ("" for the source root); None when it cannot be
    known (substituted, not a text) or climbs out of the repository."""
    spec = res.obj.get("spec")
    raw = spec.get("path") if isinstance(spec, dict) else None
    if raw is None:
        return ""  # Flux builds the source root when spec.path is empty
    if not isinstance(raw, str) or "${" in raw:
        return None
    return normalize(raw.lstrip("/") if raw.startswith("/") else raw)


def _covers(folder: str, path: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def with_default_ns(res: Resource) -> Resource:
    """The Kustomization with ``flux-system`` as its namespace when it names none."""
    if res.namespace:
        return res
    obj = dict(res.obj)
    meta = dict(res.metadata)
    meta["namespace"] = "flux-system"
    obj["metadata"] = meta
    return Resource(obj, res.origin, dict(res.notes))


def cluster_name(path: str) -> str:
    """The cluster a file belongs to, from where it lives (``clusters/<name>/``, ``kubernetes/<name>/``)."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "clusters":
        return parts[1]
    if len(parts) >= 3 and parts[0] == "kubernetes" and parts[1] not in _NOT_CLUSTER_NAMES:
        return parts[1]
    if len(parts) >= 3 and parts[1] == "clusters" and parts[0] in ("kubernetes", "k8s", "flux"):
        return parts[2]
    return "default"


def find_roots(kustomizations: list[Resource]) -> list[Resource]:
    """The guess when no entry point is known: Flux Kustomizations whose file no *other* Kustomization's
    path covers."""
    owners: dict[str, list[int]] = defaultdict(list)
    for i, res in enumerate(kustomizations):
        folder = ks_path(res)
        if folder:  # "" (the whole source) is not a claim on any folder in particular
            owners[folder].append(i)
    roots = []
    for i, res in enumerate(kustomizations):
        parts = res.origin.path.split("/")
        candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        if not any(j != i for candidate in candidates for j in owners.get(candidate, ())):
            roots.append(res)
    return roots


# -- finding them -------------------------------------------------------------------------------


def find_entries(tree: SourceTree, docs: list[Resource], bootstrap: Bootstrap) -> Entries:
    """Every cluster's entry points (see the module documentation), or the guessed roots."""
    notes: list[str] = []
    found: list[Entry] = [
        *_self_syncing(docs),
        *_bootstrap_folders(tree),
        *_flux_instances(tree, docs, notes),
        *_instance_values(tree, docs, bootstrap, notes),
        *_bootstrap_applied(docs, bootstrap),
    ]
    if not found:
        found = list(_cluster_template_folders(tree, docs))
    if found:
        return Entries(_unique(found), False, notes)
    kustomizations = [res for res in docs if is_flux_ks(res)]
    guessed = [
        Entry(
            cluster_name(root.origin.path), with_default_ns(root), "guessed: no other Kustomization covers it"
        )
        for root in find_roots(kustomizations)
    ]
    return Entries(guessed, True, notes)


def _self_syncing(docs: list[Resource]) -> Iterator[Entry]:
    git_sources: dict[str, list[str]] = defaultdict(list)
    for res in docs:
        if res.kind == "GitRepository" and res.group == FLUX_SOURCE_GROUP:
            git_sources[res.name].append(res.origin.path)
    for res in docs:
        if not is_flux_ks(res):
            continue
        path = ks_path(res)
        ref = get_path(res.obj, "spec", "sourceRef")
        kind = ref.get("kind") if isinstance(ref, dict) else None
        if path is None or kind not in (None, "GitRepository") or not _covers(path, res.origin.path):
            continue
        # Applying its own GitRepository (written under its path) is what a bootstrap sync does; a
        # Kustomization of some other repository (upstream CRDs) sits beside its GitRepository with no
        # path of its own, and does not count.
        source = ref.get("name") if isinstance(ref, dict) else None
        applies_its_source = bool(path) and any(_covers(path, f) for f in git_sources.get(str(source), ()))
        named = res.name == "flux-system" or posixpath.basename(res.origin.path).startswith("gotk-sync")
        if named or applies_its_source:
            yield Entry(
                cluster_name(res.origin.path),
                with_default_ns(res),
                f"Kustomization {res.name} in {res.origin.path} syncs the folder it lives in (bootstrap)",
                _url_of(docs, str(source), res.origin.path),
            )


def _bootstrap_folders(tree: SourceTree) -> Iterator[Entry]:
    """``flux bootstrap --path=P`` writes ``P/flux-system/`` (gotk-components.yaml, gotk-sync.yaml and a
    kustomization.yaml listing them); the folder alone says where the cluster is synced from, also
    before bootstrap has filled gotk-sync.yaml in (example repositories ship it empty)."""
    folders = sorted(
        {
            posixpath.dirname(f)
            for f in tree.files()
            if posixpath.basename(f) in ("gotk-sync.yaml", "gotk-components.yaml")
            and posixpath.basename(posixpath.dirname(f)) == "flux-system"
        }
    )
    for folder in folders:
        path = posixpath.dirname(folder)
        name = next(
            (f for f in (f"{folder}/gotk-sync.yaml", f"{folder}/kustomization.yaml") if tree.is_file(f)),
            f"{folder}/gotk-components.yaml",
        )
        sync = {"kind": "GitRepository", "path": path or ".", "name": "flux-system"}
        how = f"flux bootstrap's folder {folder}"
        found = _from_sync(tree, sync, "flux-system", Origin(name, 1, 0), how, [])
        if found is not None:
            yield found


def _url_of(docs: list[Resource], name: str, near: str) -> str | None:
    """The URL of the GitRepository ``name``, the one written nearest to ``near`` first."""
    folder = posixpath.dirname(near)
    candidates = [
        r for r in docs if r.kind == "GitRepository" and r.group == FLUX_SOURCE_GROUP and r.name == name
    ]
    candidates.sort(
        key=lambda r: (r.origin.path != near, not r.origin.path.startswith(folder + "/"), r.origin)
    )
    for res in candidates:
        url = get_path(res.obj, "spec", "url")
        if isinstance(url, str):
            return url
    return None


def _flux_instances(tree: SourceTree, docs: list[Resource], notes: list[str]) -> Iterator[Entry]:
    for res in docs:
        if res.kind == "FluxInstance" and res.group == FLUX_OPERATOR_GROUP:
            sync = get_path(res.obj, "spec", "sync")
            namespace = res.namespace or "flux-system"
            found = _from_sync(
                tree, sync, namespace, res.origin, f"FluxInstance {res.name} in {res.origin.path}", notes
            )
            if found is not None:
                yield found


def _instance_values(
    tree: SourceTree, docs: list[Resource], bootstrap: Bootstrap, notes: list[str]
) -> Iterator[Entry]:
    """The flux-instance chart's ``instance.sync``: in HelmRelease values, and in plain values files
    (a bootstrap helmfile's, or one a configMapGenerator turns into the release's values)."""
    chart_sources = {(res.kind, res.name): res for res in docs if res.kind in ("OCIRepository", "HelmChart")}
    for res in docs:
        if res.kind == "HelmRelease" and _is_flux_instance_release(res, chart_sources):
            sync = get_path(res.obj, "spec", "values", "instance", "sync")
            if sync is not None:
                namespace = res.namespace or "flux-system"
                how = f"flux-instance HelmRelease {res.name} in {res.origin.path}"
                found = _from_sync(tree, sync, namespace, res.origin, how, notes)
                if found is not None:
                    yield found
    installed = {values: release for release in bootstrap.releases for values in release.values}
    for rel in tree.yaml_files():
        parsed = tree.parsed(rel)
        if parsed.failure is not None:
            continue
        for index, (data, line) in enumerate(zip(parsed.documents, parsed.lines, strict=True)):
            if not isinstance(data, dict) or "apiVersion" in data:
                continue
            sync = get_path(data, "instance", "sync")
            if not isinstance(sync, dict) or "path" not in sync:
                continue
            release = installed.get(rel)
            namespace = release.namespace if release is not None else "flux-system"
            how = f"flux-instance values in {rel}" + (
                f" (bootstrap helmfile release {release.name})" if release is not None else ""
            )
            found = _from_sync(tree, sync, namespace, Origin(rel, line, index), how, notes)
            if found is not None:
                yield found


def _is_flux_instance_release(res: Resource, chart_sources: Mapping[tuple[str, str], Resource]) -> bool:
    """Whether the HelmRelease installs the flux-instance chart (by chart name, or by the URL of the
    OCIRepository its ``chartRef`` names)."""
    chart = get_path(res.obj, "spec", "chart", "spec", "chart")
    if isinstance(chart, str):
        return chart.rsplit("/", 1)[-1] == "flux-instance"
    ref = get_path(res.obj, "spec", "chartRef")
    if not isinstance(ref, dict):
        return False
    source = chart_sources.get((str(ref.get("kind")), str(ref.get("name"))))
    if source is None:
        return False
    url = get_path(source.obj, "spec", "url") or get_path(source.obj, "spec", "chart")
    return isinstance(url, str) and url.rstrip("/").rsplit("/", 1)[-1] == "flux-instance"


def _from_sync(
    tree: SourceTree, sync: Any, namespace: str, origin: Origin, how: str, notes: list[str]
) -> Entry | None:
    """The Kustomization flux-operator creates for a ``spec.sync``, if it reads this repository."""
    if not isinstance(sync, Mapping):
        return None
    kind = sync.get("kind") or "GitRepository"
    raw = sync.get("path")
    if kind not in _SYNC_KINDS or not isinstance(raw, str) or "${" in raw or "{{" in raw:
        notes.append(f"{how}: sync of kind {kind!r} and path {raw!r} cannot be followed")
        return None
    path = normalize(raw.strip().lstrip("/").removeprefix("./") or "")
    if path is None or not tree.is_dir(path):
        notes.append(f"{how}: sync path {raw!r} is not a folder of this repository")
        return None
    if kind != "GitRepository":
        # An OCI artifact or a bucket: homeops assumes it holds this repository as it is.
        how += f" ({kind}: assumed to hold this repository's files)"
    name = str(sync.get("name") or namespace)
    obj: dict[str, Any] = {
        "apiVersion": f"{FLUX_KUSTOMIZE_GROUP}/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": str(sync.get("interval") or "1m"),
            "path": f"./{path}" if path else "./",
            "prune": True,
            "sourceRef": {"kind": kind, "name": name},
        },
    }
    url = sync.get("url")
    return Entry(
        cluster_name(f"{path}/-" if path else "-"),
        Resource(obj, origin, {}),
        how + f" syncs {path or '.'}",
        url if isinstance(url, str) else None,
        synthesized=True,
    )


def _bootstrap_applied(docs: list[Resource], bootstrap: Bootstrap) -> Iterator[Entry]:
    for res in docs:
        if is_flux_ks(res) and bootstrap.applies(res.origin.path):
            yield Entry(
                cluster_name(res.origin.path),
                with_default_ns(res),
                f"Kustomization {res.name} in {res.origin.path} is applied by the bootstrap",
            )
    for res in bootstrap.objects:
        if is_flux_ks(res):
            yield Entry(
                cluster_name(res.origin.path),
                with_default_ns(res),
                f"Kustomization {res.name} in {res.origin.path} is applied by the bootstrap",
            )


def _cluster_template_folders(tree: SourceTree, docs: list[Resource]) -> Iterator[Entry]:
    folders = sorted(
        {
            posixpath.dirname(res.origin.path)
            for res in docs
            if is_flux_ks(res) and _is_bootstrap_folder(posixpath.dirname(res.origin.path))
        }
    )
    for folder in folders:
        first = min((r for r in docs if posixpath.dirname(r.origin.path) == folder), key=lambda r: r.origin)
        sync = {"kind": "GitRepository", "path": folder, "name": "flux-system"}
        how = f"cluster-template's bootstrap folder {folder} (its FluxInstance syncs it)"
        found = _from_sync(tree, sync, "flux-system", first.origin, how, [])
        if found is not None:
            yield found


def _is_bootstrap_folder(folder: str) -> bool:
    parts = folder.split("/")
    return (len(parts) == 3 and parts == ["kubernetes", "flux", "cluster"]) or (
        len(parts) == 4 and parts[0] == "kubernetes" and parts[2:] == ["flux", "cluster"]
    )


def _unique(found: Iterable[Entry]) -> list[Entry]:
    """One entry per cluster and path: a written Kustomization wins over one made from a sync
    definition; entries that would share a cluster name and a root name are told apart by path."""
    by_key: dict[tuple[str, str | None], Entry] = {}
    for entry in found:
        key = (entry.cluster, ks_path(entry.ks))
        have = by_key.get(key)
        if have is None or (have.synthesized and not entry.synthesized):
            by_key[key] = entry
    out: list[Entry] = []
    taken: set[tuple[str, str, str]] = set()
    for entry in by_key.values():
        ident = (entry.cluster, entry.ks.namespace, entry.ks.name)
        if ident in taken:
            entry = entry._replace(cluster=ks_path(entry.ks) or entry.cluster)
        taken.add((entry.cluster, entry.ks.namespace, entry.ks.name))
        out.append(entry)
    return out
