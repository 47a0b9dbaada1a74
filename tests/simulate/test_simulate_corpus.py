"""The simulation over the real repositories: bootstrap converges in dependency order, and failing any
Kustomization leaves exactly it and what transitively waits on it not Ready."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homeops.graph.model import build_graph
from homeops.simulate.engine import Result, Simulation
from homeops.simulate.settings import settings
from homeops.simulate.world import SimObject, build_world
from homeops.workspace import open_workspace

Commit = Callable[[Path, str], None]
"""The ``commit`` fixture (tests/simulate/conftest.py)."""

pytestmark = pytest.mark.corpus

REPOS = [
    "Chrtol__home-cluster",
    "bjw-s-labs__home-ops",
    "fluxcd__flux2-kustomize-helm-example__a484a05e",
    "onedr0p__cluster-template__feb482b6",
    "onedr0p__home-ops",
]


def world_of(repo: Path) -> list[SimObject]:
    flux = open_workspace(repo).flux
    releases = [(r.name, r.namespace) for r in flux.bootstrap.releases]
    return build_world(build_graph(flux), releases, flux.bootstrap.applied_files)


def run(world: list[SimObject]) -> Result:
    return Simulation(world, settings(), horizon=86400.0, exhaustive=False).run()


def waits_on(obj: SimObject) -> list[SimObject]:
    """What must be Ready before the object can be, as the controllers define it (not its parent: a
    parent only has to apply it)."""
    out = [*obj.depends, *obj.values, *obj.health]
    if obj.kind == "HTTPRoute":  # a chart's route does not hold up its release: Helm does not wait on routes
        out += obj.gateways
    out += [o for o in (obj.source, obj.store) if o is not None]
    if obj.kind != "HelmRelease" or not (obj.preinstalled or obj.disable_wait):
        out += obj.needs
    if obj.kind in ("ClusterSecretStore", "SecretStore") and obj.parent is not None:
        out += [o for o in obj.parent.applies if o.kind == "HelmRelease" and not o.preinstalled]
    return out


def expected_not_ready(world: list[SimObject]) -> set[int]:
    """Objects that can never be Ready when those marked ``fail`` never are: a Kustomization applies its
    children once its source and dependencies are Ready (even if its health checks then fail)."""
    ready: dict[int, bool] = {}
    applied: dict[int, bool] = {}

    def created(obj: SimObject) -> bool:
        return obj.parent is None or is_applied(obj.parent)

    def is_applied(ks: SimObject) -> bool:
        if id(ks) not in applied:
            applied[id(ks)] = (
                created(ks)
                and not ks.fail
                and not ks.missing
                and not ks.suspended
                and (ks.source is None or is_ready(ks.source))
                and all(is_ready(d) for d in ks.depends)
            )
        return applied[id(ks)]

    def is_ready(obj: SimObject) -> bool:
        if id(obj) not in ready:
            ready[id(obj)] = False  # a cycle never becomes Ready
            ok = created(obj) and not obj.fail and not obj.missing and not obj.suspended
            ok = ok and all(is_ready(n) for n in waits_on(obj))
            if obj.kind == "Kustomization":
                ok = ok and is_applied(obj)
            ready[id(obj)] = ok
        return ready[id(obj)]

    return {id(o) for o in world if not is_ready(o)}


@pytest.mark.parametrize("name", REPOS)
def test_bootstrap_converges_in_dependency_order(corpus: Path, name: str) -> None:
    world = world_of(corpus / name)
    result = run(world)
    ready = {id(f.obj): f.ready_at for f in result.final}
    not_ready = [
        f"{f.obj.label}: {f.state} {f.reason} {f.message}" for f in result.final if f.ready_at is None
    ]
    assert not not_ready, not_ready
    assert result.converged_at is not None
    for obj in world:
        for need in obj.depends + ([obj.source] if obj.source else []) + obj.values:
            assert ready[id(obj)] >= ready[id(need)], (obj.label, need.label)  # type: ignore[operator]
        if obj.kind == "Kustomization" and obj.parent is not None:
            assert ready[id(obj)] > ready[id(obj.parent)] or obj.parent.waits  # type: ignore[operator]


@pytest.mark.parametrize("name", REPOS)
def test_failing_any_kustomization_blocks_exactly_its_dependents(corpus: Path, name: str) -> None:
    world = world_of(corpus / name)
    kustomizations = [o for o in world if o.kind == "Kustomization"]
    if not kustomizations:
        pytest.skip("no Flux objects (a template repository)")
    for target in kustomizations:
        for obj in world:
            obj.fail = obj is target
        expected = expected_not_ready(world)
        result = run(world)
        not_ready = {id(f.obj) for f in result.final if f.ready_at is None}
        labels = {id(o): o.label for o in world}
        assert not_ready == expected, (
            target.label,
            sorted(labels[i] for i in not_ready - expected),
            sorted(labels[i] for i in expected - not_ready),
        )
        states = {f.obj.kind: f.state for f in result.final if f.obj is target}
        assert states["Kustomization"] == "Failed"


@pytest.mark.parametrize("name", REPOS)
def test_a_failed_store_leaves_a_running_cluster_on_stale_data(corpus: Path, name: str) -> None:
    """Converged, then each secret store's vault goes away: every ExternalSecret that reads it ends Stale
    (its Secret exists), no HelmRelease leaves Ready (pods keep running), and every workload that uses
    such a Secret is reported as running on stale data."""
    from homeops.simulate.scenario import simulate

    flux = open_workspace(corpus / name).flux
    graph = build_graph(flux)
    releases = [(r.name, r.namespace) for r in flux.bootstrap.releases]
    stores = [n for n in graph.nodes if n.kind in ("ClusterSecretStore", "SecretStore")]
    if not stores:
        pytest.skip("no secret store")
    for store in stores:
        spec = f"{store.kind}/{store.namespace}/{store.name}"
        result = simulate(
            graph,
            settings(),
            fail=[spec],
            converged=True,
            bootstrap_releases=releases,
            bootstrap_files=flux.bootstrap.applied_files,
        )
        readers = [f for f in result.final if f.obj.kind == "ExternalSecret" and f.obj.store is not None]
        readers = [f for f in readers if f.obj.store.node == store]
        assert {f.state for f in readers} <= {"Stale"}, spec
        releases_after = {f.obj.label: f.state for f in result.final if f.obj.kind == "HelmRelease"}
        assert set(releases_after.values()) == {"Ready"}, spec
        stale = {(id(s.consumer), id(s.producer)) for s in result.stale}
        for f in readers:
            for obj in world_of_result(result):
                if f.obj in obj.needs and obj.kind == "HelmRelease":
                    assert (id(obj), id(f.obj)) in stale, (spec, obj.label, f.obj.label)


def world_of_result(result: Result) -> list[SimObject]:
    return [f.obj for f in result.final]


@pytest.mark.parametrize("name", ["onedr0p__home-ops", "bjw-s-labs__home-ops"])
def test_a_commit_to_a_real_repository(
    corpus: Path, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    """A copy of the repository under Git, then one commit that bumps one app's image tag: exactly that
    HelmRelease upgrades, every Kustomization of the repository's source re-applies the new revision, none
    before a dependsOn of the same source has applied it, and the cluster converges."""
    import json
    import re
    import shutil

    from homeops.cli.main import main

    root = tmp_path / name
    shutil.copytree(corpus / name, root, symlinks=True)
    commit(root, "base")
    target = next(
        p
        for p in sorted(root.glob("kubernetes/apps/*/*/app/helmrelease.yaml"))
        if re.search(r"^\s+tag: \S+", p.read_text(), re.M)
    )
    target.write_text(re.sub(r"^(\s+tag: )\S+", r"\g<1>9.9.9", target.read_text(), count=1, flags=re.M))
    commit(root, "bump")

    assert main(["simulate", str(root), "--change", "HEAD", "--output", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    name_line = re.search(r"^metadata:\n(?:  .*\n)*?  name: (?:&\S+ )?(\S+)", target.read_text(), re.M)
    assert name_line is not None
    upgraded = {e["name"] for e in payload["events"] if e["to"] == "Upgrading"}
    assert upgraded == {name_line.group(1)}
    ready = {
        (e["namespace"], e["name"]): e["t"]
        for e in payload["events"]
        if e["kind"] == "Kustomization" and e["to"] == "Ready"
    }
    world = {o.node.id: o for o in world_of(root)}
    kustomizations = [o for o in world.values() if o.kind == "Kustomization"]
    assert len(ready) == sum(1 for o in kustomizations if o.source is not None and o.source.res is None)
    for obj in kustomizations:
        for dep in obj.depends:
            if (obj.node.namespace, obj.node.name) in ready and dep.source is obj.source:
                assert (
                    ready[(obj.node.namespace, obj.node.name)] >= ready[(dep.node.namespace, dep.node.name)]
                )
    assert payload["converged_at"] == max(f["ready_at"] for f in payload["final"])
