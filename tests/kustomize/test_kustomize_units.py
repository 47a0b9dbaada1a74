"""The engine's building blocks, with expected values written by hand, and the CLI command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kustomize_testlib import FIXTURES, kubectl_path

from homeops.cli.main import main
from homeops.errors import Where
from homeops.kustomize import build, legacy_sort
from homeops.kustomize.jsonpatch import JsonPatchError, apply
from homeops.kustomize.kfile import Selector
from homeops.kustomize.patches import LoadedPatch
from homeops.kustomize.patches import apply as apply_patch
from homeops.kustomize.resid import Res
from homeops.kustomize.selector import ByName, parse_label_selector, select
from homeops.kustomize.strategic import merge
from homeops.kustomize.transformers import split_image
from homeops.load.tree import SourceTree
from homeops.load.yamlio import parse
from homeops.model.base import Origin


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("nginx", ("nginx", "", "")),
        ("nginx:1.25", ("nginx", "1.25", "")),
        ("registry.lan:5000/team/app", ("registry.lan:5000/team/app", "", "")),
        ("registry.lan:5000/team/app:v2", ("registry.lan:5000/team/app", "v2", "")),
        ("app@sha256:abc", ("app", "", "sha256:abc")),
        ("ghcr.io/a/b:1.0@sha256:abc", ("ghcr.io/a/b", "1.0", "sha256:abc")),
    ],
)
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert split_image(image) == parts


def test_json_patch_operations() -> None:
    doc = {"a": {"list": [1, 2]}, "b": "x"}
    ops = [
        {"op": "add", "path": "/a/list/-", "value": 3},
        {"op": "add", "path": "/a/list/0", "value": 0},
        {"op": "replace", "path": "/a/new", "value": "replace adds a missing key"},
        {"op": "move", "from": "/b", "path": "/c"},
        {"op": "copy", "from": "/c", "path": "/d"},
        {"op": "remove", "path": "/a/list/-1"},
        {"op": "test", "path": "/d", "value": "x"},
        {"op": "add", "path": "/e~1f", "value": True},
    ]
    assert apply(doc, ops) == {
        "a": {"list": [0, 1, 2], "new": "replace adds a missing key"},
        "c": "x",
        "d": "x",
        "e/f": True,
    }
    with pytest.raises(JsonPatchError, match="missing"):
        apply({"a": {}}, [{"op": "add", "path": "/x/y", "value": 1}])
    with pytest.raises(JsonPatchError, match="test failed"):
        apply({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


def test_strategic_merge_rules() -> None:
    x_container, y_container = {"name": "x", "image": "x"}, {"name": "y", "image": "y"}
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "1", "b": "2"}},
        "spec": {"template": {"spec": {"containers": [x_container, y_container]}}},
    }
    patch = {
        "metadata": {"labels": {"a": None, "c": "3"}},
        "spec": {"template": {"spec": {"containers": [{"name": "y", "image": "y2"}, {"name": "z"}]}}},
    }
    merged = merge(obj, patch)
    assert merged is not None
    assert merged["metadata"]["labels"] == {"b": "2", "c": "3"}
    # The patch's elements come first, then the object's others.
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "y", "image": "y2"},
        {"name": "z"},
        {"name": "x", "image": "x"},
    ]
    # A custom resource's list is replaced, not merged.
    custom = {"apiVersion": "x/v1", "kind": "X", "spec": {"items": [{"name": "a"}, {"name": "b"}]}}
    assert merge(custom, {"spec": {"items": [{"name": "b", "v": 1}]}}) == {
        "apiVersion": "x/v1",
        "kind": "X",
        "spec": {"items": [{"name": "b", "v": 1}]},
    }
    assert merge({"kind": "X"}, {"$patch": "delete"}) is None


def test_label_selector_and_target() -> None:
    requirements = parse_label_selector("app in (a, b),!skip,tier!=db,env=prod")
    assert [r.op for r in requirements] == ["in", "!", "!=", "="]

    def res(name: str, labels: dict[str, str]) -> Res:
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels}}
        return Res(obj, Origin("f.yaml", 1))

    objects = [res("web", {"app": "a", "env": "prod"}), res("db", {"app": "b", "env": "prod", "tier": "db"})]
    chosen = select(objects, Selector(kind="Deploy.*", label_selector="app in (a,b),tier!=db"))
    assert [r.name for r in chosen] == ["web"]
    assert [r.name for r in select(objects, Selector(name="w"))] == []
    assert [r.name for r in select(objects, Selector(namespace="default"))] == ["web", "db"]


def _config_maps(*names: str) -> list[Res]:
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {}} for n in names]
    return [Res(obj, Origin("f.yaml", 1)) for obj in objects]


def test_selection_by_name_index_is_a_scan() -> None:
    objects = _config_maps("base-a", "b", "base-b", "c")
    objects[0].prev.append(("ConfigMap", "default", "a"))  # renamed a -> base-a
    objects[2].prev.append(("ConfigMap", "default", "b"))  # renamed b -> base-b
    targets = [Selector(name=n) for n in ("a", "base-a", "b", "c", "x")]
    targets += [Selector(name="base-.*"), Selector(kind="ConfigMap", name="b", namespace="default")]
    index = ByName(objects)
    for target in [*targets, *targets]:  # the second round answers from the index
        assert select(objects, target, index) == select(objects, target), target
    assert [r.name for r in select(objects, Selector(name="b"), index)] == ["b", "base-b"]


def test_patch_documents_after_a_deletion_do_not_see_the_deleted_object() -> None:
    # Two documents of one patch: the second must not reach what the first deleted (the index of
    # names is dropped after a deletion). Here it would fail: its data is not a mapping.
    objects = _config_maps("a", "c")
    index = ByName(objects)
    select(objects, Selector(name="a"), index)  # the next question is answered from the index
    docs = (
        {"$patch": "delete", "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "any"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "any"}, "data": ["not a map"]},
    )
    patch = LoadedPatch(where=Where("k.yaml", 1), strategic=docs, target=Selector(name="c"))
    assert [r.name for r in apply_patch(objects, patch, by_name=index)] == ["a"]


def test_copy_on_write_leaves_the_parsed_source_untouched() -> None:
    tree = SourceTree(FIXTURES / "namespace")
    before = json.dumps(tree.parsed("workload.yaml").documents, sort_keys=True)
    build(tree, "", fallback=False)
    build(tree, "", flux=True, fallback=False)
    assert json.dumps(tree.parsed("workload.yaml").documents, sort_keys=True) == before
    # An object no transformer touches is the parsed document itself (no copy).
    generated = SourceTree(FIXTURES / "flux-generated")
    result = build(generated, "apps", flux=True, fallback=False)
    web = next(r for r in result.resources if r.kind == "Deployment")
    assert web.obj is generated.parsed("apps/deployment.yaml").documents[0]


def test_legacy_sort_matches_kubectl_order() -> None:
    exe = kubectl_path()
    for fixture, folder in [("name-prefix", ""), ("labels", ""), ("generators", ""), ("overlay", "prod")]:
        argv = [exe, "kustomize", str(FIXTURES / fixture / folder)]
        output = subprocess.run(argv, capture_output=True, check=True)
        theirs = [(d["kind"], d["metadata"]["name"]) for d in parse(output.stdout).documents if d]
        built = build(SourceTree(FIXTURES / fixture), folder)
        ours = [(r.kind, r.name) for r in legacy_sort(built.resources)]
        assert ours == theirs, fixture


def test_cli_build_prints_yaml_and_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES / "overlay")
    assert main(["kustomize", "build", "prod"]) == 0
    out = capsys.readouterr().out
    documents = [d for d in parse(out).documents if d]
    assert documents[0]["metadata"]["name"] == "prod-base-plain-x"
    assert all(d["metadata"]["namespace"] == "prod" for d in documents)
    assert main(["kustomize", "build", "prod", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == documents


def test_cli_reports_errors_and_fallbacks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(FIXTURES / "errors")
    assert main(["kustomize", "build", "missing-resource", "--flux", "--root", "."]) == 3
    err = capsys.readouterr().err
    assert "homeops: error: missing-resource/kustomization.yaml:5:" in err and "hint:" in err
    monkeypatch.chdir(FIXTURES / "fallback")
    assert main(["kustomize", "build", "app"]) == 0
    captured = capsys.readouterr()
    assert "kubectl kustomize (replacements)" in captured.err
    assert "media.example.com" in captured.out
    assert main(["kustomize", "build", str(tmp_path / "nothing")]) == 2
