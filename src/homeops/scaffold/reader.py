"""The repository-convention reader: how this repository's apps are written, and what they rely on.

Style (file names, key order, anchors, ``postBuild`` APP, chart pattern, headers) is read from the
files as written, by majority over the existing apps; what apps depend on (the secret store, the
Gateways, the CloudNativePG operator and the Kustomizations that provide them) is read from the Flux
tree, the objects as the cluster would see them. The result is a :class:`Conventions`.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from ..errors import UsageError
from ..flux.tree import CLUSTER, FluxTree, Producer, cluster_name
from ..model.base import Resource, get_path
from ..model.flux import FLUX_HELM_GROUP, FLUX_KUSTOMIZE_GROUP, FLUX_SOURCE_GROUP, HelmRelease
from ..model.kinds import ESO_GROUP, GATEWAY_GROUP, ExternalSecret
from ..model.values import app_template_route_parents, is_app_template
from .catalog import APP_TEMPLATE_URL, APP_TEMPLATE_VERSION
from .model import (
    ChartSource,
    Conventions,
    EntryStyle,
    GatewayRef,
    NamespaceStyle,
    Ref,
    SubstituteFrom,
)

T = TypeVar("T")

#: Folders under ``kubernetes/`` that are not cluster names (as the Flux tree decides).
_LAYOUT_HINT = (
    "homeops add app knows three layouts: flat (kubernetes/apps/<namespace>/<app>/ks.yaml), clusters "
    "(kubernetes/<cluster>/apps/<namespace>/<app>/install.yaml) and layered (clusters/<name>/ with "
    "tenants/apps/<app>/overlays)"
)
_ENTRY_FILES = ("ks.yaml", "install.yaml", "ks.yml")
_SCHEMA_PREFIX = "yaml-language-server:"


def _most(values: Iterable[T], default: T) -> T:
    """The most common value (ties: the first seen), ``default`` when there is none."""
    items = list(values)
    if not items:
        return default
    counts = Counter(items)
    best = max(counts.values())
    return next(v for v in items if counts[v] == best)


def _majority(flags: Sequence[bool], default: bool) -> bool:
    return default if not flags else sum(flags) * 2 > len(flags)


# -- layout -----------------------------------------------------------------------------------------


def _subdirs(flux: FluxTree, rel: str) -> list[str]:
    tree = flux.tree
    return [n for n in tree.listdir(rel) if tree.is_dir(f"{rel}/{n}")] if tree.is_dir(rel) else []


def detect_layout(flux: FluxTree) -> tuple[str, list[str]]:
    """(layout, the clusters it holds) of a repository; UsageError when it is none of the three."""
    tree = flux.tree
    if tree.is_dir("clusters") and tree.is_dir("tenants/apps"):
        return "layered", _subdirs(flux, "clusters")
    named = [
        c
        for c in _subdirs(flux, "kubernetes")
        if tree.is_dir(f"kubernetes/{c}/apps") and cluster_name(f"kubernetes/{c}/x/y") == c
    ]
    if named:
        return "clusters", named
    if tree.is_dir("kubernetes/apps"):
        return "flat", ["default"]
    raise UsageError("cannot tell this repository's layout", hint=_LAYOUT_HINT)


def _choose_cluster(layout: str, clusters: list[str], wanted: str | None) -> str:
    if wanted is not None:
        if layout == "flat" and wanted in ("default", ""):
            return "default"
        if wanted not in clusters:
            raise UsageError(
                f"no cluster {wanted!r} in this repository", hint=f"clusters: {', '.join(clusters) or 'none'}"
            )
        return wanted
    if len(clusters) == 1:
        return clusters[0]
    raise UsageError(
        f"this repository has {len(clusters)} clusters ({', '.join(clusters)}); which one?",
        hint="pass --cluster NAME: clusters never share a file, so the app goes into one",
    )


# -- reading ------------------------------------------------------------------------------------


class _Repo:
    """Indexes over the raw documents and the applied objects of one cluster."""

    def __init__(self, flux: FluxTree, cluster: str, apps_root: str) -> None:
        self.flux = flux
        self.cluster = cluster
        self.apps_root = apps_root
        self.raw = {(r.origin.path, r.origin.index): r for r in flux.documents}
        self.producers = [p for (c, _), p in sorted(flux.producers.items()) if c == cluster]
        self.objects = [r for r in flux.objects if r.notes.get(CLUSTER) == cluster]
        self.app_template_sources = {
            (r.namespace, r.name)
            for r in flux.documents
            if r.kind == "OCIRepository"
            and r.group == FLUX_SOURCE_GROUP
            and is_app_template(None, str(get_path(r.obj, "spec", "url") or ""))
        }

    def raw_of(self, res: Resource) -> Resource:
        return self.raw.get((res.origin.path, res.origin.index), res)

    def is_app_template(self, res: Resource) -> bool:
        release = HelmRelease(res)
        if release.chart is not None:
            return is_app_template(release.chart.chart, None)
        ref = release.chart_ref
        if ref is None or ref.kind != "OCIRepository":
            return False
        names = {name for _, name in self.app_template_sources}
        return ref.name in names

    def app_releases(self) -> list[Resource]:
        """app-template HelmReleases of this cluster, as written."""
        return [
            self.raw_of(r)
            for r in self.objects
            if r.kind == "HelmRelease" and r.group == FLUX_HELM_GROUP and self.is_app_template(r)
        ]

    def app_entries(self) -> list[Resource]:
        """Raw Flux Kustomizations (in app entry files) that deploy an app-template release."""
        out = []
        for producer in self.producers:
            if any(r.kind == "HelmRelease" and self.is_app_template(r) for r in producer.objects):
                raw = self.raw_of(producer.ks.res)
                if raw.origin.path.startswith(self.apps_root + "/") or self._layered_entry(raw):
                    out.append(raw)
        return out

    def _layered_entry(self, res: Resource) -> bool:
        path = res.origin.path
        return path.startswith("clusters/") and posixpath.basename(path).startswith("app-")

    def entry_docs(self) -> list[Resource]:
        """Every raw Flux Kustomization in an entry file under the apps root."""
        return [
            r
            for r in self.flux.documents
            if r.kind == "Kustomization"
            and r.group == FLUX_KUSTOMIZE_GROUP
            and r.origin.path.startswith(self.apps_root + "/")
            and posixpath.basename(r.origin.path) in _ENTRY_FILES
        ]

    def producer_ref(self, res: Resource) -> Ref | None:
        producer = self.flux.producer_of(res) or self._covering(res.origin.path)
        return Ref(producer.ks.name, producer.ks.namespace) if producer is not None else None

    def _covering(self, path: str) -> Producer | None:
        """The Kustomization whose spec.path holds ``path`` (deepest first), built or not."""
        folders = [(p.path, p) for p in self.producers if p.path]
        inside = [(len(f), p) for f, p in folders if path.startswith(f + "/")]
        return max(inside, key=lambda item: item[0])[1] if inside else None

    def placed(self, kind: str, group: str) -> list[Resource]:
        """Objects of a kind as the cluster applies them; when none is applied (a Kustomization that
        does not build), as written in the folders of this cluster's Kustomizations."""
        applied = [r for r in self.objects if r.kind == kind and r.group == group]
        if applied:
            return applied
        out = []
        for res in self.flux.documents:
            if res.kind != kind or res.group != group:
                continue
            producer = self._covering(res.origin.path)
            if producer is None:
                continue
            if not res.namespace and producer.ks.target_namespace:
                meta = dict(res.metadata)
                meta["namespace"] = producer.ks.target_namespace
                res = Resource({**res.obj, "metadata": meta}, res.origin)
            out.append(res)
        return out

    def under_root(self, res: Resource) -> bool:
        return res.origin.path.startswith(self.apps_root + "/")

    def header(self, paths: Iterable[str]) -> tuple[str, ...]:
        found = []
        for path in paths:
            try:
                text = self.flux.tree.read_text(path)
            except (OSError, UnicodeDecodeError):
                continue
            found.append(_schema_lines(text))
        return _most(found, ())


