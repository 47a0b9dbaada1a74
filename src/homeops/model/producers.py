"""What creates a Secret, ConfigMap or PersistentVolumeClaim in a cluster: a table by kind.

A reference to a Secret is only dangling when nothing creates it. Besides the objects themselves,
operators create them from their own resources, each with a naming rule. :data:`PRODUCERS` maps an
(API group, kind) to a function giving what an object of that kind creates; :func:`produced_by`
looks an object up (and a repository's own ``.homeops.yaml`` ``producers:`` entries). Extending the
table is one entry.

Namespaces: ``"*"`` stands for "every namespace" (a ClusterExternalSecret's targets may be chosen by
label); ``prefix`` products match every name starting with it (a vendor chart's objects are named
after its release, in ways homeops cannot know without rendering it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..records import NamedTuple
from ..settings import ProducerEntry
from .base import ObjectMemo, Resource, get_path
from .flux import FLUX_HELM_GROUP, HelmRelease
from .values import app_template_name, enabled_items, is_app_template_values

ESO_GROUP = "external-secrets.io"
CNPG_GROUP = "postgresql.cnpg.io"
CERT_MANAGER_GROUP = "cert-manager.io"
OBJECT_BUCKET_GROUP = "objectbucket.io"
SEALED_SECRETS_GROUP = "bitnami.com"
ONEPASSWORD_GROUP = "onepassword.com"
VAULT_SECRETS_GROUP = "secrets.hashicorp.com"
VOLSYNC_GROUP = "volsync.backube"

ANY_NAMESPACE = "*"


class Produced(NamedTuple):
    """An object some other object makes exist."""

    kind: str
    """Secret, ConfigMap or PersistentVolumeClaim."""
    namespace: str
    name: str
    how: str
    """For people: ``ExternalSecret target``, ``cert-manager Certificate``."""
    prefix: bool = False
    """``name`` is a prefix: every name starting with it may be made."""


Producer = Callable[[Resource], Iterator[Produced]]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ns(res: Resource) -> str:
    return res.namespace or "default"


def _itself(res: Resource) -> Iterator[Produced]:
    yield Produced(res.kind, _ns(res), res.name, "the object itself")


def _external_secret(res: Resource) -> Iterator[Produced]:
    # creationPolicy Merge and None never create the Secret: it must exist already.
    policy = get_path(res.obj, "spec", "target", "creationPolicy") or "Owner"
    if policy in ("Owner", "Orphan"):
        name = _str(get_path(res.obj, "spec", "target", "name")) or res.name
        yield Produced("Secret", _ns(res), name, f"target of ExternalSecret {res.name!r}")


def _cluster_external_secret(res: Resource) -> Iterator[Produced]:
    spec = get_path(res.obj, "spec") or {}
    name = (
        _str(get_path(spec, "externalSecretSpec", "target", "name"))
        or _str(spec.get("externalSecretName") if isinstance(spec, dict) else None)
        or res.name
    )
    namespaces = get_path(spec, "namespaces")
    listed = [n for n in namespaces if isinstance(n, str)] if isinstance(namespaces, list) else []
    for namespace in listed or [ANY_NAMESPACE]:
        yield Produced("Secret", namespace, name, f"target of ClusterExternalSecret {res.name!r}")


def _certificate(res: Resource) -> Iterator[Produced]:
    name = _str(get_path(res.obj, "spec", "secretName"))
    if name:
        yield Produced("Secret", _ns(res), name, f"secret of Certificate {res.name!r}")


def _issuer(res: Resource) -> Iterator[Produced]:
    # An ACME account key; a ClusterIssuer keeps it in cert-manager's cluster resource namespace.
    name = _str(get_path(res.obj, "spec", "acme", "privateKeySecretRef", "name"))
    if name:
        namespace = "cert-manager" if res.kind == "ClusterIssuer" else _ns(res)
        yield Produced("Secret", namespace, name, f"ACME account key of {res.kind} {res.name!r}")


def _cnpg_cluster(res: Resource) -> Iterator[Produced]:
    # bootstrap.initdb.secret and superuserSecret are supplied by the user, never created.
    for suffix in ("app", "superuser", "ca", "replication", "server"):
        yield Produced("Secret", _ns(res), f"{res.name}-{suffix}", f"CloudNativePG Cluster {res.name!r}")


def _object_bucket_claim(res: Resource) -> Iterator[Produced]:
    # Rook/lib-bucket-provisioner: a Secret (keys) and a ConfigMap (endpoint) named after the claim.
    for kind in ("Secret", "ConfigMap"):
        yield Produced(kind, _ns(res), res.name, f"ObjectBucketClaim {res.name!r}")


def _sealed_secret(res: Resource) -> Iterator[Produced]:
    name = _str(get_path(res.obj, "spec", "template", "metadata", "name")) or res.name
    yield Produced("Secret", _ns(res), name, f"SealedSecret {res.name!r}")


def _onepassword_item(res: Resource) -> Iterator[Produced]:
    yield Produced("Secret", _ns(res), res.name, f"OnePasswordItem {res.name!r}")


def _vault_secret(res: Resource) -> Iterator[Produced]:
    name = _str(get_path(res.obj, "spec", "destination", "name"))
    if name and get_path(res.obj, "spec", "destination", "create") is True:
        yield Produced("Secret", _ns(res), name, f"{res.kind} {res.name!r}")


def _zalando_postgresql(res: Resource) -> Iterator[Produced]:
    # <user>.<cluster>.credentials.postgresql.acid.zalan.do for every user (dots in names become dashes).
    users = get_path(res.obj, "spec", "users")
    for user in users if isinstance(users, dict) else {}:
        name = f"{str(user).replace('_', '-')}.{res.name}.credentials.postgresql.acid.zalan.do"
        yield Produced("Secret", _ns(res), name, f"postgresql {res.name!r} user {user!r}")


def _crunchy_postgres(res: Resource) -> Iterator[Produced]:
    # <cluster>-pguser-<user>; the default user is named after the cluster.
    yield Produced("Secret", _ns(res), f"{res.name}-pguser-", f"PostgresCluster {res.name!r}", True)


def _generated_secret_refs(res: Resource) -> Iterator[Produced]:
    """``…SecretKeyRef: {name, generate: true}`` (mariadb-operator and others create the Secret)."""
    stack: list[Any] = [res.obj.get("spec")]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("name")
            if item.get("generate") is True and isinstance(name, str) and name:
                yield Produced("Secret", _ns(res), name, f"{res.kind} {res.name!r} (generate: true)")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_VOLSYNC_MOVERS = ("restic", "rclone", "rsync", "rsyncTLS")


def _volsync(res: Resource) -> Iterator[Produced]:
    """What VolSync's movers (restic, rclone, rsync, rsync-TLS) create for a ReplicationSource or
    ReplicationDestination, named as its controllers name them. The restic repository or rclone
    configuration Secret, a ``sourcePVC`` or ``destinationPVC``, and a claim restored with a
    ``dataSourceRef`` to a ReplicationDestination are the user's own: VolSync reads them."""
    source = res.kind == "ReplicationSource"
    name, namespace, how = res.name, _ns(res), f"VolSync {res.kind} {res.name!r}"
    spec = res.obj.get("spec")
    for mover in _VOLSYNC_MOVERS:
        options = spec.get(mover) if isinstance(spec, dict) else None
        if not isinstance(options, dict):
            continue
        ssh = mover in ("rsync", "rsyncTLS")  # these name their volumes by direction: -src, -dst
        if source:
            if options.get("copyMethod") in ("Clone", "Snapshot"):  # Direct replicates the claim itself
                yield Produced("PersistentVolumeClaim", namespace, f"volsync-{name}-src", how)
        elif not _str(options.get("destinationPVC")):
            yield Produced(
                "PersistentVolumeClaim", namespace, f"volsync-{name}-{'dst' if ssh else 'dest'}", how
            )
        if mover == "restic":
            yield Produced("PersistentVolumeClaim", namespace, f"volsync-{name}-cache", how)
        if mover == "rsyncTLS" and not _str(options.get("keySecret")):
            yield Produced("Secret", namespace, f"volsync-rsync-tls-{name}", f"{how} (TLS key)")
        if mover == "rsync" and not _str(options.get("sshKeys")):
            direction = "src" if source else "dst"
            for part in ("main", "src", "dest"):
                yield Produced(
                    "Secret", namespace, f"volsync-rsync-{direction}-{part}-{name}", f"{how} (ssh keys)"
                )


