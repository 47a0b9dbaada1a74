"""Setting up a simulation: the world from the graph, the ``--fail`` targets, the horizon; then run it.

:func:`simulate_tree` is what ``homeops simulate`` and the HTML report run: a Flux tree's bootstrap
with everything its output states beside the timeline (the assumptions, the horizon, notes).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UsageError
from ..graph.model import Graph, Node
from ..runtime.durations import format_duration
from .engine import Result, Simulation
from .settings import Settings
from .world import SimObject, build_world

if TYPE_CHECKING:
    from ..flux.tree import FluxTree

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
    bootstrap_sources: Iterable[Node] = (),
) -> Result:
    """Bootstrap the repository's clusters from nothing; ``fail`` names objects that never become Ready.
    ``bootstrap_*``: what exists before Flux runs (see :func:`~homeops.simulate.world.build_world`)."""
    world = build_world(graph, bootstrap_releases, bootstrap_files, bootstrap_sources)
    for target in resolve(world, fail):
        target.fail = True
    sim = Simulation(world, settings, horizon=horizon or DEFAULT_HORIZON, exhaustive=horizon is not None)
    return sim.run()


class Simulated(NamedTuple):
    """A simulated bootstrap and what every output of it states beside the timeline."""

    result: Result
    assumptions: list[str]
    """The durations assumed (settings, each with where it comes from) and the horizon."""
    notes: list[str]
    """What the reader should know: nothing to simulate, releases adopted, sources assumed."""


def simulate_tree(
    flux: FluxTree,
    graph: Graph,
    settings: Settings,
    *,
    fail: Sequence[str] = (),
    horizon: float | None = None,
) -> Simulated:
    """The bootstrap of the tree's clusters (``graph``: the tree's, or one cluster's subgraph), with
    what the bootstrap itself creates before Flux runs: helmfile releases, files it applies, and each
    entry point's source (see :mod:`homeops.flux.entries`)."""
    from ..model.flux import Kustomization

    releases = [(r.name, r.namespace) for r in flux.bootstrap.releases]
    entry_sources = [
        Node(name, ref.kind, ref.namespace, ref.name)
        for name, cluster in flux.clusters.items()
        for entry in cluster.entries
        if (ref := Kustomization(entry.ks).source_ref) is not None
    ]
    result = simulate(
        graph,
        settings,
        fail=fail,
        horizon=horizon,
        bootstrap_releases=releases,
        bootstrap_files=sorted(flux.bootstrap.applied_files),
        bootstrap_sources=entry_sources,
    )
    notes = []
    if not result.final:
        notes.append(
            "no Flux objects found: nothing to simulate "
            "(a template repository needs 'homeops configure' first)"
        )
    if releases:
        notes.append(
            f"{len(releases)} Helm release(s) installed by the bootstrap helmfile before Flux: "
            "adopted, not installed"
        )
    external = sorted({f.obj.node.label for f in result.final if f.obj.res is None})
    if external:
        notes.append(
            f"sources not in the repository, assumed created by flux bootstrap: {', '.join(external)}"
        )
    assumptions = settings.assumptions()
    if horizon is not None:
        assumptions.append(f"horizon = {format_duration(horizon)} (--for)")
    else:
        assumptions.append(f"horizon = until nothing changes, at most {format_duration(DEFAULT_HORIZON)}")
    return Simulated(result, assumptions, notes)


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
