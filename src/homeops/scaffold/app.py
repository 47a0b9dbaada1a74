"""The app writer: one app as the triad the seeds describe, in a repository's own conventions.

``install.yaml``/``ks.yaml`` (the Flux Kustomization entry) + ``app/`` (HelmRelease of app-template,
ExternalSecret, claim, per-app OCIRepository) + optional ``db/`` (CloudNativePG), wired into the
namespace's ``kustomization.yaml``. In a layered repository the same objects become
``tenants/apps/<app>/base`` with one overlay per environment and an entry ``app-<app>.yaml`` in the
cluster folder. Everything is written into a :class:`~homeops.scaffold.files.FileSet`; nothing
touches the disk until the caller commits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError, Where
from ..model.values import ImageRef
from . import resources as res
from .catalog import EXAMPLE_IMAGE, EXAMPLE_PORT, PIN_MARKER
from .files import FileSet
from .kedit import add_list_item
from .model import ROUTES, STORAGES, Conventions, Ref
from .names import check_app_name, check_label
from .yamltext import Commented, Document, dump, dump_documents


@dataclass(frozen=True, slots=True)
class AppOptions:
    """What ``homeops add app`` was asked for (also the library call)."""

    name: str
    namespace: str | None = None
    """Flat and clusters layouts: the app's namespace. Layered: not used (environments decide)."""
    route: str = "internal"
    storage: str = "none"
    secret: str | None = None
    """Vault (1Password) item the app's ExternalSecret reads; None for no secret."""
    database: bool = False
    image: ImageRef = EXAMPLE_IMAGE
    port: int = EXAMPLE_PORT
    environment: str | None = None
    """Layered: the environment the app entry points at (default: the first, ``staging``)."""
    storage_class: str | None = None
    """Overrides the storage class read from the repository."""


@dataclass(frozen=True, slots=True)
class AppPlan:
    """Where the app went."""

    entry: str
    """The file holding the app's Flux Kustomization(s)."""
    folder: str
    kustomizations: tuple[str, ...]
    """Names of the Flux Kustomizations written."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What the user still has to do (pin a digest, create a vault item)."""


def check_options(options: AppOptions) -> None:
    check_app_name(options.name)
    if options.route not in ROUTES:
        raise UsageError(f"unknown route {options.route!r}", hint=f"use one of: {', '.join(ROUTES)}")
    if options.storage not in STORAGES:
        raise UsageError(f"unknown storage {options.storage!r}", hint=f"use one of: {', '.join(STORAGES)}")
    if options.namespace is not None:
        check_label(options.namespace, "namespace")
    if options.secret is not None and not options.secret.strip():
        raise UsageError("--secret needs the name of a vault item")
    if not 0 < options.port < 65536:
        raise UsageError(f"port {options.port} is not a TCP port")
    image = options.image
    if image.digest is None and image.tag in (None, "latest"):
        raise UsageError(
            f"image {image} names no version",
            hint="give a released tag (REPO:TAG), ideally with its digest (REPO:TAG@sha256:…)",
        )


def plan_app(conv: Conventions, options: AppOptions, files: FileSet) -> AppPlan:
    """Write one app into ``files`` following ``conv``; raise UsageError when it cannot."""
    check_options(options)
    _check_providers(conv, options)
    if conv.layout == "layered":
        return _layered(conv, options, files)
    return _namespaced(conv, options, files)


def _check_providers(conv: Conventions, options: AppOptions) -> None:
    if options.secret is not None and conv.store is None:
        raise UsageError(
            "this repository has no ClusterSecretStore for the app's ExternalSecret",
            hint="add one (external-secrets with a 1Password store) or pass --no-secret",
        )
    if options.route != "none" and options.route not in conv.gateways:
        known = ", ".join(sorted(conv.gateways)) or "none"
        raise UsageError(
            f"no {options.route} Gateway found in this repository (found: {known})",
            hint="name the Gateways envoy-internal/envoy-external, or pass --route none",
        )
    if options.route != "none" and conv.domain is None:
        raise UsageError(
            "no domain for the app's hostname: no route in this repository names one and no SECRET_DOMAIN "
            "is substituted",
            hint="define SECRET_DOMAIN in the cluster settings, or pass --route none",
        )
    if options.database and conv.cnpg_provider is None:
        raise UsageError(
            "this repository has no CloudNativePG operator for the app's database",
            hint="install cloudnative-pg first, or pass --no-database",
        )
    if options.storage == "nfs" and conv.nfs is None:
        raise UsageError(
            "no NFS server is known in this repository",
            hint="define NFS_SERVER and NFS_PATH in the cluster settings, or use --storage pvc",
        )
    if (options.storage == "pvc" or options.database) and not (options.storage_class or conv.storage_class):
        raise UsageError("no storage class is known in this repository", hint="pass --storage-class NAME")


