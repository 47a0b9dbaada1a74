"""The Kubernetes machines a HelmRelease waits on: Pod and PersistentVolumeClaim.

Pod states follow what the kubelet reports (phase, container waiting/terminated reasons, conditions)
and kstatus's reading of them (``../shared/runtime/kstatus/core.go``: a CrashLoopBackOff pod is
phase Running and Failed for kstatus; Pending with PodScheduled=False Unschedulable). Back-off values
are the kubelet's (Kubernetes docs, "Pod Lifecycle" and "Images").
"""

from __future__ import annotations

from . import defaults as d
from .machine import Cond, Container, Has, Machine, NoStatus, Phase, Recognise, State, Timer, Transition

POD = Machine(
    kind="Pod",
    api="v1",
    slug="pod",
    title="Pod",
    summary="A pod is scheduled once its claims are bound, then the kubelet mounts volumes, resolves env "
    "from Secrets and ConfigMaps, pulls images and starts containers. Failures are retried without limit "
    "with a back-off of 10 s doubling to 5 min; a crash-looping pod stays in phase Running.",
    initial="Absent",
    states=(
        State("Absent", "not created yet (its Deployment/StatefulSet has not been applied)", "absent"),
        State("Pending", "not scheduled: no node fits, or a PersistentVolumeClaim is not bound", "waiting"),
        State(
            "ContainerCreating",
            "scheduled; mounting volumes and pulling images (a missing Secret volume "
            "keeps it here with FailedMount events)",
            "progressing",
        ),
        State("ConfigError", "a Secret or ConfigMap (or a key) used by env is missing", "waiting"),
        State("ImagePullBackOff", "the image cannot be pulled; retried with back-off", "failing"),
        State("Running", "running and Ready", "healthy"),
        State("NotReady", "running but a readiness probe fails", "progressing"),
        State(
            "CrashLoopBackOff",
            "a container keeps exiting; restarted with back-off (phase stays Running)",
            "failing",
        ),
        State("Succeeded", "all containers exited 0 (jobs)", "healthy", final=True),
        State(
            "Failed", "terminated for good (restartPolicy Never/OnFailure, evicted)", "stalled", final=True
        ),
        State("Terminating", "being deleted", "progressing"),
    ),
    transitions=(
        Transition("Absent", "Pending", "created by its controller"),
        Transition("Pending", "ContainerCreating", "scheduled", guard="claims bound, a node fits"),
        Transition(
            "ContainerCreating",
            "ConfigError",
            "env refers to a missing Secret/ConfigMap or key",
            reason="CreateContainerConfigError",
        ),
        Transition("ConfigError", "ContainerCreating", "the Secret appears (kubelet re-syncs the pod)"),
        Transition("ContainerCreating", "ImagePullBackOff", "pull fails", reason="ErrImagePull"),
        Transition(
            "ContainerCreating",
            "CrashLoopBackOff",
            "the container cannot be started (bad command, mount)",
            timer="restart-backoff",
            reason="RunContainerError",
        ),
        Transition("ImagePullBackOff", "ContainerCreating", "back-off elapsed", timer="image-pull-backoff"),
        Transition("ContainerCreating", "Running", "containers started and Ready"),
        Transition("ContainerCreating", "NotReady", "containers started, readiness pending"),
        Transition("NotReady", "Running", "readiness probe passes"),
        Transition("Running", "NotReady", "readiness probe fails"),
        Transition(
            "Running",
            "CrashLoopBackOff",
            "a container exits",
            timer="restart-backoff",
            reason="CrashLoopBackOff",
        ),
        Transition(
            "CrashLoopBackOff", "Running", "restart after back-off, stays up", timer="restart-backoff"
        ),
        Transition("Running", "Succeeded", "all containers exit 0 (restartPolicy Never/OnFailure)"),
        Transition("Running", "Failed", "a container fails (restartPolicy Never) or the pod is evicted"),
        Transition("Running", "Terminating", "deleted (rollout, drain)"),
        Transition("Terminating", "Absent", "containers stopped (terminationGracePeriodSeconds)"),
    ),
    timers=(
        Timer(
            "restart-backoff",
            d.POD_BACKOFF_START,
            "kubelet: 10s doubling, capped at 300s, reset after 10m running",
            cap=d.POD_BACKOFF_MAX,
        ),
        Timer(
            "image-pull-backoff",
            d.POD_BACKOFF_START,
            "kubelet: image pull back-off, capped at 300s",
            cap=d.POD_BACKOFF_MAX,
        ),
    ),
    recognise=(
        Recognise("Terminating", (Has("metadata.deletionTimestamp"),), reason="Terminating"),
        Recognise("Succeeded", (Phase(("Succeeded",)),), reason="Succeeded"),
        Recognise("Failed", (Phase(("Failed",)),), reason="Failed"),
        Recognise("Pending", (Cond("PodScheduled", "False"),)),
        Recognise("CrashLoopBackOff", (Container("waiting", ("CrashLoopBackOff", "RunContainerError")),)),
        Recognise(
            "ImagePullBackOff",
            (
                Container(
                    "waiting", ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
                ),
            ),
        ),
        Recognise(
            "ConfigError", (Container("waiting", ("CreateContainerConfigError", "CreateContainerError")),)
        ),
        Recognise("ContainerCreating", (Container("waiting", ("ContainerCreating", "PodInitializing")),)),
        Recognise("Running", (Phase(("Running",)), Cond("Ready", "True")), reason="Ready"),
        Recognise("NotReady", (Phase(("Running",)),), reason="ContainersNotReady"),
        Recognise("Pending", (Phase(("Pending",)),), reason="Pending"),
        Recognise("Pending", (NoStatus(),), reason="PodNotObserved"),
    ),
    fallback=("Pending", "Unknown"),
    seed_differences=(
        '"CrashLoop → Failed: max restarts" (seed 002): there is no maximum with restartPolicy Always; the '
        "restart back-off doubles from 10 s and caps at 5 min (reset after 10 min of running), and the "
        "pod stays in phase Running, shown as CrashLoopBackOff.",
        '"Image pull: 3 retries, 1 min timeout": the kubelet retries without limit, backing off up to '
        "5 min (ErrImagePull, then ImagePullBackOff).",
        '"WaitingSecrets" is not a pod state: a missing Secret used by env gives waiting reason '
        'CreateContainerConfigError (`secret "x" not found`); a missing Secret volume leaves the pod '
        "ContainerCreating with FailedMount events. Either way it starts as soon as the Secret appears.",
        '"Starting → Failed: start timeout": the kubelet has no start timeout; a HelmRelease\'s Helm '
        "action times out instead (its `timeout`, 5m by default).",
    ),
    sources=(
        "kstatus/core.go (kubernetes-sigs/cli-utils @ 5895ad6): podConditions, getCrashLoopingContainers",
        "Kubernetes docs, Pod Lifecycle: container restart back-off 10s…300s, reset after 10m",
        "Kubernetes docs, Images: ImagePullBackOff, back-off capped at 300s",
    ),
)

