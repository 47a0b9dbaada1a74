"""The three repository layouts of the seeds, as files: flat, two isolated clusters, layered.

* ``flat`` (onedr0p/cluster-template): ``kubernetes/apps/<ns>/<app>/ks.yaml`` + ``app/``, entry
  ``kubernetes/flux/cluster/ks.yaml``, one chart source per app.
* ``clusters`` (seed 002, like ``examples/home-ops``): ``kubernetes/main`` and ``kubernetes/staging``,
  each a complete, separate tree; ``install.yaml`` + ``app/`` + optional ``db/``; shared chart sources
  in each cluster's ``flux-system``.
* ``layered`` (seed 004): ``clusters/home`` (Flux entry, dependency ordering, the ``platform-settings``
  ConfigMap with ``CERT_ISSUER``), ``infrastructure/``, ``platform-services/``, ``tenants/`` with the
  ``apps-staging``/``apps-prod`` environments and app overlays.

Settings for ``${VAR}`` placeholders live in a ConfigMap; ``SECRET_*`` values in a SOPS-encrypted
Secret when an age recipient is known (see :mod:`homeops.scaffold.create`), else in the ConfigMap,
marked, with the Secret made optional in ``substituteFrom``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import resources as res
from .catalog import APP_TEMPLATE_URL, APP_TEMPLATE_VERSION, CHARTS, HelmRepo
from .model import (
    ChartSource,
    Conventions,
    EntryStyle,
    GatewayRef,
    NamespaceStyle,
    Ref,
    SubstituteFrom,
)
from .platform import GATEWAY_NAMESPACE, STORE, Unit, units
from .yamltext import Commented, Document, dump, dump_documents

SETTINGS = "cluster-settings"
SECRETS = "cluster-secrets"
PLATFORM_SETTINGS = "platform-settings"
SOPS_AGE = "sops-age"
GIT_REPOSITORY = "home-ops"
CERT_ISSUER_COMMENT = "letsencrypt-staging | letsencrypt-prod: homeops mode cert-issuer"


@dataclass(frozen=True, slots=True)
class Settings:
    """The values of a new repository's settings."""

    domain: str
    email: str
    timezone: str
    git_url: str
    encrypted: bool
    """SECRET_* values go to a SOPS-encrypted Secret (an age recipient is known)."""


@dataclass(frozen=True, slots=True)
class Skeleton:
    """A layout's files (without the example app) and the conventions apps are written in."""

    files: dict[str, str]
    secrets: dict[str, dict[str, Any]]
    """Repo-relative path → a Secret to encrypt and write there."""
    conventions: tuple[Conventions, ...]
    """One per cluster."""


def _text(data: Mapping[str, Any]) -> str:
    """A document's YAML without the ``---`` line (for patches held in strings)."""
    return dump(data).split("\n", 1)[1]


def _settings_map(settings: Settings, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "TIMEZONE": settings.timezone,
        "CERT_ISSUER": Commented("letsencrypt-staging", CERT_ISSUER_COMMENT),
        "GATEWAY_INTERNAL_IP": f"{prefix}.1.21",
        "GATEWAY_EXTERNAL_IP": f"{prefix}.1.22",
        "STORAGE_CLASS": Commented("rook-ceph-block", "install a storage provider for it; homeops does not"),
        "NFS_SERVER": Commented("nas.home.arpa", "your NAS"),
        "NFS_PATH": "/mnt/media",
    }
    if not settings.encrypted:
        note = "plaintext: no age key; move to cluster-secrets.sops.yaml (see README)"
        data["SECRET_DOMAIN"] = Commented(settings.domain, note)
        data["SECRET_ACME_EMAIL"] = Commented(settings.email, note)
    return data


def _config_map(name: str, data: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(data)}


def _secret(settings: Settings, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": SECRETS}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "stringData": {"SECRET_DOMAIN": settings.domain, "SECRET_ACME_EMAIL": settings.email},
    }


def _substitute_from(settings: Settings, config_map: str) -> tuple[SubstituteFrom, ...]:
    return (
        SubstituteFrom("ConfigMap", config_map),
        SubstituteFrom("Secret", SECRETS, optional=not settings.encrypted),
    )


_DECRYPTION = {"provider": "sops", "secretRef": {"name": SOPS_AGE}}