# -- the objects ----------------------------------------------------------------------------------


def _header(conv: Conventions, kind: str) -> tuple[str, ...]:
    return tuple(conv.headers.get(kind, ()))


def _image(image: ImageRef) -> dict[str, Any]:
    if image.digest:
        tag: Any = f"{image.tag}@{image.digest}" if image.tag else image.digest
        return {"repository": image.repository, "tag": tag}
    return {"repository": image.repository, "tag": Commented(image.tag, PIN_MARKER)}


def _hostname(conv: Conventions, name: str) -> str:
    domain = conv.domain
    return f"{{{{ .Release.Name }}}}.{domain}" if conv.release_hostname else f"{name}.{domain}"


def release(conv: Conventions, options: AppOptions) -> dict[str, Any]:
    """The app-template HelmRelease of the app."""
    name = options.name
    container: dict[str, Any] = {"image": _image(options.image)}
    if options.database:
        container["env"] = {
            "DATABASE_URL": {"valueFrom": {"secretKeyRef": {"name": f"{name}-db-app", "key": "uri"}}}
        }
    if options.secret is not None:
        container["envFrom"] = [{"secretRef": {"name": f"{name}-secret"}}]
    values: dict[str, Any] = {
        "controllers": {name: {"containers": {"app": container}}},
        "service": {"app": {"ports": {"http": {"port": options.port}}}},
    }
    if options.route != "none":
        gateway = conv.gateways[options.route]
        parent: dict[str, Any] = {"name": gateway.name, "namespace": gateway.namespace}
        if gateway.section:
            parent["sectionName"] = gateway.section
        values["route"] = {"app": {"hostnames": [_hostname(conv, name)], "parentRefs": [parent]}}
    if options.storage == "pvc":
        values["persistence"] = {"config": {"existingClaim": name}}
    elif options.storage == "nfs":
        assert conv.nfs is not None
        server, path = conv.nfs
        values["persistence"] = {
            "media": {"type": "nfs", "server": server, "path": path, "globalMounts": [{"path": "/media"}]}
        }
    chart_ref: dict[str, Any] = {
        "kind": "OCIRepository",
        "name": name if conv.chart.per_app else conv.chart.name,
    }
    if not conv.chart.per_app and conv.chart.namespace:
        chart_ref["namespace"] = conv.chart.namespace
    spec: dict[str, Any] = {"interval": conv.hr_interval, "chartRef": chart_ref}
    spec.update({action: res.RETRIES[action] for action in conv.hr_retries})
    spec["values"] = values
    return {
        "apiVersion": res.FLUX_HR,
        "kind": "HelmRelease",
        "metadata": {"name": name},
        "spec": res.ordered(spec, conv.sorted_keys),
    }


def _app_files(conv: Conventions, options: AppOptions, folder: str, files: FileSet) -> list[str]:
    """Write the objects of the app's folder; returns the folder's resource entries."""
    name = options.name
    storage_class = options.storage_class or conv.storage_class
    written: dict[str, str] = {}
    written["helmrelease.yaml"] = dump(release(conv, options), _header(conv, "HelmRelease"))
    if conv.chart.per_app:
        written["ocirepository.yaml"] = dump(
            res.oci_repository(name, conv.chart), _header(conv, "OCIRepository")
        )
    if options.secret is not None:
        assert conv.store is not None
        secret = res.external_secret(
            name, store=conv.store, target=f"{name}-secret", item=options.secret, refresh=conv.secret_refresh
        )
        written[conv.secret_file] = dump(secret, _header(conv, "ExternalSecret"))
    if options.storage == "pvc":
        assert storage_class is not None
        written["pvc.yaml"] = dump(
            res.claim(name, storage_class=storage_class), _header(conv, "PersistentVolumeClaim")
        )
    for file_name, text in written.items():
        files.write(f"{folder}/{file_name}", text)
    return [f"./{file_name}" for file_name in sorted(written)]


