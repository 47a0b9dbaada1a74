"""Rules for what the API server would reject: every applied object against its kind's schema, offline.

The schemas are Kubernetes' own (for the release in ``kubernetes-version``), Flux's, and the CRDs the
repository applies; see :mod:`homeops.validate`. Kinds with no schema are not validated (``homeops
validate`` lists them); nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

# Imported with the rule catalog rather than when the rules run: ``check`` imports the catalog on
# this core while a helper builds Kustomizations on the other, and the rules then run in two processes
# forked after it, which share what is already loaded (the compiled validator library above all).
import jsonschema_rs  # noqa: F401

from ..records import NamedTuple
from ..validate.catalog import Catalog
from ..validate.engine import Report, validate
from ..validate.where import Locator
from .base import Hit, Severity, rule
from .context import Context

if TYPE_CHECKING:
    from ..model.base import Resource

CRD_GROUP = "apiextensions.k8s.io"


class SchemaResult(NamedTuple):
    """The validation of one repository, shared by the rules of this family."""

    catalog: Catalog
    report: Report
    hits: dict[str, list[Hit]]
    """Problem kind (``value``, ``unknown``, ``required``) → findings."""


def repository_crds(ctx: Context) -> list[dict[str, object]]:
    """Every CustomResourceDefinition written in the repository (applied or not) and applied by it."""
    seen: set[int] = set()
    out = []
    for objects in (ctx.flux.objects, ctx.flux.documents, ctx.flux.bootstrap.objects):
        for res in ctx.of_kinds(objects, (CRD_GROUP, "CustomResourceDefinition")):
            if id(res.obj) not in seen:
                seen.add(id(res.obj))
                out.append(res.obj)
    return out


def applied_objects(ctx: Context) -> list[Resource]:
    """What Flux applies: every object of the tree, and the entry points themselves (the Flux
    Kustomizations its bootstrap sync applies, as written: nothing patches or substitutes them; not
    those homeops made from a sync definition, which no file writes)."""
    objects = list(ctx.flux.objects)
    seen = {id(res.obj) for res in objects}
    for producer in ctx.flux.producers.values():
        if producer.parent is None and id(producer.ks.res.obj) not in seen and ctx.flux.written(producer):
            seen.add(id(producer.ks.res.obj))
            objects.append(producer.ks.res)
    return objects


def substituted(ctx: Context, res: Resource) -> bool:
    """Whether Flux substitutes ``${VAR}`` in this object when it applies it."""
    from ..flux.substitute import disabled

    producer = ctx.flux.producer_of(res)
    return producer is not None and producer.ks.has_post_build and not disabled(res.obj)


def schema_result(ctx: Context) -> SchemaResult:
    return ctx.memo("schema", lambda: _compute(ctx))


def _compute(ctx: Context) -> SchemaResult:
    catalog = Catalog(ctx.config.kubernetes_version, repository_crds(ctx))
    report = validate(applied_objects(ctx), catalog, substituted=lambda res: substituted(ctx, res))
    locator = Locator(ctx.flux)
    hits: dict[str, list[Hit]] = {"value": [], "unknown": [], "required": []}
    for problem in report.problems:
        path, line = locator.where(problem.res, problem.path)
        res = problem.res
        name = f"{res.namespace}/{res.name}" if res.namespace else res.name
        hits[problem.kind].append(
            Hit(path, line, f"{res.kind} {name}: {problem.message}", _hint(problem.kind, catalog, res))
        )
    return SchemaResult(catalog, report, hits)


def _hint(kind: str, catalog: Catalog, res: Resource) -> str | None:
    if kind == "unknown":
        source = catalog.source(res.api_version, res.kind)
        if source == "kubernetes" and catalog.kubernetes is not None:
            against = f"Kubernetes {catalog.kubernetes.version}'s schema"
            newer = "; for a newer cluster set kubernetes-version in .homeops.yaml"
        else:
            against, newer = ("Flux's API types" if source == "flux" else "the CRD's schema"), ""
        return f"check its spelling, indentation and apiVersion (validated against {against}){newer}"
    if kind == "required":
        return "add the field; the API server rejects the object without it"
    return None


_VALUE_WHY = (
    "The API server rejects the whole object: Flux's server-side apply fails, and with it the "
    "Kustomization's reconciliation, so nothing else in it is applied either. kubeconform in CI "
    "catches this; without it the first sign is a failed reconciliation in the cluster."
)


@rule(
    id="SCH001",
    name="invalid-field-value",
    family="schema",
    severity=Severity.ERROR,
    seed="Validation: task kubernetes:kubeconform before Flux applies (seed 003)",
    summary="A field's value has the wrong type or is not one the API allows",
    why=_VALUE_WHY + " YAML makes it easy: `two`, `http` and `yes` are strings, `8080` is a number.",
    bad="spec:\n  replicas: two\n  template:\n    spec:\n      containers:\n        - name: app\n"
    "          ports:\n            - containerPort: http\n",
    good="spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n"
    "          ports:\n            - name: http\n              containerPort: 8080\n",
    fix="Give the field a value of the type the message names (quote numbers meant as strings, e.g. "
    'ConfigMap data `port: "8080"`; use true/false for booleans).',
)
def invalid_field_value(ctx: Context) -> Iterator[Hit]:
    yield from schema_result(ctx).hits["value"]


@rule(
    id="SCH002",
    name="undeclared-field",
    family="schema",
    severity=Severity.ERROR,
    seed="Validation: task kubernetes:kubeconform before Flux applies (seed 003)",
    summary="A field the kind's schema does not declare (a typo, a wrong indentation, another apiVersion)",
    why="Flux applies with server-side apply, which rejects fields a structural schema does not declare "
    "('field not declared in schema'); the Kustomization fails and nothing in it is applied.",
    bad="spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1.0\n"
    "          resource:          # typo\n            limits:\n              memory: 1Gi\n",
    good="spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1.0\n"
    "          resources:\n            limits:\n              memory: 1Gi\n",
    fix="Fix the spelling or the indentation, or move the field to the apiVersion that has it.",
)
def undeclared_field(ctx: Context) -> Iterator[Hit]:
    yield from schema_result(ctx).hits["unknown"]


@rule(
    id="SCH003",
    name="missing-required-field",
    family="schema",
    severity=Severity.ERROR,
    seed="Validation: task kubernetes:kubeconform before Flux applies (seed 003)",
    summary="A field the kind's schema requires is missing",
    why="The API server rejects an object without its required fields (a container without a name, a "
    "Flux Kustomization without interval or prune), failing the whole Kustomization that applies it.",
    bad="containers:\n  - image: ghcr.io/app/app:1.0\n",
    good="containers:\n  - name: app\n    image: ghcr.io/app/app:1.0\n",
    fix="Add the field the message names.",
)
def missing_required_field(ctx: Context) -> Iterator[Hit]:
    yield from schema_result(ctx).hits["required"]
