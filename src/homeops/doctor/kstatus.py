"""Health of any Kubernetes object the way kstatus computes it (the model Flux uses for health checks).

A Python port of the rules of kubernetes-sigs/cli-utils ``pkg/kstatus/status`` (Apache-2.0), written
from reading its source: generic rules first (deletion, observed generation, the standard
``Reconciling``/``Stalled`` conditions), then the rules of the built-in kinds, then a ``Ready``
condition, else the object is taken as current. The result is one of ``Current``, ``InProgress``,
``Failed`` or ``Terminating`` with the reason and message, like ``status.Compute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..cluster.snapshot import parse_time
from ..records import NamedTuple

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
TERMINATING = "Terminating"

SCHEDULE_WINDOW = timedelta(seconds=15)
"""How long a pod may stay unscheduled before kstatus calls it Failed."""


class Result(NamedTuple):
    status: str
    """Current, InProgress, Failed or Terminating."""
    reason: str
    """The reason of the Reconciling (InProgress) or Stalled (Failed) condition kstatus adds; ``""``
    when it adds none (Current, Terminating)."""
    message: str

    @property
    def condition(self) -> str | None:
        """The standard condition kstatus sets: Reconciling, Stalled or None."""
        return {IN_PROGRESS: "Reconciling", FAILED: "Stalled"}.get(self.status)


def _current(message: str) -> Result:
    return Result(CURRENT, "", message)


def _progress(reason: str, message: str) -> Result:
    return Result(IN_PROGRESS, reason, message)


def _failed(reason: str, message: str) -> Result:
    return Result(FAILED, reason, message)


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    current: Any = obj
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def _int(obj: Mapping[str, Any], path: str, default: int) -> int:
    value = _get(obj, *path.split("."))
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(obj: Mapping[str, Any], path: str, default: str) -> str:
    value = _get(obj, *path.split("."))
    return value if isinstance(value, str) else default


def conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``status.conditions`` entries that are mappings."""
    found = _get(obj, "status", "conditions")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def compute(obj: Mapping[str, Any], *, now: datetime | None = None) -> Result:
    """The kstatus result of one object (``now`` decides whether a pending pod is still being scheduled)."""
    generic = _generic(obj)
    if generic is not None:
        return generic
    api_version = obj.get("apiVersion") if isinstance(obj.get("apiVersion"), str) else ""
    group = str(api_version).rsplit("/", 1)[0] if "/" in str(api_version) else ""
    kind = str(obj.get("kind") or "")
    rule = _BUILT_IN.get(f"{group}/{kind}" if group else kind)
    if rule is not None:
        return rule(obj, now or datetime.now(UTC))
    ready = _ready_condition(obj)
    if ready is not None:
        return ready
    return _current("Resource is current")


def _generic(obj: Mapping[str, Any]) -> Result | None:
    if _get(obj, "metadata", "deletionTimestamp"):
        return Result(TERMINATING, "", "Resource scheduled for deletion")
    generation = _get(obj, "metadata", "generation")
    observed = _get(obj, "status", "observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and generation != observed:
        message = (
            f"{obj.get('kind')} generation is {generation}, but latest observed generation is {observed}"
        )
        return _progress("LatestGenerationNotObserved", message)
    for cond in conditions(obj):
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Reconciling":
            return _progress(str(cond.get("reason") or ""), str(cond.get("message") or ""))
        if cond.get("type") == "Stalled":
            return _failed(str(cond.get("reason") or ""), str(cond.get("message") or ""))
    return None


def _ready_condition(obj: Mapping[str, Any]) -> Result | None:
    for cond in conditions(obj):
        if cond.get("type") != "Ready":
            continue
        status = cond.get("status")
        if status == "True":
            return _current("Resource is Ready")
        if status in ("False", "Unknown"):
            return _progress(str(cond.get("reason") or ""), str(cond.get("message") or ""))
    return None


def _has(obj: Mapping[str, Any], kind: str, status: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions(obj) if c.get("type") == kind and c.get("status") == status), None)


def _always(obj: Mapping[str, Any], now: datetime) -> Result:
    return _current("Resource is always ready")


