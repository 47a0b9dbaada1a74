"""The discrete-event simulation: each controller's reconcile loop as a simpy process per object.

simpy fits the problem: a reconcile loop is a process that waits (for a dependency, a timer, a
worker of its controller), and a controller's ``--concurrent`` workers are a simpy ``Resource``. The
processes follow the machines in :mod:`homeops.runtime`: a Kustomization checks its source, then
``dependsOn`` every ``requeue-dependency``; a HelmRelease checks ``dependsOn``, then its chart source
(woken by the source watch), then runs install attempts bounded by its timeout with remediation and
the rate limiter's back-off between them, until Ready or Stalled.

An object that can never become Ready (an injected failure, a stalled release, a missing dependency)
is *doomed*; whatever waits on it is doomed in turn and stops, so a simulation ends when nothing can
change any more instead of running retry loops to the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import simpy

from ..records import NamedTuple
from ..runtime import defaults as d
from ..runtime.durations import format_duration
from .settings import Settings
from .world import SOURCE_KINDS, SimObject

ESO_BACKOFF = (0.005, 1000.0)
"""controller-runtime's default per-object back-off (5ms doubling, capped at 1000s)."""
FETCH_FAILED = {
    "GitRepository": "GitOperationFailed",
    "OCIRepository": "OCIArtifactPullFailed",
    "HelmRepository": "IndexationFailed",
    "HelmChart": "ChartPullFailed",
    "Bucket": "BucketOperationFailed",
}
HEALTHY = {"PersistentVolumeClaim": "Bound", "HTTPRoute": "Accepted"}
"""The converged state of kinds whose machine does not call it Ready."""


class Event(NamedTuple):
    t: float
    obj: SimObject
    source: str
    target: str
    reason: str
    message: str
    emits: tuple[str, ...]


class Final(NamedTuple):
    obj: SimObject
    state: str
    reason: str
    message: str
    ready_at: float | None
    created_at: float | None


@dataclass(slots=True)
class Result:
    events: list[Event]
    final: list[Final]
    converged_at: float | None
    settled_at: float
    critical_path: list[tuple[SimObject, str, float]]
    """(object, "Ready" or "applied", when): each step waited for the one before."""
    horizon: float
    stopped: bool
    """The horizon was reached while something was still changing."""