def _helm_release(res: Resource) -> Iterator[Produced]:
    release = HelmRelease(res)
    values = release.values
    namespace = release.release_namespace or "default"
    if is_app_template_values(values):
        yield from app_template_products(values, release.release_name, namespace, res.name)
    else:
        # A vendor chart names its objects after the release (or its fullnameOverride/nameOverride):
        # which ones exactly needs the chart rendered; any name starting with those may be the chart's.
        prefixes = {release.release_name}
        for key in ("fullnameOverride", "nameOverride"):
            override = values.get(key)
            if isinstance(override, str) and override:
                prefixes.add(override)
        for prefix in sorted(prefixes):
            for kind in ("Secret", "ConfigMap"):
                yield Produced(kind, namespace, prefix, f"chart of HelmRelease {res.name!r}", True)


PRODUCERS: dict[tuple[str, str], Producer] = {
    ("", "Secret"): _itself,
    ("", "ConfigMap"): _itself,
    ("", "PersistentVolumeClaim"): _itself,
    (ESO_GROUP, "ExternalSecret"): _external_secret,
    (ESO_GROUP, "ClusterExternalSecret"): _cluster_external_secret,
    (CERT_MANAGER_GROUP, "Certificate"): _certificate,
    (CERT_MANAGER_GROUP, "Issuer"): _issuer,
    (CERT_MANAGER_GROUP, "ClusterIssuer"): _issuer,
    (CNPG_GROUP, "Cluster"): _cnpg_cluster,
    (OBJECT_BUCKET_GROUP, "ObjectBucketClaim"): _object_bucket_claim,
    (SEALED_SECRETS_GROUP, "SealedSecret"): _sealed_secret,
    (ONEPASSWORD_GROUP, "OnePasswordItem"): _onepassword_item,
    (VAULT_SECRETS_GROUP, "VaultStaticSecret"): _vault_secret,
    (VAULT_SECRETS_GROUP, "VaultDynamicSecret"): _vault_secret,
    (FLUX_HELM_GROUP, "HelmRelease"): _helm_release,
    ("acid.zalan.do", "postgresql"): _zalando_postgresql,
    ("postgres-operator.crunchydata.com", "PostgresCluster"): _crunchy_postgres,
    ("k8s.mariadb.com", "MariaDB"): _generated_secret_refs,
    ("k8s.mariadb.com", "User"): _generated_secret_refs,
    (VOLSYNC_GROUP, "ReplicationSource"): _volsync,
    (VOLSYNC_GROUP, "ReplicationDestination"): _volsync,
}
"""(API group, kind) → what an object of it creates."""


