"""The live state of one object, in the words ``status`` and ``why`` print.

States: Ready, Reconciling, Retrying (n of N when the controller gives up after N attempts), Stalled
(will not retry by itself), Blocked (waits for something else), Suspended, Missing. The state and
reason of each kind come from the state machines of :mod:`homeops.runtime` (``classify``); this
module adds what a live explanation needs beside them: the evidence behind the state (condition,
message, events, container waiting messages) and, for pods and workloads, the kstatus health.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..records import NamedTuple
from . import kstatus
from .view import Ref, View, condition, get

READY = "Ready"
RECONCILING = "Reconciling"
RETRYING = "Retrying"
STALLED = "Stalled"
BLOCKED = "Blocked"
SUSPENDED = "Suspended"
MISSING = "Missing"

HEALTHY = frozenset({READY, SUSPENDED})
"""States that are not a problem in themselves (a suspended object is so on purpose)."""
SEVERITY = {MISSING: 0, STALLED: 1, RETRYING: 2, BLOCKED: 3, RECONCILING: 4, SUSPENDED: 5, READY: 6}
"""Which cause to follow first when several are not Ready."""


class LiveState(NamedTuple):
    state: str
    reason: str
    message: str = ""
    attempt: int | None = None
    """Failed attempts so far (HelmRelease install/upgrade, container restarts)."""
    attempts: int | None = None
    """Attempts before the controller gives up; None when it never does."""
    evidence: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state in HEALTHY

    @property
    def label(self) -> str:
        """``Retrying 2 of 4`` and the like."""
        if self.state == RETRYING and self.attempt is not None and self.attempts is not None:
            return f"{RETRYING} {self.attempt} of {self.attempts}"
        return self.state


FLUX_KINDS = frozenset(
    {
        "Kustomization",
        "HelmRelease",
        "GitRepository",
        "OCIRepository",
        "HelmRepository",
        "HelmChart",
        "Bucket",
    }
)
_ALWAYS_THERE = frozenset({"Secret", "ConfigMap", "Service", "StorageClass", "Namespace"})


def state_of(view: View, ref: Ref) -> LiveState:
    """The state of the object ``ref`` names in the snapshot (Missing when it is not there)."""
    obj = view.get(ref)
    if obj is None:
        return LiveState(MISSING, "NotFound", f"{ref} does not exist in the cluster")
    evidence = _events(view, ref)
    if ref.kind in ("Kustomization", "HelmRelease"):
        found = _from_machine(obj, ref.kind, _flux(obj, ref.kind))
    elif ref.kind in FLUX_KINDS:
        found = _flux(obj, ref.kind)
    elif ref.kind == "Pod":
        found = _pod(obj, view)
    elif ref.kind == "ExternalSecret" or ref.kind.endswith("SecretStore"):
        found = _ready_condition(obj, RETRYING)
    elif ref.kind == "HTTPRoute":
        found = _route(obj)
    elif ref.kind == "Gateway":
        found = _gateway(obj)
    elif ref.kind == "PersistentVolumeClaim":
        found = _claim(obj)
    elif ref.kind in _ALWAYS_THERE:
        found = LiveState(READY, "Exists")
    else:
        found = _kstatus(obj, view)
    return found._replace(evidence=found.evidence + evidence)


def _events(view: View, ref: Ref, limit: int = 3) -> tuple[str, ...]:
    out = []
    for event in view.events_of(ref)[:limit]:
        count = event.get("count")
        times = f" (x{count})" if isinstance(count, int) and count > 1 else ""
        out.append(f"event {event.get('reason')}: {_one_line(event.get('message'))}{times}")
    return tuple(out)


def _one_line(value: Any, limit: int = 300) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cond_text(cond: Mapping[str, Any]) -> str:
    message = _one_line(cond.get("message"))
    text = f"{cond.get('type')}={cond.get('status')} {cond.get('reason') or ''}".rstrip()
    return f"{text}: {message}" if message else text


# -- Flux -------------------------------------------------------------------------------------------

#: The runtime machines' states in status' words (a machine state not listed is in progress).
_FROM_MACHINE = {READY: READY, BLOCKED: BLOCKED, STALLED: STALLED, SUSPENDED: SUSPENDED, "Failed": RETRYING}


def _from_machine(obj: Mapping[str, Any], kind: str, observed: LiveState) -> LiveState:
    """The state the runtime machine names (homeops.runtime.machines.classify), with the attempts,
    message and evidence read here."""
    from ..runtime.machines import classify

    machine_state, reason = classify(kind, obj)
    state = _FROM_MACHINE.get(machine_state, RECONCILING)
    if state == RECONCILING and observed.state == RETRYING:
        state = RETRYING  # Reconciling=True ProgressingWithRetry: a retry after a failure
    return observed._replace(state=state, reason=reason or observed.reason)


def _flux(obj: Mapping[str, Any], kind: str) -> LiveState:
    if get(obj, "spec", "suspend") is True:
        return LiveState(SUSPENDED, "Suspended", "spec.suspend is true", evidence=("spec.suspend: true",))
    ready = condition(obj, "Ready")
    stalled = condition(obj, "Stalled")
    reconciling = condition(obj, "Reconciling")
    evidence = tuple(_cond_text(c) for c in (ready, stalled, reconciling) if c is not None)
    generation, observed = get(obj, "metadata", "generation"), get(obj, "status", "observedGeneration")
    if stalled is not None and stalled.get("status") == "True":
        return LiveState(
            STALLED, str(stalled.get("reason") or ""), _one_line(stalled.get("message")), evidence=evidence
        )
    if ready is None:
        return LiveState(
            RECONCILING, "NotObserved", "the controller has not reported on it yet", evidence=evidence
        )
    reason, message = str(ready.get("reason") or ""), _one_line(ready.get("message"))
    if ready.get("status") == "True":
        if isinstance(generation, int) and isinstance(observed, int) and generation != observed:
            return LiveState(
                RECONCILING, "Progressing", f"generation {generation} not yet observed", evidence=evidence
            )
        return LiveState(READY, reason, message, evidence=evidence)
    if reason == "DependencyNotReady":
        return LiveState(BLOCKED, reason, message, evidence=evidence)
    if ready.get("status") == "Unknown" or (reconciling is not None and reconciling.get("status") == "True"):
        retrying = reconciling is not None and reconciling.get("reason") == "ProgressingWithRetry"
        if not retrying:
            return LiveState(RECONCILING, reason or "Progressing", message, evidence=evidence)
    attempt, attempts = _release_attempts(obj) if kind == "HelmRelease" else (None, None)
    return LiveState(RETRYING, reason, message, attempt, attempts, evidence)


def _release_attempts(obj: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Failed attempts and the allowed attempts (retries + 1) of the current install or upgrade."""
    installed = any(
        isinstance(h, dict) and h.get("status") == "deployed" for h in get(obj, "status", "history") or ()
    ) or bool(get(obj, "status", "lastAppliedRevision"))
    action = "upgrade" if installed else "install"
    failures = get(obj, "status", f"{action}Failures")
    retries = get(obj, "spec", action, "remediation", "retries")
    if not isinstance(failures, int) or failures <= 0:
        return None, None
    if not isinstance(retries, int) or retries < 0:
        retries = 0
    return failures, retries + 1


