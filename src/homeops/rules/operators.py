"""Rules for what operators look up by name when they run: cert-manager issuers, external-secrets stores,
Flux notification providers and the Secrets they read.

None of these fails a Kustomization: the object is applied and then never works (a Certificate never
issued, an ExternalSecret never synced, alerts never sent). Each rule compares with what the cluster
visibly defines and stays silent where the answer may lie out of sight: a kind the cluster defines
nowhere (made by a chart or by hand), or a name a vendor chart's values mention.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from ..model.base import Resource, get_path
from ..model.flux import FLUX_HELM_GROUP, HelmRelease
from ..model.kinds import CERT_MANAGER_GROUP, ESO_GROUP, GATEWAY_GROUP
from ..model.producers import ANY_NAMESPACE
from ..model.values import app_template_ingresses, is_app_template_values
from ..records import NamedTuple, Record
from .base import Hit, Severity, rule
from .context import Context

NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"

Key = tuple[str, str]
"""(namespace, name); the namespace is ``*`` for a document whose namespace is set by a build that fails."""


class Defined(Record):
    """What one cluster defines for operators to look up, by kind."""

    __slots__ = ("cluster_scoped", "namespaced", "vendor_namespaces", "vendor_strings")

    cluster_scoped: dict[str, set[str]]
    """ClusterIssuer, ClusterSecretStore → names."""
    namespaced: dict[str, set[Key]]
    """Issuer, SecretStore, Provider → (namespace, name)."""
    vendor_strings: frozenset[str]
    """Every string of vendor charts' values: a chart may create an issuer or a store it names."""
    vendor_namespaces: set[str]
    """Namespaces vendor charts are released into: a chart may create a namespaced issuer there."""

    def __init__(self) -> None:
        self.cluster_scoped = {}
        self.namespaced = {}
        self.vendor_strings = frozenset()
        self.vendor_namespaces = set()

    def names(self, kind: str) -> set[str]:
        return self.cluster_scoped.get(kind, set())

    def keys(self, kind: str) -> set[Key]:
        return self.namespaced.get(kind, set())

    def has(self, kind: str, namespace: str, name: str) -> bool:
        if kind in _CLUSTER_SCOPED:
            return name in self.names(kind)
        keys = self.keys(kind)
        return (namespace, name) in keys or (ANY_NAMESPACE, name) in keys


_CLUSTER_SCOPED = frozenset({"ClusterIssuer", "ClusterSecretStore"})
_LOOKED_UP = {
    (CERT_MANAGER_GROUP, "Issuer"),
    (CERT_MANAGER_GROUP, "ClusterIssuer"),
    (ESO_GROUP, "SecretStore"),
    (ESO_GROUP, "ClusterSecretStore"),
    (NOTIFICATION_GROUP, "Provider"),
}


def defined(ctx: Context, cluster: str) -> Defined:
    return ctx.memo(f"operators:{cluster}", lambda: _defined(ctx, cluster))


def _defined(ctx: Context, cluster: str) -> Defined:
    out = Defined()
    found: list[Resource] = list(ctx.flux.bootstrap_objects(cluster))
    for producer in ctx.cluster_producers(cluster):
        found.extend(ctx.of_kinds(ctx.documents_of(producer), *_LOOKED_UP, (FLUX_HELM_GROUP, "HelmRelease")))
    for res in found:
        if (res.group, res.kind) in _LOOKED_UP:
            if res.kind in _CLUSTER_SCOPED:
                out.cluster_scoped.setdefault(res.kind, set()).add(res.name)
            else:
                out.namespaced.setdefault(res.kind, set()).add((res.namespace or ANY_NAMESPACE, res.name))
        elif res.kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
            release = HelmRelease(res)
            if not is_app_template_values(release.values):
                out.vendor_namespaces.add(release.release_namespace)
    out.vendor_strings = ctx.vendor_strings(cluster)
    return out


