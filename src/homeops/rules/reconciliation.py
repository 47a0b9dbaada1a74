"""Rules for the HelmRelease and Kustomization state machines: retries, durations, API versions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model.base import Resource, get_path
from ..model.flux import DEPRECATED_VERSIONS, FLUX_HELM_GROUP, FLUX_KUSTOMIZE_GROUP, FLUX_SOURCE_GROUP
from .base import Hit, Severity, rule
from .context import Context

DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_FLUX_GROUPS = (FLUX_HELM_GROUP, FLUX_KUSTOMIZE_GROUP, FLUX_SOURCE_GROUP)


@rule(
    id="REC001",
    name="no-remediation-retries",
    family="reconciliation",
    severity=Severity.WARNING,
    seed="HelmRelease retry: Failed state triggers remediation.retries (typically 3 attempts)",
    summary="A HelmRelease does not retry a failed install or upgrade",
    why="Without remediation retries a single failed install or upgrade (a slow image pull, a webhook not "
    "ready yet) leaves the release Failed until someone intervenes; with retries Flux rolls back or "
    "uninstalls and tries again.",
    bad="spec:\n  interval: 1h\n  chartRef: {kind: OCIRepository, name: app-template}\n",
    good="spec:\n  install:\n    remediation:\n      retries: 3\n  upgrade:\n    cleanupOnFail: true\n"
    "    remediation:\n      retries: 3\n",
    fix="Set install.remediation.retries and upgrade.remediation.retries (for all apps at once: a patch "
    "in the parent Kustomization, as many repos do), or use strategy RetryOnFailure.",
    one_per_line=True,
)
def no_remediation(ctx: Context) -> Iterator[Hit]:
    grouped: dict[tuple[str, int], list[tuple[str, list[str]]]] = {}
    for res, release in ctx.helm_releases():
        if not ctx.is_applied(res):
            continue  # parent patches decide; only the applied release is known
        retry_by_default = _retry_by_default(ctx)
        missing = [
            action
            for action in ("install", "upgrade")
            if release.retries(action) is None
            and (get_path(release.spec, action, "strategy", "name") or _DEFAULT_STRATEGY[retry_by_default])
            != "RetryOnFailure"
        ]
        if not missing:
            continue
        source = _defaults_patch(ctx, res)
        if source is not None:
            grouped.setdefault(source, []).append((f"{release.namespace}/{release.name}", missing))
            continue
        field = missing[0]
        hit = ctx.hit(
            res,
            ("spec", field) if field in release.spec else ("spec",),
            f"HelmRelease {release.name!r} does not retry a failed {' or '.join(missing)}",
            f"set {' and '.join(f'{m}.remediation.retries' for m in missing)} (e.g. 3)",
        )
        yield hit
    for (path, line), releases in sorted(grouped.items()):
        actions = sorted({a for _, missing in releases for a in missing})
        settings = " or ".join(f"{a}.remediation.retries" for a in actions)
        plural, verb = ("s", "y") if len(releases) != 1 else ("", "ies")
        names = ", ".join(name for name, _ in sorted(releases)[:3]) + (", …" if len(releases) > 3 else "")
        yield Hit(
            path,
            line,
            f"the HelmRelease defaults patched in here do not set {settings}: "
            f"{len(releases)} HelmRelease{plural} never retr{verb} "
            f"a failed {' or '.join(actions)} ({names})",
            f"add {' and '.join(f'{a}.remediation.retries: 3' for a in actions)} to this patch",
        )


_DEFAULT_STRATEGY = {False: "RemediateOnFailure", True: "RetryOnFailure"}
_RETRY_GATE = re.compile(r"feature-gates=[^\s\"']*DefaultToRetryOnFailure=true")


def _retry_by_default(ctx: Context) -> bool:
    """Whether helm-controller runs with ``--feature-gates=DefaultToRetryOnFailure=true``: a release
    that names no strategy then retries on failure (helm-controller's API: "Defaults to
    'RemediateOnFailure', or 'RetryOnFailure' when the DefaultToRetryOnFailure feature gate is
    enabled"). Looked for where Flux itself is configured: files the clusters read, their entry points
    and the bootstrap."""

    def find() -> bool:
        bootstrap = ctx.bootstrap
        candidates = set(ctx.applied_files) | set(bootstrap.helmfiles)
        candidates |= {v for r in bootstrap.releases for v in r.values}
        candidates |= {f for c in ctx.flux.clusters.values() for f in c.root_files}
        for path in sorted(candidates):
            if not path.endswith((".yaml", ".yml")) or not _names_retry_gate(ctx, path):
                continue
            lines = ctx.lines(path)
            if lines and any("DefaultToRetryOnFailure" in ln and _RETRY_GATE.search(ln) for ln in lines):
                return True
        return False

    return ctx.memo("retry-by-default", find)


def _names_retry_gate(ctx: Context, path: str) -> bool:
    """Whether the file mentions the feature gate at all (most do not: no need to split them into lines)."""
    try:
        return b"DefaultToRetryOnFailure" in ctx.tree.read_bytes(path)
    except OSError:
        return False


def _defaults_patch(ctx: Context, res: Resource) -> tuple[str, int] | None:
    """Where the patch that gives this release its Flux defaults is written, if one does."""
    producer = ctx.flux.producer_of(res)
    if producer is None:
        return None
    patches = [p for p in producer.ks.patches if _targets_helm_release(p)]
    if not patches:
        return None
    own = ctx.flux.tree.parsed(producer.ks.origin.path).documents
    original = own[producer.ks.origin.index] if producer.ks.origin.index < len(own) else None
    if get_path(original, "spec", "patches"):
        return producer.ks.origin.path, ctx.line_of(producer.ks.res, "spec", "patches")
    parent = ctx.flux.producers.get((producer.cluster, producer.parent)) if producer.parent else None
    if parent is None:
        return None
    return parent.ks.origin.path, ctx.line_of(parent.ks.res, "spec", "patches")


def _targets_helm_release(patch: object) -> bool:
    target = get_path(patch, "target", "kind")
    text = get_path(patch, "patch")
    return target == "HelmRelease" or (isinstance(text, str) and "kind: HelmRelease" in text)


_DURATION_FIELDS = {
    "Kustomization": ("interval", "timeout", "retryInterval"),
    "HelmRelease": ("interval", "timeout"),
    "GitRepository": ("interval", "timeout"),
    "OCIRepository": ("interval", "timeout"),
    "HelmRepository": ("interval", "timeout"),
    "HelmChart": ("interval",),
    "Bucket": ("interval", "timeout"),
}
_DURATION_KINDS = tuple((group, kind) for group in _FLUX_GROUPS for kind in _DURATION_FIELDS)
_REQUIRES_INTERVAL = ("Kustomization", "HelmRelease", "GitRepository", "OCIRepository", "HelmChart", "Bucket")


@rule(
    id="REC002",
    name="invalid-duration",
    family="reconciliation",
    severity=Severity.ERROR,
    seed='Interval must be duration format (e.g. "1h", "30m")',
    summary="An interval, timeout or retryInterval is missing or not a Go duration",
    why="The Flux API rejects the object ('spec.interval: Invalid value'), so the parent Kustomization "
    "fails to apply it at all.",
    bad="spec:\n  interval: 1 hour\n",
    good="spec:\n  interval: 1h\n",
    fix="Use a Go duration: a number and a unit (ms, s, m, h), e.g. 30m, 1h, 1h30m.",
    one_per_line=True,
)
def invalid_duration(ctx: Context) -> Iterator[Hit]:
    for res in ctx.subjects_of(*_DURATION_KINDS):
        fields = _DURATION_FIELDS[res.kind]
        spec = res.obj.get("spec")
        if not isinstance(spec, dict):
            continue
        for field in fields:
            value = spec.get(field)
            if value is None:
                if field == "interval" and res.kind in _REQUIRES_INTERVAL and res.version not in ("v1beta1",):
                    hit = ctx.hit(res, ("spec",), f"{res.kind} {res.name!r} has no spec.interval (required)")
                else:
                    continue
            elif isinstance(value, str) and "${" in value:
                continue
            elif not isinstance(value, str) or not DURATION.match(value):
                hit = ctx.hit(
                    res,
                    ("spec", field),
                    f"{res.kind} {res.name!r}: {field} {value!r} is not a duration",
                    "use a Go duration such as 30m or 1h",
                )
            else:
                continue
            yield hit


@rule(
    id="REC003",
    name="deprecated-api",
    family="reconciliation",
    severity=Severity.WARNING,
    seed="HelmRelease v2 (v2beta1/v2beta2 recognised and flagged)",
    summary="A Flux object uses a deprecated or removed API version",
    why="Flux 2.x removed the beta APIs (helm.toolkit.fluxcd.io/v2beta1, kustomize.toolkit.fluxcd.io/"
    "v1beta2, …); objects still using them fail to apply after an upgrade, often in leftovers generated "
    "by an old template.",
    bad="apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n",
    good="apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n",
    fix="Change apiVersion to the stable version (and rename fields that changed, e.g. v2beta1 "
    "spec.chart.spec.valuesFile → valuesFiles).",
    one_per_line=True,
)
def deprecated_api(ctx: Context) -> Iterator[Hit]:
    for res in ctx.subjects():
        replacement = DEPRECATED_VERSIONS.get((res.group, res.version))
        if replacement is None:
            continue
        hit = ctx.hit(
            res,
            ("apiVersion",),
            f"{res.kind} {res.name!r} uses {res.api_version}",
            f"use {res.group}/{replacement}",
        )
        yield hit
