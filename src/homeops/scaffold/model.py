"""What homeops needs to know about a repository to write an app the way its other apps are written.

:class:`Conventions` is produced two ways: by a layout template for ``homeops new`` (the conventions of
the repository being created) and by :mod:`homeops.scaffold.reader` for ``homeops add app`` (read from
the repository's files and its Flux tree). The app writer only ever reads this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LAYOUTS = ("flat", "clusters", "layered")
ROUTES = ("internal", "external", "none")
STORAGES = ("pvc", "nfs", "none")


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """A Flux Kustomization another one waits for (one ``dependsOn`` entry)."""

    name: str
    namespace: str


@dataclass(frozen=True, slots=True)
class GatewayRef:
    """A Gateway that app routes attach to."""

    name: str
    namespace: str
    section: str | None = None
    """``sectionName`` written in parentRefs, when the repository's routes name one."""


@dataclass(frozen=True, slots=True)
class SubstituteFrom:
    """One ``postBuild.substituteFrom`` entry copied onto every app Kustomization."""

    kind: str
    name: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ChartSource:
    """How HelmReleases reach the bjw-s app-template chart."""

    per_app: bool
    """An OCIRepository named after each app sits next to its HelmRelease (onedr0p's pattern)."""
    url: str
    tag: str
    name: str = "app-template"
    """Name of the shared OCIRepository (unused when ``per_app``)."""
    namespace: str | None = None
    """Namespace of the shared OCIRepository (None: the release's own)."""
    interval: str = "15m"
    layer_selector: bool = True


@dataclass(frozen=True, slots=True)
class EntryStyle:
    """How an app's Flux Kustomization file (``ks.yaml``, ``install.yaml``) is written."""

    file: str
    anchors: bool = False
    """``name: &app <app>`` and ``APP: *app``."""
    app_var: bool = False
    """``postBuild.substitute.APP: <app>``."""
    sorted_keys: bool = False
    """``spec`` keys in alphabetical order (onedr0p, bjw-s) rather than the natural order."""
    target_namespace: bool = True
    source_kind: str = "GitRepository"
    source_name: str = "flux-system"
    source_namespace: str | None = "flux-system"
    interval: str = "1h"
    wait: bool | None = False
    """The ``wait`` written on app Kustomizations (None: not written)."""
    substitute_from: tuple[SubstituteFrom, ...] = ()


@dataclass(frozen=True, slots=True)
class NamespaceStyle:
    """How a namespace folder is written when an app goes into a new namespace."""

    components: tuple[str, ...] = ()
    """Components every namespace ``kustomization.yaml`` lists (paths relative to it)."""
    namespace_file: bool = True
    """The folder holds ``namespace.yaml`` (else a component creates the Namespace)."""
    namespace_name: str | None = None
    """``metadata.name`` written in namespace.yaml; None means the namespace itself (``_`` in onedr0p)."""
    namespace_annotations: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conventions:
    """Everything the app writer needs; see the module docstring."""

    layout: str
    cluster: str
    apps_root: str
    """Folder of the namespace folders (flat, clusters) or of the app folders (layered)."""
    entry: EntryStyle
    chart: ChartSource
    hr_interval: str = "1h"
    hr_retries: tuple[str, ...] = ()
    """Actions (``install``, ``upgrade``) whose remediation retries each HelmRelease must set itself,
    because no parent patch gives them."""
    sorted_keys: bool = False
    """HelmRelease ``spec`` keys in alphabetical order."""
    secret_file: str = "externalsecret.yaml"
    secret_refresh: str | None = None
    store: str | None = None
    """ClusterSecretStore the app ExternalSecrets read from."""
    store_provider: Ref | None = None
    gateways: Mapping[str, GatewayRef] = field(default_factory=dict)
    """``internal`` / ``external`` → the Gateway."""
    gateway_providers: Mapping[str, Ref] = field(default_factory=dict)
    cnpg_provider: Ref | None = None
    storage_class: str | None = None
    nfs: tuple[str, str] | None = None
    """(server, export path) of the repository's NFS mounts."""
    domain: str | None = None
    """Hostname suffix of routes (``${SECRET_DOMAIN}`` or a literal domain)."""
    release_hostname: bool = True
    """Hostnames written as ``{{ .Release.Name }}.<domain>`` rather than ``<app>.<domain>``."""
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """File name → comment lines written at its top (yaml-language-server schema lines)."""
    namespace_style: NamespaceStyle = field(default_factory=NamespaceStyle)
    entry_folder: str | None = None
    """Layered: the cluster folder holding one ``app-<name>.yaml`` per app."""
    environments: Mapping[str, str] = field(default_factory=dict)
    """Layered: environment → namespace (``staging`` → ``apps-staging``)."""
    environment_provider: Ref | None = None
    """Layered: the Kustomization that creates the environment namespaces."""