def _applied(ctx: Context, *kinds: tuple[str, str]) -> Iterator[tuple[str, Resource]]:
    """Applied objects of these (group, kind)s with their cluster (those of Kustomizations that apply to
    another cluster not)."""
    if ctx.flux.guessed:
        return  # no entry point: which objects a cluster holds is itself a guess
    for cluster in sorted(ctx.flux.clusters):
        for producer in ctx.cluster_producers(cluster):
            for res in ctx.of_kinds(producer.objects, *kinds):
                yield cluster, res


def _plain(name: Any) -> TypeGuard[str]:
    return isinstance(name, str) and bool(name) and "${" not in name and "{{" not in name


# -- cert-manager issuers ------------------------------------------------------------------------


class IssuerRef(NamedTuple):
    res: Resource
    path: tuple[str | int, ...]
    kind: str
    name: str
    namespace: str
    who: str
    """The asking object, for the message (``Certificate 'x'``)."""
    effect: str
    """What goes wrong when the issuer is missing."""
    defaulted: bool = False
    """``issuerRef.kind`` is not written: cert-manager takes Issuer."""


_ISSUER = "cert-manager.io/issuer"
_CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"
_SHIM_EFFECT = "the Certificate cert-manager makes for its tls never becomes Ready"
_GATEWAY_EFFECT = "the Certificates cert-manager makes for its listeners never become Ready"


def _annotation_ref(
    annotations: Mapping[str, Any], res: Resource, base: tuple[str | int, ...], namespace: str, who: str
) -> IssuerRef | None:
    """The issuer cert-manager's ingress-shim and gateway-shim read from these annotations."""
    group = annotations.get("cert-manager.io/issuer-group") or CERT_MANAGER_GROUP
    if group != CERT_MANAGER_GROUP:
        return None  # an external issuer (another API group): not cert-manager's to resolve
    cluster_issuer, issuer = annotations.get(_CLUSTER_ISSUER), annotations.get(_ISSUER)
    if _plain(cluster_issuer):
        return IssuerRef(
            res, (*base, _CLUSTER_ISSUER), "ClusterIssuer", cluster_issuer, "", who, _SHIM_EFFECT
        )
    kind = annotations.get("cert-manager.io/issuer-kind") or "Issuer"
    if _plain(issuer) and kind in ("Issuer", "ClusterIssuer"):
        return IssuerRef(res, (*base, _ISSUER), kind, issuer, namespace, who, _SHIM_EFFECT)
    return None


def _annotations(res: Resource) -> Mapping[str, Any]:
    found = get_path(res.obj, "metadata", "annotations")
    return found if isinstance(found, dict) else {}


_ISSUER_ASKERS = (
    (CERT_MANAGER_GROUP, "Certificate"),
    ("networking.k8s.io", "Ingress"),
    (GATEWAY_GROUP, "Gateway"),
    (FLUX_HELM_GROUP, "HelmRelease"),
)
"""The kinds :func:`_issuer_refs` reads."""


def _issuer_refs(res: Resource) -> Iterator[IssuerRef]:
    """The issuers an applied object asks cert-manager to use."""
    found: IssuerRef | None = None
    base = ("metadata", "annotations")
    if res.group == CERT_MANAGER_GROUP and res.kind == "Certificate":
        ref = get_path(res.obj, "spec", "issuerRef")
        ref = ref if isinstance(ref, dict) else {}
        kind = ref.get("kind") or "Issuer"
        if _plain(ref.get("name")) and (ref.get("group") or CERT_MANAGER_GROUP) == CERT_MANAGER_GROUP:
            secret = get_path(res.obj, "spec", "secretName")
            effect = "cert-manager never issues it" + (
                f" and Secret {secret!r} is never created" if isinstance(secret, str) else ""
            )
            if kind in ("Issuer", "ClusterIssuer"):
                at = ("spec", "issuerRef", "name")
                who = f"Certificate {res.name!r}"
                found = IssuerRef(res, at, kind, ref["name"], res.namespace, who, effect, not ref.get("kind"))
    elif res.kind == "Ingress" and res.group == "networking.k8s.io":
        if get_path(res.obj, "spec", "tls"):  # ingress-shim acts only on an Ingress with tls entries
            found = _annotation_ref(_annotations(res), res, base, res.namespace, f"Ingress {res.name!r}")
    elif res.kind == "Gateway" and res.group == GATEWAY_GROUP:
        listeners = get_path(res.obj, "spec", "listeners")
        if isinstance(listeners, list) and any(
            isinstance(item, dict) and get_path(item, "tls", "certificateRefs") for item in listeners
        ):
            found = _annotation_ref(_annotations(res), res, base, res.namespace, f"Gateway {res.name!r}")
            if found is not None:
                found = found._replace(effect=_GATEWAY_EFFECT)
    elif res.kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
        release = HelmRelease(res)
        if not is_app_template_values(release.values):
            return
        for ingress in app_template_ingresses(release.values):
            if ingress.tls:
                who = f"HelmRelease {release.name!r} (ingress {ingress.identifier!r})"
                path = ("spec", "values", "ingress", ingress.identifier, "annotations")
                entry = _annotation_ref(ingress.annotations, res, path, release.release_namespace, who)
                if entry is not None:
                    yield entry
    if found is not None:
        yield found