def _child_defaults(settings: Settings, substitute: tuple[SubstituteFrom, ...]) -> dict[str, Any]:
    """The patch a cluster's app Kustomization gives every child Kustomization."""
    release_patch = {
        "apiVersion": res.FLUX_HR,
        "kind": "HelmRelease",
        "metadata": {"name": "_"},
        "spec": res.RETRIES,
    }
    spec: dict[str, Any] = {}
    if settings.encrypted:
        spec["decryption"] = _DECRYPTION
    if substitute:
        spec["postBuild"] = {
            "substituteFrom": [
                {"kind": s.kind, "name": s.name, **({"optional": True} if s.optional else {})}
                for s in substitute
            ]
        }
    spec["patches"] = [
        {"patch": _text(release_patch), "target": {"group": "helm.toolkit.fluxcd.io", "kind": "HelmRelease"}}
    ]
    ks_patch = {"apiVersion": res.FLUX_KS, "kind": "Kustomization", "metadata": {"name": "_"}, "spec": spec}
    return {
        "patch": _text(ks_patch),
        "target": {"group": "kustomize.toolkit.fluxcd.io", "kind": "Kustomization"},
    }


def _gateways(provider: Ref) -> tuple[dict[str, GatewayRef], dict[str, Ref]]:
    gateways = {
        kind: GatewayRef(f"envoy-{kind}", GATEWAY_NAMESPACE, "https") for kind in ("internal", "external")
    }
    return gateways, dict.fromkeys(gateways, provider)


def _by_app(platform: Iterable[Unit]) -> dict[tuple[str, str], list[Unit]]:
    out: dict[tuple[str, str], list[Unit]] = {}
    for unit in platform:
        out.setdefault((unit.namespace, unit.app), []).append(unit)
    return out


def _unit_folder(unit: Unit, folder: str, files: dict[str, str], *, per_app_source: bool) -> None:
    entries = []
    for name, docs in unit.files.items():
        files[f"{folder}/{name}"] = dump_documents(Document(doc) for doc in docs)
        entries.append(f"./{name}")
    if per_app_source and unit.chart is not None:
        files[f"{folder}/helmrepository.yaml"] = dump(res.helm_repository(unit.chart.repo))
        entries.append("./helmrepository.yaml")
    files[f"{folder}/kustomization.yaml"] = dump(res.kustomization(sorted(entries)))


def _namespaced_platform(
    files: dict[str, str],
    apps_root: str,
    style: EntryStyle,
    *,
    per_app_source: bool,
    first_depends: tuple[Ref, ...] = (),
    secret_file: str = "externalsecret.yaml",
) -> dict[str, list[str]]:
    """Flat and clusters: namespace folders with one entry file per platform app.

    Returns namespace → the entries its kustomization.yaml lists.
    """
    platform = units(
        source_namespace=None if per_app_source else "flux-system", retries=False, secret_file=secret_file
    )
    by_name = {u.name: u for u in platform}
    listing: dict[str, list[str]] = {}
    for (namespace, app), group in _by_app(platform).items():
        docs = []
        for unit in group:
            folder = f"{apps_root}/{namespace}/{app}/{unit.folder}"
            _unit_folder(unit, folder, files, per_app_source=per_app_source)
            depends = [Ref(d, by_name[d].namespace) for d in unit.depends_on] or list(first_depends)
            docs.append(
                Document(
                    res.flux_kustomization(
                        style,
                        name=unit.name,
                        path=folder,
                        target_namespace=namespace if style.target_namespace else None,
                        depends_on=depends,
                        wait=unit.wait,
                    )
                )
            )
        files[f"{apps_root}/{namespace}/{app}/{style.file}"] = dump_documents(docs)
        listing.setdefault(namespace, []).append(f"./{app}/{style.file}")
    return listing


def _namespace_folders(
    files: dict[str, str],
    apps_root: str,
    listing: Mapping[str, list[str]],
    components: tuple[str, ...],
    *,
    own_namespace: Iterable[str] = (),
) -> None:
    skip = set(own_namespace)
    for namespace, entries in listing.items():
        resources = [] if namespace in skip else ["./namespace.yaml"]
        if namespace not in skip:
            files[f"{apps_root}/{namespace}/namespace.yaml"] = dump(res.namespace(namespace))
        files[f"{apps_root}/{namespace}/kustomization.yaml"] = dump(
            res.kustomization([*resources, *sorted(entries)], namespace=namespace, components=components)
        )


