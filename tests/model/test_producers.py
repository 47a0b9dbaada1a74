"""What creates Secrets, ConfigMaps and claims: the producers table, and app-template's naming checked
against the real chart (rendered with Helm's Go SDK)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from homeops.model.base import Origin, Resource
from homeops.model.producers import produced_by
from homeops.model.values import app_template_refs, referenced_name
from homeops.settings import ProducerEntry

CHARTS = Path(__file__).resolve().parents[3] / "shared" / "charts"


def resource(
    api_version: str, kind: str, name: str, spec: dict[str, Any] | None = None, **meta: str
) -> Resource:
    obj: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "apps", **meta},
    }
    if spec is not None:
        obj["spec"] = spec
    return Resource(obj, Origin("x.yaml", 1))


def made(res: Resource, extra: tuple[ProducerEntry, ...] = ()) -> set[tuple[str, str, str]]:
    return {(p.kind, p.namespace, p.name) for p in produced_by(res, extra)}


@pytest.mark.parametrize(
    ("res", "expected"),
    [
        (
            resource("objectbucket.io/v1alpha1", "ObjectBucketClaim", "photos"),
            {("Secret", "apps", "photos"), ("ConfigMap", "apps", "photos")},
        ),
        (
            resource("external-secrets.io/v1", "ExternalSecret", "app", {"target": {"name": "app-secret"}}),
            {("Secret", "apps", "app-secret")},
        ),
        (resource("external-secrets.io/v1", "ExternalSecret", "app", {}), {("Secret", "apps", "app")}),
        (
            resource(
                "external-secrets.io/v1", "ExternalSecret", "app", {"target": {"creationPolicy": "Merge"}}
            ),
            set(),
        ),
        (
            resource("cert-manager.io/v1", "Certificate", "wildcard", {"secretName": "wildcard-tls"}),
            {("Secret", "apps", "wildcard-tls")},
        ),
        (
            resource("postgresql.cnpg.io/v1", "Cluster", "immich"),
            {("Secret", "apps", f"immich-{s}") for s in ("app", "superuser", "ca", "replication", "server")},
        ),
        (resource("bitnami.com/v1alpha1", "SealedSecret", "token"), {("Secret", "apps", "token")}),
        (resource("onepassword.com/v1", "OnePasswordItem", "wifi"), {("Secret", "apps", "wifi")}),
    ],
)
def test_the_table(res: Resource, expected: set[tuple[str, str, str]]) -> None:
    assert made(res) == expected


def test_a_cluster_external_secret_fills_every_namespace_it_names() -> None:
    res = resource(
        "external-secrets.io/v1",
        "ClusterExternalSecret",
        "registry",
        {"namespaces": ["a", "b"], "externalSecretSpec": {"target": {"name": "pull-secret"}}},
    )
    assert made(res) == {("Secret", "a", "pull-secret"), ("Secret", "b", "pull-secret")}


def test_a_repository_adds_its_own_producers() -> None:
    entry = ProducerEntry("Database", "db.example.com", "Secret", "{name}-credentials")
    assert made(resource("db.example.com/v1", "Database", "wiki"), (entry,)) == {
        ("Secret", "apps", "wiki-credentials")
    }
    assert made(resource("other.example.com/v1", "Database", "wiki"), (entry,)) == set()


def release(values: dict[str, Any], name: str = "immich") -> Resource:
    return resource(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        name,
        {"chartRef": {"kind": "OCIRepository", "name": "app-template"}, "values": values},
    )


CONTROLLERS = {"main": {"containers": {"app": {"image": {"repository": "example/app", "tag": "1.0"}}}}}

CASES: list[dict[str, Any]] = [
    # one configMaps/secrets/persistence entry is named after the release alone
    {
        "configMaps": {"config": {"data": {"a": "b"}}},
        "secrets": {"env": {"stringData": {"K": "v"}}},
        "persistence": {"data": {"size": "1Gi", "accessMode": "ReadWriteOnce"}},
    },
    # several: release-identifier; an identifier equal to the release is not repeated
    {
        "configMaps": {"config": {"data": {"k": "v"}}, "immich": {"data": {"k": "v"}}},
        "persistence": {
            "data": {"size": "1Gi", "accessMode": "ReadWriteOnce"},
            "cache": {"size": "1Gi", "accessMode": "ReadWriteOnce"},
            "media": {"existingClaim": "nas", "type": "persistentVolumeClaim"},
            "tmp": {"type": "emptyDir"},
        },
    },
    # prefix, suffix, forceRename, a disabled entry, fullnameOverride
    {
        "configMaps": {
            "a": {"prefix": "x", "data": {"k": "v"}},
            "b": {"suffix": "y", "data": {"k": "v"}},
            "c": {"forceRename": "{{ .Release.Name }}-forced", "data": {"k": "v"}},
            "d": {"enabled": False, "data": {"k": "v"}},
        }
    },
    {"fullnameOverride": "photos", "secrets": {"only": {"stringData": {"K": "v"}}}},
    {
        "global": {"alwaysAppendIdentifierToResourceName": True},
        "secrets": {"only": {"stringData": {"K": "v"}}},
    },
]


@pytest.mark.parametrize("values", CASES)
def test_app_template_names_match_the_real_chart(values: dict[str, Any], tmp_path: Path) -> None:
    if not (CHARTS / "app-template-4.1.1").is_dir():
        pytest.skip(f"app-template chart not found under {CHARTS}")
    pytest.importorskip("helm_python")
    from homeops.render.helm import HelmOptions, render_chart

    chart = tmp_path / "app-template"
    shutil.copytree(CHARTS / "app-template-4.1.1", chart)
    shutil.copytree(CHARTS / "common-4.1.1", chart / "charts" / "common")
    for schema in chart.rglob("values.schema.json"):
        schema.unlink()  # it refers to schemas on the network; the names do not depend on it
    full = {"controllers": CONTROLLERS, **values}
    objects = render_chart(chart, release_name="immich", namespace="apps", values=full, options=HelmOptions())
    rendered = {
        (o["kind"], "apps", o["metadata"]["name"])
        for o in objects
        if o["kind"] in ("ConfigMap", "Secret", "PersistentVolumeClaim")
    }
    assert made(release(full)) == rendered


def test_identifiers_in_references_stand_for_the_chart_s_own_names() -> None:
    values = {
        "controllers": {
            "main": {
                "containers": {
                    "app": {
                        "envFrom": [
                            {"secret": "env"},
                            {"secretRef": {"identifier": "env"}},
                            {"secret": "external"},
                        ]
                    }
                }
            }
        },
        "secrets": {"env": {"stringData": {"K": "v"}}},
        "persistence": {"config": {"type": "configMap", "identifier": "settings"}},
        "configMaps": {"settings": {"data": {"k": "v"}}},
    }
    names = {referenced_name(ref, values, "immich", "apps") for ref in app_template_refs(values)}
    assert names == {"immich", "external"}


def test_database_operators() -> None:
    zalando = resource("acid.zalan.do/v1", "postgresql", "wiki-db", {"users": {"wiki_app": ["createdb"]}})
    assert made(zalando) == {("Secret", "apps", "wiki-app.wiki-db.credentials.postgresql.acid.zalan.do")}
    mariadb = resource(
        "k8s.mariadb.com/v1alpha1",
        "MariaDB",
        "db",
        {"rootPasswordSecretKeyRef": {"name": "db-root", "key": "p", "generate": True}},
    )
    assert made(mariadb) == {("Secret", "apps", "db-root")}


def test_a_vendor_chart_may_make_names_starting_with_its_release_or_override() -> None:
    vendor = release(
        {"fullnameOverride": "prom", "alertmanager": {"enabled": True}}, name="kube-prometheus-stack"
    )
    products = {(p.kind, p.name, p.prefix) for p in produced_by(vendor)}
    assert ("Secret", "prom", True) in products and ("Secret", "kube-prometheus-stack", True) in products


def volsync(kind: str, name: str, spec: dict[str, Any]) -> Resource:
    return resource("volsync.backube/v1alpha1", kind, name, spec)


def test_volsync_movers_make_their_volumes_and_keys_as_volsync_names_them() -> None:
    """Names as VolSync's movers make them (controllers/mover/*: ``volsync-`` + owner + suffix)."""
    restic_backup = volsync(
        "ReplicationSource",
        "app",
        {"sourcePVC": "app", "restic": {"repository": "app-volsync-secret", "copyMethod": "Snapshot"}},
    )
    assert made(restic_backup) == {
        ("PersistentVolumeClaim", "apps", "volsync-app-src"),  # the point-in-time copy
        ("PersistentVolumeClaim", "apps", "volsync-app-cache"),  # restic's cache
    }
    # a restore into a claim of the repository's own (destinationPVC) makes only the cache
    restic_restore = volsync(
        "ReplicationDestination",
        "app-dst",
        {"restic": {"repository": "app-volsync-secret", "destinationPVC": "app", "copyMethod": "Direct"}},
    )
    assert made(restic_restore) == {("PersistentVolumeClaim", "apps", "volsync-app-dst-cache")}
    # without one, VolSync provisions the destination volume itself (the volume populator's case)
    populator = volsync("ReplicationDestination", "app-dst", {"restic": {"copyMethod": "Snapshot"}})
    assert ("PersistentVolumeClaim", "apps", "volsync-app-dst-dest") in made(populator)
    rsync_tls = volsync("ReplicationDestination", "mirror", {"rsyncTLS": {"copyMethod": "Snapshot"}})
    assert made(rsync_tls) == {
        ("PersistentVolumeClaim", "apps", "volsync-mirror-dst"),
        (
            "Secret",
            "apps",
            "volsync-rsync-tls-mirror",
        ),  # the generated TLS-PSK key (status.rsyncTLS.keySecret)
    }
    given_key = volsync("ReplicationSource", "push", {"sourcePVC": "data", "rsyncTLS": {"keySecret": "psk"}})
    assert made(given_key) == set()  # Direct, and the key is the user's
    rsync = volsync("ReplicationDestination", "mirror", {"rsync": {"destinationPVC": "data"}})
    assert made(rsync) == {
        ("Secret", "apps", f"volsync-rsync-dst-{part}-mirror") for part in ("main", "src", "dest")
    }
    rclone = volsync("ReplicationSource", "copy", {"sourcePVC": "data", "rclone": {"copyMethod": "Clone"}})
    assert made(rclone) == {("PersistentVolumeClaim", "apps", "volsync-copy-src")}