@rule(
    id="REF010",
    name="issuer-missing",
    family="references",
    severity=Severity.WARNING,
    seed="cert-manager + issuer manifests; certificate issuer choice: letsencrypt-staging | letsencrypt-prod",
    summary="A Certificate, or an Ingress or Gateway annotated for cert-manager, names an issuer that does "
    "not exist",
    why="cert-manager looks the issuer up by name: a ClusterIssuer cluster-wide, an Issuer in the "
    "object's own namespace (issuerRef.kind defaults to Issuer). A wrong name ('letsencrypt-production' "
    "where the cluster defines 'letsencrypt-prod') leaves the Certificate not Ready forever and the "
    "TLS Secret is never created, so the site serves the ingress controller's default certificate. Not "
    "reported when the cluster defines no issuer of that kind at all, when a vendor chart's values name "
    "it, or (for an Issuer) when a vendor chart is released into its namespace: a chart may create it.",
    bad="metadata:\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-production\n"
    "# the cluster defines ClusterIssuer letsencrypt-prod\n",
    good="metadata:\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-prod\n",
    fix="Use the name of an issuer the cluster defines; for a ClusterIssuer in issuerRef, set "
    "kind: ClusterIssuer.",
)
def issuer_missing(ctx: Context) -> Iterator[Hit]:
    for cluster, res in _applied(ctx, *_ISSUER_ASKERS):
        for ref in _issuer_refs(res):
            known = defined(ctx, cluster)
            if known.has(ref.kind, ref.namespace, ref.name) or ref.name in known.vendor_strings:
                continue
            problem = _issuer_problem(known, ref, cluster)
            if problem is not None:
                what, hint = problem
                yield ctx.hit(ref.res, ref.path, f"{ref.who} names {what}: {ref.effect}", hint)


def _issuer_problem(known: Defined, ref: IssuerRef, cluster: str) -> tuple[str, str] | None:
    """Why an issuer reference does not resolve, and what to do; None when it may resolve out of sight."""
    clusterwide = sorted(known.names("ClusterIssuer"))
    if ref.kind == "Issuer" and ref.name in clusterwide:
        why = " (the kind is not written: it defaults to Issuer)" if ref.defaulted else ""
        hint = (
            f"annotate {_CLUSTER_ISSUER} instead"
            if ref.path[-1] == _ISSUER
            else "set issuerRef.kind: ClusterIssuer"
        )
        return (
            f"Issuer {ref.namespace}/{ref.name}{why}, which does not exist ({ref.name!r} is a ClusterIssuer)",
            hint,
        )
    if ref.kind == "ClusterIssuer":
        if not clusterwide:
            return None  # the cluster's ClusterIssuers come from somewhere homeops cannot see
        return (
            f"ClusterIssuer {ref.name!r}, which does not exist in cluster {cluster!r}",
            f"ClusterIssuers here: {', '.join(clusterwide)}",
        )
    local = sorted(name for ns, name in known.keys("Issuer") if ns in (ref.namespace, ANY_NAMESPACE))
    if not known.keys("Issuer") or (not local and ref.namespace in known.vendor_namespaces):
        return None  # Issuers come from somewhere homeops cannot see, or a chart released there may make it
    usable = [*local, *(f"{name} (ClusterIssuer)" for name in clusterwide)]
    hint = f"issuers it can use: {', '.join(usable)}" if usable else "add the Issuer in its namespace"
    return f"Issuer {ref.namespace}/{ref.name}, which does not exist in cluster {cluster!r}", hint