def produced_by(res: Resource, extra: Iterable[ProducerEntry] = ()) -> Iterator[Produced]:
    """Every Secret, ConfigMap and claim ``res`` creates."""
    found = PRODUCERS.get((res.group, res.kind))
    if found is not None:
        yield from found(res)
    yield from _extra_products(res, extra)


def products(res: Resource) -> tuple[Produced, ...]:
    """:func:`produced_by` without ``.homeops.yaml`` entries, as a tuple (to keep in an
    :class:`~homeops.model.base.ObjectMemo`)."""
    return tuple(produced_by(res))


def memo_products(memo: ObjectMemo, res: Resource, key: tuple[str, str]) -> tuple[Produced, ...]:
    """:func:`products` of ``res`` (whose (group, kind) is ``key``) through a check's ``memo``; at
    once ``()`` for the kinds that create nothing, most objects, without asking the memo."""
    return memo(products, res) if key in PRODUCERS else ()


def with_extra(
    found: tuple[Produced, ...], res: Resource, extra: Iterable[ProducerEntry]
) -> Iterator[Produced]:
    """:func:`produced_by` of ``res`` from its :func:`products` and the ``.homeops.yaml`` entries."""
    yield from found
    yield from _extra_products(res, extra)


def _extra_products(res: Resource, extra: Iterable[ProducerEntry]) -> Iterator[Produced]:
    for entry in extra:
        if entry.kind == res.kind and (entry.group is None or entry.group == res.group):
            name = entry.name.format(name=res.name, namespace=_ns(res))
            yield Produced(
                entry.creates, _ns(res), name, f"{res.kind} {res.name!r} (.homeops.yaml producers)"
            )