def _schema_lines(text: str) -> tuple[str, ...]:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("---", ""):
            continue
        if not stripped.startswith("#"):
            break
        comment = stripped.lstrip("#").strip()
        if comment.startswith(_SCHEMA_PREFIX):
            lines.append(comment)
    return tuple(lines)


def read_conventions(flux: FluxTree, *, cluster: str | None = None) -> Conventions:
    """The conventions of a repository's apps (see the module docstring)."""
    layout, clusters = detect_layout(flux)
    name = _choose_cluster(layout, clusters, cluster)
    if layout == "layered":
        apps_root, entry_folder = "tenants/apps", f"clusters/{name}"
    elif layout == "clusters":
        apps_root, entry_folder = f"kubernetes/{name}/apps", None
    else:
        apps_root, entry_folder = "kubernetes/apps", None
    repo = _Repo(flux, name, apps_root)
    if not repo.producers:
        raise UsageError(
            f"cluster {name!r} has no Flux Kustomization that homeops can follow",
            hint="run 'homeops check' to see why",
        )
    variables = _variables(repo)
    entry = _entry_style(repo, layout)
    releases = [r for r in repo.app_releases() if repo.under_root(r)] or repo.app_releases()
    gateways, providers = _gateways(repo, releases)
    store, store_provider = _store(repo)
    domain, release_hostname = _domain(releases, variables)
    conventions = Conventions(
        layout=layout,
        cluster=name,
        apps_root=apps_root,
        entry=entry,
        chart=_chart(repo, releases),
        hr_interval=_most(
            [
                str(get_path(r.obj, "spec", "interval"))
                for r in releases
                if get_path(r.obj, "spec", "interval")
            ],
            "1h",
        ),
        hr_retries=_retries(repo, releases),
        sorted_keys=_majority([_is_sorted(r.obj.get("spec")) for r in releases], False),
        secret_file=_secret_file(repo),
        secret_refresh=_secret_refresh(repo),
        store=store,
        store_provider=store_provider,
        gateways=gateways,
        gateway_providers=providers,
        cnpg_provider=_cnpg(repo),
        storage_class=_storage_class(repo, variables),
        nfs=_nfs(releases, variables),
        domain=domain,
        release_hostname=release_hostname,
        headers=_headers(repo, releases),
        namespace_style=_namespace_style(repo) if layout != "layered" else NamespaceStyle(),
    )
    if layout == "layered":
        assert entry_folder is not None
        environments, provider = _environments(repo)
        import dataclasses

        conventions = dataclasses.replace(
            conventions, entry_folder=entry_folder, environments=environments, environment_provider=provider
        )
    return conventions