@dataclass(slots=True, eq=False)
class _Track:
    ready: simpy.Event
    doomed: simpy.Event
    state: str = "Absent"
    reason: str = ""
    message: str = ""
    created_at: float | None = None
    ready_at: float | None = None
    cause: tuple[SimObject, str] | None = None
    """What it waited for last, and for which milestone of it ("ready" or "applied")."""
    applied_at: float | None = None
    pre_apply: tuple[SimObject, str] | None = None
    """A Kustomization's cause when it applied (its health checks come after)."""
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Simulation:
    def __init__(self, objects: Iterable[SimObject], settings: Settings, *, horizon: float, exhaustive: bool):
        self.env = simpy.Environment()
        self.objects = list(objects)
        self.settings = settings
        self.horizon = horizon
        self.exhaustive = exhaustive
        """Run never-ending retry loops to the horizon (``--for`` given) instead of stopping them."""
        self.events: list[Event] = []
        self.track = {id(o): _Track(self.env.event(), self.env.event()) for o in self.objects}
        self.workers: dict[tuple[str, str], simpy.Resource] = {}
        self.looping: set[int] = set()
        """Objects sleeping in a retry loop: at the horizon, they would have gone on."""

    # -- bookkeeping ----------------------------------------------------------------------------

    def t(self, obj: SimObject) -> _Track:
        return self.track[id(obj)]

    def set(
        self, obj: SimObject, state: str, reason: str = "", message: str = "", emits: tuple[str, ...] = ()
    ) -> None:
        tr = self.t(obj)
        if (state, reason, message) == (tr.state, tr.reason, tr.message) and not emits:
            return
        if obj.kind != "Secret":  # a plain Secret only exists; its appearance is not news
            self.events.append(Event(self.env.now, obj, tr.state, state, reason, message, emits))
        tr.state, tr.reason, tr.message = state, reason, message

    def became_ready(
        self,
        obj: SimObject,
        reason: str,
        message: str = "",
        emits: tuple[str, ...] = (),
        state: str = "Ready",
    ) -> None:
        self.set(obj, state, reason, message, emits)
        tr = self.t(obj)
        tr.ready_at = self.env.now
        if not tr.ready.triggered:
            tr.ready.succeed()

    def doom(self, obj: SimObject) -> None:
        tr = self.t(obj)
        if not tr.doomed.triggered:
            tr.doomed.succeed()

    def is_ready(self, obj: SimObject) -> bool:
        return self.t(obj).ready.triggered

    def is_doomed(self, obj: SimObject) -> bool:
        return self.t(obj).doomed.triggered

    def worker(self, obj: SimObject, controller: str) -> simpy.Resource:
        key = (obj.node.cluster, controller)
        if key not in self.workers:
            capacity = int(self.settings[f"{controller}-concurrent"])
            self.workers[key] = simpy.Resource(self.env, capacity=capacity)
        return self.workers[key]

    def wait_ready(self, obj: SimObject, others: list[SimObject]) -> Generator[Any, Any, SimObject | None]:
        """Wait until every one of ``others`` is Ready; the first doomed one when one never will be."""
        pending = [o for o in others if not self.is_ready(o)]
        if not pending:
            return None
        for other in pending:
            if self.is_doomed(other):
                return other
        yield self.env.all_of([self.t(o).ready for o in pending]) | self.env.any_of(
            [self.t(o).doomed for o in pending]
        )
        for other in pending:
            if not self.is_ready(other) and self.is_doomed(other):
                return other
        self._caused(obj, pending)
        return None

    def _caused(self, obj: SimObject, waited: list[SimObject]) -> None:
        self.t(obj).cause = (max(waited, key=lambda o: self.t(o).ready_at or 0.0), "ready")

    # -- run ------------------------------------------------------------------------------------

    def run(self) -> Result:
        for obj in self.objects:
            self.env.process(self._lifecycle(obj))
        self.env.run(until=self.horizon)
        return self._result()

    def _lifecycle(self, obj: SimObject) -> Generator[Any, Any, None]:
        if obj.parent is not None:
            parent = self.t(obj.parent).extra.setdefault("applied", self.env.event())
            yield parent
            self.t(obj).cause = (obj.parent, "applied")
        self.t(obj).created_at = self.env.now
        if obj.missing:
            state = "Failed" if obj.kind == "ExternalSecret" else "Blocked"
            reason = "SecretSyncedError" if obj.kind == "ExternalSecret" else "DependencyNotReady"
            self.set(obj, state, reason, f"{', '.join(obj.missing)} not found in the repository")
            self.doom(obj)
            return
        if obj.suspended:
            self.set(obj, "Suspended", "Suspended", "spec.suspend: true")
            self.doom(obj)
            return
        kind = obj.kind
        if kind == "Kustomization":
            yield from self._kustomization(obj)
        elif kind == "HelmRelease":
            yield from self._helm_release(obj)
        elif kind in SOURCE_KINDS:
            yield from self._source(obj)
        elif kind == "ExternalSecret":
            yield from self._external_secret(obj)
        elif kind in ("ClusterSecretStore", "SecretStore"):
            yield from self._store(obj)
        else:
            yield from self._other(obj)

    # -- Kustomization --------------------------------------------------------------------------

    def _kustomization(self, obj: SimObject) -> Generator[Any, Any, None]:
        self.set(obj, "Reconciling", "Progressing")
        if obj.source is not None and not self.is_ready(obj.source):
            self.set(obj, "Failed", "ArtifactFailed", f"source {obj.source.node.short} has no artifact yet")
            if (yield from self.wait_ready(obj, [obj.source])) is not None:
                self.doom(obj)
                return
            self.set(obj, "Reconciling", "Progressing")  # the source watch requeues it at once
        if not (yield from self._dependencies(obj)):
            return
        retry_period = obj.retry_interval or obj.interval or 600.0
        attempt = 0
        while True:
            attempt += 1
            with self.worker(obj, "kustomize-controller").request() as slot:
                yield slot
                if attempt > 1:
                    self.set(obj, "Reconciling", "ProgressingWithRetry")
                yield self.env.timeout(self.settings["kustomization-apply"])
                if obj.fail:
                    self.set(
                        obj,
                        "Failed",
                        "ReconciliationFailed",
                        f"apply fails (--fail); retried every {format_duration(retry_period)}",
                    )
                    self.doom(obj)
                    return
                applied = self.t(obj).extra.setdefault("applied", self.env.event())
                if not applied.triggered:
                    self.t(obj).applied_at = self.env.now
                    self.t(obj).pre_apply = self.t(obj).cause
                    applied.succeed()
                if not obj.waits:
                    self.became_ready(obj, "ReconciliationSucceeded", emits=("FluxReconciled",))
                    return
                outcome = yield from self._health(obj)
            if outcome == "ready":
                self.became_ready(obj, "ReconciliationSucceeded", emits=("FluxReconciled",))
                return
            culprit = outcome
            self.set(
                obj,
                "Failed",
                "HealthCheckFailed",
                f"timeout waiting for {culprit} "
                f"(timeout {format_duration(obj.timeout)}); retried every {format_duration(retry_period)}",
            )
            if self.t(obj).extra.get("hopeless") and not self.exhaustive:
                self.doom(obj)
                return
            yield from self._sleep(obj, retry_period)

    def _health(self, obj: SimObject) -> Generator[Any, Any, str]:
        """'ready' when every checked object is healthy within the timeout, else the first that is not."""
        pending = [o for o in obj.health if not self.is_ready(o)]
        if not pending:
            return "ready"
        deadline = self.env.timeout(obj.timeout)
        yield (
            self.env.all_of([self.t(o).ready for o in pending])
            | deadline
            | self.env.any_of([self.t(o).doomed for o in pending])
        )
        waiting = [o for o in pending if not self.is_ready(o)]
        if not waiting:
            self._caused(obj, pending)
            return "ready"
        doomed = [o for o in waiting if self.is_doomed(o)]
        if doomed:
            self.t(obj).extra["hopeless"] = True
            if not deadline.processed:  # the controller waits out its timeout regardless
                yield deadline
        culprit = (doomed or [o for o in waiting if not self.is_ready(o)] or waiting)[0]
        return f"{culprit.kind} {culprit.node.short}"

    def _dependencies(self, obj: SimObject) -> Generator[Any, Any, bool]:
        """dependsOn, re-checked every requeue-dependency; False when the object will never proceed."""
        pending = [o for o in obj.depends if not self.is_ready(o)]
        if not pending:
            return True
        first = self.env.now
        self.set(obj, "Blocked", "DependencyNotReady", f"dependency '{pending[0].node.short}' is not ready")
        culprit = yield from self.wait_ready(obj, obj.depends)
        if culprit is not None:
            self.set(obj, "Blocked", "DependencyNotReady", f"dependency '{culprit.node.short}' is not ready")
            self.doom(obj)
            return False
        period = self.settings["requeue-dependency"]
        wait = _next_tick(first, period, self.env.now) - self.env.now
        if wait > 0:
            yield self.env.timeout(wait)
        self.set(obj, "Reconciling", "Progressing")
        return True

    # -- HelmRelease ----------------------------------------------------------------------------

    def _helm_release(self, obj: SimObject) -> Generator[Any, Any, None]:
        self.set(obj, "Reconciling", "Progressing", "Fulfilling prerequisites")
        if not (yield from self._dependencies(obj)):
            return
        if obj.source is not None and not self.is_ready(obj.source):
            self.set(
                obj, "Blocked", "SourceNotReady", f"{obj.source.kind} {obj.source.node.short} is not ready"
            )
            if (yield from self.wait_ready(obj, [obj.source])) is not None:
                self.doom(obj)
                return
            self.set(obj, "Reconciling", "Progressing")
        if obj.source is not None and obj.source.kind == "HelmRepository":
            with self.worker(obj, "source-controller").request() as slot:
                yield slot
                yield self.env.timeout(self.settings["chart-pull"])
        if obj.values and not all(self.is_ready(o) for o in obj.values):
            missing = next(o for o in obj.values if not self.is_ready(o))
            self.set(
                obj, "Failed", "ValuesError", f"could not resolve Secret reference of {missing.node.short}"
            )
            first = self.env.now
            if (yield from self.wait_ready(obj, obj.values)) is not None:
                self.doom(obj)
                return
            yield self.env.timeout(
                _next_backoff(first, self.env.now, d.RETRY_MIN, d.RETRY_MAX) - self.env.now
            )
            self.set(obj, "Reconciling", "Progressing")
        yield from self._release(obj)

    def _release(self, obj: SimObject) -> Generator[Any, Any, None]:
        attempts = None if obj.retry_strategy or obj.retries < 0 else obj.retries + 1
        of = f" of {attempts}" if attempts else ""
        action = "upgrade" if obj.preinstalled else "install"
        requeues = 0
        failures = 0
        while True:
            state = "Installing" if action == "install" else "Upgrading"
            with self.worker(obj, "helm-controller").request() as slot:
                yield slot
                attempt = failures + 1
                self.t(obj).attempts = attempt
                self.set(
                    obj,
                    state,
                    "Progressing",
                    f"Running '{action}' action with timeout of "
                    f"{format_duration(obj.timeout)}, attempt {attempt}{of}",
                )
                ok, why, hopeless = yield from self._helm_action(obj)
                if ok:
                    reason = "InstallSucceeded" if action == "install" else "UpgradeSucceeded"
                    self.became_ready(obj, reason, f"attempt {attempt}{of}", emits=("HelmReleaseReady",))
                    return
                failures += 1
                failed = "InstallFailed" if action == "install" else "UpgradeFailed"
                self.set(obj, "Failed", failed, f"{why}, attempt {attempt}{of}")
                if obj.retry_strategy:
                    pass  # RetryOnFailure: no remediation; the next attempt is an upgrade after retryInterval
                else:
                    exhausted = obj.retries >= 0 and failures > obj.retries
                    if exhausted and not obj.remediate_last:
                        self._stall(obj, action, failures)
                        return
                    self.set(obj, "Remediating", "ProgressingWithRetry", "Running 'uninstall' action")
                    yield self.env.timeout(self.settings["helm-remediation"])
                    if exhausted:
                        self._stall(obj, action, failures)
                        return
            if hopeless and attempts is None and not self.exhaustive:
                # a retry loop without end against a cause that will not change: stop here
                period = "every retryInterval" if obj.retry_strategy else "without limit"
                self.set(obj, "Failed", self.t(obj).reason, f"{why}; retries {period}")
                self.doom(obj)
                return
            if obj.retry_strategy:
                yield from self._sleep(obj, obj.retry_interval or d.HELM_RETRY_INTERVAL)
                action = "upgrade"
            else:
                requeues += 1
                yield from self._sleep(obj, d.backoff(requeues))
                action = "install"

    def _sleep(self, obj: SimObject, seconds: float) -> Generator[Any, Any, None]:
        self.looping.add(id(obj))
        yield self.env.timeout(seconds)
        self.looping.discard(id(obj))

    def _stall(self, obj: SimObject, action: str, failures: int) -> None:
        self.set(obj, "Stalled", "RetriesExceeded", f"Failed to {action} after {failures} attempt(s)")
        self.doom(obj)

    def _helm_action(self, obj: SimObject) -> Generator[Any, Any, tuple[bool, str, bool]]:
        """(succeeded, why it failed, whether it can never succeed) for one install or upgrade."""
        start = self.env.now
        timeout = obj.timeout
        apply = self.settings["helm-action"]
        if obj.fail:
            yield self.env.timeout(timeout)
            return False, "resources not ready before the timeout (--fail)", True
        if obj.disable_wait or obj.preinstalled:
            yield self.env.timeout(apply)
            return True, "", False
        pending = [o for o in obj.needs if not self.is_ready(o)]
        deadline = self.env.timeout(timeout)
        if pending:
            yield (
                self.env.all_of([self.t(o).ready for o in pending])
                | deadline
                | self.env.any_of([self.t(o).doomed for o in pending])
            )
            waiting = [o for o in pending if not self.is_ready(o)]
            if waiting:
                if not deadline.processed:
                    yield deadline
                culprit = waiting[0]
                return False, f"pods waiting for {culprit.kind} {culprit.node.short}", self.is_doomed(culprit)
            self._caused(obj, pending)
        finish = max(start + apply, self.env.now) + self.settings["image-pull"] + self.settings["pod-start"]
        if finish - start > timeout:
            yield deadline
            return False, "resources not ready before the timeout", False
        yield self.env.timeout(finish - self.env.now)
        return True, "", False

    # -- sources, secrets, the rest -------------------------------------------------------------

    def _source(self, obj: SimObject) -> Generator[Any, Any, None]:
        self.set(obj, "Reconciling", "Progressing")
        with self.worker(obj, "source-controller").request() as slot:
            yield slot
            yield self.env.timeout(self.settings["source-fetch"])
        if obj.fail:
            self.set(obj, "Failed", FETCH_FAILED.get(obj.kind, "FetchFailed"), "fetch fails (--fail)")
            self.doom(obj)
            return
        self.became_ready(obj, "Succeeded", "artifact stored")

    def _store(self, obj: SimObject) -> Generator[Any, Any, None]:
        self.set(obj, "Validating", "")
        if obj.fail:
            yield self.env.timeout(self.settings["store-validate"])
            self.set(obj, "Failed", "ValidationFailed", "the provider cannot be reached (--fail)")
            self.doom(obj)
            return
        # its provider (1Password Connect, …) is what its own Kustomization installs beside it
        siblings = obj.parent.applies if obj.parent else []
        providers = [o for o in siblings if o.kind == "HelmRelease" and not o.preinstalled]
        if (yield from self.wait_ready(obj, providers)) is not None:
            self.set(obj, "Failed", "ValidationFailed", "its provider never becomes Ready")
            self.doom(obj)
            return
        yield self.env.timeout(self.settings["store-validate"])
        self.became_ready(obj, "Valid", "store validated")

    def _external_secret(self, obj: SimObject) -> Generator[Any, Any, None]:
        self.set(obj, "Syncing", "")
        first = self.env.now
        if obj.store is not None and not self.is_ready(obj.store):
            self.set(
                obj, "Failed", "SecretSyncedError", f"{obj.store.kind} {obj.store.node.short} is not ready"
            )
            if (yield from self.wait_ready(obj, [obj.store])) is not None:
                self.doom(obj)
                return
            yield self.env.timeout(_next_backoff(first, self.env.now, *ESO_BACKOFF) - self.env.now)
        yield self.env.timeout(self.settings["secret-sync"])
        if obj.fail:
            self.set(obj, "Failed", "SecretSyncedError", "could not get secret data from provider (--fail)")
            self.doom(obj)
            return
        self.became_ready(obj, "SecretSynced", "secret synced", emits=("SecretSynced",))

    def _other(self, obj: SimObject) -> Generator[Any, Any, None]:
        kind = obj.kind
        waiting = {"PersistentVolumeClaim": "Pending", "HTTPRoute": "Pending"}.get(kind, "Reconciling")
        emits = ("HTTPRouteCreated",) if kind == "HTTPRoute" else ()
        self.set(obj, waiting, "", emits=emits)
        if kind == "Secret":
            if obj.fail:
                self.doom(obj)
                return
            self.became_ready(obj, "Created")
            return
        needs = obj.gateways if kind == "HTTPRoute" else obj.needs
        culprit = yield from self.wait_ready(obj, needs)
        if culprit is not None:
            self.set(
                obj,
                "Blocked" if waiting == "Reconciling" else waiting,
                "DependencyNotReady",
                f"waiting for {culprit.kind} {culprit.node.short}",
            )
            self.doom(obj)
            return
        duration = {
            "PersistentVolumeClaim": "volume-bind",
            "Database": "database-init",
            "Certificate": "certificate-issue",
            "Gateway": "gateway-programme",
            "HTTPRoute": "gateway-programme",
        }.get(kind)
        if duration is not None:
            yield self.env.timeout(self.settings[duration])
        else:  # a workload the graph holds because its pods need a Secret or a claim
            yield self.env.timeout(self.settings["image-pull"] + self.settings["pod-start"])
        if obj.fail:
            self.set(obj, waiting, "NotReady", "never becomes Ready (--fail)")
            self.doom(obj)
            return
        healthy = HEALTHY.get(kind, "Ready")
        self.became_ready(obj, healthy, state=healthy)

    # -- result ---------------------------------------------------------------------------------

    def _result(self) -> Result:
        final = []
        converged = True
        last_ready = 0.0
        last: SimObject | None = None
        for obj in self.objects:
            tr = self.t(obj)
            final.append(Final(obj, tr.state, tr.reason, tr.message, tr.ready_at, tr.created_at))
            if tr.ready_at is None:
                converged = False
            elif tr.ready_at >= last_ready:
                last_ready, last = tr.ready_at, obj
        settled = max((e.t for e in self.events), default=0.0)
        stopped = bool(self.looping)
        path: list[tuple[SimObject, str, float]] = []
        seen: set[tuple[int, str]] = set()
        step: tuple[SimObject, str] | None = (last, "ready") if converged and last is not None else None
        while step is not None and (id(step[0]), step[1]) not in seen:
            obj, milestone = step
            seen.add((id(obj), milestone))
            tr = self.t(obj)
            if milestone == "ready":
                path.append((obj, "Ready", tr.ready_at or 0.0))
                step = tr.cause
            else:
                path.append((obj, "applied", tr.applied_at or 0.0))
                step = tr.pre_apply
        path.reverse()
        return Result(
            events=sorted(self.events, key=lambda e: e.t),
            final=final,
            converged_at=last_ready if converged else None,
            settled_at=settled,
            critical_path=path,
            horizon=self.horizon,
            stopped=stopped,
        )


def _next_tick(first: float, period: float, now: float) -> float:
    """The first re-check at ``first + k·period`` that is not before ``now``."""
    if now <= first or period <= 0:
        return now
    return first + math.ceil((now - first) / period - 1e-9) * period


def _next_backoff(first: float, now: float, start: float, cap: float) -> float:
    """The first retry not before ``now`` of a back-off that started failing at ``first``."""
    at = first
    failures = 0
    while at < now - 1e-9:
        failures += 1
        at += min(start * 2 ** (failures - 1), cap)
    return at
