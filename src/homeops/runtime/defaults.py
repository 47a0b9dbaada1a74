"""Controller defaults the machines and the simulation share, each with where it was read.

Values are seconds. Each constant was checked against the controller's source or specification
(``../shared/runtime/`` and the fluxcd, external-secrets and Kubernetes sources); the string beside
it names the place, and the generated docs print it.
"""

from __future__ import annotations

REQUEUE_DEPENDENCY = 30.0
"""kustomize-controller and helm-controller ``--requeue-dependency`` (default 30s): how often a
DependencyNotReady object re-checks its dependencies. A fixed interval, not a back-off."""
REQUEUE_DEPENDENCY_SOURCE = "controller flag --requeue-dependency (default 30s)"

RETRY_MIN = 0.75
RETRY_MAX = 900.0
"""fluxcd/pkg runtime/controller rate limiter: 750ms doubling per failed attempt, capped at 15m
(``--min-retry-delay``, ``--max-retry-delay``); used for errors and ``Requeue: true``."""
RETRY_SOURCE = "fluxcd/pkg runtime/controller rate_limiter.go: --min-retry-delay 750ms, --max-retry-delay 15m"

HELM_TIMEOUT = 300.0
"""HelmRelease ``spec.timeout`` default (5m0s), per Helm action."""
HELM_RETRY_INTERVAL = 300.0
"""HelmRelease ``install|upgrade.strategy.retryInterval`` default (5m) for RetryOnFailure."""

KS_TIMEOUT_MIN = 30.0
"""Kustomization ``spec.timeout`` default: ``spec.interval`` - 30s, at least 30s (api/v1 GetTimeout)."""

ESO_REFRESH_INTERVAL = 3600.0
"""ExternalSecret ``spec.refreshInterval`` API default (1h0m0s)."""

ESO_RETRY_MIN = 0.005
ESO_RETRY_MAX = 1000.0
"""external-secrets leaves failed reconciles to controller-runtime's default rate limiter: 5ms doubling,
capped at 1000s, without a limit on retries."""
ESO_RETRY_SOURCE = "controller-runtime default rate limiter: 5ms doubling, capped at 1000s, no retry limit"

ESO_STORE_REQUEUE = 300.0
"""How often external-secrets re-validates a (Cluster)SecretStore without ``spec.refreshInterval``."""
ESO_STORE_REQUEUE_SOURCE = (
    "spec.refreshInterval; unset: external-secrets flag --store-requeue-interval (default 5m)"
)

POD_BACKOFF_START = 10.0
POD_BACKOFF_MAX = 300.0
POD_BACKOFF_RESET = 600.0
"""kubelet container restart back-off: 10s doubling, capped at 5m, reset after 10m of running;
image pull back-off caps at 5m as well. No maximum number of restarts with restartPolicy Always."""

CONCURRENCY = {"kustomize-controller": 4, "helm-controller": 4, "source-controller": 2}
"""``--concurrent`` defaults: reconciles of one controller that run at the same time."""


def kustomization_timeout(interval: float | None, timeout: float | None) -> float:
    """kustomize-controller api/v1 ``GetTimeout``."""
    value = timeout if timeout is not None else (interval or 0.0) - 30.0
    return max(value, KS_TIMEOUT_MIN)


def backoff(failures: int, start: float = RETRY_MIN, cap: float = RETRY_MAX) -> float:
    """Delay before the attempt after ``failures`` consecutive failures (1 → ``start``)."""
    if failures <= 0:
        return 0.0
    delay: float = start * float(2 ** min(failures - 1, 62))
    return min(delay, cap)