def _variables(repo: _Repo) -> set[str]:
    """Variables the app Kustomizations substitute (from their settings ConfigMaps and Secrets)."""
    names: set[str] = set()
    for producer in _app_producers(repo) or repo.producers:
        names |= set(producer.variables.values) | set(producer.variables.opaque)
    return names


def _app_producers(repo: _Repo) -> list[Producer]:
    entries = {(r.origin.path, r.origin.index) for r in repo.app_entries()}
    return [p for p in repo.producers if (p.ks.origin.path, p.ks.origin.index) in entries]


def _spec(res: Resource) -> dict[str, Any]:
    spec = res.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _text_at(res: Resource, *path: str) -> str | None:
    value = get_path(res.obj, *path)
    return str(value) if value not in (None, "") else None


def _is_sorted(spec: Any) -> bool:
    keys = list(spec) if isinstance(spec, dict) else []
    return len(keys) > 2 and keys == sorted(keys)


def _entry_style(repo: _Repo, layout: str) -> EntryStyle:
    entries = repo.app_entries() or repo.entry_docs()
    files = [posixpath.basename(r.origin.path) for r in repo.entry_docs()]
    file_name = "" if layout == "layered" else _most(files, "ks.yaml")
    texts = {}
    for res in entries:
        try:
            texts[res.origin.path] = repo.flux.tree.read_text(res.origin.path)
        except (OSError, UnicodeDecodeError):
            texts[res.origin.path] = ""
    specs = [_spec(r) for r in entries]
    sources = [_source_key(ref) for ref in (s.get("sourceRef") for s in specs) if isinstance(ref, dict)]
    kind, name, namespace = _most(sources, ("GitRepository", "flux-system", "flux-system"))
    waits: list[bool | None] = [s.get("wait") if isinstance(s.get("wait"), bool) else None for s in specs]
    substitute = [_substitute_key(s) for s in specs]
    return EntryStyle(
        file=file_name,
        anchors=_majority(["&app" in texts.get(r.origin.path, "") for r in entries], False),
        app_var=_majority([get_path(s, "postBuild", "substitute", "APP") is not None for s in specs], False),
        sorted_keys=_majority([_is_sorted(s) for s in specs], False),
        target_namespace=_majority([bool(s.get("targetNamespace")) for s in specs], layout != "layered"),
        source_kind=kind,
        source_name=name,
        source_namespace=namespace,
        interval=_most([str(s["interval"]) for s in specs if s.get("interval")], "1h"),
        wait=_most(waits, False),
        substitute_from=_most(substitute, ()),
    )


