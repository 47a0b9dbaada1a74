"""The Flux source machine (source-controller v1): GitRepository, OCIRepository, HelmRepository, HelmChart,
Bucket.

Checked against fluxcd/source-controller: each reconcile fetches the source and stores an artifact;
a failed fetch sets ``FetchFailed=True`` and ``Ready=False`` with a reason of the kind (below) and
returns an error, so the retry comes from the controller's rate limiter (750ms doubling, capped at
15m), not from ``spec.interval``; success requeues after ``spec.interval``. Kustomizations and
HelmReleases watch their source's artifact revision and reconcile as soon as it changes.
"""

from __future__ import annotations

from . import defaults as d
from .flux import IN_PROGRESS_OR_READY, SUSPENDED_OR_STALLED
from .machine import Cond, Machine, Recognise, State, Timer, Transition

KINDS = ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket")

FETCH_FAILED = {
    "GitRepository": "GitOperationFailed",
    "OCIRepository": "OCIArtifactPullFailed",
    "HelmRepository": "IndexationFailed",
    "HelmChart": "ChartPullFailed",
    "Bucket": "BucketOperationFailed",
}
"""The ``Ready=False`` / ``FetchFailed=True`` reason a failed fetch sets, per kind."""

SOURCE = Machine(
    kind="GitRepository",
    api="source.toolkit.fluxcd.io/v1",
    slug="source",
    title="Flux sources (GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket)",
    summary="source-controller fetches the source (a Git commit, an OCI artifact, a Helm index or chart, "
    "a bucket) every `interval` and stores it as an artifact; whoever uses the source reconciles as soon "
    "as the artifact's revision changes. A failed fetch is retried with the controller's back-off; the "
    "last good artifact stays served meanwhile.",
    initial="Absent",
    states=(
        State("Absent", "not in the cluster yet (flux bootstrap or its Kustomization creates it)", "absent"),
        State("Suspended", "`spec.suspend: true`: no fetch until resumed", "suspended", final=True),
        State("Reconciling", "fetching, verifying or storing the artifact", "progressing"),
        State(
            "Failed",
            "the last fetch failed; retried with back-off, the last artifact still served",
            "failing",
        ),
        State(
            "Stalled", "a failure no retry fixes (invalid URL or spec): needs a change", "stalled", final=True
        ),
        State("Ready", "the artifact of the latest revision is stored", "healthy"),
    ),
    transitions=(
        Transition("Absent", "Reconciling", "applied"),
        Transition(
            "Reconciling",
            "Failed",
            "fetch fails (network, authentication, not found)",
            reason=", ".join(FETCH_FAILED[k] for k in KINDS),
        ),
        Transition("Failed", "Reconciling", "retry", timer="retry-backoff", reason="ProgressingWithRetry"),
        Transition("Reconciling", "Ready", "artifact stored", reason="Succeeded"),
        Transition("Ready", "Reconciling", "interval elapsed or spec change", timer="interval"),
        Transition("Reconciling", "Stalled", "invalid spec (e.g. an unparsable URL)"),
        Transition("Stalled", "Reconciling", "spec change"),
        Transition("Ready", "Suspended", "spec.suspend set"),
        Transition("Suspended", "Reconciling", "spec.suspend removed"),
    ),
    timers=(
        Timer("interval", None, "spec.interval (required)", fields=("spec.interval",)),
        Timer("retry-backoff", d.RETRY_MIN, d.RETRY_SOURCE, cap=d.RETRY_MAX),
    ),
    recognise=(
        *SUSPENDED_OR_STALLED,
        Recognise("Failed", (Cond("Ready", "False"),)),
        Recognise("Failed", (Cond("FetchFailed", "True"),)),
        *IN_PROGRESS_OR_READY,
    ),
    fallback=("Reconciling", "Unknown"),
    seed_differences=(
        "The seeds name sources only as a prerequisite of a Kustomization or HelmRelease. A failing source "
        "does not undo anything: the last stored artifact is still served, so what was applied keeps "
        "running; only new revisions wait.",
        "The flux-system GitRepository is created by `flux bootstrap`, not by the repository.",
    ),
    sources=(
        "fluxcd/source-controller internal/controller/*_controller.go: FetchFailed condition and reasons "
        + ", ".join(FETCH_FAILED[k] for k in KINDS),
        d.RETRY_SOURCE,
    ),
)
