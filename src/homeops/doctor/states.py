"""The live state of one object, in the words ``status`` and ``why`` print.

States: Ready, Reconciling, Retrying (n of N when the controller gives up after N attempts), Stalled
(will not retry by itself), Blocked (waits for something else), Suspended, Missing. Which state an
object is in is decided by the runtime state machines (:mod:`homeops.runtime.machines`), whose
recognition rules are the only ones; this module words a machine state for a person (by its health:
a failing state is Retrying, a waiting one Blocked), and gathers what a live explanation shows beside
it: the evidence (conditions, events, container waiting messages), the attempts, and for kinds without
a machine (workloads) the kstatus health.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..records import NamedTuple
from ..runtime.flux import release_attempts
from ..runtime.machine import Machine
from ..runtime.machines import MACHINES
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

WORDS = {
    "healthy": READY,
    "suspended": SUSPENDED,
    "stalled": STALLED,
    "waiting": BLOCKED,
    "failing": RETRYING,
    "progressing": RECONCILING,
    "absent": MISSING,
}
"""A machine state's health → the word status prints (the presentation, not the recognition)."""


class LiveState(NamedTuple):
    state: str
    reason: str
    message: str = ""
    attempt: int | None = None
    """Failed attempts so far (HelmRelease install/upgrade, container restarts)."""
    attempts: int | None = None
    """Attempts before the controller gives up; None when it never does."""
    evidence: tuple[str, ...] = ()
    phase: str = ""
    """The runtime machine's own state (Stale, CrashLoopBackOff, Installing, …), or the kstatus status
    of a kind without a machine; "" for Missing and the kinds that only exist."""

    @property
    def healthy(self) -> bool:
        return self.state in HEALTHY

    @property
    def label(self) -> str:
        """``Retrying 2 of 4`` and the like."""
        if self.state == RETRYING and self.attempt is not None and self.attempts is not None:
            return f"{RETRYING} {self.attempt} of {self.attempts}"
        return self.state


def word(machine: Machine, state: str, reason: str) -> str:
    """How status words a machine state: by its health; an attempt after a failure is Retrying."""
    found = WORDS[machine.state(state).health]
    if found == RECONCILING and reason == "ProgressingWithRetry":
        return RETRYING
    return found


_ALWAYS_THERE = frozenset({"Secret", "ConfigMap", "Service", "StorageClass", "Namespace"})


def state_of(view: View, ref: Ref) -> LiveState:
    """The state of the object ``ref`` names in the snapshot (Missing when it is not there)."""
    obj = view.get(ref)
    if obj is None:
        return LiveState(MISSING, "NotFound", f"{ref} does not exist in the cluster")
    machine = MACHINES.get(ref.kind)
    if machine is not None:
        found = _from_machine(view, ref, obj, machine)
    elif ref.kind in _ALWAYS_THERE:
        found = LiveState(READY, "Exists")
    else:
        found = _kstatus(obj, view)
    return found._replace(evidence=found.evidence + _events(view, ref))


def facts(view: View, ref: Ref, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the machines may ask beside the object (``homeops.runtime.machine.FACTS``): whether an
    ExternalSecret's target Secret exists. As everywhere in a live explanation, the snapshot is the
    cluster: a Secret it does not hold does not exist."""
    if ref.kind == "ExternalSecret":
        return {"target-exists": view.get(Ref("Secret", ref.namespace, target_secret(ref, obj))) is not None}
    return {}


def target_secret(ref: Ref, obj: Mapping[str, Any]) -> str:
    """The name of the Secret an ExternalSecret writes."""
    return str(get(obj, "spec", "target", "name") or ref.name)


def _from_machine(view: View, ref: Ref, obj: Mapping[str, Any], machine: Machine) -> LiveState:
    found = machine.recognised(obj, facts(view, ref, obj))
    state = word(machine, found.state, found.reason)
    attempt: int | None = None
    attempts: int | None = None
    if ref.kind == "Pod":
        evidence = _pod_evidence(obj)
        problems = container_problems(obj)
        if state == RETRYING and problems:
            attempt = max(restarts for *_, restarts in problems) or None
    elif ref.kind == "HTTPRoute":
        evidence = _route_evidence(obj)
    elif ref.kind == "PersistentVolumeClaim":
        phase = get(obj, "status", "phase")
        evidence = () if phase == "Bound" else (f"status.phase: {phase or 'unknown'}",)
    else:
        evidence = _condition_evidence(obj)
    if ref.kind == "HelmRelease" and state == RETRYING:
        attempt, attempts = release_attempts(obj)
    message = _one_line(found.message)
    if not message:
        ready = condition(obj, "Ready")
        message = _one_line(ready.get("message")) if ready is not None else ""
    return LiveState(state, found.reason, message, attempt, attempts, evidence, found.state)


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


_EVIDENCE_CONDITIONS = ("Ready", "Stalled", "Reconciling", "FetchFailed", "Accepted", "Programmed")


def _condition_evidence(obj: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        _cond_text(found)
        for found in (condition(obj, kind) for kind in _EVIDENCE_CONDITIONS)
        if found is not None
    )


def _route_evidence(obj: Mapping[str, Any]) -> tuple[str, ...]:
    parents = get(obj, "status", "parents")
    if not isinstance(parents, list) or not parents:
        return ("status.parents: [] (no gateway controller attached the route)",)
    evidence = []
    for parent in parents:
        ref = get(parent, "parentRef") or {}
        where = f"parent {ref.get('namespace') or ''}/{ref.get('name')}".replace(" /", " ")
        for cond in get(parent, "conditions") or ():
            if isinstance(cond, dict) and cond.get("status") != "True":
                evidence.append(f"{where}: {_cond_text(cond)}")
    return tuple(evidence)


# -- pods, workloads --------------------------------------------------------------------------------


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


def _pod_evidence(obj: Mapping[str, Any]) -> tuple[str, ...]:
    evidence: list[str] = []
    for name, reason, message, restarts in container_problems(obj):
        text = f"container {name} waiting: {reason}"
        evidence.append(f"{text}: {_one_line(message)}" if message else text)
        last = _last_termination(obj, name)
        if last:
            evidence.append(f"container {name} last terminated: {last} (restarts: {restarts})")
    scheduled = condition(obj, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        evidence.append(_cond_text(scheduled))
    return tuple(evidence)


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
        return LiveState(READY, "Current", health.message, phase=health.status)
    if health.status == kstatus.FAILED:
        return LiveState(STALLED, health.reason, health.message, evidence=evidence, phase=health.status)
    return LiveState(RECONCILING, health.reason, health.message, evidence=evidence, phase=health.status)


SECRET_NOT_FOUND = re.compile(r'secrets? "([^"]+)" not found')