def _source_key(ref: dict[str, Any]) -> tuple[str, str, str | None]:
    namespace = ref.get("namespace")
    return (
        str(ref.get("kind", "GitRepository")),
        str(ref.get("name", "")),
        str(namespace) if namespace else None,
    )


def _substitute_key(spec: dict[str, Any]) -> tuple[SubstituteFrom, ...]:
    items = get_path(spec, "postBuild", "substituteFrom")
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            kind = str(item.get("kind", "ConfigMap"))
            out.append(SubstituteFrom(kind, item["name"], item.get("optional") is True))
    return tuple(out)


def _chart(repo: _Repo, releases: list[Resource]) -> ChartSource:
    per_app_votes = []
    shared: list[tuple[str, str | None]] = []
    for res in releases:
        ref = get_path(res.obj, "spec", "chartRef")
        if not isinstance(ref, dict):
            continue
        folder = posixpath.dirname(res.origin.path)
        local = any(
            r.kind == "OCIRepository"
            and r.name == ref.get("name")
            and posixpath.dirname(r.origin.path) == folder
            for r in repo.flux.documents
        )
        per_app_votes.append(local and ref.get("name") == res.name)
        if not local:
            namespace = ref.get("namespace")
            shared.append((str(ref.get("name")), str(namespace) if namespace else None))
    sources = [
        r
        for r in repo.flux.documents
        if r.kind == "OCIRepository" and (r.namespace, r.name) in repo.app_template_sources
    ]
    tags = [t for t in (_text_at(r, "spec", "ref", "tag") for r in sources) if t]
    urls = [u for u in (_text_at(r, "spec", "url") for r in sources) if u]
    intervals = [i for i in (_text_at(r, "spec", "interval") for r in sources) if i]
    layers = [get_path(r.obj, "spec", "layerSelector") is not None for r in sources]
    per_app = _majority(per_app_votes, not shared)
    name, namespace = _most(shared, ("app-template", None))
    return ChartSource(
        per_app=per_app,
        url=_most(urls, APP_TEMPLATE_URL),
        tag=_most(tags, APP_TEMPLATE_VERSION),
        name=name,
        namespace=namespace,
        interval=_most(intervals, "15m"),
        layer_selector=_majority(layers, True),
    )


def _has_retries(spec: Any, action: str) -> bool:
    return (
        get_path(spec, action, "remediation", "retries") is not None
        or get_path(spec, action, "strategy", "name") == "RetryOnFailure"
    )


def _retries(repo: _Repo, releases: list[Resource]) -> tuple[str, ...]:
    """The actions whose retries an app release must set itself: all but those a parent patch gives
    (seen on a release that gets them without writing them)."""
    written = {(r.origin.path, r.origin.index): r for r in releases}
    patched = set()
    for live in repo.objects:
        raw = written.get((live.origin.path, live.origin.index))
        if raw is None or live.kind != "HelmRelease":
            continue
        for action in ("install", "upgrade"):
            if _has_retries(live.obj.get("spec"), action) and not _has_retries(raw.obj.get("spec"), action):
                patched.add(action)
    return tuple(action for action in ("install", "upgrade") if action not in patched)


def _files_of_kind(repo: _Repo, kind: str) -> list[Resource]:
    """Documents of ``kind`` under the apps root (anywhere, when there are none there)."""
    every = [r for r in repo.flux.documents if r.kind == kind]
    return [r for r in every if repo.under_root(r)] or every


def _secret_file(repo: _Repo) -> str:
    names = [posixpath.basename(r.origin.path) for r in _files_of_kind(repo, "ExternalSecret")]
    return _most(names, "externalsecret.yaml")


def _secret_refresh(repo: _Repo) -> str | None:
    values = [get_path(r.obj, "spec", "refreshInterval") for r in _files_of_kind(repo, "ExternalSecret")]
    return _most([str(v) if v else None for v in values], None)


def _store(repo: _Repo) -> tuple[str | None, Ref | None]:
    stores = {r.name: r for r in repo.placed("ClusterSecretStore", ESO_GROUP)}
    if not stores:
        return None, None
    used = [
        ExternalSecret(r).store_ref
        for r in repo.objects
        if r.kind == "ExternalSecret" and r.group == ESO_GROUP
    ]
    votes = [
        ref[1] for ref in used if ref is not None and ref[0] == "ClusterSecretStore" and ref[1] in stores
    ]
    name = _most(votes, sorted(stores)[0])
    return name, repo.producer_ref(stores[name])


