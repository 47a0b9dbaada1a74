"""homeops against a second, independent validator over the same schemas, on objects generated here.

kubeconform (a Go binary) is not available from the package registries this project installs from, so
the second opinion is the ``jsonschema`` Python package (the reference implementation of JSON Schema),
given exactly the schemas homeops compiles: what kubeconform does with its own copy of the same
Kubernetes and CRD schemas. For each valid object and many seeded mutations of it (a wrong type, a
missing required field, an undeclared field, a value outside an enum or a range), both must agree on
whether the object is valid and on where each problem is; homeops' own findings must agree too.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from homeops.model.base import Origin, Resource
from homeops.validate.catalog import Catalog
from homeops.validate.engine import validate

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "mode": {"type": "string", "enum": ["fast", "slow"]},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}

VALID: list[dict[str, Any]] = [
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default", "labels": {"app": "app"}},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": "app"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsUser": 1000, "runAsNonRoot": True},
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/example/app:1.0",
                            "args": ["--port", "8080"],
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "env": [{"name": "TZ", "value": "Europe/Paris"}],
                            "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": 0.1}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10},
                        }
                    ],
                },
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "app"},
        "spec": {"selector": {"app": "app"}, "ports": [{"port": 80, "targetPort": "http"}]},
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"port": "8080"}},
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "job"},
        "spec": {
            "schedule": "0 * * * *",
            "suspend": False,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "j"}]}},
                }
            },
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "annotations": {"a": "b"}},
        "spec": {
            "ingressClassName": "internal",
            "rules": [
                {
                    "host": "app.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "app", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    },
    {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3, "mode": "fast", "port": 8080, "tags": ["a"], "extra": {"free": [1, {"x": None}]}},
    },
]

VALID += [
    {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "1h",
            "prune": True,
            "wait": False,
            "path": "./kubernetes/apps",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "dependsOn": [{"name": "infra"}],
            "postBuild": {"substitute": {"A": "b"}},
        },
    },
    {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "app"},
        "spec": {
            "interval": "1h",
            "maxHistory": 3,
            "chartRef": {"kind": "OCIRepository", "name": "app"},
            "install": {"remediation": {"retries": 3}},
            "values": {"anything": {"goes": [1, 2]}},
        },
    },
]

_OTHER_TYPE: dict[type, Any] = {
    str: 7,
    int: "7",
    float: "0.5",
    bool: "yes",
    list: "x",
    dict: "x",
    type(None): 1,
}


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    if path:
        yield path, node


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


def _mutations(base: dict[str, Any], rng: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    places = [p for p, _v in _leaves(base) if p[0] not in ("apiVersion", "kind")]
    for _ in range(count):
        obj = copy.deepcopy(base)
        for _edit in range(rng.choice((1, 1, 2))):
            path = rng.choice(places)
            parent = obj
            try:
                for part in path[:-1]:
                    parent = parent[part]
                current = parent[path[-1]]
            except (KeyError, IndexError, TypeError):
                continue
            action = rng.choice(("type", "delete", "unknown", "value"))
            if action == "type":
                _set(obj, path, _OTHER_TYPE[type(current)])
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif action == "unknown" and isinstance(current, dict):
                current["unexpectedField"] = 1
            elif isinstance(current, str):
                _set(obj, path, "NotAnAllowedValue")
            elif isinstance(current, int) and not isinstance(current, bool):
                _set(obj, path, -(2**40))
        out.append(obj)
    return out


def _cases() -> list[dict[str, Any]]:
    rng = random.Random(14)
    cases = []
    for base in VALID:
        cases.append(base)
        cases.extend(_mutations(base, rng, 40))
    return cases


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog("1.33.0", [WIDGET_CRD])


def _second_opinion(catalog: Catalog, obj: dict[str, Any]) -> set[tuple[tuple[Any, ...], str]]:
    schema = catalog.schema(obj["apiVersion"], obj["kind"])
    assert schema is not None
    validator = jsonschema.Draft202012Validator(schema)
    return {(tuple(e.absolute_path), str(e.validator)) for e in validator.iter_errors(obj)}


def _homeops_raw(catalog: Catalog, obj: dict[str, Any]) -> set[tuple[tuple[Any, ...], str]]:
    validator = catalog.validator(obj["apiVersion"], obj["kind"])
    assert validator is not None
    out = set()
    for error in validator.iter_errors(obj):
        name = type(error.kind).__name__
        out.add((tuple(error.instance_path), name[0].lower() + name[1:]))
    return out


def test_the_generated_set_has_both_valid_and_invalid_objects(catalog: Catalog) -> None:
    cases = _cases()
    invalid = [obj for obj in cases if _second_opinion(catalog, obj)]
    assert all(not _second_opinion(catalog, base) for base in VALID), "a base object is invalid"
    assert len(invalid) > len(cases) // 3 and len(cases) - len(invalid) > len(VALID)


def test_both_validators_agree_on_every_object(catalog: Catalog) -> None:
    disagreements = []
    for obj in _cases():
        theirs, ours = _second_opinion(catalog, obj), _homeops_raw(catalog, obj)
        if theirs != ours:
            disagreements.append((obj["kind"], sorted(theirs), sorted(ours)))
    assert not disagreements, disagreements[:3]


def test_homeops_findings_agree_on_validity_and_place(catalog: Catalog) -> None:
    for obj in _cases():
        theirs = _second_opinion(catalog, obj)
        report = validate([Resource(obj, Origin("x.yaml", 1))], catalog)
        flux = catalog.source(obj["apiVersion"], obj["kind"]) == "flux"
        if flux:  # enum values of Flux kinds are not reported (see engine): compare the rest
            theirs = {(path, keyword) for path, keyword in theirs if keyword != "enum"}
        assert bool(report.problems) == bool(theirs), (obj, theirs, report.problems)
        places = set()
        for problem in report.problems:
            places.add(problem.path[:-1] if problem.kind == "unknown" else problem.path)
        assert places == {path for path, _keyword in theirs}, (obj, theirs, report.problems)