def _common_component(
    files: dict[str, str], secrets: dict[str, dict[str, Any]], folder: str, settings: Settings, prefix: str
) -> None:
    entries = ["./cluster-settings.yaml"]
    files[f"{folder}/cluster-settings.yaml"] = dump(_config_map(SETTINGS, _settings_map(settings, prefix)))
    if settings.encrypted:
        secrets[f"{folder}/cluster-secrets.sops.yaml"] = _secret(settings)
        entries.append("./cluster-secrets.sops.yaml")
    files[f"{folder}/kustomization.yaml"] = dump(
        res.component(entries),
        [
            "Every namespace gets the cluster settings (and secrets): each app Kustomization lives in its",
            "app's namespace and finds its postBuild.substituteFrom sources next to it.",
        ],
    )


def _app_conventions(
    layout: str,
    cluster: str,
    apps_root: str,
    entry: EntryStyle,
    chart: ChartSource,
    *,
    provider_ns: str | None,
) -> Conventions:
    """Conventions of a generated repository (``provider_ns``: layered Kustomizations all live there)."""

    def ref(name: str, namespace: str) -> Ref:
        return Ref(name, provider_ns or namespace)

    gateways, gateway_providers = _gateways(
        ref("platform-services", "") if provider_ns else Ref("envoy-gateway-config", GATEWAY_NAMESPACE)
    )
    return Conventions(
        layout=layout,
        cluster=cluster,
        apps_root=apps_root,
        entry=entry,
        chart=chart,
        hr_interval="1h",
        hr_retries=("install", "upgrade") if layout == "layered" else (),
        sorted_keys=entry.sorted_keys,
        secret_file="secrets.yaml" if layout == "clusters" else "externalsecret.yaml",
        secret_refresh="12h",
        store=STORE,
        store_provider=ref(STORE, "external-secrets"),
        gateways=gateways,
        gateway_providers=gateway_providers,
        cnpg_provider=ref("cloudnative-pg-operator", "dbms"),
        storage_class="${STORAGE_CLASS}",
        nfs=("${NFS_SERVER}", "${NFS_PATH}"),
        domain="${SECRET_DOMAIN}",
        release_hostname=True,
        namespace_style=NamespaceStyle(components=("../../components/common",)),
    )


# -- flat -----------------------------------------------------------------------------------------


def flat(settings: Settings) -> Skeleton:
    files: dict[str, str] = {}
    secrets: dict[str, dict[str, Any]] = {}
    substitute = _substitute_from(settings, SETTINGS)
    style = EntryStyle(file="ks.yaml", sorted_keys=True, substitute_from=substitute)
    apps_root = "kubernetes/apps"
    listing = _namespaced_platform(files, apps_root, style, per_app_source=True)
    _namespace_folders(files, apps_root, listing, ("../../components/common",))
    _common_component(files, secrets, "kubernetes/components/common", settings, "10.11")
    spec: dict[str, Any] = {}
    if settings.encrypted:
        spec["decryption"] = _DECRYPTION
    spec.update(
        {
            "interval": "1h",
            "path": f"./{apps_root}",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"},
            "wait": False,
            "patches": [_child_defaults(settings, ())],
        }
    )
    entry = {
        "apiVersion": res.FLUX_KS,
        "kind": "Kustomization",
        "metadata": {"name": "cluster-apps", "namespace": "flux-system"},
        "spec": spec,
    }
    files["kubernetes/flux/cluster/ks.yaml"] = dump(entry)
    chart = ChartSource(per_app=True, url=APP_TEMPLATE_URL, tag=APP_TEMPLATE_VERSION)
    conventions = _app_conventions("flat", "default", apps_root, style, chart, provider_ns=None)
    return Skeleton(files, secrets, (conventions,))


# -- clusters -------------------------------------------------------------------------------------

CLUSTERS = {"main": "10.11", "staging": "10.12"}