# -- pods, workloads --------------------------------------------------------------------------------

_WAITING_BLOCKED = frozenset({"CreateContainerConfigError", "ContainerCreating", "PodInitializing"})
_WAITING_RETRY = frozenset({"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "RunContainerError"})


def container_problems(pod: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    """(container, waiting reason, message, restarts) of every container that is not running well."""
    out = []
    for field in ("initContainerStatuses", "containerStatuses"):
        for status in get(pod, "status", field) or ():
            if not isinstance(status, dict):
                continue
            waiting = get(status, "state", "waiting")
            count = status.get("restartCount")
            restarts = count if isinstance(count, int) else 0
            if isinstance(waiting, dict) and waiting.get("reason") not in (None, "PodInitializing"):
                out.append(
                    (
                        str(status.get("name")),
                        str(waiting.get("reason")),
                        str(waiting.get("message") or ""),
                        restarts,
                    )
                )
    return out


def _pod(obj: Mapping[str, Any], view: View) -> LiveState:
    health = kstatus.compute(obj, now=view.now)
    problems = container_problems(obj)
    evidence: list[str] = []
    for name, reason, message, restarts in problems:
        text = f"container {name} waiting: {reason}"
        evidence.append(f"{text}: {_one_line(message)}" if message else text)
        last = _last_termination(obj, name)
        if last:
            evidence.append(f"container {name} last terminated: {last} (restarts: {restarts})")
    scheduled = condition(obj, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        evidence.append(_cond_text(scheduled))
    if health.status == kstatus.CURRENT and not problems:
        return LiveState(
            READY, "Running" if get(obj, "status", "phase") == "Running" else "Completed", health.message
        )
    for _name, reason, message, restarts in problems:
        if reason in _WAITING_RETRY:
            return LiveState(RETRYING, reason, _one_line(message), restarts or None, None, tuple(evidence))
        if reason in _WAITING_BLOCKED:
            return LiveState(BLOCKED, reason, _one_line(message), evidence=tuple(evidence))
    if scheduled is not None and scheduled.get("status") == "False":
        return LiveState(
            BLOCKED,
            str(scheduled.get("reason") or "Unschedulable"),
            _one_line(scheduled.get("message")),
            evidence=tuple(evidence),
        )
    if get(obj, "status", "phase") == "Pending":
        return LiveState(BLOCKED, "Pending", health.message, evidence=tuple(evidence))
    return LiveState(RECONCILING, health.reason or "NotReady", health.message, evidence=tuple(evidence))


def _last_termination(pod: Mapping[str, Any], container: str) -> str:
    for status in get(pod, "status", "containerStatuses") or ():
        if isinstance(status, dict) and status.get("name") == container:
            term = get(status, "lastState", "terminated")
            if isinstance(term, dict):
                text = f"{term.get('reason') or 'Terminated'}, exit code {term.get('exitCode')}"
                return f"{text}: {_one_line(term.get('message'), 200)}" if term.get("message") else text
    return ""


def _kstatus(obj: Mapping[str, Any], view: View) -> LiveState:
    health = kstatus.compute(obj, now=view.now)
    evidence = (f"kstatus {health.status} {health.reason}: {health.message}".replace("  ", " "),)
    if health.status == kstatus.CURRENT:
        return LiveState(READY, "Current", health.message)
    if health.status == kstatus.FAILED:
        return LiveState(STALLED, health.reason, health.message, evidence=evidence)
    return LiveState(RECONCILING, health.reason, health.message, evidence=evidence)


# -- secrets, routes, claims ------------------------------------------------------------------------


def _ready_condition(obj: Mapping[str, Any], failing: str) -> LiveState:
    ready = condition(obj, "Ready")
    if ready is None:
        return LiveState(RECONCILING, "NotObserved", "the controller has not reported on it yet")
    evidence = (_cond_text(ready),)
    reason, message = str(ready.get("reason") or ""), _one_line(ready.get("message"))
    if ready.get("status") == "True":
        return LiveState(READY, reason, message, evidence=evidence)
    return LiveState(failing, reason, message, evidence=evidence)


def _route(obj: Mapping[str, Any]) -> LiveState:
    parents = get(obj, "status", "parents")
    if not isinstance(parents, list) or not parents:
        return LiveState(
            BLOCKED,
            "NotAttached",
            "no gateway controller attached the route (status.parents is empty)",
            evidence=("status.parents: []",),
        )
    evidence: list[str] = []
    worst: LiveState | None = None
    for parent in parents:
        ref = get(parent, "parentRef") or {}
        where = f"parent {ref.get('namespace') or ''}/{ref.get('name')}".replace(" /", " ")
        for cond in get(parent, "conditions") or ():
            if not isinstance(cond, dict) or cond.get("status") == "True":
                continue
            evidence.append(f"{where}: {_cond_text(cond)}")
            if cond.get("type") == "Accepted":
                worst = LiveState(STALLED, str(cond.get("reason") or ""), _one_line(cond.get("message")))
            elif cond.get("type") == "ResolvedRefs" and worst is None:
                worst = LiveState(BLOCKED, str(cond.get("reason") or ""), _one_line(cond.get("message")))
    if worst is None:
        return LiveState(READY, "Accepted", "accepted by every parent")
    return worst._replace(evidence=tuple(evidence))


def _gateway(obj: Mapping[str, Any]) -> LiveState:
    for kind in ("Accepted", "Programmed"):
        cond = condition(obj, kind)
        if cond is not None and cond.get("status") != "True":
            state = STALLED if kind == "Accepted" and cond.get("status") == "False" else RECONCILING
            return LiveState(
                state,
                str(cond.get("reason") or ""),
                _one_line(cond.get("message")),
                evidence=(_cond_text(cond),),
            )
    if condition(obj, "Programmed") is None and condition(obj, "Accepted") is None:
        return LiveState(RECONCILING, "NotObserved", "no gateway controller has reported on it")
    return LiveState(READY, "Programmed", "accepted and programmed")


def _claim(obj: Mapping[str, Any]) -> LiveState:
    phase = get(obj, "status", "phase")
    if phase == "Bound":
        return LiveState(READY, "Bound", "bound to a volume")
    if phase == "Lost":
        return LiveState(STALLED, "Lost", "its volume is gone", evidence=("status.phase: Lost",))
    return LiveState(
        BLOCKED, "NotBound", f"phase {phase or 'unknown'}", evidence=(f"status.phase: {phase or 'unknown'}",)
    )


SECRET_NOT_FOUND = re.compile(r'secrets? "([^"]+)" not found')
CLAIM_NOT_FOUND = re.compile(r'persistentvolumeclaims? "([^"]+)" not found')
CONFIGMAP_NOT_FOUND = re.compile(r'configmaps? "([^"]+)" not found')