def _gateways(repo: _Repo, releases: list[Resource]) -> tuple[dict[str, GatewayRef], dict[str, Ref]]:
    gateways = repo.placed("Gateway", GATEWAY_GROUP)
    used: Counter[tuple[str, str]] = Counter()
    sections: list[str | None] = []
    for res in releases:
        for parent in app_template_route_parents(HelmRelease(res).values):
            used[(parent.namespace or "", parent.name)] += 1
        for ref in _parent_refs(res):
            section = ref.get("sectionName")
            sections.append(section if isinstance(section, str) else None)
    section = _most(sections, None)
    found: dict[str, GatewayRef] = {}
    providers: dict[str, Ref] = {}
    for kind in ("internal", "external"):
        candidates = sorted(
            (r for r in gateways if kind in r.name),
            key=lambda r: (-used[(r.namespace, r.name)], r.namespace, r.name),
        )
        if not candidates:
            continue
        gateway = candidates[0]
        found[kind] = GatewayRef(gateway.name, gateway.namespace or "default", section)
        provider = repo.producer_ref(gateway)
        if provider is not None:
            providers[kind] = provider
    return found, providers


def _parent_refs(res: Resource) -> Iterator[dict[str, Any]]:
    routes = get_path(res.obj, "spec", "values", "route")
    for route in routes.values() if isinstance(routes, dict) else []:
        refs = route.get("parentRefs") if isinstance(route, dict) else None
        yield from (ref for ref in refs if isinstance(ref, dict)) if isinstance(refs, list) else ()


def _persistence(res: Resource) -> Iterator[dict[str, Any]]:
    items = get_path(res.obj, "spec", "values", "persistence")
    yield from (i for i in items.values() if isinstance(i, dict)) if isinstance(items, dict) else ()


def _cnpg(repo: _Repo) -> Ref | None:
    sources = {
        (r.namespace, r.name): str(get_path(r.obj, "spec", "url") or "")
        for r in repo.objects
        if r.group == FLUX_SOURCE_GROUP
    }
    for res in repo.objects:
        if res.kind != "HelmRelease" or res.group != FLUX_HELM_GROUP:
            continue
        release = HelmRelease(res)
        name = release.chart.chart if release.chart else None
        if name is None and release.chart_ref is not None:
            url = sources.get((release.chart_ref.namespace, release.chart_ref.name), "")
            name = url.rstrip("/").rsplit("/", 1)[-1] or None
        if name in ("cloudnative-pg", "cnpg"):
            return repo.producer_ref(res)
    return None


def _storage_class(repo: _Repo, variables: set[str]) -> str | None:
    claims = _files_of_kind(repo, "PersistentVolumeClaim")
    classes = [c for c in (_text_at(r, "spec", "storageClassName") for r in claims) if c]
    for res in repo.app_releases():
        classes += [str(i["storageClass"]) for i in _persistence(res) if i.get("storageClass")]
    if classes:
        return _most(classes, None)
    return "${STORAGE_CLASS}" if "STORAGE_CLASS" in variables else None


def _nfs(releases: list[Resource], variables: set[str]) -> tuple[str, str] | None:
    mounts = []
    for res in releases:
        mounts += [
            (str(i["server"]), str(i["path"]))
            for i in _persistence(res)
            if i.get("type") == "nfs" and i.get("server") and i.get("path")
        ]
    if mounts:
        return _most(mounts, None)
    if {"NFS_SERVER", "NFS_PATH"} <= variables:
        return "${NFS_SERVER}", "${NFS_PATH}"
    return None


def _hostnames(releases: list[Resource]) -> Iterator[str]:
    for res in releases:
        routes = get_path(res.obj, "spec", "values", "route")
        for route in routes.values() if isinstance(routes, dict) else []:
            hosts = route.get("hostnames") if isinstance(route, dict) else None
            for host in hosts if isinstance(hosts, list) else []:
                if isinstance(host, str) and "." in host:
                    yield host


def _domain(releases: list[Resource], variables: set[str]) -> tuple[str | None, bool]:
    hosts = list(_hostnames(releases))
    if not hosts:
        return ("${SECRET_DOMAIN}" if "SECRET_DOMAIN" in variables else None), True
    suffixes = [_suffix(h) for h in hosts]
    release = [h.startswith("{{ .Release.Name }}.") for h in hosts]
    return _most(suffixes, None), _majority(release, True)


def _suffix(host: str) -> str:
    if host.startswith("{{"):
        end = host.find("}}")
        rest = host[end + 2 :] if end >= 0 else host
        return rest.lstrip(".").split(".", 1)[-1] if rest.startswith(("-", "_")) else rest.lstrip(".")
    return host.split(".", 1)[1]


