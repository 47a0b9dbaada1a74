"""Changed-only mode: exactly the producers a change reaches, and a partial rebuild equal to a full load."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from homeops.diff.revisions import folder_changes, load_snapshot, select_changed
from homeops.load.tree import SourceTree
from homeops.model.base import NamedResource
from homeops.render.snapshot import Snapshot, needs_full_load, rebuild

REPO = Path(__file__).resolve().parents[1] / "testdata" / "render" / "repo"


def ks(namespace: str, name: str) -> tuple[str, NamedResource]:
    return ("default", NamedResource("Kustomization", namespace, name))


def hr(name: str) -> tuple[str, NamedResource]:
    return ("default", NamedResource("HelmRelease", "demo", name))


ECHO, TOOLS = hr("echo"), hr("tools-with-a-rather-long-name")
KS_ECHO, KS_TOOLS = ks("demo", "echo"), ks("demo", "tools")
CLUSTER, APPS = ks("flux-system", "cluster"), ks("flux-system", "cluster-apps")


def replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))

    return change


def add(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / rel).write_text(text)

    return change


EXTRA = "{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}"
CASES = {
    "release values": (replace("kubernetes/apps/demo/echo/app/helmrelease.yaml", "d: inline", "d: x"),
                       {KS_ECHO}, {ECHO}),
    "generator input read by valuesFrom": (
        replace("kubernetes/apps/demo/echo/app/values.yaml", "d: valuesFrom", "d: other"), {KS_ECHO}, {ECHO}),
    "local chart": (replace("charts/echo/templates/deployment.yaml", "replicas: 1", "replicas: 2"),
                    set(), {ECHO, TOOLS}),
    "parent patches reach children": (replace("kubernetes/flux/apps/apps.yaml", "APP_ENV: production",
                                              "APP_ENV: staging"), {CLUSTER, APPS, KS_ECHO, KS_TOOLS},
                                      {ECHO, TOOLS}),
    "a namespace": (
        replace("kubernetes/apps/demo/namespace.yaml", "name: demo", "name: demo\n  labels: {a: b}"),
        {APPS}, set()),
    "an added file a generated kustomization picks up": (
        add("kubernetes/apps/demo/tools/app/extra.yaml", EXTRA),
        {KS_TOOLS}, set()),
    "a file nothing reads": (add("README.md", "# notes\n"), set(), set()),
    "a child's own substitution": (replace("kubernetes/apps/demo/tools/ks.yaml", '"3.1"', '"3.2"'),
                                   {APPS, KS_TOOLS}, {TOOLS}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_exactly_the_reached_producers(case: str, tmp_path: Path) -> None:
    change, expected_ks, expected_hr = CASES[case]
    base_tree = SourceTree(shutil.copytree(REPO, tmp_path / "base"))
    head_root = shutil.copytree(REPO, tmp_path / "head")
    change(head_root)
    head_tree = SourceTree(head_root)
    base = load_snapshot(base_tree)
    changes = folder_changes(base_tree, head_tree)
    assert needs_full_load(base, head_tree, changes) is None
    head, rebuilt = rebuild(base, head_tree, changes)
    selection = select_changed(base, head, changes, rebuilt)
    assert selection.kustomizations == expected_ks
    assert selection.releases == expected_hr
    # The partial rebuild is what a full load of the head gives.
    full = load_snapshot(SourceTree(head_root))
    assert state(head) == state(full)


def state(snapshot: Snapshot) -> dict[object, object]:
    return {
        key: (e.parent, e.ks.obj, e.files, e.error, [(r.obj, r.origin) for r in e.objects])
        for key, e in snapshot.entries.items()
    }


def test_entry_points_and_ignores_need_a_full_load(tmp_path: Path) -> None:
    base_tree = SourceTree(shutil.copytree(REPO, tmp_path / "base"))
    base = load_snapshot(base_tree)
    head_root = shutil.copytree(REPO, tmp_path / "head")
    replace("kubernetes/flux/cluster/ks.yaml", "interval: 30m", "interval: 10m")(head_root)
    head_tree = SourceTree(head_root)
    why = needs_full_load(base, head_tree, folder_changes(base_tree, head_tree))
    assert why == "kubernetes/flux/cluster/ks.yaml defines a cluster entry point"
    (head_root / "other").mkdir()
    add(
        "other/ks.yaml",
        (REPO / "kubernetes/flux/cluster/ks.yaml").read_text().replace("name: cluster", "name: x"),
    )(head_root)
    add(".gitignore", "scratch/\n")(head_root)
    head_tree = SourceTree(head_root)
    changes = folder_changes(base_tree, head_tree)
    assert needs_full_load(base, head_tree, changes) == ".gitignore changes which files Flux sees"


def test_a_removed_child_and_its_children_leave_the_tree(tmp_path: Path) -> None:
    base_tree = SourceTree(shutil.copytree(REPO, tmp_path / "base"))
    head_root = shutil.copytree(REPO, tmp_path / "head")
    replace("kubernetes/apps/demo/kustomization.yaml", "  - ./tools/ks.yaml\n", "")(head_root)
    head_tree = SourceTree(head_root)
    base = load_snapshot(base_tree)
    changes = folder_changes(base_tree, head_tree)
    head, rebuilt = rebuild(base, head_tree, changes)
    assert KS_TOOLS not in head.entries and rebuilt == {APPS}
    assert select_changed(base, head, changes, rebuilt).kustomizations == {APPS, KS_TOOLS}
    assert state(head) == state(load_snapshot(SourceTree(head_root)))


def test_snapshots_survive_storage(tmp_path: Path) -> None:
    snapshot = load_snapshot(SourceTree(shutil.copytree(REPO, tmp_path / "repo")))
    again = Snapshot.from_bytes(snapshot.to_bytes())
    assert again is not None and state(again) == state(snapshot)
    assert again.clusters == snapshot.clusters
