"""Setting up a simulation: the world from the graph, the ``--fail`` targets, the horizon; then run it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from ..errors import UsageError
from ..graph.model import Graph
from .engine import Result, Simulation, paused_gc
from .settings import Settings
from .world import SimObject, build_world

DEFAULT_HORIZON = 86400.0
"""Without ``--for``: until nothing changes, or 24 h."""

_ALIASES = {"cluster": "database", "ks": "kustomization", "hr": "helmrelease", "es": "externalsecret"}


def simulate(
    graph: Graph,
    settings: Settings,
    *,
    fail: Sequence[str] = (),
    horizon: float | None = None,
    bootstrap_releases: Iterable[tuple[str, str]] = (),
    bootstrap_files: Iterable[str] = (),
) -> Result:
    """Bootstrap the repository's clusters from nothing; ``fail`` names objects that never become Ready."""
    with paused_gc():
        world = build_world(graph, bootstrap_releases, bootstrap_files)
        for target in resolve(world, fail):
            target.fail = True
        sim = Simulation(world, settings, horizon=horizon or DEFAULT_HORIZON, exhaustive=horizon is not None)
        return sim.run()


def resolve(world: Sequence[SimObject], specs: Sequence[str]) -> list[SimObject]:
    """The objects ``KIND/NAMESPACE/NAME`` names (every cluster's); a usage error names what is close."""
    out: list[SimObject] = []
    for spec in specs:
        parts = spec.split("/")
        if len(parts) == 2:  # a cluster-scoped kind: KIND/NAME
            parts = [parts[0], "", parts[1]]
        if len(parts) != 3 or not parts[0] or not parts[2]:
            raise UsageError(
                f"--fail {spec!r}: expected KIND/NAMESPACE/NAME", hint="e.g. HelmRelease/media/immich"
            )
        kind, namespace, name = parts
        kind = _ALIASES.get(kind.lower(), kind.lower())
        found = [
            o
            for o in world
            if o.node.kind.lower() == kind and o.node.namespace == namespace and o.node.name == name
        ]
        if not found:
            labels = sorted({_label(o) for o in world})
            close = difflib.get_close_matches(spec, labels, n=3, cutoff=0.5)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "homeops graph --all-kinds lists the objects"
            )
            raise UsageError(
                f"--fail {spec!r}: nothing of that kind, namespace and name in the repository", hint=hint
            )
        out.extend(found)
    return out


def _label(obj: SimObject) -> str:
    kind = obj.res.kind if obj.res is not None else obj.node.kind
    return f"{kind}/{obj.node.namespace}/{obj.node.name}"
