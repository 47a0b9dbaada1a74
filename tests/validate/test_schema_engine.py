"""Validating objects: the issue's defects as a person reads them, and what must never be an error
(values Flux substitutes later, SOPS ciphertext, YAML keys JSON spells differently)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from homeops.flux.substitute import Outcome
from homeops.flux.tree import SUBSTITUTION
from homeops.model.base import Origin, Resource
from homeops.validate.catalog import Catalog
from homeops.validate.engine import SEALED, Problem, dotted, validate


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog("1.33.0")


def _deployment(**spec: Any) -> dict[str, Any]:
    pod = {"containers": [{"name": "app", "image": "app:1"}]}
    pod.update(spec.pop("pod", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "secret-app", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod},
            **spec,
        },
    }


def _problems(catalog: Catalog, *objs: dict[str, Any], substituted: bool = False) -> list[Problem]:
    resources = [Resource(obj, Origin("x.yaml", 1)) for obj in objs]
    return validate(resources, catalog, substituted=lambda _r: substituted).problems


def _said(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.kind, p.message) for p in problems]


def test_the_issue_defects(catalog: Catalog) -> None:
    bad = _deployment(
        replicas="two", pod={"containers": [{"image": "app:1", "ports": [{"containerPort": "http"}]}]}
    )
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"port": 8080}}
    assert _said(_problems(catalog, bad, config_map)) == [
        ("value", 'spec.replicas must be an integer, got string "two"'),
        ("required", "spec.template.spec.containers[0].name is required"),
        (
            "value",
            'spec.template.spec.containers[0].ports[0].containerPort must be an integer, got string "http"',
        ),
        ("value", "data.port must be a string, got number 8080"),
    ]


def test_a_valid_deployment_has_nothing_to_say(catalog: Catalog) -> None:
    report = validate([Resource(_deployment(replicas=2), Origin("x.yaml", 1))], catalog)
    assert report.problems == [] and report.validated == 1 and report.unvalidated == {}


def test_unknown_fields_are_named_where_they_are(catalog: Catalog) -> None:
    problems = _problems(catalog, _deployment(replicas=1, pod={"hostname_override": "x"}))
    assert [(p.kind, p.path, p.message) for p in problems] == [
        (
            "unknown",
            ("spec", "template", "spec", "hostname_override"),
            "spec.template.spec.hostname_override: field not declared in schema",
        )
    ]


def test_int_or_string_and_quantities(catalog: Catalog) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]},
    }
    assert _problems(catalog, service) == []
    service["spec"]["ports"][0]["targetPort"] = ["http"]
    assert _said(_problems(catalog, service)) == [
        ("value", "spec.ports[0].targetPort must be a string or an integer, got a list")
    ]
    limits = _deployment(
        pod={"containers": [{"name": "a", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}
    )
    assert _problems(catalog, limits) == []


def test_integer_ranges(catalog: Catalog) -> None:
    assert _said(_problems(catalog, _deployment(replicas=2**31))) == [
        ("value", "spec.replicas is out of range: 2147483648 is greater than the maximum of 2147483647")
    ]


def test_placeholders_flux_substitutes_later_are_not_type_errors(catalog: Catalog) -> None:
    obj = _deployment(replicas="${REPLICAS}", pod={"securityContext": {"runAsUser": "${PUID:=1000}"}})
    assert _problems(catalog, obj, substituted=True) == []
    # without postBuild Flux applies the text as written: the API server rejects it
    assert [p.path for p in _problems(catalog, obj, substituted=False)] == [
        ("spec", "replicas"),
        ("spec", "template", "spec", "securityContext", "runAsUser"),
    ]
    # an escaped $${X} is the literal text ${X} after substitution
    assert _problems(catalog, _deployment(replicas="$${REPLICAS}"), substituted=True) != []


def test_an_undefined_variable_is_left_to_its_own_rule(catalog: Catalog) -> None:
    res = Resource(
        _deployment(replicas=""), Origin("x.yaml", 1), {SUBSTITUTION: Outcome(missing={"REPLICAS"})}
    )
    assert validate([res], catalog, substituted=lambda _r: True).problems == []


def test_secret_values_are_never_shown(catalog: Catalog) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"PIN": 123456}}
    (problem,) = _problems(catalog, secret)
    assert problem.message == "stringData.PIN must be a string, got a number (value not shown)"
    assert "123456" not in problem.message


def test_sops_metadata_and_ciphertext_are_not_errors(catalog: Catalog) -> None:
    encrypted = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"PIN": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:int]"},
        "data": {"key": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]"},
        "sops": {"mac": "ENC[...]", "version": "3.9.0"},
    }
    assert _problems(catalog, encrypted) == []


def test_yaml_keys_and_timestamps_are_read_as_json(catalog: Catalog) -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {True: "on", 2: "two", "when": datetime.date(2024, 1, 1)},
    }
    assert _problems(catalog, config_map) == []


def test_kinds_without_a_schema_are_counted_not_guessed(catalog: Catalog) -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 1}}
    report = validate([Resource(unknown, Origin("x.yaml", 1))] * 2, catalog)
    assert report.problems == [] and report.unvalidated == {"example.com/v1/Widget": 2}


def test_documents_encrypted_whole_are_counted_as_one_kind(catalog: Catalog) -> None:
    enc = "ENC[AES256_GCM,data:Zm9v,iv:Zm9v,tag:Zm9v,type:str]"
    sealed = {"apiVersion": enc, "kind": enc, "metadata": {"name": enc}, "sops": {"mac": enc}}
    other = {**sealed, "kind": enc.replace("Zm9v", "YmFy")}
    report = validate([Resource(sealed, Origin("a.yaml", 1)), Resource(other, Origin("b.yaml", 1))], catalog)
    assert report.unvalidated == {SEALED: 2}


def test_flux_kinds(catalog: Catalog) -> None:
    ks = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "1h",
            "prune": "yes",  # what kyaml (YAML 1.2) reads from `prune: yes`
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "dependOn": [{"name": "x"}],
            "healthCheckExprs": [{"apiVersion": "v1", "kind": "X", "current": "true", "failed": "false"}],
            "deletionPolicy": "SomethingNewer",  # Flux only adds values; the package may be older
        },
    }
    hr = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "app"},
        "spec": {
            "chartRef": {"kind": "OCIRepository", "name": "app"},
            "maxHistory": "3",
            "values": {"any": [1]},
        },
    }
    assert _said(_problems(catalog, ks, hr)) == [
        ("unknown", "spec.dependOn: field not declared in schema"),
        ("value", 'spec.prune must be a boolean, got string "yes"'),
        ("required", "spec.interval is required"),
        ("value", 'spec.maxHistory must be an integer, got string "3"'),
    ]


def test_dotted_paths() -> None:
    assert dotted(("spec", "containers", 0, "name")) == "spec.containers[0].name"
    assert dotted(("metadata", "annotations", "app.kubernetes.io/name")) == (
        'metadata.annotations["app.kubernetes.io/name"]'
    )
