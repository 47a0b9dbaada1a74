"""Rules for Flux post-build substitution (``${VAR}`` placeholders such as ``${SECRET_DOMAIN}``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..flux.substitute import VAR_NAME, Outcome, references, strings_with_vars
from ..flux.tree import SUBSTITUTION, Producer
from ..model.base import Resource
from .base import Hit, Severity, rule
from .context import Context


def _original(ctx: Context, res: Resource) -> object:
    """The document as written in its file (before kustomize and substitution)."""
    try:
        docs = ctx.tree.parsed(res.origin.path).documents
    except OSError:
        return None
    return docs[res.origin.index] if res.origin.index < len(docs) else None


def _where_var(ctx: Context, res: Resource, var: str) -> tuple[str | int, ...]:
    for path, text in strings_with_vars(_original(ctx, res)):
        if any(name == var for name, _ in references(text)):
            return path
    return ()


@rule(
    id="SUB001",
    name="undefined-variable",
    family="substitution",
    severity=Severity.ERROR,
    seed="Placeholder values such as ${SECRET_DOMAIN} must be defined before use",
    summary="A ${VAR} has no value in its Kustomization and no default",
    why="Flux ≥ 2.9 fails the Kustomization on an undefined variable (strict substitution); older versions "
    "silently substitute an empty string, producing hostnames like 'app.' and empty image tags.",
    bad='hostnames: ["app.${SECRET_DOMIAN}"]   # typo, or not in cluster-secrets\n',
    good='hostnames: ["app.${SECRET_DOMAIN}"]\n'
    "# with SECRET_DOMAIN in postBuild.substitute or a substituteFrom source\n",
    fix="Define the variable (postBuild.substitute, or the ConfigMap/Secret in substituteFrom), give it a "
    "default (${VAR:=value}), or escape a literal as $${VAR}.",
)
def undefined_variable(ctx: Context) -> Iterator[Hit]:
    # One finding per variable and place, naming every Kustomization that meets it there.
    owners: dict[tuple[str, int, str], list[str]] = {}
    for res in ctx.flux.objects:
        outcome = res.notes.get(SUBSTITUTION)
        if not isinstance(outcome, Outcome):
            continue
        producer = ctx.flux.producer_of(res)
        owner = producer.id.short if producer else "?"
        for var in sorted(outcome.missing):
            hit = ctx.hit(res, _where_var(ctx, res, var), "")
            names = owners.setdefault((hit.path, hit.line, var), [])
            if owner not in names:
                names.append(owner)
    for (path, line, var), names in owners.items():
        which = " and ".join(names)
        yield Hit(
            path,
            line,
            f"${{{var}}} is not defined for Kustomization {which} and has no default",
            f"define {var} in postBuild.substitute or substituteFrom, add a default "
            f"(${{{var}:=…}}), or write $${{{var}}} for a literal",
        )


@rule(
    id="SUB002",
    name="substitute-from-missing",
    family="substitution",
    severity=Severity.ERROR,
    seed="Secrets placeholder mismatch: Flux fails",
    summary="postBuild.substituteFrom names a ConfigMap or Secret that does not exist in the namespace",
    why="kustomize-controller fails the Kustomization when a non-optional substituteFrom source is missing "
    "('substitute from ConfigMap/cluster-settings error: not found'); nothing in it is applied.",
    bad="postBuild:\n  substituteFrom:\n    - kind: Secret\n"
    "      name: cluster-secret   # it is cluster-secrets\n",
    good="postBuild:\n  substituteFrom:\n    - kind: Secret\n      name: cluster-secrets\n",
    fix="Create the ConfigMap/Secret in the Kustomization's own namespace (usually flux-system), fix the "
    "name, or mark it optional: true.",
)
def substitute_from_missing(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        yield from _source_hits(
            ctx, producer, producer.missing_sources, "nothing in the cluster creates in that namespace"
        )


def _source_hits(
    ctx: Context, producer: Producer, sources: Iterable[tuple[str, str]], which: str
) -> Iterator[Hit]:
    """One hit per ``substituteFrom`` entry of ``sources``, at that entry's name."""
    names = [ref.name for ref in producer.ks.substitute_from]
    for kind, name in sources:
        position = names.index(name) if name in names else 0
        yield ctx.hit(
            producer.ks.res,
            ("spec", "postBuild", "substituteFrom", position, "name"),
            f"Kustomization {producer.id.short} substitutes from {kind} {producer.ks.namespace}/{name}, "
            f"which {which}",
        )


@rule(
    id="SUB003",
    name="substitution-syntax",
    family="substitution",
    severity=Severity.ERROR,
    seed="Flux can't render: missing placeholder, invalid value",
    summary="A ${…} expression Flux cannot parse",
    why="One malformed expression (e.g. a shell script's ${!var} in a ConfigMap) fails the whole "
    "Kustomization's substitution, so nothing in it is applied.",
    bad="data:\n  run.sh: echo ${!name}\n",
    good="data:\n  run.sh: echo $${!name}   # escaped\n"
    "# or: annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled\n",
    fix="Escape literal shell expressions as $${…}, or annotate the object with "
    "kustomize.toolkit.fluxcd.io/substitute: disabled.",
)
def substitution_syntax(ctx: Context) -> Iterator[Hit]:
    for res in ctx.flux.objects:
        outcome = res.notes.get(SUBSTITUTION)
        if isinstance(outcome, Outcome) and outcome.errors:
            yield ctx.hit(
                res,
                (),
                f"{res.kind} {res.name!r}: {outcome.errors[0]}",
                "escape it as $${…} or disable substitution for this object",
            )