def _statefulset(obj: Mapping[str, Any], now: datetime) -> Result:
    if _str(obj, "spec.updateStrategy.type", "") == "OnDelete":
        return _current("StatefulSet is using the ondelete update strategy")
    spec = _int(obj, "spec.replicas", 1)
    ready = _int(obj, "status.readyReplicas", 0)
    current = _int(obj, "status.currentReplicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    replicas = _int(obj, "status.replicas", 0)
    partition = _int(obj, "spec.updateStrategy.rollingUpdate.partition", -1)
    if spec > replicas:
        return _progress("LessReplicas", f"Replicas: {replicas}/{spec}")
    if spec > ready:
        return _progress("LessReady", f"Ready: {ready}/{spec}")
    if replicas > spec:
        return _progress("ExtraPods", f"Pending termination: {replicas - spec}")
    if partition != -1:
        if updated < spec - partition:
            return _progress("PartitionRollout", f"updated: {updated}/{spec - partition}")
        return _current(f"Partition rollout complete. updated: {updated}")
    if spec > current:
        return _progress("LessCurrent", f"current: {current}/{spec}")
    if _str(obj, "status.currentRevision", "") != _str(obj, "status.updateRevision", ""):
        return _progress("RevisionMismatch", "Waiting for updated revision to match current")
    return _current(f"All replicas scheduled as expected. Replicas: {replicas}")


_NO_DEADLINE = 2**31 - 1
"""The controller's "no progress deadline" value (math.MaxInt32)."""


def _deployment(obj: Mapping[str, Any], now: datetime) -> Result:
    progressing = _int(obj, "spec.progressDeadlineSeconds", _NO_DEADLINE) == _NO_DEADLINE
    available = False
    for cond in conditions(obj):
        if cond.get("type") == "Progressing":
            if cond.get("reason") == "ProgressDeadlineExceeded":
                return _failed("ProgressDeadlineExceeded", "Progress deadline exceeded")
            if cond.get("status") == "True" and cond.get("reason") == "NewReplicaSetAvailable":
                progressing = True
        elif cond.get("type") == "Available" and cond.get("status") == "True":
            available = True
    spec = _int(obj, "spec.replicas", 1)
    replicas = _int(obj, "status.replicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    avail = _int(obj, "status.availableReplicas", 0)
    if spec > replicas:
        return _progress("LessReplicas", f"Replicas: {replicas}/{spec}")
    if spec > updated:
        return _progress("LessUpdated", f"Updated: {updated}/{spec}")
    if replicas > spec:
        return _progress("ExtraPods", f"Pending termination: {replicas - spec}")
    if updated > avail:
        return _progress("LessAvailable", f"Available: {avail}/{updated}")
    if spec > ready:
        return _progress("LessReady", f"Ready: {ready}/{spec}")
    if not progressing:
        return _progress("ReplicaSetNotAvailable", "ReplicaSet not Available")
    if not available:
        return _progress("DeploymentNotAvailable", "Deployment not Available")
    return _current(f"Deployment is available. Replicas: {replicas}")


def _replicaset(obj: Mapping[str, Any], now: datetime) -> Result:
    if _has(obj, "ReplicaFailure", "True"):
        return _progress("ReplicaFailure", "Replica Failure condition. Check Pods")
    spec = _int(obj, "spec.replicas", 1)
    replicas = _int(obj, "status.replicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    avail = _int(obj, "status.availableReplicas", 0)
    labelled = _int(obj, "status.fullyLabeledReplicas", 0)
    if spec > labelled:
        return _progress("LessLabelled", f"Labelled: {labelled}/{spec}")
    if spec > avail:
        return _progress("LessAvailable", f"Available: {avail}/{spec}")
    if spec > ready:
        return _progress("LessReady", f"Ready: {ready}/{spec}")
    if replicas > spec:
        return _progress("ExtraPods", f"Pending termination: {replicas - spec}")
    return _current(f"ReplicaSet is available. Replicas: {replicas}")


def _daemonset(obj: Mapping[str, Any], now: datetime) -> Result:
    # Unlike the generic check, a DaemonSet the controller has seen always has both fields.
    kind = obj.get("kind")
    if not isinstance(_get(obj, "metadata", "generation"), int):
        return _progress("NoGeneration", f"{kind} metadata.generation not found")
    if not isinstance(_get(obj, "status", "observedGeneration"), int):
        return _progress("NoObservedGeneration", f"{kind} status.observedGeneration not found")
    desired = _int(obj, "status.desiredNumberScheduled", -1)
    current = _int(obj, "status.currentNumberScheduled", 0)
    updated = _int(obj, "status.updatedNumberScheduled", 0)
    avail = _int(obj, "status.numberAvailable", 0)
    ready = _int(obj, "status.numberReady", 0)
    if desired == -1:
        return _progress("NoDesiredNumber", "Missing .status.desiredNumberScheduled")
    if desired > current:
        return _progress("LessCurrent", f"Current: {current}/{desired}")
    if desired > updated:
        return _progress("LessUpdated", f"Updated: {updated}/{desired}")
    if desired > avail:
        return _progress("LessAvailable", f"Available: {avail}/{desired}")
    if desired > ready:
        return _progress("LessReady", f"Ready: {ready}/{desired}")
    return _current(f"All replicas scheduled as expected. Replicas: {desired}")


def _pvc(obj: Mapping[str, Any], now: datetime) -> Result:
    phase = _str(obj, "status.phase", "unknown")
    if phase != "Bound":
        return _progress("NotBound", f"PVC is not Bound. phase: {phase}")
    return _current("PVC is Bound")


def crash_looping(obj: Mapping[str, Any]) -> list[str]:
    """Names of the pod's containers waiting in CrashLoopBackOff."""
    statuses = _get(obj, "status", "containerStatuses")
    names = []
    for item in statuses if isinstance(statuses, list) else []:
        if isinstance(item, dict) and _get(item, "state", "waiting", "reason") == "CrashLoopBackOff":
            names.append(str(item.get("name")))
    return names


def _pod(obj: Mapping[str, Any], now: datetime) -> Result:
    phase = _str(obj, "status.phase", "")
    if phase == "Succeeded":
        return _current("Pod has completed successfully")
    if phase == "Failed":
        return _current("Pod has completed, but not successfully")
    if phase == "Running":
        if _has(obj, "Ready", "True"):
            return _current("Pod is Ready")
        looping = crash_looping(obj)
        if looping:
            return _failed("ContainerCrashLooping", f"Containers in CrashLoop state: {','.join(looping)}")
        return _progress("PodRunningNotReady", "Pod is running but is not Ready")
    if phase == "Pending":
        cond = _has(obj, "PodScheduled", "False")
        if cond is not None and cond.get("reason") == "Unschedulable":
            created = parse_time(_get(obj, "metadata", "creationTimestamp"))
            if created is not None and now - SCHEDULE_WINDOW < created:
                return _progress("PodNotScheduled", "Pod has not been scheduled")
            return _failed("PodUnschedulable", "Pod could not be scheduled")
        return _progress("PodPending", "Pod is in the Pending phase")
    if phase == "":
        return _progress("PodNotObserved", "Pod phase not available")
    # kstatus returns an error for a phase it does not know; an object is never an error here.
    return _progress("UnknownPhase", f"unknown phase {phase}")


def _pdb(obj: Mapping[str, Any], now: datetime) -> Result:
    return _current("AllowedDisruptions has been computed.")


def _job(obj: Mapping[str, Any], now: datetime) -> Result:
    parallelism = _int(obj, "spec.parallelism", 1)
    completions = _int(obj, "spec.completions", parallelism)
    succeeded = _int(obj, "status.succeeded", 0)
    active = _int(obj, "status.active", 0)
    failed = _int(obj, "status.failed", 0)
    suspended = _get(obj, "spec", "suspend") is True
    for cond in conditions(obj):
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return _current(f"Job Completed. succeeded: {succeeded}/{completions}")
        if cond.get("type") == "Failed":
            return _failed("JobFailed", f"Job Failed. failed: {failed}/{completions}")
        if cond.get("type") == "Suspended" and suspended:
            return _current("Job is suspended")
    if not _str(obj, "status.startTime", ""):
        return _progress("JobNotStarted", "Job not started")
    return _current(f"Job in progress. success:{succeeded}, active: {active}, failed: {failed}")


def _service(obj: Mapping[str, Any], now: datetime) -> Result:
    if _str(obj, "spec.type", "ClusterIP") == "LoadBalancer" and not _str(obj, "spec.clusterIP", ""):
        return _progress("NoIPAssigned", "ClusterIP not set. Service type: LoadBalancer")
    return _current("Service is ready")


def _crd(obj: Mapping[str, Any], now: datetime) -> Result:
    for cond in conditions(obj):
        reason, message = str(cond.get("reason") or ""), str(cond.get("message") or "")
        if cond.get("type") == "NamesAccepted" and cond.get("status") == "False":
            return _failed(reason, message)
        if cond.get("type") == "Established":
            if cond.get("status") == "False" and reason != "Installing":
                return _failed(reason, message)
            if cond.get("status") == "True":
                return _current("CRD is established")
    return _progress("Installing", "Install in progress")


_BUILT_IN: dict[str, Callable[[Mapping[str, Any], datetime], Result]] = {
    "Service": _service,
    "Pod": _pod,
    "Secret": _always,
    "ConfigMap": _always,
    "PersistentVolumeClaim": _pvc,
    "apps/StatefulSet": _statefulset,
    "apps/DaemonSet": _daemonset,
    "extensions/DaemonSet": _daemonset,
    "apps/Deployment": _deployment,
    "extensions/Deployment": _deployment,
    "apps/ReplicaSet": _replicaset,
    "extensions/ReplicaSet": _replicaset,
    "policy/PodDisruptionBudget": _pdb,
    "batch/CronJob": _always,
    "batch/Job": _job,
    "apiextensions.k8s.io/CustomResourceDefinition": _crd,
}