PERSISTENT_VOLUME_CLAIM = Machine(
    kind="PersistentVolumeClaim",
    api="v1",
    slug="persistentvolumeclaim",
    title="PersistentVolumeClaim",
    summary="A claim is Pending until a volume is bound to it: provisioned by its StorageClass (at once, "
    "or when its first pod is scheduled with `volumeBindingMode: WaitForFirstConsumer`) or matched to "
    "an existing volume. Pods that use it are not scheduled until then.",
    initial="Absent",
    states=(
        State("Absent", "not created: pods using it stay Pending (Unschedulable)", "absent"),
        State("Pending", "waiting for a volume (provisioner, first consumer, or a matching PV)", "waiting"),
        State("Bound", "bound to a volume", "healthy"),
        State("Lost", "its volume is gone", "stalled", final=True),
    ),
    transitions=(
        Transition("Absent", "Pending", "applied (Kustomization or chart)"),
        Transition(
            "Pending", "Bound", "volume provisioned or matched", guard="StorageClass provisioner running"
        ),
        Transition("Bound", "Lost", "the bound PersistentVolume was deleted"),
    ),
    recognise=(
        Recognise("Bound", (Phase(("Bound",)),), reason="Bound"),
        Recognise("Lost", (Phase(("Lost",)),), reason="Lost"),
        Recognise("Pending", (Phase(("Pending",)),), reason="Pending"),
        Recognise("Pending", (NoStatus(),), reason="Pending"),
    ),
    fallback=("Pending", "Unknown"),
    seed_differences=(
        'Seed 001 ("workloads remain blocked in Pending until a matching claim exists") matches what '
        "Kubernetes does: the pod is Pending with PodScheduled=False (Unschedulable) until the claim is "
        "Bound.",
    ),
    sources=("Kubernetes docs, Persistent Volumes: claim phases Pending, Bound, Lost; volumeBindingMode",),
)