# -- external-secrets stores ---------------------------------------------------------------------


class StoreRef(NamedTuple):
    path: tuple[str | int, ...]
    """Where the store's name is written."""
    kind: str
    name: str
    defaulted: bool
    """The kind is not written: external-secrets takes SecretStore."""


def _store_refs(res: Resource) -> Iterator[StoreRef]:
    """Every store an ExternalSecret reads from (``secretStoreRef``, and per-item ``sourceRef.storeRef``)."""
    spec = res.obj.get("spec")
    if not isinstance(spec, dict):
        return
    found: list[tuple[tuple[str | int, ...], Any]] = [
        (("spec", "secretStoreRef"), spec.get("secretStoreRef"))
    ]
    for section in ("data", "dataFrom"):
        items = spec.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            ref = get_path(item, "sourceRef", "storeRef") if isinstance(item, dict) else None
            found.append(((("spec", section, i, "sourceRef", "storeRef")), ref))
    for path, ref in found:
        if isinstance(ref, dict) and _plain(ref.get("name")):
            kind = ref.get("kind")
            yield StoreRef((*path, "name"), kind or "SecretStore", ref["name"], not kind)


@rule(
    id="REF011",
    name="secret-store-missing",
    family="references",
    severity=Severity.WARNING,
    seed="ExternalSecret resources with ClusterSecretStore onepassword-connect; secretStoreRef kind",
    summary="An ExternalSecret reads from a SecretStore or ClusterSecretStore that does not exist",
    why="external-secrets resolves secretStoreRef by name: a ClusterSecretStore cluster-wide, a "
    "SecretStore only in the ExternalSecret's own namespace, and kind defaults to SecretStore. An "
    "ExternalSecret that omits 'kind: ClusterSecretStore', or names a SecretStore of another namespace, "
    "never syncs (SecretSyncedError) and its target Secret is never created. Not reported when the "
    "cluster defines no store of that kind at all, or when a vendor chart's values name it.",
    bad="spec:\n  secretStoreRef:\n    name: onepassword   # a ClusterSecretStore; the kind defaults to "
    "SecretStore\n",
    good="spec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: onepassword\n",
    fix="Set secretStoreRef.kind: ClusterSecretStore, correct the name, or add the SecretStore in the "
    "ExternalSecret's namespace.",
)
def secret_store_missing(ctx: Context) -> Iterator[Hit]:
    for cluster, res in _applied(ctx, (ESO_GROUP, "ExternalSecret")):
        known = defined(ctx, cluster)
        for ref in _store_refs(res):
            if ref.kind not in ("SecretStore", "ClusterSecretStore") or known.has(
                ref.kind, res.namespace, ref.name
            ):
                continue
            problem = _store_problem(known, ref, res.namespace)
            if problem is not None:
                what, hint = problem
                yield ctx.hit(
                    res, ref.path, f"ExternalSecret {res.name!r} never syncs: it reads {what}", hint
                )


