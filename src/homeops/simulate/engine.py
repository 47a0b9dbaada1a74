"""The discrete-event simulation: each controller's reconcile loop as a simpy process per object.

simpy fits the problem: a reconcile loop is a process that waits (for a dependency, a timer, a
worker of its controller), and a controller's ``--concurrent`` workers are a simpy ``Resource``. The
processes follow the machines in :mod:`homeops.runtime`: a Kustomization checks its source, then
``dependsOn`` every ``requeue-dependency``; a HelmRelease checks ``dependsOn``, then its chart source
(woken by the source watch), then runs install attempts bounded by its timeout with remediation and
the rate limiter's back-off between them, until Ready or Stalled.

A simulation starts from nothing (a bootstrap) or from a running cluster (every object's
:class:`~homeops.simulate.world.Initial` state: a converged bootstrap, or a snapshot). From a running
cluster only what something sets in motion runs: a commit (the objects' ``change``: Kustomizations
re-apply the new revision top-down, HelmReleases upgrade, ExternalSecrets re-sync, Reloader restarts
pods, what is gone is pruned) or a failure (an ExternalSecret whose store fails goes Stale at its next
refresh, a Kustomization health-checking it fails at its next interval, and so on up the graph).

An object that can never become Ready (an injected failure, a stalled release, a missing dependency)
is *doomed*; whatever waits on it is doomed in turn and stops, so a simulation ends when nothing can
change any more instead of running retry loops to the horizon.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import simpy

from ..records import NamedTuple
from ..runtime.durations import format_duration
from ..runtime.flux import allowed_attempts
from ..runtime.machine import Timer
from ..runtime.machines import MACHINES
from ..runtime.sources import FETCH_FAILED
from .settings import Settings
from .world import SOURCE_KINDS, SimObject

HEALTHY = {"PersistentVolumeClaim": "Bound", "HTTPRoute": "Accepted", "Gateway": "Programmed"}
"""The converged state of kinds whose machine does not call it Ready."""
WAITING = {"PersistentVolumeClaim": "Pending", "HTTPRoute": "Pending", "Gateway": "Pending"}
"""The state before it, for kinds whose machine has one (else Reconciling)."""
PRODUCERS = frozenset({"ExternalSecret", "Secret"})
_ESO_RETRY = "retry of a failed sync, without limit"
"""Kinds whose Secret a pod may use while they are not Ready (stale data)."""


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


class Stale(NamedTuple):
    """A workload that keeps running on the last synced data of a Secret whose ExternalSecret fails."""

    consumer: SimObject
    producer: SimObject
    since: float


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
    stale: list[Stale] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the run found worth saying beside the timeline (pods that keep old values, orphans)."""
    timers: dict[tuple[str, str], str] = field(default_factory=dict)
    """(machine kind, timer) → what the run used that controller default for."""


