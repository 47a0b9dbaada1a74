"""Builds never change the parsed files they read: patches copy what they change, and only that."""

from __future__ import annotations

import copy
import posixpath
from pathlib import Path

import pytest

from homeops.errors import KustomizeError, Where
from homeops.kustomize import build
from homeops.kustomize.jsonpatch import apply as apply_json
from homeops.kustomize.kfile import Selector
from homeops.kustomize.patches import LoadedPatch
from homeops.kustomize.patches import apply as apply_patch
from homeops.kustomize.resid import Res
from homeops.kustomize.strategic import merge
from homeops.load.tree import SourceTree
from homeops.model.base import Origin

FIXTURES = Path(__file__).resolve().parents[1] / "testdata" / "kustomize"


@pytest.mark.parametrize(
    "name", ["strategic-merge", "strategic-merge-lists", "overlay", "components", "namespace"]
)
def test_builds_leave_the_parsed_documents_as_they_were(name: str) -> None:
    tree = SourceTree(FIXTURES / name)
    tree.preload(tree.yaml_files())
    before = {rel: copy.deepcopy(tree.parsed(rel).documents) for rel in tree.yaml_files()}
    folders = sorted({posixpath.dirname(rel) for rel in tree.files() if rel.endswith("kustomization.yaml")})
    built = 0
    for folder in folders:
        try:
            first = build(tree, folder, flux=True)
        except KustomizeError:
            continue  # a component folder, or an error fixture: nothing was built
        again = build(tree, folder, flux=True)
        assert [r.obj for r in again.resources] == [r.obj for r in first.resources]
        built += 1
    assert built
    assert {rel: tree.parsed(rel).documents for rel in tree.yaml_files()} == before


def test_merge_shares_what_the_patch_does_not_touch() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "a", "labels": {"x": "1"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
    }
    original = copy.deepcopy(obj)
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "a"},
        "spec": {"replicas": 3},
    }
    merged = merge(obj, patch)
    assert obj == original
    assert merged is not None and merged["spec"]["replicas"] == 3
    assert merged["spec"]["template"] is obj["spec"]["template"]
    assert merged["metadata"]["labels"] is obj["metadata"]["labels"]
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "a"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:2"}]}}},
    }
    merged = merge(obj, patch)
    assert obj == original
    assert merged is not None
    assert merged["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "i:2"}]


def test_a_base_built_once_serves_every_overlay_unchanged(tmp_path: Path) -> None:
    # Two overlays rename and patch the same base; each build in one tree (which keeps the base's
    # build) must give what a build in a fresh tree gives, whatever was built before it.
    files = {
        "base/kustomization.yaml": (
            "resources: [deploy.yaml]\nconfigMapGenerator:\n- name: cfg\n  literals: [a=1]\n"
        ),
        "base/deploy.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
            "  template:\n    spec:\n      containers:\n      - name: c\n        image: i:1\n"
            "        envFrom:\n        - configMapRef:\n            name: cfg\n"
        ),
        "a/kustomization.yaml": (
            "resources: [../base]\nnamePrefix: a-\npatches:\n- patch: |\n    - op: replace\n"
            "      path: /spec/replicas\n      value: 3\n  target:\n    kind: Deployment\n"
        ),
        "b/kustomization.yaml": "resources: [../base]\nnamespace: other\nnameSuffix: -b\n",
        "c/kustomization.yaml": "resources: [../a, ../b]\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)

    def fresh(folder: str) -> list[dict[str, object]]:
        return [r.obj for r in build(SourceTree(tmp_path), folder, flux=True).resources]

    expected = {folder: copy.deepcopy(fresh(folder)) for folder in ("a", "b", "c")}
    shared = SourceTree(tmp_path)
    for folder in ("a", "b", "c", "a", "c", "b"):
        result = build(shared, folder, flux=True)
        assert [r.obj for r in result.resources] == expected[folder], folder
        assert "base/deploy.yaml" in result.files and "base/kustomization.yaml" in result.files


def test_a_kept_base_is_not_reused_where_it_would_make_a_cycle(tmp_path: Path) -> None:
    # p includes q; built from 'top' that is fine; built from q/sub it includes the folder being built.
    files = {
        "q/kustomization.yaml": "resources: [cm.yaml]\n",
        "q/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\n",
        "p/kustomization.yaml": "resources: [../q]\n",
        "top/kustomization.yaml": "resources: [../p]\n",
        "q/sub/kustomization.yaml": "resources: [../../p]\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(KustomizeError) as fresh:
        build(SourceTree(tmp_path), "q/sub", flux=True)
    shared = SourceTree(tmp_path)
    assert [r.obj["metadata"]["name"] for r in build(shared, "top", flux=True).resources] == ["q"]
    with pytest.raises(KustomizeError) as again:
        build(shared, "q/sub", flux=True)
    assert (again.value.message, again.value.where) == (fresh.value.message, fresh.value.where)


def test_json_patches_copy_only_the_paths_they_write() -> None:
    shared = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "a", "labels": {"x": "1", "y": "2"}, "annotations": {"k": "v"}},
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"x": "1"}},
                "spec": {"containers": [{"name": "c", "image": "i:1", "args": ["--a"]}]},
            },
        },
    }
    original = copy.deepcopy(shared)
    ops = [
        {"op": "add", "path": "/metadata/annotations/level0", "value": "applied"},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "remove", "path": "/metadata/labels/y"},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--b"},
        {"op": "move", "from": "/spec/template/spec/containers/0/image", "path": "/metadata/annotations/img"},
        {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations/copied"},
        {"op": "test", "path": "/spec/replicas", "value": 3},
    ]
    expected = apply_json(copy.deepcopy(original), copy.deepcopy(ops))  # on a private copy of it all
    patch = LoadedPatch(where=Where("k.yaml", 1), json_ops=tuple(ops), target=Selector(kind="Deployment"))
    first, second = Res(shared, Origin("a.yaml", 1, 0)), Res(shared, Origin("a.yaml", 1, 0))
    apply_patch([first], patch)
    apply_patch([first], patch._replace(json_ops=({"op": "add", "path": "/spec/paused", "value": True},)))
    assert shared == original  # what the objects share is never written
    assert first.obj == {**expected, "spec": {**expected["spec"], "paused": True}}
    assert first.obj["spec"]["template"]["metadata"] is shared["spec"]["template"]["metadata"]  # not copied
    assert second.obj is shared
    with pytest.raises(KustomizeError, match="missing path"):
        apply_patch([second], patch._replace(json_ops=({"op": "add", "path": "/nope/x", "value": 1},)))
    assert shared == original