def clusters(settings: Settings) -> Skeleton:
    files: dict[str, str] = {}
    secrets: dict[str, dict[str, Any]] = {}
    conventions = []
    for cluster, prefix in CLUSTERS.items():
        conventions.append(_cluster(files, secrets, settings, cluster, prefix))
    return Skeleton(files, secrets, tuple(conventions))


def _cluster(
    files: dict[str, str], secrets: dict[str, dict[str, Any]], settings: Settings, cluster: str, prefix: str
) -> Conventions:
    base = f"kubernetes/{cluster}"
    apps_root = f"{base}/apps"
    style = EntryStyle(file="install.yaml", source_name=GIT_REPOSITORY)
    sources = Ref("helm-repositories", "flux-system")
    listing = _namespaced_platform(
        files, apps_root, style, per_app_source=False, first_depends=(sources,), secret_file="secrets.yaml"
    )
    repo_folder = f"{apps_root}/flux-system/repositories"
    chart = _shared_chart()
    _shared_sources(files, f"{repo_folder}/app", chart)
    files[f"{repo_folder}/install.yaml"] = dump(
        res.flux_kustomization(
            style,
            name=sources.name,
            path=f"{repo_folder}/app",
            wait=True,
        )
    )
    listing["flux-system"] = ["./repositories/install.yaml"]
    _namespace_folders(
        files, apps_root, listing, ("../../components/common",), own_namespace=("flux-system",)
    )
    _common_component(files, secrets, f"{base}/components/common", settings, prefix)
    files[f"{base}/flux/cluster.yaml"] = dump_documents(
        [
            Document(
                {
                    "apiVersion": res.FLUX_SOURCE,
                    "kind": "GitRepository",
                    "metadata": {"name": GIT_REPOSITORY, "namespace": "flux-system"},
                    "spec": {"interval": "1h", "url": settings.git_url, "ref": {"branch": "main"}},
                }
            ),
            Document(_root_ks(settings, "cluster", f"{base}/flux", GIT_REPOSITORY)),
        ]
    )
    apps = _root_ks(settings, "cluster-apps", apps_root, GIT_REPOSITORY)
    apps["spec"]["patches"] = [_child_defaults(settings, _substitute_from(settings, SETTINGS))]
    files[f"{base}/flux/apps.yaml"] = dump(apps)
    return _app_conventions("clusters", cluster, apps_root, style, chart, provider_ns=None)


def _root_ks(settings: Settings, name: str, path: str, source: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": "1h",
        "path": f"./{path}",
        "prune": True,
        "wait": False,
        "sourceRef": {"kind": "GitRepository", "name": source},
    }
    if settings.encrypted:
        spec["decryption"] = _DECRYPTION
    return {
        "apiVersion": res.FLUX_KS,
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": spec,
    }


def _shared_chart() -> ChartSource:
    """app-template from one OCIRepository in flux-system."""
    return ChartSource(per_app=False, url=APP_TEMPLATE_URL, tag=APP_TEMPLATE_VERSION, namespace="flux-system")


def _repos() -> list[HelmRepo]:
    return list({chart.repo.name: chart.repo for chart in CHARTS.values()}.values())


def _shared_sources(files: dict[str, str], folder: str, chart: ChartSource) -> None:
    entries = []
    for repo in _repos():
        files[f"{folder}/{repo.name}.yaml"] = dump(res.helm_repository(repo, namespace="flux-system"))
        entries.append(f"./{repo.name}.yaml")
    template = res.oci_repository(chart.name, chart, namespace="flux-system")
    files[f"{folder}/app-template.yaml"] = dump(template)
    entries.append("./app-template.yaml")
    files[f"{folder}/kustomization.yaml"] = dump(res.kustomization(entries))


# -- layered --------------------------------------------------------------------------------------

ENVIRONMENTS = {"staging": "apps-staging", "prod": "apps-prod"}