@dataclass(slots=True)
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
    secret: bool = False
    """An ExternalSecret's or Secret's Secret exists (it may be stale)."""
    keys: frozenset[str] | None = None
    """The keys that Secret holds; None when unknown (taken to hold whatever is asked)."""
    stale_since: float | None = None
    before: tuple[str, str, str] = ("", "", "")
    """(state, reason, message) before the last transition."""
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
        self.running = any(o.initial is not None for o in self.objects)
        """The cluster is running when the simulation starts (not a bootstrap)."""
        self.notes: list[str] = []
        self.timers_used: dict[tuple[str, str], str] = {}
        self.consumers: dict[int, list[SimObject]] = {}
        """Producer of a Secret → the objects whose pods use it."""
        defaulted: dict[tuple[str, str], int] = {}
        for obj in self.objects:
            for need in obj.needs:
                self.consumers.setdefault(id(need), []).append(obj)
            for name in obj.defaulted:
                defaulted[(obj.kind, name)] = defaulted.get((obj.kind, name), 0) + 1
        for (kind, name), count in sorted(defaulted.items()):
            self.timer(kind, name, f"for the {count} {kind}(s) whose spec does not set it")

    # -- bookkeeping ----------------------------------------------------------------------------

    def t(self, obj: SimObject) -> _Track:
        return self.track[id(obj)]

    def set(
        self,
        obj: SimObject,
        state: str,
        reason: str = "",
        message: str = "",
        emits: tuple[str, ...] = (),
        *,
        news: bool = False,
    ) -> None:
        """Record a transition (``news``: even for a plain Secret, whose appearance alone is not news)."""
        tr = self.t(obj)
        if (state, reason, message) == (tr.state, tr.reason, tr.message) and not emits:
            return
        last = self.events[-1] if self.events else None
        if (
            last is not None
            and last.obj is obj
            and last.t == self.env.now
            and tr.before == (state, reason, message)
        ):
            # undone in the same instant (a re-check that finds it waits as before): not news
            self.events.pop()
            tr.state, tr.reason, tr.message = state, reason, message
            return
        if obj.kind != "Secret" or news:
            self.events.append(Event(self.env.now, obj, tr.state, state, reason, message, emits))
        tr.before = (tr.state, tr.reason, tr.message)
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

    def rearm(self, obj: SimObject) -> None:
        """It reconciles again: not Ready (nor applied) until this reconcile says so."""
        tr = self.t(obj)
        if tr.ready.triggered:
            tr.ready = self.env.event()
            tr.ready_at = None
        applied = tr.extra.get("applied")
        if applied is not None and applied.triggered:
            tr.extra["applied"] = self.env.event()

    def is_ready(self, obj: SimObject) -> bool:
        return self.t(obj).ready.triggered

    def is_doomed(self, obj: SimObject) -> bool:
        return self.t(obj).doomed.triggered

    def has_artifact(self, source: SimObject) -> bool:
        """A source serves its last artifact while it fails (a running cluster's sources have one)."""
        if self.is_ready(source):
            return True
        start = source.initial
        return start is not None and start.health == "healthy" and source.change != "revision"

    def milestone(self, obj: SimObject, name: str) -> simpy.Event:
        """The event of an object's next ``applied`` (a Kustomization applies: what it applies is created
        or changed then), ``fetched`` (a changed source has its new artifact), ``changed`` (a Secret
        gets new data) or ``pruned`` (a removed object is deleted)."""
        found: simpy.Event = self.t(obj).extra.setdefault(name, self.env.event())
        return found

    def applied(self, obj: SimObject) -> simpy.Event:
        return self.milestone(obj, "applied")

    def timer(self, kind: str, name: str, used_for: str) -> Timer:
        """A controller timer of the machines, remembered for the assumptions printed with the result."""
        self.timers_used.setdefault((MACHINES[kind].kind, name), used_for)
        return MACHINES[kind].timer(name)

    def available(self, need: SimObject, consumer: SimObject) -> bool:
        """Whether the consumer's pods can start with what ``need`` provides: a Secret that exists and holds
        the keys they name (stale or not), or anything else once Ready."""
        if need.kind not in PRODUCERS:
            return self.is_ready(need)
        tr = self.t(need)
        wanted = consumer.needed_keys.get(need.secret, frozenset())
        return tr.secret and (tr.keys is None or wanted <= tr.keys)

    def missing_keys(self, need: SimObject, consumer: SimObject) -> frozenset[str]:
        tr = self.t(need)
        if not tr.secret or tr.keys is None:
            return frozenset()
        return consumer.needed_keys.get(need.secret, frozenset()) - tr.keys

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

    def until_tick(self, obj: SimObject, period: float) -> Generator[Any, Any, None]:
        """Sleep until the object's next periodic reconcile: a whole period after its last one (at the
        start, ``since`` seconds before +0:00:00), or the first tick after now."""
        last = -(obj.initial.since if obj.initial is not None else 0.0)
        at = max(_next_tick(last, period, self.env.now), last + period)
        if at > self.env.now:
            yield self.env.timeout(at - self.env.now)

    # -- run ------------------------------------------------------------------------------------

    def run(self) -> Result:
        with paused_gc():
            if self.running:
                self._prepare_change()
            for obj in self.objects:
                self.env.process(self._start(obj) if self.running else self._lifecycle(obj))
                if self.running and obj.needs:
                    self.env.process(self._reload(obj))
            self.env.run(until=self.horizon)
            return self._result()

    def _lifecycle(self, obj: SimObject) -> Generator[Any, Any, None]:
        if obj.parent is not None:
            yield self.applied(obj.parent)
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
        yield from self._reconcile(obj)

    def _reconcile(self, obj: SimObject, action: str = "install") -> Generator[Any, Any, None]:
        kind = obj.kind
        if kind == "Kustomization":
            yield from self._kustomization(obj)
        elif kind == "HelmRelease":
            yield from self._helm_release(obj, action)
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
        if obj.source is not None and not self.has_artifact(obj.source):
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
                applied = self.applied(obj)
                if not applied.triggered:
                    self.t(obj).applied_at = self.env.now
                    self.t(obj).pre_apply = self.t(obj).cause
                    self._apply_changes(obj)
                    applied.succeed()
                if not obj.waits:
                    self.became_ready(
                        obj, "ReconciliationSucceeded", self._applied_text(obj), ("FluxReconciled",)
                    )
                    return
                outcome = yield from self._health(obj)
            if outcome == "ready":
                self.became_ready(
                    obj, "ReconciliationSucceeded", self._applied_text(obj), ("FluxReconciled",)
                )
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
        self.set(obj, "Blocked", "DependencyNotReady", self._not_ready_text(obj, pending[0]))
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

    def _helm_release(self, obj: SimObject, action: str = "install") -> Generator[Any, Any, None]:
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
            backoff = self.timer("HelmRelease", "retry-backoff", "requeue after a failed reconcile")
            yield self.env.timeout(_next_backoff(first, self.env.now, backoff) - self.env.now)
            self.set(obj, "Reconciling", "Progressing")
        yield from self._release(obj, action)

    def _release(self, obj: SimObject, action: str = "install") -> Generator[Any, Any, None]:
        action = "upgrade" if obj.preinstalled else action
        spec = obj.helm_action(action)
        attempts = allowed_attempts(spec.retries, retry_on_failure=spec.retry_strategy)
        of = f" of {attempts}" if attempts else ""
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
                    f"{format_duration(spec.timeout)}, attempt {attempt}{of}",
                )
                ok, why, hopeless = yield from self._helm_action(obj, spec.timeout)
                if ok:
                    reason = "InstallSucceeded" if action == "install" else "UpgradeSucceeded"
                    self.became_ready(obj, reason, f"attempt {attempt}{of}", emits=("HelmReleaseReady",))
                    return
                failures += 1
                failed = "InstallFailed" if action == "install" else "UpgradeFailed"
                self.set(obj, "Failed", failed, f"{why}, attempt {attempt}{of}")
                if spec.retry_strategy:
                    pass  # RetryOnFailure: no remediation; the next attempt is an upgrade after retryInterval
                else:
                    exhausted = attempts is not None and failures >= attempts
                    if exhausted and not spec.remediate_last:
                        self._stall(obj, action, failures)
                        return
                    remedy = "uninstall" if action == "install" else "rollback"
                    self.set(obj, "Remediating", "ProgressingWithRetry", f"Running '{remedy}' action")
                    yield self.env.timeout(self.settings["helm-remediation"])
                    if exhausted:
                        self._stall(obj, action, failures)
                        return
            if hopeless and attempts is None and not self.exhaustive:
                # a retry loop without end against a cause that will not change: stop here
                period = "every retryInterval" if spec.retry_strategy else "without limit"
                self.set(obj, "Failed", self.t(obj).reason, f"{why}; retries {period}")
                self.doom(obj)
                return
            if spec.retry_strategy:
                yield from self._sleep(obj, spec.retry_interval)
                action = "upgrade"
            else:
                requeues += 1
                backoff = self.timer("HelmRelease", "retry-backoff", "requeue after a remediation")
                yield from self._sleep(obj, backoff.delay(requeues))

    def _sleep(self, obj: SimObject, seconds: float) -> Generator[Any, Any, None]:
        self.looping.add(id(obj))
        yield self.env.timeout(seconds)
        self.looping.discard(id(obj))

    def _stall(self, obj: SimObject, action: str, failures: int) -> None:
        self.set(obj, "Stalled", "RetriesExceeded", f"Failed to {action} after {failures} attempt(s)")
        self.doom(obj)

    def _helm_action(self, obj: SimObject, timeout: float) -> Generator[Any, Any, tuple[bool, str, bool]]:
        """(succeeded, why it failed, whether it can never succeed) for one install or upgrade."""
        start = self.env.now
        apply = self.settings["helm-action"]
        if obj.fail:
            yield self.env.timeout(timeout)
            return False, "resources not ready before the timeout (--fail)", True
        if obj.disable_wait or obj.preinstalled:
            yield self.env.timeout(apply)
            return True, "", False
        # pods start with a Secret that exists and holds the keys they name, stale or not
        pending = [o for o in obj.needs if not self.available(o, obj)]
        deadline = self.env.timeout(timeout)
        if pending:
            yield (
                self.env.all_of([self.t(o).ready for o in pending])
                | deadline
                | self.env.any_of([self.t(o).doomed for o in pending])
            )
            waiting = [o for o in pending if not self.available(o, obj)]
            if waiting:
                if not deadline.processed:
                    yield deadline
                culprit = waiting[0]
                missing = self.missing_keys(culprit, obj)
                if missing:
                    why = f"pods wait for key {', '.join(sorted(missing))} of Secret {culprit.secret}"
                    return False, why, self.is_doomed(culprit) or self.is_ready(culprit)
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
        backoff = self.timer("ExternalSecret", "retry-backoff", _ESO_RETRY)
        store = obj.store
        if store is not None and store.fail and self.is_ready(store):  # Ready, but its provider is gone
            yield self.env.timeout(self.settings["secret-sync"])
            self._sync_failed(obj, f"{store.kind} {store.node.short} cannot reach its provider")
            self.doom(obj)
            return
        if obj.store is not None and not self.is_ready(obj.store):
            self._sync_failed(obj, f"{obj.store.kind} {obj.store.node.short} is not ready")
            if (yield from self.wait_ready(obj, [obj.store])) is not None:
                self.doom(obj)
                return
            yield self.env.timeout(_next_backoff(first, self.env.now, backoff) - self.env.now)
        yield self.env.timeout(self.settings["secret-sync"])
        if obj.fail:
            self._sync_failed(obj, "could not get secret data from provider (--fail)")
            self.doom(obj)
            return
        self._synced(obj)

    def _synced(self, obj: SimObject) -> None:
        tr = self.t(obj)
        tr.secret, tr.keys, tr.stale_since = True, obj.keys, None
        self.became_ready(obj, "SecretSynced", "secret synced", emits=("SecretSynced",))
        if obj.change == "data":
            self._secret_changed(obj)

    def _sync_failed(self, obj: SimObject, why: str) -> None:
        """Failed (no Secret yet: consumers cannot start) or Stale (the Secret keeps its last data)."""
        self.timer("ExternalSecret", "retry-backoff", _ESO_RETRY)
        tr = self.t(obj)
        if tr.secret:
            if tr.stale_since is None:
                tr.stale_since = self.env.now
            self.set(
                obj, "Stale", "SecretSyncedError", f"{why}; Secret {obj.secret} keeps its last synced data"
            )
        else:
            self.set(obj, "Failed", "SecretSyncedError", f"{why}; Secret {obj.secret} does not exist")

    def _secret_changed(self, obj: SimObject) -> None:
        """The Secret's data was written: Reloader may restart the pods that use it."""
        changed = self.milestone(obj, "changed")
        if not changed.triggered:
            changed.succeed()

    def _other(self, obj: SimObject) -> Generator[Any, Any, None]:
        kind = obj.kind
        waiting = WAITING.get(kind, "Reconciling")
        emits = ("HTTPRouteCreated",) if kind == "HTTPRoute" else ()
        self.set(obj, waiting, "", emits=emits)
        if kind == "Secret":
            if obj.fail:
                self.doom(obj)
                return
            self.t(obj).secret, self.t(obj).keys = True, obj.keys
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

    # -- a running cluster: what a commit or a failure sets in motion ----------------------------

    def _prepare_change(self) -> None:
        """Before anything runs: the Kustomizations that will reconcile a new revision of their source are
        not Ready at that revision, so a dependent waits for them ("revision is not up to date")."""
        for obj in self.objects:
            if obj.change == "revision":
                self.rearm(obj)

    def _start(self, obj: SimObject) -> Generator[Any, Any, None]:
        start = obj.initial
        if start is None:  # not in the cluster yet: added by the change, or missing from the snapshot
            yield from self._lifecycle(obj)
            return
        tr = self.t(obj)
        tr.state, tr.reason, tr.message = start.state, start.reason, start.message
        tr.created_at = 0.0
        tr.secret, tr.keys = start.secret_exists and obj.kind in PRODUCERS, start.keys
        if obj.kind in PRODUCERS and start.secret_exists and start.health != "healthy":
            tr.stale_since = 0.0
        if start.health == "healthy" and obj.change != "revision":
            tr.ready_at = 0.0
            tr.ready.succeed()
        elif start.health in ("stalled", "suspended", "failing"):
            # the simulation cannot know that what makes it fail goes away: it keeps failing
            obj.fail = True
            self.doom(obj)
            return
        elif start.health != "healthy":
            yield from self._reconcile(obj)
            return
        if obj.change:
            yield from self._changed(obj)
        else:
            yield from self._watch(obj)

    def _changed(self, obj: SimObject) -> Generator[Any, Any, None]:
        change = obj.change
        if change == "revision" and obj.kind in SOURCE_KINDS:  # the repository's own source: the commit
            yield self.env.timeout(self.settings["push-notice"])
            yield from self._source(obj)
            return
        if change == "revision":
            source = obj.source
            if source is not None and source.change == "revision":
                yield self.t(source).ready | self.t(source).doomed  # the source watch: a new artifact
                self.t(obj).cause = (source, "ready")
                if not self.is_ready(source):
                    self.set(obj, "Ready", "ReconciliationSucceeded", "still at the old revision: its source "
                             "cannot fetch the new one")  # fmt: skip
                    self.doom(obj)
                    return
            yield from self._kustomization(obj)
            return
        parent = obj.parent
        if parent is not None and change == "removed" and parent.change == "removed":
            yield self.milestone(parent, "pruned")  # its Kustomization is deleted: its inventory with it
        elif parent is not None:
            yield self.applied(parent)  # the new object is applied: a new generation to reconcile
            self.t(obj).cause = (parent, "applied")
        if change == "removed":
            self._removed(obj)
        elif obj.kind == "HelmRelease" and change == "values":
            interval = obj.interval or 0.0
            self.set(
                obj,
                "Ready",
                "ReconciliationSucceeded",
                f"a valuesFrom object changed: helm-controller upgrades at its next interval "
                f"({format_duration(interval)}, assumed a full one after the change)",
            )
            yield self.env.timeout(interval)
            self.rearm(obj)
            yield from self._helm_release(obj, "upgrade")
        elif obj.kind == "HelmRelease" and change == "chart" and obj.source is not None:
            # the source watch: helm-controller reconciles once the new chart artifact is there
            yield self.milestone(obj.source, "fetched") | self.t(obj.source).doomed
            self.t(obj).cause = (obj.source, "ready")
            self.rearm(obj)
            yield from self._helm_release(obj, "upgrade")
        elif obj.kind == "HelmRelease":
            yield from self._helm_release(obj, "upgrade")
        elif obj.kind == "Secret":
            self.t(obj).keys = obj.keys
            self.set(obj, "Ready", "DataChanged", "applied with new data", news=True)
            self._secret_changed(obj)
        elif obj.kind in SOURCE_KINDS:
            yield from self._source(obj)
            if self.is_ready(obj):
                self.milestone(obj, "fetched").succeed()
        elif obj.kind in ("ExternalSecret", "Kustomization"):
            yield from self._reconcile(obj)
        else:
            self.set(obj, "Ready", "Configured", "applied with changes")

    def _apply_changes(self, ks: SimObject) -> None:
        """A Kustomization applies: what it changes reconciles again from now on (and is not Ready till)."""
        for child in ks.applies:
            if child.change in ("spec", "data") and child.initial is not None and child.kind != "Secret":
                self.rearm(child)

    def _removed(self, obj: SimObject) -> None:
        parent = obj.parent
        if parent is not None and not parent.prune:
            self.notes.append(
                f"{obj.label} is gone from Git but stays in the cluster: {parent.label} has prune: false"
            )
            return
        self.set(
            obj, "Absent", "Pruned", f"deleted by {parent.label if parent else 'its Kustomization'} (prune)"
        )
        self.milestone(obj, "pruned").succeed()

    def _watch(self, obj: SimObject) -> Generator[Any, Any, None]:
        """A Ready object reacts only when what it needs fails, at its next periodic reconcile."""
        kind = obj.kind
        if kind == "ExternalSecret":
            store = obj.store
            if not obj.fail and store is not None and not store.fail:
                yield self.t(store).doomed
            refresh = self._refresh(obj)
            if refresh is None:
                return  # refreshInterval 0: synced once, never again
            yield from self.until_tick(obj, refresh)
            self.rearm(obj)
            cause = f"{store.kind} {store.node.short} cannot reach its provider" if store else "the provider"
            self._sync_failed(obj, "could not get secret data from provider" if obj.fail else cause)
            self.doom(obj)
        elif kind in ("ClusterSecretStore", "SecretStore") and obj.fail:
            period = obj.interval or self.timer(kind, "refreshInterval", "re-validation of a store").default
            yield from self.until_tick(obj, period or 0.0)
            self.rearm(obj)
            self.set(obj, "Failed", "ValidationFailed", "the provider cannot be reached (--fail)")
            self.doom(obj)
        elif kind in SOURCE_KINDS and obj.fail:
            yield from self.until_tick(obj, obj.interval or 0.0)
            self.rearm(obj)
            self.set(
                obj,
                "Failed",
                FETCH_FAILED.get(kind, "FetchFailed"),
                "fetch fails (--fail); the last artifact is still served",
            )
            self.doom(obj)
        elif kind == "HelmRelease" and obj.fail:
            # helm-controller does not look at a deployed, up-to-date release again: Flux keeps it Ready
            self.notes.append(
                f"{obj.label} fails (--fail) but stays Ready for Flux until a change upgrades it: "
                "helm-controller does not re-check a deployed release (pods may still crash)"
            )
        elif kind in ("Kustomization", "HelmRelease"):
            watched = [*obj.depends, *(obj.health if kind == "Kustomization" else ())]
            absent = [o for o in obj.applies if o.initial is None and not o.change]
            if obj.fail:
                pass
            elif absent:
                self.notes.append(
                    f"{obj.label} re-creates {len(absent)} object(s) missing from the cluster at its next "
                    "interval"
                )
            elif watched:
                yield self.env.any_of([self.t(o).doomed for o in watched])
            else:
                return
            yield from self.until_tick(obj, obj.interval or 0.0)
            self.rearm(obj)
            yield from self._reconcile(obj, "upgrade")

    def _refresh(self, obj: SimObject) -> float | None:
        timer = self.timer("ExternalSecret", "refreshInterval", "an ExternalSecret's refresh period")
        period = obj.interval if obj.interval is not None else timer.default
        return period or None

    def _reload(self, obj: SimObject) -> Generator[Any, Any, None]:
        """Reloader restarts the pods when a Secret they use changes; without it they keep the old data."""
        changed = [n for n in obj.needs if n.kind in PRODUCERS and n.change == "data"]
        if not changed or obj.change in ("spec", "chart", "values", "added", "removed"):
            return
        reloaded = [n for n in changed if obj.reload_all or n.secret in obj.reload_names]
        for need in changed:
            if need not in reloaded:
                self.notes.append(
                    f"{obj.label} keeps the old data of Secret {need.node.namespace}/{need.secret} until its "
                    "pods restart (no Reloader annotation for it)"
                )
        if not reloaded:
            return
        yield self.env.any_of([self.milestone(n, "changed") for n in reloaded] + [self.t(obj).doomed])
        if self.is_doomed(obj):
            return
        secret = next(n for n in reloaded if self.milestone(n, "changed").triggered)
        self.t(obj).cause = (secret, "ready")
        # the release stays Ready for Flux: it is the workload's pods that roll
        self.set(
            obj,
            "Ready",
            "SecretChanged",
            f"Reloader restarts its pods: Secret {secret.node.namespace}/{secret.secret} changed",
        )
        yield self.env.timeout(self.settings["pod-start"])
        blocked = [n for n in obj.needs if not self.available(n, obj)]
        if blocked:
            missing = self.missing_keys(blocked[0], obj)
            what = f"key {', '.join(sorted(missing))} of " if missing else ""
            self.rearm(obj)
            self.set(
                obj,
                "Ready",
                "CreateContainerConfigError",
                f"the new pods wait for {what}Secret {blocked[0].secret}; the old pods keep serving "
                "(rolling update), the rollout does not finish",
            )
            self.doom(obj)
            return
        self.set(obj, "Ready", "RolloutComplete", "pods restarted with the new Secret data")

    def _applied_text(self, obj: SimObject) -> str:
        if obj.change != "revision":
            return ""
        if not obj.changed_objects:
            return "applied the new revision: no changes"
        return f"applied the new revision: {obj.changed_objects} object(s) changed"

    def _not_ready_text(self, obj: SimObject, dep: SimObject) -> str:
        if obj.change == "revision" and dep.change == "revision" and dep.source is obj.source:
            return f"dependency '{dep.node.short}' revision is not up to date"
        return f"dependency '{dep.node.short}' is not ready"

    # -- result ---------------------------------------------------------------------------------

    def _result(self) -> Result:
        final = []
        converged = True
        last_ready = 0.0
        last: SimObject | None = None
        for obj in self.objects:
            tr = self.t(obj)
            final.append(Final(obj, tr.state, tr.reason, tr.message, tr.ready_at, tr.created_at))
            if obj.change == "removed":
                continue
            if tr.ready_at is None:
                converged = False
            elif tr.ready_at >= last_ready:
                last_ready, last = tr.ready_at, obj
        settled = max((e.t for e in self.events), default=0.0)
        stopped = bool(self.looping)
        path: list[tuple[SimObject, str, float]] = []
        seen: set[tuple[int, str]] = set()
        moved = not self.running or last_ready > 0  # a running cluster where nothing moved has no path
        step: tuple[SimObject, str] | None = (last, "ready") if converged and last and moved else None
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
            stale=self._stale(),
            notes=self.notes,
            timers=self.timers_used,
        )

    def _stale(self) -> list[Stale]:
        """Workloads running on a Secret whose ExternalSecret no longer syncs (it keeps its last data)."""
        out = []
        for producer in self.objects:
            tr = self.t(producer)
            if producer.kind != "ExternalSecret" or tr.stale_since is None or self.is_ready(producer):
                continue
            for consumer in self.consumers.get(id(producer), ()):
                if self.t(consumer).state == "Ready":
                    out.append(Stale(consumer, producer, tr.stale_since))
        return out


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (and restore it) around building and running a simulation.

    A run keeps a suspended generator, its events and their callbacks alive per object; every full
    collection walks all of them, and their number grows with the world, so with the collector on a
    run grows faster than linearly (docs/performance.md). The objects are freed by reference counting
    (simpy drops an event's callbacks once it is processed); what is cyclic goes at the next collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _next_tick(first: float, period: float, now: float) -> float:
    """The first re-check at ``first + k·period`` that is not before ``now``."""
    if now <= first or period <= 0:
        return now
    return first + math.ceil((now - first) / period - 1e-9) * period


def _next_backoff(first: float, now: float, backoff: Timer) -> float:
    """The first retry not before ``now`` of a back-off that started failing at ``first``."""
    at = first
    failures = 0
    while at < now - 1e-9:
        failures += 1
        at += backoff.delay(failures)
    return at
