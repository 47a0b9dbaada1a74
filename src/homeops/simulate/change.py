"""What a commit sets in motion (``homeops simulate --change REF``): the objects it changes and how.

The base is the commit's first parent (or ``A`` in ``A..B``), where the cluster starts converged; the
head is the commit. Both revisions are read with real ``git`` through ``diff``'s machinery
(:mod:`homeops.diff.revisions`), whose changed-only selection names the HelmReleases whose render
inputs differ (their object, ``valuesFrom``, chart source, local chart files) and the Kustomizations
whose output differs. Every Kustomization built from the repository's own source re-applies the new
revision (in ``dependsOn`` order: a dependency must have applied it first); the other objects are
compared one by one: an ExternalSecret or Secret whose data changes, a source, what is added and
what is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..diff.revisions import GitRevisionFiles, Repo, Selection, select_changed
from ..errors import UsageError
from ..flux.tree import FluxTree, load_flux_tree
from ..load.tree import SourceTree
from ..model.base import NamedResource
from ..render.snapshot import Changes, Snapshot
from .start import key
from .world import SOURCE_KINDS, SimObject


@dataclass(slots=True)
class Revisions:
    """The two sides of a change, read from Git."""

    base_label: str
    head_label: str
    base: FluxTree
    head: FluxTree
    files: Changes
    """The files the change touches."""
    selection: Selection
    """What ``diff`` would render: Kustomizations whose output and HelmReleases whose inputs differ."""
    own_sources: frozenset[tuple[str, str, str]]
    """(cluster, kind, name) of the sources that are this repository: the commit arrives through them."""
    outputs: dict[tuple[str, NamedResource], int]
    """(cluster, Kustomization) → how many objects of its build output the change adds, changes or removes."""


def read_revisions(path: str | Path, ref: str) -> Revisions:
    """The base and head of ``ref`` (a commit, against its first parent, or ``A..B``)."""
    repo = Repo.of(Path(path))
    if ".." in ref:
        first, _, second = ref.partition("..")
        base, head = repo.resolve(first or "HEAD"), repo.resolve(second or "HEAD")
        labels = (first or "HEAD", second or "HEAD")
    else:
        head = repo.resolve(ref)
        try:
            base = repo.resolve(f"{head}^")
        except UsageError:
            raise UsageError(
                f"--change {ref!r}: the commit has no parent to start from",
                hint="name both sides: --change BASE..HEAD",
            ) from None
        labels = (f"{ref}^", ref)
    with ExitStack() as stack:
        trees = [
            load_flux_tree(SourceTree(GitRevisionFiles(repo, commit, stack).folder()))
            for commit in (base, head)
        ]
    before, after = Snapshot.of(trees[0]), Snapshot.of(trees[1])
    files = repo.changes(base, head)
    own = frozenset(
        (name, kind, source) for name, info in after.clusters.items() for kind, source in info.own_sources
    )
    selection = select_changed(before, after, files)
    outputs = {k: _output_changes(before, after, k) for k in selection.kustomizations}
    return Revisions(
        f"{labels[0]} ({base[:12]})",
        f"{labels[1]} ({head[:12]})",
        trees[0],
        trees[1],
        files,
        selection,
        own,
        outputs,
    )


def _output_changes(before: Snapshot, after: Snapshot, ks: tuple[str, NamedResource]) -> int:
    """How many objects of a Kustomization's build output differ between two revisions."""
    sides = []
    for snapshot in (before, after):
        entry = snapshot.entries.get(ks)
        sides.append({(r.kind, r.namespace, r.name): r.obj for r in (entry.objects if entry else ())})
    old, new = sides
    return sum(1 for ident in old.keys() | new.keys() if old.get(ident) != new.get(ident))


def mark_changes(
    head: Sequence[SimObject], base: Sequence[SimObject], revisions: Revisions
) -> list[SimObject]:
    """Set what the commit does to each object of the head's world (``SimObject.change``); the objects
    it removes come from the base's world, marked ``removed``, and are returned."""
    before = {key(o): o for o in base}
    after = {key(o): o for o in head}
    releases = {(cluster, rid) for cluster, rid in revisions.selection.releases}
    revision = {
        k for k, o in after.items() if o.kind in SOURCE_KINDS and (k[0], k[1], k[3]) in revisions.own_sources
    }
    for k, obj in after.items():
        old = before.get(k)
        if obj.kind == "Kustomization":
            obj.changed_objects = revisions.outputs.get((k[0], NamedResource(*k[1:])), 0)
        if k in revision:
            obj.change = "revision"
        elif obj.kind == "Kustomization" and obj.source is not None and key(obj.source) in revision:
            obj.change = "revision"
        elif old is None:
            obj.change = "added"
        elif _differs(old, obj):
            obj.change = "data" if _new_data(old, obj) else "spec"
        elif obj.kind == "HelmRelease" and (k[0], NamedResource(*k[1:])) in releases:
            source = obj.source
            moved = source is not None and key(source) in before and _differs(before[key(source)], source)
            obj.change = "chart" if moved else "values"
    removed = [o for k, o in before.items() if k not in after]
    for obj in removed:
        obj.change = "removed"
        if obj.parent is not None:
            obj.parent = after.get(key(obj.parent), obj.parent)
    return removed


def _new_data(old: SimObject, new: SimObject) -> bool:
    """Whether the Secret an ExternalSecret or Secret object writes gets new data (not only a new
    refreshInterval or new labels): what makes Reloader restart the pods that use it."""
    if new.kind == "Secret":
        return True
    if new.kind != "ExternalSecret" or old.res is None or new.res is None:
        return False
    before, after = old.res.obj.get("spec"), new.res.obj.get("spec")
    fields = ("data", "dataFrom", "target")
    return (
        not isinstance(before, dict)
        or not isinstance(after, dict)
        or any(before.get(f) != after.get(f) for f in fields)
    )


def _differs(old: SimObject, new: SimObject) -> bool:
    if old.res is None or new.res is None:
        return False
    return old.res.obj != new.res.obj


def summary(head: Sequence[SimObject], removed: Sequence[SimObject]) -> dict[str, list[str]]:
    """What changes, by kind of change, for the notes printed with the result."""
    out: dict[str, list[str]] = {}
    objects = [*head, *removed]
    many = len({o.node.cluster for o in objects}) > 1
    for obj in objects:
        if obj.change and obj.change != "revision":
            out.setdefault(obj.change, []).append(f"[{obj.node.cluster}] {obj.label}" if many else obj.label)
    return {k: sorted(v) for k, v in sorted(out.items())}
