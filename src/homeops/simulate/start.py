"""Where a simulation starts when the cluster is already running: converged on the repository, or as a
snapshot shows it.

Each object gets an :class:`~homeops.simulate.world.Initial` state. Converged: the final state of a
simulated bootstrap of the same repository (what never converges there starts failing). From a
snapshot (``homeops snapshot save``, ``kubectl get -o json``): the live state of each object, named by
the runtime machines through the live side (:func:`homeops.doctor.states.state_of`); an object the
snapshot does not hold is absent and its Kustomization re-creates it at its next interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..runtime.machines import MACHINES
from .engine import Final, Simulation
from .settings import Settings
from .world import Initial, SimObject

if TYPE_CHECKING:
    from ..doctor.view import View

Key = tuple[str, str, str, str]
"""(cluster, kind, namespace, name) of a simulated object."""

_HEALTH = {
    "Ready": "healthy",
    "Suspended": "suspended",
    "Stalled": "stalled",
    "Retrying": "failing",
    "Blocked": "waiting",
    "Reconciling": "progressing",
}
"""The live side's words → the machines' health (the inverse of homeops.doctor.states.WORDS)."""


def key(obj: SimObject) -> Key:
    node = obj.node
    return (node.cluster, node.kind, node.namespace, node.name)


def converged(world: Sequence[SimObject], settings: Settings, horizon: float) -> dict[Key, Initial]:
    """Each object's state once a bootstrap of ``world`` has settled (its own objects; run here)."""
    result = Simulation(world, settings, horizon=horizon, exhaustive=False).run()
    return {key(f.obj): _initial(f) for f in result.final}


def _initial(final: Final) -> Initial:
    obj = final.obj
    if final.ready_at is not None:
        health = "healthy"
    else:
        machine = MACHINES.get(obj.kind)
        names = {s.name: s.health for s in machine.states} if machine is not None else {}
        health = names.get(final.state, "failing")
    return Initial(
        final.state,
        final.reason,
        final.message,
        health,
        secret_exists=final.ready_at is not None,
        keys=obj.keys,
    )


def apply_initial(world: Sequence[SimObject], states: Mapping[Key, Initial]) -> None:
    """Set each object's start (objects without one are absent: added since, or never applied)."""
    for obj in world:
        obj.initial = states.get(key(obj))


def from_snapshot(world: Sequence[SimObject], objects: Callable[[str, str, str], LiveObject | None]) -> None:
    """Start each object as the snapshot shows it; ``objects(kind, namespace, name)`` reads it there."""
    for obj in world:
        kind = obj.res.kind if obj.res is not None else obj.node.kind
        found = objects(kind, obj.node.namespace, obj.node.name)
        obj.initial = found.initial(obj) if found is not None else None


class LiveObject:
    """One object of a snapshot, as a simulation's start: its state, its Secret, when it last synced."""

    def __init__(
        self,
        word: str,
        phase: str,
        reason: str,
        message: str,
        *,
        secret_exists: bool = True,
        keys: frozenset[str] | None = None,
        since: float = 0.0,
    ) -> None:
        self.word, self.phase, self.reason, self.message = word, phase, reason, message
        self.secret_exists, self.keys, self.since = secret_exists, keys, since

    def initial(self, obj: SimObject) -> Initial | None:
        if self.word == "Missing":
            return None
        health = _HEALTH.get(self.word, "progressing")
        state = self.phase if obj.kind in MACHINES and self.phase else self.word
        return Initial(state, self.reason, self.message, health, self.since, self.secret_exists, self.keys)


def snapshot_reader(view: View) -> Callable[[str, str, str], LiveObject | None]:
    """Read simulated objects from a snapshot through the live side's states."""
    from ..cluster.snapshot import data_keys, parse_time
    from ..doctor.states import state_of, target_secret
    from ..doctor.view import CLUSTER_SCOPED, Ref

    now: datetime = view.now

    def read(kind: str, namespace: str, name: str) -> LiveObject | None:
        ref = Ref(kind, "" if kind in CLUSTER_SCOPED else namespace, name)
        obj = view.get(ref)
        if obj is None:
            return None
        live = state_of(view, ref)
        found = LiveObject(live.state, live.phase, live.reason, live.message)
        if kind == "Secret":
            found.keys = data_keys(obj)
        elif kind == "ExternalSecret":
            secret = view.get(Ref("Secret", ref.namespace, target_secret(ref, obj)))
            found.secret_exists = secret is not None
            found.keys = data_keys(secret) if secret is not None else None
            status = obj.get("status")
            synced = parse_time(status.get("refreshTime")) if isinstance(status, dict) else None
            if synced is not None and synced <= now:
                found.since = (now - synced).total_seconds()
        return found

    return read
