"""``status``: the repository's Flux tree with each object's live state, revision and drift.

Rows follow the tree (a Kustomization, then what it applies), then the Flux objects the cluster has
(with Flux's labels) that Git does not. Drift: ``not-in-cluster`` (in Git, not applied),
``not-in-git`` (applied by Flux, gone from Git), ``behind-head`` (applied from an older commit of
this repository than the one checked out).
"""

from __future__ import annotations

from collections import defaultdict

from ..records import NamedTuple
from .repo import FLUX_NODE_KINDS, RepoSide
from .states import BLOCKED, HEALTHY, MISSING, RECONCILING, SUSPENDED, LiveState
from .view import FLUX_KS_LABEL, FLUX_KS_NS_LABEL, Ref, View, get, labels
from .why import Explainer

NOT_IN_CLUSTER = "not-in-cluster"
NOT_IN_GIT = "not-in-git"
BEHIND_HEAD = "behind-head"


class Row(NamedTuple):
    cluster: str
    ref: Ref
    state: LiveState
    revision: str | None
    drift: str | None
    depth: int
    waits_for: Ref | None
    """For a Blocked object: the root cause it waits for."""
    unhealthy: bool


def status_rows(explainer: Explainer, repo: RepoSide | None, cluster: str = "default") -> list[Row]:
    view = explainer.view
    ordered: list[tuple[Ref, int]] = []
    in_git: set[Ref] = set()
    if repo is not None:
        cluster = repo.cluster
        ordered = _tree_order(repo)
        in_git = {ref for ref, _ in ordered}
    live_flux = sorted(r for r in view.objects if r.kind in FLUX_NODE_KINDS)
    rows = []
    for ref, depth in ordered:
        rows.append(_row(explainer, repo, cluster, ref, depth, in_git=True))
    for ref in live_flux:
        if ref in in_git:
            continue
        own = labels(view.objects[ref])
        # Gone from Git: applied by a Kustomization of this repository that no longer has it. What a
        # Kustomization outside the repository applies (bootstrap's flux-system) is shown, not judged.
        applier = Ref("Kustomization", own.get(FLUX_KS_NS_LABEL, ""), own.get(FLUX_KS_LABEL, ""))
        made = repo is not None and ref in repo.bootstrap
        rows.append(_row(explainer, repo, cluster, ref, 0, in_git=made or applier not in in_git))
    return rows


def _tree_order(repo: RepoSide) -> list[tuple[Ref, int]]:
    """Flux objects of the cluster, each Kustomization followed by what it applies (depth-first)."""
    children: dict[Ref, list[Ref]] = defaultdict(list)
    members: list[Ref] = []
    for node in repo.nodes():
        if node.kind not in FLUX_NODE_KINDS:
            continue
        ref = Ref(node.kind, node.namespace, node.name)
        members.append(ref)
        for edge in repo.graph.needs.get(node, ()):
            if edge.kind == "applies":
                children[Ref(edge.target.kind, edge.target.namespace, edge.target.name)].append(ref)
    applied = {child for kids in children.values() for child in kids}
    out: list[tuple[Ref, int]] = []
    seen: set[Ref] = set()

    def visit(ref: Ref, depth: int) -> None:
        if ref in seen:
            return
        seen.add(ref)
        out.append((ref, depth))
        order = {"Kustomization": 1, "HelmRelease": 2}
        for child in sorted(children.get(ref, ()), key=lambda r: (order.get(r.kind, 0), r)):
            visit(child, depth + 1)

    for ref in sorted(m for m in members if m not in applied):
        visit(ref, 0)
    for ref in sorted(members):
        visit(ref, 0)
    return out


def _row(
    explainer: Explainer, repo: RepoSide | None, cluster: str, ref: Ref, depth: int, *, in_git: bool
) -> Row:
    view = explainer.view
    state = explainer.state(ref)
    obj = view.get(ref)
    revision = _revision(obj, ref.kind) if obj is not None else None
    drift: str | None = None
    if state.state == MISSING:
        drift = NOT_IN_CLUSTER
    elif not in_git and repo is not None:
        drift = NOT_IN_GIT
    elif repo is not None and repo.head and revision and _own_source(view, ref) and repo.head not in revision:
        drift = BEHIND_HEAD
    waits_for = None
    unhealthy = state.state not in HEALTHY and state.state != RECONCILING
    if state.state == BLOCKED:
        root = explainer.why(ref).root
        waits_for = root.ref if root.ref != ref else None
        # waiting on something that is merely in progress is waiting, not a failure
        unhealthy = root.state.state not in (*HEALTHY, RECONCILING, SUSPENDED)
    return Row(cluster, ref, state, revision, drift, depth, waits_for, unhealthy)


def _revision(obj: dict[str, object], kind: str) -> str | None:
    if kind == "Kustomization":
        value = get(obj, "status", "lastAppliedRevision")
    elif kind == "HelmRelease":
        value = get(obj, "status", "lastAppliedRevision")
        if not value:
            history = get(obj, "status", "history")
            value = get(history, 0, "chartVersion") if isinstance(history, list) else None
    else:
        value = get(obj, "status", "artifact", "revision")
    return str(value) if value else None


def _own_source(view: View, ref: Ref) -> bool:
    """Whether the object builds from this repository (the flux-system GitRepository)."""
    if ref.kind == "GitRepository":
        return ref.name == "flux-system"
    if ref.kind != "Kustomization":
        return False
    obj = view.get(ref)
    source = get(obj, "spec", "sourceRef")
    return (
        isinstance(source, dict)
        and source.get("kind") == "GitRepository"
        and source.get("name") == "flux-system"
    )