# -- documents SOPS encrypted whole --------------------------------------------------------------

_ENC = "ENC["
_SHAPES = {
    "Secret": frozenset({"apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable"}),
    "ConfigMap": frozenset({"apiVersion", "kind", "metadata", "data", "binaryData", "immutable"}),
}


def is_sealed(res: Resource) -> bool:
    """A SOPS-encrypted document whose kind or name is encrypted too (``sops -e`` without
    ``encrypted_regex``): kustomize-controller decrypts any SOPS resource after the build, so it becomes
    an object whose identity no one can read without the key."""
    meta = res.obj.get("sops")
    return (
        isinstance(meta, dict) and "mac" in meta and (res.kind.startswith(_ENC) or res.name.startswith(_ENC))
    )


def sealed_may_be(
    res: Resource, kind: str, namespace: str, keys: Iterable[str] = (), *, reader: Resource | None = None
) -> bool:
    """Whether a sealed document (:func:`is_sealed`) may decrypt to the ``kind`` named in
    ``namespace``: its visible shape is that kind's (a ClusterRoleBinding has ``subjects``, a Secret
    ``data``/``stringData``), it holds every ``keys`` (SOPS leaves mapping keys readable), and it is in
    that namespace. An encrypted namespace could be any: then only for a ``reader`` applied by the same
    Flux Kustomization (an app's encrypted Secret sits in the app's folder), so that one such document
    does not hide every missing Secret of the cluster."""
    shape = _SHAPES.get(kind)
    fields = {str(k) for k in res.obj if k != "sops"}
    if shape is None or not fields <= shape or not fields & {"data", "stringData", "binaryData"}:
        return False
    if not res.kind.startswith(_ENC) and res.kind != kind:
        return False
    if not res.namespace or res.namespace.startswith(_ENC):
        if reader is not None and reader.notes.get("producer") != res.notes.get("producer"):
            return False
    elif res.namespace != namespace:
        return False
    held = {str(k) for part in ("data", "stringData", "binaryData") for k in _keys(res.obj.get(part))}
    return all(key in held for key in keys)


def _keys(value: Any) -> Iterable[Any]:
    return value if isinstance(value, dict) else ()


# -- bjw-s app-template (common library 4.x) ----------------------------------------------------------


def app_template_products(
    values: Mapping[str, Any], release: str, namespace: str, owner: str
) -> Iterator[Produced]:
    """The ConfigMaps, Secrets and claims an app-template release creates, named as the chart does."""
    for section, kind, claims in (
        ("configMaps", "ConfigMap", False),
        ("secrets", "Secret", False),
        ("persistence", "PersistentVolumeClaim", True),
    ):
        items = enabled_items(values, section, claims=claims)
        for identifier, item in items.items():
            name = app_template_name(values, release, namespace, identifier, item, len(items))
            if name:
                yield Produced(kind, namespace, name, f"{section}.{identifier} of HelmRelease {owner!r}")