def _db_files(conv: Conventions, options: AppOptions, folder: str, files: FileSet) -> list[str]:
    storage_class = options.storage_class or conv.storage_class
    cluster = res.postgres_cluster(f"{options.name}-db", storage_class=storage_class)
    files.write(f"{folder}/cluster.yaml", dump(cluster, _header(conv, "Cluster")))
    return ["./cluster.yaml"]


def _kustomization(conv: Conventions, entries: list[str], **kwargs: Any) -> str:
    return dump(res.kustomization(entries, **kwargs), _header(conv, "kustomize"))


def _notes(options: AppOptions) -> tuple[str, ...]:
    notes = []
    if options.image.digest is None:
        notes.append(f"pin the image digest: {options.image}@sha256:<digest> (marked '# {PIN_MARKER}')")
    if options.secret is not None:
        notes.append(f"create the vault item {options.secret!r} holding the app's environment variables")
    return tuple(notes)


# -- flat and clusters ------------------------------------------------------------------------------


def _namespaced(conv: Conventions, options: AppOptions, files: FileSet) -> AppPlan:
    name = options.name
    if options.namespace is None:
        raise UsageError("--namespace is required in this layout", hint="e.g. --namespace default")
    namespace = options.namespace
    app_dir = f"{conv.apps_root}/{namespace}/{name}"
    if files.exists(app_dir):
        raise UsageError(
            f"app {name!r} already exists in namespace {namespace!r}",
            where=Where(app_dir),
            hint="choose another name, or remove the folder first",
        )
    app_entries = _app_files(conv, options, f"{app_dir}/app", files)
    files.write(f"{app_dir}/app/kustomization.yaml", _kustomization(conv, app_entries))
    style = conv.entry
    depends: list[Ref] = []
    documents = []
    names = []
    if options.database:
        db_entries = _db_files(conv, options, f"{app_dir}/db", files)
        files.write(f"{app_dir}/db/kustomization.yaml", _kustomization(conv, db_entries))
        assert conv.cnpg_provider is not None
        db = res.flux_kustomization(
            style,
            name=f"{name}-db",
            path=f"{app_dir}/db",
            target_namespace=namespace if style.target_namespace else None,
            depends_on=[conv.cnpg_provider],
            wait=True,
        )
        documents.append(Document(db, _header(conv, "flux-ks")))
        names.append(f"{name}-db")
        depends.append(Ref(f"{name}-db", namespace))
    depends.extend(_providers(conv, options))
    app = res.flux_kustomization(
        style,
        name=name,
        path=f"{app_dir}/app",
        target_namespace=namespace if style.target_namespace else None,
        depends_on=depends,
        wait=style.wait,
        app_var=name if style.app_var else None,
        anchors=style.anchors,
    )
    documents.append(Document(app, _header(conv, "flux-ks")))
    names.append(name)
    entry = f"{app_dir}/{style.file}"
    files.write(entry, dump_documents(documents))
    _wire_namespace(conv, namespace, f"./{name}/{style.file}", files)
    return AppPlan(entry, app_dir, tuple(names), _notes(options))


def _providers(conv: Conventions, options: AppOptions) -> list[Ref]:
    out: list[Ref] = []
    if options.secret is not None and conv.store_provider is not None:
        out.append(conv.store_provider)
    provider = conv.gateway_providers.get(options.route)
    if options.route != "none" and provider is not None:
        out.append(provider)
    return out