_HEADER_KINDS: dict[str, Callable[[Resource], bool]] = {
    "HelmRelease": lambda r: r.kind == "HelmRelease",
    "OCIRepository": lambda r: r.kind == "OCIRepository",
    "ExternalSecret": lambda r: r.kind == "ExternalSecret",
    "PersistentVolumeClaim": lambda r: r.kind == "PersistentVolumeClaim",
    "Namespace": lambda r: r.kind == "Namespace",
    "Cluster": lambda r: r.kind == "Cluster" and r.group == "postgresql.cnpg.io",
    "kustomize": lambda r: r.kind == "Kustomization" and r.group == "kustomize.config.k8s.io",
    "flux-ks": lambda r: r.kind == "Kustomization" and r.group == FLUX_KUSTOMIZE_GROUP,
}


def _headers(repo: _Repo, releases: list[Resource]) -> dict[str, tuple[str, ...]]:
    out = {}
    for kind, match in _HEADER_KINDS.items():
        # app-template releases often carry the chart's own schema, other releases a generic one
        pool = releases if kind == "HelmRelease" else repo.flux.documents
        paths = sorted(
            {r.origin.path for r in pool if repo.under_root(r) and match(r) and r.origin.index == 0}
        )
        lines = repo.header(paths)
        if lines:
            out[kind] = lines
    return out


def _first_doc(repo: _Repo, rel: str) -> dict[str, Any]:
    tree = repo.flux.tree
    docs = tree.parsed(rel).documents if tree.is_file(rel) else ()
    return docs[0] if docs and isinstance(docs[0], dict) else {}


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in value.items())) if isinstance(value, dict) else ()


def _namespace_style(repo: _Repo) -> NamespaceStyle:
    """How the existing namespace folders are written (by majority; components all of them share)."""
    components: list[tuple[str, ...]] = []
    has_file: list[bool] = []
    shapes: list[tuple[str | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = []
    for namespace in _subdirs(repo.flux, repo.apps_root):
        folder = f"{repo.apps_root}/{namespace}"
        data = _first_doc(repo, f"{folder}/kustomization.yaml")
        if not data:
            continue
        listed = data.get("components")
        components.append(tuple(c for c in listed if isinstance(c, str)) if isinstance(listed, list) else ())
        resources = data.get("resources")
        listed_files = set(resources) if isinstance(resources, list) else set()
        has_file.append(bool({"./namespace.yaml", "namespace.yaml"} & listed_files))
        meta = _first_doc(repo, f"{folder}/namespace.yaml").get("metadata")
        if isinstance(meta, dict):
            name = meta.get("name")
            # a fixed name other than the folder's (onedr0p's "_") is a placeholder kustomize replaces
            shapes.append(
                (
                    None if name == namespace else str(name),
                    _pairs(meta.get("annotations")),
                    _pairs(meta.get("labels")),
                )
            )
    common = [c for c in (components[0] if components else ()) if all(c in other for other in components)]
    placeholder, annotations, labels = _most(shapes, (None, (), ()))
    return NamespaceStyle(
        components=tuple(common),
        namespace_file=_majority(has_file, True),
        namespace_name=placeholder,
        namespace_annotations=dict(annotations),
        namespace_labels=dict(labels),
    )


def _environments(repo: _Repo) -> tuple[dict[str, str], Ref | None]:
    tree = repo.flux.tree
    envs: dict[str, str] = {}
    for app in _subdirs(repo.flux, repo.apps_root):
        for env in _subdirs(repo.flux, f"{repo.apps_root}/{app}/overlays"):
            kfile = f"{repo.apps_root}/{app}/overlays/{env}/kustomization.yaml"
            docs = tree.parsed(kfile).documents if tree.is_file(kfile) else ()
            namespace = get_path(docs[0], "namespace") if docs else None
            if isinstance(namespace, str):
                envs.setdefault(env, namespace)
    namespaces = [r for r in repo.objects if r.kind == "Namespace" and r.group == ""]
    if not envs:
        envs = {r.name.removeprefix("apps-"): r.name for r in namespaces if r.name.startswith("apps-")}
    ordered = dict(sorted(envs.items(), key=lambda kv: (kv[0] != "staging", kv[0])))
    provider = next((repo.producer_ref(r) for r in namespaces if r.name in ordered.values()), None)
    return ordered, provider
