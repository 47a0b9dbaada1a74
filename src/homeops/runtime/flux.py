"""The Flux machines: Kustomization (kustomize-controller v1) and HelmRelease (helm-controller v2).

Checked against the specs in ``../shared/runtime/flux-specs/`` and the controllers' sources:
helm-controller ``internal/reconcile/atomic_release.go`` (the next action from the release state,
remediation, ``RetriesExceeded``), ``internal/controller/helmrelease_controller.go`` (dependencies
re-checked every ``--requeue-dependency``, the source watch, ``Requeue: true`` after a remediation),
``api/v2`` (``RetriesExhausted``: failures > retries; ``remediateLastFailure`` defaults), and
kustomize-controller ``api/v1`` (``GetTimeout``, ``GetRetryInterval``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import defaults as d
from .machine import Cond, Field, Machine, NoStatus, Recognise, Stale, State, Timer, Transition

SUSPENDED_OR_STALLED = (
    Recognise("Suspended", (Field("spec.suspend", True),), reason="Suspended"),
    Recognise("Stalled", (Cond("Stalled", "True"),)),
)
"""How every Flux object is read first (fluxcd/pkg runtime conditions): suspended on purpose, or stalled."""
IN_PROGRESS_OR_READY = (
    Recognise("Reconciling", (Cond("Reconciling", "True"),)),
    Recognise("Reconciling", (Stale(),), reason="LatestGenerationNotObserved"),
    Recognise("Ready", (Cond("Ready", "True"),)),
    Recognise("Reconciling", (Cond("Ready", "Unknown"),)),
    Recognise("Reconciling", (NoStatus(),), reason="NoStatus"),
)
"""And last, once no failure matched: reconciling (or a spec not yet observed), or Ready."""

_FLUX_SOURCES_KS = (
    "flux-specs/kustomizations.md (fluxcd/kustomize-controller @ 186fb3b docs/spec/v1)",
    "fluxcd/kustomize-controller api/v1/kustomization_types.go: GetTimeout, GetRetryInterval",
    "fluxcd/kustomize-controller main.go: --requeue-dependency 30s, --concurrent 4",
)

KUSTOMIZATION = Machine(
    kind="Kustomization",
    api="kustomize.toolkit.fluxcd.io/v1",
    slug="kustomization",
    title="Flux Kustomization",
    summary="kustomize-controller fetches the source artifact, checks `dependsOn`, builds, applies, "
    "prunes and (with `wait` or `healthChecks`) waits for what it applied to be healthy. A failure "
    "is retried every `retryInterval`; a dependency that is not Ready is re-checked every 30 s.",
    initial="Absent",
    states=(
        State("Absent", "not in the cluster yet: its parent Kustomization has not applied it", "absent"),
        State("Suspended", "`spec.suspend: true`: nothing is applied until resumed", "suspended", final=True),
        State("Reconciling", "fetching, building, applying or health-checking", "progressing"),
        State("Blocked", "waiting for a `dependsOn` Kustomization to be Ready", "waiting"),
        State("Failed", "the last attempt failed; retried every `retryInterval`", "failing"),
        State(
            "Stalled", "a failure that no retry can fix (invalid spec): needs a change", "stalled", final=True
        ),
        State("Ready", "applied and, with `wait`/`healthChecks`, healthy", "healthy"),
    ),
    transitions=(
        Transition("Absent", "Reconciling", "applied by its parent Kustomization (or by flux bootstrap)"),
        Transition(
            "Reconciling",
            "Failed",
            "the source has no artifact yet",
            guard="source not Ready",
            reason="ArtifactFailed",
        ),
        Transition(
            "Reconciling",
            "Blocked",
            "dependency check",
            guard="a dependsOn Kustomization is not Ready (or does not exist)",
            timer="requeue-dependency",
            reason="DependencyNotReady",
        ),
        Transition(
            "Blocked", "Reconciling", "re-check", guard="every dependency Ready", timer="requeue-dependency"
        ),
        Transition("Reconciling", "Failed", "kustomize build fails", reason="BuildFailed"),
        Transition("Reconciling", "Failed", "server-side apply fails", reason="ReconciliationFailed"),
        Transition("Reconciling", "Failed", "garbage collection fails", reason="PruneFailed"),
        Transition(
            "Reconciling",
            "Failed",
            "health checks not passing within the timeout, or a checked object Failed",
            guard="wait: true or healthChecks",
            timer="timeout",
            reason="HealthCheckFailed",
        ),
        Transition(
            "Failed",
            "Reconciling",
            "retry",
            timer="retryInterval",
            reason="ProgressingWithRetry",
        ),
        Transition(
            "Reconciling",
            "Ready",
            "applied (and healthy, with wait/healthChecks)",
            reason="ReconciliationSucceeded",
            emits=("FluxReconciled",),
        ),
        Transition(
            "Ready", "Reconciling", "interval elapsed, new source revision or spec change", timer="interval"
        ),
        Transition(
            "Reconciling", "Stalled", "a terminal error no retry can fix (e.g. an invalid CEL expression)"
        ),
        Transition("Stalled", "Reconciling", "spec change"),
        Transition("Ready", "Suspended", "spec.suspend set"),
        Transition("Suspended", "Reconciling", "spec.suspend removed"),
    ),
    timers=(
        Timer("interval", None, "spec.interval (required)", fields=("spec.interval",)),
        Timer(
            "retryInterval",
            None,
            "spec.retryInterval, default spec.interval",
            fields=("spec.retryInterval", "spec.interval"),
        ),
        Timer(
            "timeout",
            None,
            "spec.timeout, default spec.interval - 30s (at least 30s)",
            fields=("spec.timeout",),
        ),
        Timer("requeue-dependency", d.REQUEUE_DEPENDENCY, d.REQUEUE_DEPENDENCY_SOURCE),
    ),
    recognise=(
        *SUSPENDED_OR_STALLED,
        Recognise("Blocked", (Cond("Ready", "False", ("DependencyNotReady",)),)),
        Recognise("Failed", (Cond("Ready", "False"),)),
        *IN_PROGRESS_OR_READY,
    ),
    fallback=("Reconciling", "Unknown"),
    seed_differences=(
        "The seeds draw Idle → Fetching → Building → Applying → Ready. kustomize-controller reports these "
        "steps only in the `Reconciling` condition's message; its states are the conditions Reconciling, "
        "Ready=True/False/Unknown and Stalled.",
        '"Retry on failure: exponential backoff" (seed 002): a failed Kustomization is retried at '
        "`spec.retryInterval` (default `spec.interval`), a fixed period; the controller's exponential "
        "rate limiter only applies to errors returned without a requeue.",
        '"Failed sync blocks dependents indefinitely": dependents are re-checked every 30 s '
        "(`--requeue-dependency`) and proceed as soon as the dependency is Ready.",
        "The seeds' 1h, 30m and 5m intervals are each one repository's `spec.interval`, not a Flux default: "
        "`interval` is required.",
    ),
    sources=_FLUX_SOURCES_KS,
)


_FLUX_SOURCES_HR = (
    "flux-specs/helmreleases.md (fluxcd/helm-controller @ 0f61a86 docs/spec/v2)",
    "fluxcd/helm-controller internal/reconcile/atomic_release.go: actionForState, RetriesExceeded",
    "fluxcd/helm-controller internal/controller/helmrelease_controller.go: dependencies every "
    "--requeue-dependency, SourceNotReady waits for the source watch, Requeue: true after remediation",
    "fluxcd/helm-controller api/v2: InstallRemediation.RetriesExhausted (failures > retries), "
    "UpgradeRemediation.MustRemediateLastFailure (default: retries > 0)",
    d.RETRY_SOURCE,
)

HELM_RELEASE = Machine(
    kind="HelmRelease",
    api="helm.toolkit.fluxcd.io/v2",
    slug="helmrelease",
    title="Flux HelmRelease",
    summary="helm-controller checks `dependsOn` (every 30 s) and the chart source, composes values, then "
    "runs one Helm action at a time: install (no release yet) or upgrade, each bounded by its timeout. "
    "With the default RemediateOnFailure strategy a failed action is remediated (install: uninstall; "
    "upgrade: rollback) and retried until `retries` is exhausted (failures > retries, so `retries: 3` "
    "means 4 attempts), then the release is Stalled until its chart or values change or it is reset. "
    "With RetryOnFailure it retries every `retryInterval` without remediation and never stalls.",
    initial="Absent",
    states=(
        State("Absent", "not in the cluster yet: its Kustomization has not applied it", "absent"),
        State("Suspended", "`spec.suspend: true`", "suspended", final=True),
        State("Reconciling", "fulfilling prerequisites (dependencies, chart, values)", "progressing"),
        State("Blocked", "waiting for a dependsOn HelmRelease or the chart source to be Ready", "waiting"),
        State(
            "Installing", "running the Helm install action (bounded by the install timeout)", "progressing"
        ),
        State("Upgrading", "running the Helm upgrade action (bounded by the upgrade timeout)", "progressing"),
        State("Remediating", "uninstalling (failed install) or rolling back (failed upgrade)", "progressing"),
        State("Failed", "the last action failed; a retry is scheduled", "failing"),
        State(
            "Stalled",
            "retries exhausted (or no rollback target): needs a change or a reset",
            "stalled",
            final=True,
        ),
        State("Ready", "released, up to date and (if enabled) tested", "healthy"),
    ),
    transitions=(
        Transition("Absent", "Reconciling", "applied by its Kustomization"),
        Transition(
            "Reconciling",
            "Blocked",
            "dependency check",
            guard="a dependsOn HelmRelease is not Ready",
            timer="requeue-dependency",
            reason="DependencyNotReady",
        ),
        Transition(
            "Blocked", "Reconciling", "re-check", guard="every dependency Ready", timer="requeue-dependency"
        ),
        Transition(
            "Reconciling",
            "Blocked",
            "the chart source has no artifact",
            guard="OCIRepository / HelmChart not Ready",
            reason="SourceNotReady",
        ),
        Transition("Blocked", "Reconciling", "the source produced an artifact (watch event)"),
        Transition(
            "Reconciling",
            "Failed",
            "a valuesFrom ConfigMap or Secret is missing",
            timer="retry-backoff",
            reason="ValuesError",
        ),
        Transition(
            "Reconciling", "Installing", "no release in storage", guard="install retries not exhausted"
        ),
        Transition(
            "Reconciling",
            "Upgrading",
            "release out of sync (chart, values)",
            guard="upgrade retries not exhausted",
        ),
        Transition(
            "Installing",
            "Ready",
            "install succeeded (resources ready unless disableWait)",
            reason="InstallSucceeded",
            emits=("HelmReleaseReady",),
        ),
        Transition(
            "Upgrading",
            "Ready",
            "upgrade succeeded",
            reason="UpgradeSucceeded",
            emits=("HelmReleaseReady",),
        ),
        Transition(
            "Installing", "Failed", "install failed or timed out", timer="timeout", reason="InstallFailed"
        ),
        Transition(
            "Upgrading", "Failed", "upgrade failed or timed out", timer="timeout", reason="UpgradeFailed"
        ),
        Transition(
            "Failed",
            "Remediating",
            "RemediateOnFailure",
            guard="failures ≤ retries, or remediateLastFailure",
            reason="ProgressingWithRetry",
        ),
        Transition(
            "Remediating",
            "Installing",
            "uninstall done; requeued by the rate limiter",
            guard="failures ≤ retries",
            timer="retry-backoff",
            reason="UninstallSucceeded",
        ),
        Transition(
            "Remediating",
            "Upgrading",
            "rollback done; requeued by the rate limiter",
            guard="failures ≤ retries",
            timer="retry-backoff",
            reason="RollbackSucceeded",
        ),
        Transition(
            "Failed",
            "Stalled",
            "retries exhausted",
            guard="failures > retries (retries ≥ 0)",
            reason="RetriesExceeded",
        ),
        Transition(
            "Remediating",
            "Stalled",
            "last failure remediated, retries exhausted",
            guard="remediateLastFailure and failures > retries",
            reason="RetriesExceeded",
        ),
        Transition(
            "Failed",
            "Upgrading",
            "RetryOnFailure: retry (a failed install is retried as an upgrade)",
            timer="retryInterval",
        ),
        Transition("Stalled", "Reconciling", "new chart version, new values or `flux reconcile hr --reset`"),
        Transition(
            "Ready",
            "Reconciling",
            "interval, new chart revision, spec or valuesFrom change",
            timer="interval",
        ),
        Transition("Ready", "Suspended", "spec.suspend set"),
        Transition("Suspended", "Reconciling", "spec.suspend removed"),
    ),
    timers=(
        Timer("interval", None, "spec.interval (required)", fields=("spec.interval",)),
        Timer(
            "timeout",
            d.HELM_TIMEOUT,
            "spec.install|upgrade|rollback|uninstall.timeout, default spec.timeout (5m0s)",
            fields=("spec.install.timeout", "spec.timeout"),
        ),
        Timer(
            "retryInterval",
            d.HELM_RETRY_INTERVAL,
            "spec.install|upgrade.strategy.retryInterval (RetryOnFailure, 5m)",
            fields=("spec.install.strategy.retryInterval", "spec.upgrade.strategy.retryInterval"),
        ),
        Timer("requeue-dependency", d.REQUEUE_DEPENDENCY, d.REQUEUE_DEPENDENCY_SOURCE),
        Timer("retry-backoff", d.RETRY_MIN, d.RETRY_SOURCE, cap=d.RETRY_MAX),
    ),
    recognise=(
        *SUSPENDED_OR_STALLED,
        Recognise(
            "Blocked",
            (Cond("Ready", "False", ("DependencyNotReady", "SourceNotReady", "HelmChartNotReady")),),
        ),
        Recognise("Installing", (Cond("Reconciling", "True", message="'install' action"),)),
        Recognise("Upgrading", (Cond("Reconciling", "True", message="'upgrade' action"),)),
        Recognise("Remediating", (Cond("Reconciling", "True", message="'uninstall' action"),)),
        Recognise("Remediating", (Cond("Reconciling", "True", message="'rollback' action"),)),
        Recognise("Failed", (Cond("Ready", "False"),)),
        *IN_PROGRESS_OR_READY,
    ),
    fallback=("Reconciling", "Unknown"),
    seed_differences=(
        '"HelmRelease retries 3 times with exponential backoff" (seeds 000, 002): `retries: 3` gives 4 '
        "attempts (retries are exhausted when failures > retries), each bounded by its `timeout` (5m by "
        "default), with an uninstall (install) or rollback (upgrade) between them; the pause between "
        "attempts is the controller's rate limiter (750ms doubling), not a growing back-off of minutes.",
        "After the last attempt the release is Stalled (`Stalled=True`, reason RetriesExceeded) and is not "
        "retried at its interval: only a new chart version, new values or a reset "
        "(`flux reconcile helmrelease NAME --reset`) starts it again. With the default `retries: 0` that "
        "happens after the first failure.",
        '"Installing → Ready: all pods running" (seed 000): Ready means the Helm action succeeded, which '
        "by default waits for the release's resources to be ready (`disableWait: false`); with "
        "`disableWait` it says nothing about pods (seed 002's critical insight).",
        "`upgrade.strategy: RetryOnFailure` retries every `retryInterval` (5m) without remediation and "
        "never stalls, a behaviour the seeds do not describe.",
        "The seeds' Pending and Deleting states are not conditions helm-controller sets: Pending is "
        "Reconciling before the first action, and deletion removes the object once uninstalled.",
    ),
    sources=_FLUX_SOURCES_HR,
)


def allowed_attempts(retries: int | None, *, retry_on_failure: bool = False) -> int | None:
    """How many install (or upgrade) attempts helm-controller makes before the release is Stalled.

    Retries are exhausted when failures > retries, so ``retries: R`` gives R + 1 attempts (one when
    unset). None when it never gives up: a negative ``retries``, or the RetryOnFailure strategy.
    """
    if retry_on_failure:
        return None
    retries = 0 if retries is None else retries
    return None if retries < 0 else retries + 1


def release_attempts(obj: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(failed attempts so far, attempts allowed) of a live HelmRelease's current install or upgrade.

    The action is an upgrade once a release was deployed (``status.history``, ``lastAppliedRevision``);
    (None, None) when the current action has not failed.
    """
    status, spec = _sub(obj, "status"), _sub(obj, "spec")
    history = status.get("history")
    installed = (
        any(isinstance(h, Mapping) and h.get("status") == "deployed" for h in history or ())
        if isinstance(history, list)
        else False
    )
    action = "upgrade" if installed or status.get("lastAppliedRevision") else "install"
    failures = status.get(f"{action}Failures")
    if not isinstance(failures, int) or isinstance(failures, bool) or failures <= 0:
        return None, None
    settings = _sub(spec, action)
    retries = _sub(settings, "remediation").get("retries")
    retries = retries if isinstance(retries, int) and not isinstance(retries, bool) else 0
    strategy = _sub(settings, "strategy").get("name")
    return failures, allowed_attempts(retries, retry_on_failure=strategy == "RetryOnFailure")


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = data.get(key)
    return found if isinstance(found, Mapping) else {}