def _wire_namespace(conv: Conventions, namespace: str, entry: str, files: FileSet) -> None:
    folder = f"{conv.apps_root}/{namespace}"
    kfile = f"{folder}/kustomization.yaml"
    text = files.read(kfile)
    if text is not None:
        files.write(kfile, add_list_item(text, "resources", entry, rel=kfile))
        return
    if files.is_dir(folder) and files.read(f"{folder}/kustomization.yml") is not None:
        raise UsageError(
            f"{folder}/kustomization.yml: homeops edits kustomization.yaml only",
            where=Where(f"{folder}/kustomization.yml"),
            hint="rename it to kustomization.yaml",
        )
    style = conv.namespace_style
    entries = []
    if style.namespace_file:
        doc = res.namespace(
            style.namespace_name or namespace,
            annotations=style.namespace_annotations,
            labels=style.namespace_labels,
        )
        files.write(f"{folder}/namespace.yaml", dump(doc, _header(conv, "Namespace")))
        entries.append("./namespace.yaml")
    entries.append(entry)
    files.write(kfile, _kustomization(conv, entries, namespace=namespace, components=style.components))
    parent = f"{conv.apps_root}/kustomization.yaml"
    parent_text = files.read(parent)
    if parent_text is not None and _lists_folders(parent_text):
        files.write(parent, add_list_item(parent_text, "resources", f"./{namespace}", rel=parent))


def _lists_folders(text: str) -> bool:
    from ..load import yamlio

    parsed = yamlio.parse(text)
    data = parsed.documents[0] if parsed.documents else None
    items = data.get("resources") if isinstance(data, dict) else None
    return isinstance(items, list) and any(
        isinstance(i, str) and not i.endswith((".yaml", ".yml")) for i in items
    )


# -- layered -------------------------------------------------------------------------------------


def _layered(conv: Conventions, options: AppOptions, files: FileSet) -> AppPlan:
    name = options.name
    if options.namespace is not None:
        spaces = ", ".join(conv.environments.values())
        raise UsageError(
            "--namespace does not apply to a layered repository",
            hint=f"apps run in the environment namespaces ({spaces}); choose one with --env",
        )
    environment = options.environment or next(iter(conv.environments), None)
    if environment is None or environment not in conv.environments:
        known = ", ".join(conv.environments) or "none"
        raise UsageError(f"unknown environment {environment!r}", hint=f"environments: {known}")
    assert conv.entry_folder is not None
    app_dir = f"{conv.apps_root}/{name}"
    entry = f"{conv.entry_folder}/app-{name}.yaml"
    if files.exists(app_dir) or files.exists(entry):
        where = Where(app_dir if files.exists(app_dir) else entry)
        raise UsageError(
            f"app {name!r} already exists", where=where, hint="choose another name, or remove it first"
        )
    base_entries = _app_files(conv, options, f"{app_dir}/base", files)
    if options.database:
        base_entries = sorted([*base_entries, *_db_files(conv, options, f"{app_dir}/base", files)])
    files.write(f"{app_dir}/base/kustomization.yaml", _kustomization(conv, base_entries))
    for env, namespace in conv.environments.items():
        files.write(
            f"{app_dir}/overlays/{env}/kustomization.yaml",
            _kustomization(conv, ["../../base"], namespace=namespace),
        )
    depends: list[Ref] = []
    if conv.environment_provider is not None:
        depends.append(conv.environment_provider)
    depends.extend(_providers(conv, options))
    if options.database:
        assert conv.cnpg_provider is not None
        depends.append(conv.cnpg_provider)
    ks_name = f"app-{name}"
    doc = res.flux_kustomization(
        conv.entry,
        name=ks_name,
        path=f"{app_dir}/overlays/{environment}",
        namespace="flux-system",
        depends_on=depends,
        wait=conv.entry.wait,
        app_var=name if conv.entry.app_var else None,
        anchors=conv.entry.anchors,
    )
    files.write(entry, dump(doc, _header(conv, "flux-ks")))
    kfile = f"{conv.entry_folder}/kustomization.yaml"
    text = files.read(kfile)
    if text is not None:
        files.write(kfile, add_list_item(text, "resources", f"./app-{name}.yaml", rel=kfile))
    return AppPlan(entry, app_dir, (ks_name,), _notes(options))
