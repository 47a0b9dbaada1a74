"""Setting up a simulation: the world from the graph, where it starts, the ``--fail`` targets, the horizon;
then run it.

:func:`simulate_tree` is what ``homeops simulate`` and the HTML report run: a Flux tree's clusters
simulated with what the bootstrap creates before Flux, and everything the output states beside the
timeline (the assumptions, the horizon, notes).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..graph.model import Graph
from ..records import NamedTuple
from .engine import Result, Simulation, paused_gc
from .settings import DEFAULT_HORIZON, Settings
from .start import apply_initial, from_snapshot, snapshot_reader
from .start import converged as settled
from .world import SimObject, build_world

if TYPE_CHECKING:
    from ..doctor.view import View
    from ..flux.tree import FluxTree
    from .change import Revisions


_ALIASES = {"cluster": "database", "ks": "kustomization", "hr": "helmrelease", "es": "externalsecret"}


def simulate(
    graph: Graph,
    settings: Settings,
    *,
    fail: Sequence[str] = (),
    horizon: float | None = None,
    bootstrap_releases: Iterable[tuple[str, str]] = (),
    bootstrap_files: Iterable[str] = (),
    converged: bool = False,
    snapshot: View | None = None,
    change: tuple[Graph, Revisions] | None = None,
) -> Result:
    """Simulate the repository's clusters; ``fail`` names objects that never become Ready (from the start).

    By default the cluster is empty (a bootstrap). ``converged``: it runs, converged on the repository.
    ``snapshot``: it runs as the snapshot shows it. ``change`` (the base revision's graph, and both
    revisions): it runs converged on the base, and the commit arrives at +0:00:00; ``graph`` is the
    head's. ``bootstrap_*``: what exists before Flux runs (see :func:`bootstrap_of`).
    """
    releases, files = list(bootstrap_releases), list(bootstrap_files)
    with paused_gc():
        world = build_world(graph, releases, files)
        targets = resolve(world, fail)
        if change is not None:
            from .change import mark_changes  # reading two revisions needs diff's machinery

            base_graph, revisions = change
            base_world = build_world(base_graph, *bootstrap_of(revisions.base))
            states = settled(base_world, settings, DEFAULT_HORIZON)
            apply_initial(world, states)
            removed = mark_changes(world, base_world, revisions)
            apply_initial(removed, states)
            world.extend(removed)
        elif converged:
            apply_initial(world, settled(build_world(graph, releases, files), settings, DEFAULT_HORIZON))
        elif snapshot is not None:
            from_snapshot(world, snapshot_reader(snapshot))
        for target in targets:
            target.fail = True
        sim = Simulation(world, settings, horizon=horizon or DEFAULT_HORIZON, exhaustive=horizon is not None)
        return sim.run()


def bootstrap_of(flux: FluxTree) -> tuple[list[tuple[str, str]], list[str]]:
    """(Helm releases installed, files applied) by the repository's bootstrap, before Flux runs."""
    releases = [(r.name, r.namespace) for r in flux.bootstrap.releases]
    return releases, sorted(flux.bootstrap.applied_files)


class Simulated(NamedTuple):
    """A simulation and what every output of it states beside the timeline."""

    result: Result
    assumptions: list[str]
    """Where it starts, the durations assumed (each with where it comes from), the controllers' defaults
    and per-object guesses used, and the horizon."""
    notes: list[str]
    """What the reader should know: nothing to simulate, releases adopted, sources assumed."""


def simulate_tree(
    flux: FluxTree,
    graph: Graph,
    settings: Settings,
    *,
    fail: Sequence[str] = (),
    horizon: float | None = None,
    converged: bool = False,
    snapshot: View | None = None,
    change: tuple[Graph, Revisions] | None = None,
    start: Sequence[str] = (),
) -> Simulated:
    """:func:`simulate` for a Flux tree (``graph``: its graph, or one cluster's subgraph; with
    ``change``, the head's), with its bootstrap (:func:`bootstrap_of`); ``start``: how the run starts,
    for the assumptions."""
    from .report import assumptions

    releases, files = bootstrap_of(flux)
    result = simulate(
        graph,
        settings,
        fail=fail,
        horizon=horizon,
        bootstrap_releases=releases,
        bootstrap_files=files,
        converged=converged,
        snapshot=snapshot,
        change=change,
    )
    notes = []
    if not result.final:
        notes.append(
            "no Flux objects found: nothing to simulate "
            "(a template repository needs 'homeops configure' first)"
        )
    if releases and change is None and snapshot is None and not converged:
        notes.append(
            f"{len(releases)} Helm release(s) installed by the bootstrap helmfile before Flux: "
            "adopted, not installed"
        )
    if snapshot is not None and not any(f.obj.initial is not None for f in result.final):
        notes.append("the snapshot holds none of the repository's objects: simulated as a bootstrap")
    external = sorted({f.obj.node.label for f in result.final if f.obj.res is None})
    if external:
        notes.append(
            f"sources not in the repository, assumed created by flux bootstrap: {', '.join(external)}"
        )
    return Simulated(result, assumptions(result, settings, horizon=horizon, start=start), notes)


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