def layered(settings: Settings) -> Skeleton:
    files: dict[str, str] = {}
    secrets: dict[str, dict[str, Any]] = {}
    home = "clusters/home"
    substitute = _substitute_from(settings, PLATFORM_SETTINGS)
    style = EntryStyle(file="", target_namespace=False, source_namespace=None, substitute_from=substitute)
    chart = _shared_chart()
    _shared_sources(files, "infrastructure/sources", chart)
    platform = units(source_namespace="flux-system", retries=True)
    infra: list[Document] = [
        Document(
            res.flux_kustomization(
                style,
                name="sources",
                path="infrastructure/sources",
                namespace="flux-system",
                wait=True,
                substitute_from=(),
            )
        )
    ]
    created: set[str] = {"kube-system"}
    platform_units = [u for u in platform if u.name != "envoy-gateway-config"]
    for unit in platform_units:
        folder = f"infrastructure/{unit.name}"
        _unit_folder(unit, folder, files, per_app_source=False)
        if unit.namespace not in created:
            created.add(unit.namespace)
            files[f"{folder}/namespace.yaml"] = dump(res.namespace(unit.namespace))
            _add_entry(files, f"{folder}/kustomization.yaml", "./namespace.yaml")
        depends = [Ref(d, "flux-system") for d in unit.depends_on] or [Ref("sources", "flux-system")]
        infra.append(
            Document(
                res.flux_kustomization(
                    style,
                    name=unit.name,
                    path=folder,
                    namespace="flux-system",
                    target_namespace=unit.namespace,
                    depends_on=depends,
                    wait=unit.wait,
                    substitute_from=None if unit.substitutes else (),
                )
            )
        )
    files[f"{home}/infrastructure.yaml"] = dump_documents(infra)
    gateways = next(u for u in platform if u.name == "envoy-gateway-config")
    _unit_folder(gateways, "platform-services", files, per_app_source=False)
    files[f"{home}/platform-services.yaml"] = dump(
        res.flux_kustomization(
            style,
            name="platform-services",
            path="platform-services",
            namespace="flux-system",
            depends_on=[Ref(d, "flux-system") for d in gateways.depends_on],
            wait=True,
        )
    )
    env_entries = []
    for namespace in ENVIRONMENTS.values():
        files[f"tenants/environments/{namespace}.yaml"] = dump(res.namespace(namespace))
        env_entries.append(f"./{namespace}.yaml")
    files["tenants/environments/kustomization.yaml"] = dump(res.kustomization(env_entries))
    files[f"{home}/tenants.yaml"] = dump(
        res.flux_kustomization(
            style,
            name="tenants",
            path="tenants/environments",
            namespace="flux-system",
            wait=True,
            substitute_from=(),
        )
    )
    files[f"{home}/{PLATFORM_SETTINGS}.yaml"] = dump(
        _config_map(PLATFORM_SETTINGS, _settings_map(settings, "10.11"), "flux-system"),
        ["Cluster-level operator switches and settings, substituted into the layers (postBuild)."],
    )
    if settings.encrypted:
        secrets[f"{home}/cluster-secrets.sops.yaml"] = _secret(settings, "flux-system")
    sync = {
        "interval": "1h",
        "path": f"./{home}",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    if settings.encrypted:
        sync["decryption"] = _DECRYPTION
    files[f"{home}/flux-system/gotk-sync.yaml"] = dump_documents(
        [
            Document(
                {
                    "apiVersion": res.FLUX_SOURCE,
                    "kind": "GitRepository",
                    "metadata": {"name": "flux-system", "namespace": "flux-system"},
                    "spec": {"interval": "1h", "url": settings.git_url, "ref": {"branch": "main"}},
                }
            ),
            Document(
                {
                    "apiVersion": res.FLUX_KS,
                    "kind": "Kustomization",
                    "metadata": {"name": "flux-system", "namespace": "flux-system"},
                    "spec": sync,
                }
            ),
        ]
    )
    files[f"{home}/flux-system/kustomization.yaml"] = dump(res.kustomization(["./gotk-sync.yaml"]))
    base = _app_conventions("layered", "home", "tenants/apps", style, chart, provider_ns="flux-system")
    conventions = dataclasses.replace(
        base,
        entry_folder=home,
        environments=ENVIRONMENTS,
        environment_provider=Ref("tenants", "flux-system"),
        namespace_style=NamespaceStyle(),
    )
    return Skeleton(files, secrets, (conventions,))


def _add_entry(files: dict[str, str], kfile: str, entry: str) -> None:
    from .kedit import add_list_item

    files[kfile] = add_list_item(files[kfile], "resources", entry, rel=kfile)


LAYOUT_BUILDERS = {"flat": flat, "clusters": clusters, "layered": layered}
