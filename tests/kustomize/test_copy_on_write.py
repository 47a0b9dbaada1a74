"""Builds never change the parsed files they read: patches copy what they change, and only that."""

from __future__ import annotations

import copy
import posixpath
from pathlib import Path

import pytest

from homeops.errors import KustomizeError
from homeops.kustomize import build
from homeops.kustomize.strategic import merge
from homeops.load.tree import SourceTree

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