def _store_problem(known: Defined, ref: StoreRef, namespace: str) -> tuple[str, str] | None:
    """Why a store reference does not resolve, and what to do; None when it may resolve out of sight."""
    kind, name = ref.kind, ref.name
    elsewhere = sorted(ns for ns, store in known.keys("SecretStore") if store == name and ns != ANY_NAMESPACE)
    wanted = f"SecretStore {namespace}/{name}" if kind == "SecretStore" else f"ClusterSecretStore {name!r}"
    if kind == "SecretStore" and name in known.names("ClusterSecretStore"):
        why = " (the kind is not written: it defaults to SecretStore)" if ref.defaulted else ""
        also = f" (and a SecretStore of namespace {', '.join(elsewhere)})" if elsewhere else ""
        return (
            f"{wanted}{why}, which does not exist ({name!r} is a ClusterSecretStore{also})",
            "set kind: ClusterSecretStore",
        )
    if kind == "ClusterSecretStore" and elsewhere:
        return (
            f"{wanted}, and {name!r} is a SecretStore (namespace {', '.join(elsewhere)})",
            "set kind: SecretStore and put the ExternalSecret in the store's namespace",
        )
    if elsewhere:
        return (
            f"{wanted}, which exists only in namespace {', '.join(elsewhere)}: a SecretStore serves its own "
            "namespace only",
            "add the SecretStore in this namespace, or use a ClusterSecretStore",
        )
    same_kind = known.names(kind) if kind == "ClusterSecretStore" else known.keys(kind)
    if not same_kind or name in known.vendor_strings:
        return None  # stores of that kind come from somewhere homeops cannot see (a chart, a policy)
    stores = sorted(
        [*known.names("ClusterSecretStore"), *(f"{ns}/{n}" for ns, n in known.keys("SecretStore"))]
    )
    return f"{wanted}, which does not exist", f"stores here: {', '.join(stores)}"


# -- Flux notifications --------------------------------------------------------------------------


@rule(
    id="REF012",
    name="notification-ref-missing",
    family="references",
    severity=Severity.WARNING,
    seed="Flux notification: alerts reach their provider; receivers authenticate webhooks",
    summary="A Flux Alert names a Provider, or a Receiver or Provider a Secret, that is not in its namespace",
    why="notification-controller looks these up in the object's own namespace (the references have no "
    "namespace field): an Alert whose Provider is elsewhere sends nothing, a Receiver whose token "
    "Secret is elsewhere rejects every webhook, and a Provider whose secretRef is elsewhere cannot "
    "send. A Secret that exists in no namespace is not reported: the Flux guides create these by hand.",
    bad="kind: Receiver\nmetadata:\n  namespace: flux-system\nspec:\n  secretRef:\n"
    "    name: github-webhook-token   # the Secret is in namespace github-webhook-token\n",
    good="kind: Receiver\nmetadata:\n  namespace: flux-system\nspec:\n  secretRef:\n"
    "    name: github-webhook-token   # Secret flux-system/github-webhook-token\n",
    fix="Create the Provider or Secret in the namespace of the object that names it, or move that object.",
)
def notification_ref_missing(ctx: Context) -> Iterator[Hit]:
    for cluster, res in _applied(
        ctx, *((NOTIFICATION_GROUP, kind) for kind in ("Alert", "Receiver", "Provider"))
    ):
        namespace = res.namespace or "default"
        if res.kind == "Alert":
            name = get_path(res.obj, "spec", "providerRef", "name")
            known = defined(ctx, cluster)
            if not _plain(name) or known.has("Provider", namespace, name):
                continue
            providers = sorted(f"{ns}/{n}" for ns, n in known.keys("Provider"))
            if not providers:
                continue  # no Provider visible anywhere: made where homeops cannot see
            yield ctx.hit(
                res,
                ("spec", "providerRef", "name"),
                f"Alert {res.name!r} sends to Provider {namespace}/{name}, which does not exist: "
                "notification-controller drops its events",
                f"Providers here: {', '.join(providers)}",
            )
            continue
        name = get_path(res.obj, "spec", "secretRef", "name")
        if not _plain(name):
            continue
        index = ctx.index(cluster)
        if index.produces("Secret", namespace, name, reader=res):
            continue
        elsewhere = sorted(ns for ns, secret in index.secrets if secret == name and ns not in ("", namespace))
        if not elsewhere:
            continue  # made by hand, as the Flux guides do: not visible offline
        effect = "rejects every webhook" if res.kind == "Receiver" else "cannot send"
        yield ctx.hit(
            res,
            ("spec", "secretRef", "name"),
            f"{res.kind} {res.name!r} reads Secret {namespace}/{name} and {effect}: the Secret is created in "
            f"namespace {', '.join(elsewhere)}, and secretRef always names a Secret of the {res.kind}'s own "
            "namespace",
            f"create the Secret in namespace {namespace}",
        )
