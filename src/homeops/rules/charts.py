"""Rules for charts: versions pinned (seed: every HelmRelease pins chart versions), app-template first."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model.base import ObjectRef
from ..model.flux import FLUX_HELM_GROUP, FLUX_SOURCE_GROUP, HelmChart, HelmRelease, OCIRepository
from ..model.values import is_app_template
from .base import Hit, Severity, rule
from .context import Context

_EXACT = re.compile(r"^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$")

#: Namespaces that hold infrastructure; vendor charts are expected there (seed rule 4's exception).
INFRA_NAMESPACES = frozenset(
    {
        "kube-system",
        "flux-system",
        "cert-manager",
        "external-secrets",
        "network",
        "networking",
        "rook-ceph",
        "longhorn-system",
        "storage",
        "database",
        "dbms",
        "observability",
        "monitoring",
        "o11y",
        "system",
        "security",
        "ingress-nginx",
        "metallb-system",
        "cnpg-system",
        "tigera-operator",
        "default-system",
        "openebs",
        "openebs-system",
        "velero",
        "traefik",
        "envoy-gateway-system",
        "gpu-operator",
        "nvidia",
        "intel-device-plugins",
        "volsync",
        "csi-driver-nfs",
        "democratic-csi",
    }
)


def unpinned_version(version: str | None) -> str | None:
    """Why a chart version constraint floats, or None when it names one version."""
    if version is None or not version.strip():
        return "no version (Flux installs the newest chart)"
    if _EXACT.match(version.strip()):
        return None
    return f"version {version!r} is a range, not one version"


def _oci_unpinned(repo: OCIRepository) -> tuple[str | None, tuple[str, ...]]:
    """Why an OCIRepository's reference floats (None when it names one artifact), and where."""
    ref = repo.ref
    if ref.get("digest"):
        return None, ()
    semver = ref.get("semver")
    if semver is not None:
        # A semver range follows new releases exactly like a ranged HelmRelease chart version.
        why = unpinned_version(str(semver))
        return (why.replace("version", "semver", 1) if why else None), ("spec", "ref", "semver")
    tag = ref.get("tag")
    if tag is None or not str(tag).strip():
        return "no tag, semver or digest (Flux follows 'latest')", ("spec", "ref")
    if str(tag) == "latest":
        return "tag 'latest' moves with every release", ("spec", "ref", "tag")
    return None, ()


def _versionless(ref: ObjectRef | None) -> bool:
    """Charts from a GitRepository or a Bucket have no version to pin: helm-controller ignores
    ``version`` for them and builds the chart at the source's revision."""
    return ref is not None and ref.kind in ("GitRepository", "Bucket")


@rule(
    id="CHT001",
    name="chart-not-pinned",
    family="charts",
    severity=Severity.WARNING,
    seed="Every HelmRelease pins chart/image versions",
    summary="A chart version is not pinned",
    why="A floating chart version upgrades on Flux's schedule rather than through a reviewed commit; a "
    "breaking chart release then reaches the cluster without anyone looking.",
    bad="chart:\n  spec:\n    chart: cert-manager\n    version: '*'\n",
    good="chart:\n  spec:\n    chart: cert-manager\n    version: v1.16.2\n",
    fix="Set the exact chart version (OCIRepository: ref.tag or ref.digest) and let Renovate bump it.",
    one_per_line=True,
)
def chart_not_pinned(ctx: Context) -> Iterator[Hit]:
    for res in ctx.subjects_of(
        (FLUX_HELM_GROUP, "HelmRelease"),
        (FLUX_SOURCE_GROUP, "HelmChart"),
        (FLUX_SOURCE_GROUP, "OCIRepository"),
    ):
        if res.group == FLUX_HELM_GROUP and res.kind == "HelmRelease":
            chart = HelmRelease(res).chart
            if chart is None or _versionless(chart.source_ref):
                continue
            why = unpinned_version(chart.version)
            path: tuple[str, ...] = ("spec", "chart", "spec", "version" if chart.version else "chart")
            subject = f"HelmRelease {res.name!r} chart {chart.chart!r}"
        elif res.group == FLUX_SOURCE_GROUP and res.kind == "HelmChart":
            helm_chart = HelmChart(res)
            if _versionless(helm_chart.source_ref):
                continue
            why = unpinned_version(helm_chart.version)
            path = ("spec", "version")
            subject = f"HelmChart {res.name!r}"
        elif res.group == FLUX_SOURCE_GROUP and res.kind == "OCIRepository":
            why, path = _oci_unpinned(OCIRepository(res))
            subject = f"OCIRepository {res.name!r}"
        else:
            continue
        if why:
            hit = ctx.hit(res, path, f"{subject}: {why}", "pin an exact version")
            yield hit


@rule(
    id="CHT002",
    name="not-app-template",
    family="charts",
    severity=Severity.INFO,
    seed="Apps use app-template chart; vendor charts only when necessary (infrastructure excepted)",
    summary="An app uses a vendor chart instead of bjw-s app-template",
    why="app-template gives every app the same structure (controllers, persistence, route), so reviews, "
    "Renovate rules and these checks work the same everywhere. Infrastructure is expected to use vendor "
    "charts and is not reported.",
    bad="chart:\n  spec:\n    chart: some-app\n    sourceRef:\n"
    "      kind: HelmRepository\n      name: vendor\n",
    good="chartRef:\n  kind: OCIRepository\n  name: app-template\n",
    fix="Consider porting the app to app-template; keep the vendor chart when it carries real logic "
    "(operators, CRDs).",
)
def not_app_template(ctx: Context) -> Iterator[Hit]:
    for res, release in ctx.helm_releases():
        namespace = release.release_namespace
        if namespace in INFRA_NAMESPACES or namespace.endswith("-system") or not ctx.is_applied(res):
            continue
        name, url = _chart_identity(ctx, res, release)
        if name is None and url is None:
            continue
        if not is_app_template(name, url):
            chart = name or (url or "").rsplit("/", 1)[-1]
            yield ctx.hit(res, ("spec",), f"HelmRelease {release.name!r} uses the vendor chart {chart!r}")


def _chart_identity(ctx: Context, res: object, release: HelmRelease) -> tuple[str | None, str | None]:
    chart = release.chart
    if chart is not None:
        return chart.chart, None
    ref = release.chart_ref
    if ref is None:
        return None, None
    source = ctx.index(ctx.cluster_of(release.res)).sources.get(ref.id)
    if source is None:
        return None, None
    url = source.obj.get("spec", {}).get("url") if isinstance(source.obj.get("spec"), dict) else None
    return None, url if isinstance(url, str) else None
