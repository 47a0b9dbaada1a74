"""CRD schemas → JSON Schema: what the API server accepts, checked by validating small objects against a
hand-written CRD (the Kubernetes extensions, nulls, unknown fields, integer formats, metadata)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from homeops.validate.openapi import OBJECT_META, convert, crd_kinds, kind_key

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {"name": "v1alpha1", "served": True, "storage": False},  # no schema: nothing to validate
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "format": "int32", "minimum": 1},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "mode": {"type": "string", "enum": ["fast", "slow"]},
                                    "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                                    "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True},
                                    "note": {"type": "string", "nullable": True},
                                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "empty": {"type": "object"},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "template": {
                                        "type": "object",
                                        "x-kubernetes-embedded-resource": True,
                                        "properties": {"spec": {"type": "object"}},
                                    },
                                    "duration": {"type": "string", "format": "duration"},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            },
        ],
    },
}

OBJECT_META_STANDIN = {
    "type": ["object", "null"],
    "properties": {"name": {"type": ["string", "null"]}, "labels": {"type": ["object", "null"]}},
    "additionalProperties": False,
}


def _validator() -> Any:
    kinds = dict(crd_kinds(CRD))
    assert list(kinds) == [kind_key("example.com/v1", "Widget")]
    root = kinds["example.com/v1/Widget"]
    return jsonschema_rs.Draft202012Validator({**root, "$defs": {OBJECT_META: OBJECT_META_STANDIN}})


def _errors(spec: dict[str, Any], **top: Any) -> list[tuple[list[str | int], str]]:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec, **top}
    return sorted((list(e.instance_path), type(e.kind).__name__) for e in _validator().iter_errors(obj))


def test_a_valid_object_passes() -> None:
    spec = {
        "size": 3,
        "port": "http",
        "mode": "fast",
        "name": "abc",
        "ratio": 0.5,
        "note": None,
        "free": {"anything": [1, {"goes": True}]},
        "labels": {"a": "b"},
        "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {}},
        "duration": "1h30m",  # Kubernetes' duration format is Go's, not ISO 8601: not checked
    }
    assert _errors(spec, status={"whatever": 1}) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"size": "3"}, [(["spec", "size"], "Type")]),
        ({"size": 0}, [(["spec", "size"], "Minimum")]),
        ({"size": 2**31}, [(["spec", "size"], "Maximum")]),  # format int32
        ({"size": 1, "port": 1.5}, [(["spec", "port"], "Type")]),  # int-or-string, not a number
        ({"size": 1, "port": 8080}, []),
        ({"size": 1, "mode": "medium"}, [(["spec", "mode"], "Enum")]),
        ({"size": 1, "name": "ABC"}, [(["spec", "name"], "Pattern")]),
        ({"size": 1, "name": "abcdefghi"}, [(["spec", "name"], "MaxLength")]),
        ({"size": 1, "ratio": 1}, [(["spec", "ratio"], "ExclusiveMaximum")]),
        ({"size": 1, "sise": 2}, [(["spec"], "AdditionalProperties")]),  # undeclared
        ({"size": 1, "empty": {"a": 1}}, [(["spec", "empty"], "AdditionalProperties")]),  # holds no field
        ({"size": 1, "labels": {"a": 1}}, [(["spec", "labels", "a"], "Type")]),
        (
            {"size": 1, "template": {"kind": "Pod", "extra": 1}},
            [(["spec", "template"], "AdditionalProperties")],
        ),
        ({}, [(["spec"], "Required")]),
    ],
)
def test_what_the_api_server_rejects(spec: dict[str, Any], expected: list[tuple[list[str], str]]) -> None:
    assert _errors(spec) == expected


def test_a_null_is_never_a_type_error_in_a_custom_resource() -> None:
    # the API server prunes a null where the schema is not nullable, before validating
    assert _errors({"size": 1, "mode": None, "free": None, "labels": None}) == []


def test_metadata_is_object_meta_and_the_rest_of_the_root_is_closed() -> None:
    assert _errors({"size": 1}, metadata={"name": "w", "lables": {}}) == [
        (["metadata"], "AdditionalProperties")
    ]
    assert _errors({"size": 1}, spek={}) == [([], "AdditionalProperties")]


def test_v1beta1_crds_share_one_schema_for_every_version() -> None:
    legacy = {
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "old.example.com",
            "version": "v1",
            "names": {"kind": "Relic"},
            "validation": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}},
        },
    }
    assert [key for key, _schema in crd_kinds(legacy)] == ["old.example.com/v1/Relic"]


def test_malformed_crds_yield_nothing() -> None:
    assert list(crd_kinds({"spec": "nope"})) == []
    assert list(crd_kinds({"spec": {"group": "g", "names": {}}})) == []
    assert convert("not a schema") == {}