_CONFIG_VAR = re.compile(r"\$\{[A-Z][A-Z0-9_]*(:?[-=][^}]*)?\}")


def _name(expression: str) -> str:
    return re.split(r"[:=}-]", expression[2:], maxsplit=1)[0]


def _cluster_variables(ctx: Context) -> dict[str, set[str]]:
    """cluster → every variable some Kustomization of it substitutes (its cluster settings)."""
    out: dict[str, set[str]] = {}
    for producer in ctx.producers():
        names = out.setdefault(producer.cluster, set())
        names.update(producer.variables.values, producer.variables.opaque)
    return out


_CHECKED_KINDS = {"HelmRelease", "HTTPRoute", "Ingress", "Certificate", "Gateway", "Kustomization", "Service"}


@rule(
    id="SUB004",
    name="unsubstituted-variable",
    family="substitution",
    severity=Severity.WARNING,
    seed="Secrets stay as placeholders, resolved by Flux before they reach the cluster",
    summary="A ${VAR} placeholder is applied by a Kustomization without postBuild substitution",
    why="Without postBuild Flux applies the text '${SECRET_DOMAIN}' literally: hostnames, certificates "
    "and routes then name a domain that does not exist.",
    bad='# ks.yaml without postBuild, applying:\nhostnames: ["app.${SECRET_DOMAIN}"]\n',
    good="spec:\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n",
    fix="Add postBuild.substitute/substituteFrom to the Kustomization (or to all children through the "
    "parent's patches).",
)
def unsubstituted_variable(ctx: Context) -> Iterator[Hit]:
    known = _cluster_variables(ctx)
    for producer in ctx.producers():
        if producer.ks.has_post_build and (producer.variables or producer.ks.substitute_from):
            continue
        names = known.get(producer.cluster, set())
        if not names:
            continue  # no variable of the cluster to look for
        for res in producer.objects:
            if res.kind not in _CHECKED_KINDS:
                continue
            for path, text in strings_with_vars(res.obj):
                match = next((m for m in _CONFIG_VAR.finditer(text) if _name(m.group(0)) in names), None)
                if match:
                    yield ctx.hit(
                        res,
                        path,
                        f"{res.kind} {res.name!r} contains {match.group(0)} but Kustomization "
                        f"{producer.id.short} does not substitute variables",
                    )
                    break


@rule(
    id="SUB005",
    name="invalid-variable-name",
    family="substitution",
    severity=Severity.ERROR,
    seed="Flux can't render: invalid value",
    summary="A postBuild.substitute key is not a valid variable name",
    why="Flux rejects the whole Kustomization when a variable name does not match "
    "^[_a-zA-Z][_a-zA-Z0-9]*$ (dashes and dots are common mistakes).",
    bad="postBuild:\n  substitute:\n    app-name: immich\n",
    good="postBuild:\n  substitute:\n    APP_NAME: immich\n",
    fix="Rename the variable using letters, digits and underscores only.",
)
def invalid_variable_name(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        for name in producer.ks.substitute:
            if not VAR_NAME.match(name):
                yield ctx.hit(
                    producer.ks.res,
                    ("spec", "postBuild", "substitute", name),
                    f"variable name {name!r} is invalid; Flux rejects the Kustomization",
                )


@rule(
    id="SUB006",
    name="substitutes-from-itself",
    family="substitution",
    severity=Severity.INFO,
    seed="Flux reconciliation: a failed build never applies; bootstrap order",
    summary="A Kustomization substitutes from a ConfigMap or Secret it creates itself",
    why="kustomize-controller reads substituteFrom sources before it applies anything: on a cluster where "
    "the ConfigMap does not exist yet (a fresh install, a disaster recovery) the first reconcile fails and "
    "never applies it. Once it exists (applied by hand, or by an earlier revision) it works.",
    bad="# cluster-settings.yaml is in this Kustomization's own path\npostBuild:\n  substituteFrom:\n"
    "    - kind: ConfigMap\n      name: cluster-settings\n",
    good="# cluster-settings.yaml applied by a Kustomization this one dependsOn (or the parent)\n"
    "postBuild:\n  substituteFrom:\n    - kind: ConfigMap\n      name: cluster-settings\n",
    fix="Move the ConfigMap/Secret to a Kustomization this one depends on (or its parent), or mark the "
    "entry optional: true if the variables have defaults.",
)
def substitutes_from_itself(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        yield from _source_hits(
            ctx,
            producer,
            producer.self_sources,
            "it creates itself: this works after its first apply, but a fresh cluster fails the first "
            "reconcile (bootstrap order)",
        )
