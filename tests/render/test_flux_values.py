"""HelmRelease values: helm-controller's merge order and ``targetPath`` with Helm's --set semantics."""

from __future__ import annotations

from typing import Any

import pytest

from homeops.errors import RenderError
from homeops.model.base import Origin, Resource, merge_maps
from homeops.model.flux import HelmRelease
from homeops.render.strvals import StrvalsError, set_path_value
from homeops.render.values import ValuesData, release_values


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


# -- targetPath precedence, as fluxcd/pkg chartutil computes it ----------------------------------------


def test_target_path_takes_precedence_over_everything_before_and_inline_values() -> None:
    """fluxcd/pkg chartutil's test "target path precedence over all": the targetPath write lands in the
    inline values' own list, which a later valuesFrom document cannot replace and the final merge keeps."""
    objects = _Objects({
        ("ConfigMap", "values"): {"values.yaml": "flat: value\nnested: {configuration: [one, two, three]}\n"},
        ("Secret", "values"): {"key": "value"},
    })  # fmt: skip
    merged = release_values(
        release({
            "valuesFrom": [
                {"kind": "Secret", "name": "values", "valuesKey": "key",
                 "targetPath": "nested.configuration[0]"},
                {"kind": "ConfigMap", "name": "values"},
            ],
            "values": {"nested": {"configuration": ["list", "item", "option"]}},
        }),
        objects,
    )  # fmt: skip
    assert merged.values == {"flat": "value", "nested": {"configuration": ["value", "item", "option"]}}


def test_a_target_path_overrides_the_inline_value_at_the_same_path() -> None:
    merged = release_values(
        release({
            "valuesFrom": [{"kind": "Secret", "name": "s", "valuesKey": "tag", "targetPath": "image.tag"}],
            "values": {"image": {"repository": "app", "tag": "inline"}},
        }),
        _Objects({("Secret", "s"): {"tag": "from-secret"}}),
    )  # fmt: skip
    assert merged.values == {"image": {"repository": "app", "tag": "from-secret"}}


def test_where_the_path_runs_through_a_merged_mapping_the_inline_value_wins() -> None:
    """A mapping that an earlier valuesFrom document and the inline values both hold is merged into a new
    one: the targetPath write lands there, and the final merge of the inline values replaces it (Go's
    helm-controller computes exactly this)."""
    merged = release_values(
        release({
            "valuesFrom": [
                {"kind": "ConfigMap", "name": "c"},
                {"kind": "Secret", "name": "s", "valuesKey": "tag", "targetPath": "image.tag"},
            ],
            "values": {"image": {"tag": "inline"}},
        }),
        _Objects({("ConfigMap", "c"): {"values.yaml": "image: {repository: app}\n"},
                  ("Secret", "s"): {"tag": "from-secret"}}),
    )  # fmt: skip
    assert merged.values == {"image": {"repository": "app", "tag": "inline"}}


def test_inline_values_of_the_release_are_not_modified() -> None:
    hr = release({
        "valuesFrom": [{"kind": "Secret", "name": "s", "valuesKey": "tag", "targetPath": "image.tag"}],
        "values": {"image": {"tag": "inline"}},
    })  # fmt: skip
    release_values(hr, _Objects({("Secret", "s"): {"tag": "from-secret"}}))
    assert hr.values == {"image": {"tag": "inline"}}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("config", "a: [1, 2]\nb: {c: d}\n", {"config": "a: [1, 2]\nb: {c: d}\n"}),
        ("k", "x,y=z", {"k": "x,y=z"}),
        ("k", "{a,b}", {"k": "{a,b}"}),
        ("k", "true", {"k": "true"}),  # a string, never typed
        ("k", "'quoted'", {"k": "'quoted'"}),  # verbatim: quotes are kept
        ("k", "back\\slash", {"k": "back\\slash"}),
        (r"annotations.prometheus\.io/scrape", "true", {"annotations": {"prometheus.io/scrape": "true"}}),
        ("list[1]", "a,b", {"list": [None, "a,b"]}),
    ],
)
def test_a_literal_target_path_sets_the_value_verbatim(
    path: str, value: str, expected: dict[str, Any]
) -> None:
    values: dict[str, Any] = {}
    set_path_value(values, path, value, literal=True)
    assert values == expected


def test_literal_applies_through_values_from() -> None:
    config = '[runners]\n  name = "a,b"\n  tags = ["x", "y"]\n'
    merged = release_values(
        release({"valuesFrom": [{"kind": "ConfigMap", "name": "c", "valuesKey": "config.toml",
                                 "targetPath": "runner.config", "literal": True}]}),
        _Objects({("ConfigMap", "c"): {"config.toml": config}}),
    )  # fmt: skip
    assert merged.values == {"runner": {"config": config}}
