"""HelmRelease values: helm-controller's merge order and ``targetPath`` with Helm's --set semantics."""

from __future__ import annotations

from typing import Any

import pytest

from homeops.errors import RenderError
from homeops.model.base import Origin, Resource
from homeops.model.flux import HelmRelease
from homeops.render.strvals import StrvalsError, set_path_value
from homeops.render.values import ValuesData, merge_maps, release_values


def test_merge_maps_merges_mappings_and_replaces_everything_else() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": "keep", "c": {"deep": {"k": 1}}}
    over = {"a": {"y": [3], "z": None}, "c": "scalar now"}
    assert merge_maps(base, over) == {"a": {"x": 1, "y": [3], "z": None}, "b": "keep", "c": "scalar now"}
    assert base["a"] == {"x": 1, "y": [1, 2]}  # inputs untouched


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("a.b", "text", {"a": {"b": "text"}}),
        ("a.b", "42", {"a": {"b": 42}}),
        ("a.b", "007", {"a": {"b": "007"}}),  # a leading zero stays a string
        ("a.b", "TRUE", {"a": {"b": True}}),
        ("a.b", "null", {"a": {"b": None}}),
        ("a.b", '"42"', {"a": {"b": "42"}}),  # quoted: always a string, quotes removed
        ("a.b", "'true'", {"a": {"b": "true"}}),
        ("list[1].name", "x", {"list": [None, {"name": "x"}]}),
        ("a.b", "{one,2}", {"a": {"b": ["one", 2]}}),
        (r"annotations.example\.com/key", "v", {"annotations": {"example.com/key": "v"}}),
        ("a.b", "x,c=y", {"a": {"b": "x"}, "c": "y"}),  # Helm's quirk: a comma starts another assignment
        ("a.b", "", {"a": {"b": ""}}),
        ("a.b", "x,", {"a": {"b": "x"}}),  # a trailing comma ends the line quietly
    ],
)
def test_target_path_uses_helm_strvals(path: str, value: str, expected: dict[str, Any]) -> None:
    values: dict[str, Any] = {}
    set_path_value(values, path, value)
    assert values == expected


def test_target_path_merges_into_existing_values() -> None:
    values: dict[str, Any] = {"a": {"keep": 1, "b": "old"}, "list": ["first"]}
    set_path_value(values, "a.b", "new")
    set_path_value(values, "list[1]", "second")
    assert values == {"a": {"keep": 1, "b": "new"}, "list": ["first", "second"]}


def test_a_comma_followed_by_a_bare_word_is_an_error_as_in_helm() -> None:
    with pytest.raises(StrvalsError, match="key 'b' has no value"):
        set_path_value({}, "a", "a,b")


class _Objects:
    def __init__(self, data: dict[tuple[str, str], dict[str, str]]) -> None:
        self.data = data

    def lookup(self, kind: str, namespace: str, name: str, key: str) -> ValuesData | None:
        found = self.data.get((kind, name))
        if found is None:
            return None
        return ValuesData(found.get(key))


def release(spec: dict[str, Any]) -> HelmRelease:
    obj = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": "app", "namespace": "apps"}, "spec": spec}  # fmt: skip
    return HelmRelease(Resource(obj, Origin("hr.yaml", 1)))


def test_values_from_in_order_then_target_path_then_inline() -> None:
    objects = _Objects({
        ("ConfigMap", "one"): {"values.yaml": "a: one\nb: one\nnested: {x: one}\n"},
        ("Secret", "two"): {"custom.yaml": "b: two\nnested: {z: two}\n", "password": "s3cret"},
    })  # fmt: skip
    merged = release_values(
        release({
            "valuesFrom": [
                {"kind": "ConfigMap", "name": "one"},
                {"kind": "Secret", "name": "two", "valuesKey": "custom.yaml"},
                {"kind": "Secret", "name": "two", "valuesKey": "password", "targetPath": "auth.password"},
                {"kind": "ConfigMap", "name": "absent", "optional": True},
                {"kind": "ConfigMap", "name": "one", "valuesKey": "absent-key", "optional": True},
            ],
            "values": {"a": "inline", "nested": {"z": "inline"}},
        }),
        objects,
    )  # fmt: skip
    assert merged.values == {
        "a": "inline",
        "b": "two",
        "nested": {"x": "one", "z": "inline"},  # (a key "y" would be true: YAML 1.1)
        "auth": {"password": "s3cret"},
    }
    assert merged.placeholders == [] and not merged.decrypted


def test_missing_values_from_fails_unless_optional() -> None:
    with pytest.raises(RenderError, match=r"ConfigMap apps/absent is not applied"):
        release_values(release({"valuesFrom": [{"kind": "ConfigMap", "name": "absent"}]}), _Objects({}))
    with pytest.raises(RenderError, match=r"has no key 'values\.yaml'"):
        release_values(
            release({"valuesFrom": [{"kind": "ConfigMap", "name": "cm"}]}),
            _Objects({("ConfigMap", "cm"): {}}),
        )
