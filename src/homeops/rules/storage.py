"""Rules for seed rule "Define storage explicitly"."""

from __future__ import annotations

from collections.abc import Iterator

from ..model.kinds import PersistentVolumeClaim
from ..model.values import app_template_persistence
from .base import Hit, Severity, rule
from .context import Context

#: Keys of a volume in app-template's ``persistence`` (and the k8s-at-home common library it came
#: from). Vendor charts use ``persistence`` for other things (longhorn: its StorageClass settings,
#: ``recurringJobSelector: {enable: true}``): an entry with none of these keys is not a volume.
_VOLUME_KEYS = frozenset(
    {
        "type",
        "size",
        "accessMode",
        "accessModes",
        "storageClass",
        "existingClaim",
        "mountPath",
        "subPath",
        "globalMounts",
        "advancedMounts",
        "retain",
        "readOnly",
    }
)


@rule(
    id="STO001",
    name="storage-unspecified",
    family="storage",
    severity=Severity.WARNING,
    seed="Define storage explicitly: workloads specify PVCs or NFS claims before Flux applies them",
    summary="Persistence names neither an existing claim nor a storage class",
    why="A claim without a storage class binds to whatever the cluster default is (or stays Pending when "
    "there is none): databases land on slow NFS, media on small Ceph pools, and moving them later means "
    "copying data.",
    bad="persistence:\n  config:\n    size: 5Gi\n",
    good="persistence:\n  config:\n    existingClaim: immich-config\n# or\n"
    "  config:\n    storageClass: rook-ceph-block\n    size: 5Gi\n",
    fix="Set existingClaim (a PVC defined next to the app) or storageClass (rook-ceph-block for databases "
    "and configs, NFS for media).",
    one_per_line=True,
)
def storage_unspecified(ctx: Context) -> Iterator[Hit]:
    for res, release in ctx.helm_releases():
        for item in app_template_persistence(release.values):
            if item.type != "persistentVolumeClaim" or item.existing_claim or item.storage_class:
                continue
            entry = release.values.get("persistence", {}).get(item.name, {})
            if not isinstance(entry, dict) or _VOLUME_KEYS.isdisjoint(entry):
                continue  # not a volume of app-template's shape
            if entry.get("volumeName") or entry.get("dataSourceRef"):
                continue
            hit = ctx.hit(
                res,
                ("spec", "values", *item.path),
                f"HelmRelease {release.name!r} persistence {item.name!r} names neither existingClaim nor "
                "storageClass",
            )
            yield hit
    for res in ctx.subjects_of(("", "PersistentVolumeClaim")):
        claim = PersistentVolumeClaim(res)
        if claim.storage_class is None and not claim.spec.get("volumeName"):
            hit = ctx.hit(
                res,
                ("spec",),
                f"PersistentVolumeClaim {res.name!r} sets no storageClassName",
                "set spec.storageClassName",
            )
            yield hit
