"""``homeops validate [PATH]``: only the schema step of ``check``, for CI (kubeconform's job, offline).

Every object Flux would apply is validated against its kind's schema: Kubernetes' own for the release
in ``kubernetes-version`` (or ``--kubernetes-version``), Flux's, and the CRDs the repository applies;
with ``--charts`` also what HelmReleases render, from charts already in the cache. Kinds without a
schema are listed once as not validated. Exit codes: 0 no error, 1 schema errors, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ...errors import ExitCode
from . import add_offline

SCHEMA_RULES = ("SCH001", "SCH002", "SCH003")
_LISTED = 5


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "validate",
        help="validate what Flux would apply against the API schemas, offline",
        description="Validate every object Flux would apply against Kubernetes', Flux's and the "
        "repository's CRD schemas, offline (the SCH rules of 'homeops check').",
        epilog="Exit codes: 0 no schema error, 1 schema errors, 2 usage or configuration error.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument(
        "--kubernetes-version",
        metavar="V",
        help="Kubernetes release to validate against (default: kubernetes-version in .homeops.yaml, "
        "else 1.33.0)",
    )
    parser.add_argument(
        "--charts",
        action="store_true",
        help="also validate what HelmReleases render (charts from the cache only; others are listed)",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text", help="output format")
    add_offline(parser)


def run(args: argparse.Namespace) -> int:
    from ...report.findings import summary_line, to_json, to_text
    from ...report.style import Style
    from ...rules.base import Finding, Severity
    from ...rules.context import Context
    from ...rules.engine import run_checks
    from ...rules.schema import schema_result
    from ...workspace import open_workspace

    workspace = open_workspace(args.path, offline=args.offline)
    config = workspace.config
    if args.kubernetes_version:
        config = config._replace(kubernetes_version=args.kubernetes_version)
    flux = workspace.flux
    rendered_findings: list[Finding] = []
    charts: dict[str, Any] = {}
    if args.charts:
        flux, rendered_findings, charts = _with_charts(workspace, flux, config)
    findings = run_checks(flux, config, select=list(SCHEMA_RULES)) + rendered_findings
    findings.sort(key=Finding.sort_key)
    result = schema_result(Context(flux, config))
    catalog = result.catalog
    unvalidated = dict(result.report.unvalidated)
    for key, count in charts.pop("unvalidated", {}).items():
        unvalidated[key] = unvalidated.get(key, 0) + count
    kubernetes = catalog.kubernetes
    summary = {
        "kubernetes_version": kubernetes.version if kubernetes else None,
        "validated": result.report.validated + charts.get("rendered", 0),
        "not_validated": [{"kind": k, "objects": n} for k, n in sorted(unvalidated.items())],
        "sources": [_filled(p)._asdict() for p in catalog.provenance],
        "unavailable": [u._asdict() for u in catalog.unavailable],
        **({"charts": charts} if args.charts else {}),
    }
    if args.output == "json":
        payload = json.loads(to_json(findings))
        payload["validation"] = summary
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(to_text(findings, Style.for_stream(sys.stdout, args.color)))
        _notes(summary, kubernetes.requested if kubernetes else None, sys.stderr)
        print(summary_line(findings), file=sys.stderr)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return int(ExitCode.FINDINGS if errors else ExitCode.OK)


def _with_charts(workspace: Any, flux: Any, config: Any) -> tuple[Any, list[Any], dict[str, Any]]:
    """Render the HelmReleases from the chart cache: findings in what they render, and the tree with
    the CRDs the charts install among its documents, so that the repository's own custom resources
    of those kinds are validated too (through the rules, with their configuration and suppressions)."""
    import copy

    from ...model.base import Origin, Resource
    from ...rules.base import Finding
    from ...rules.catalog import find_rule
    from ...rules.context import Context
    from ...rules.schema import repository_crds
    from ...validate.catalog import Catalog
    from ...validate.charts import rendered_problems
    from ...validate.sources import DEFAULT_KUBERNETES_VERSION

    version = config.kubernetes_version or DEFAULT_KUBERNETES_VERSION
    crds = repository_crds(Context(flux, config))
    rendered = rendered_problems(workspace, lambda more: Catalog(version, [*crds, *more]), version)
    findings = []
    for release, problem in rendered.problems:
        rule = find_rule({"value": "SCH001", "unknown": "SCH002", "required": "SCH003"}[problem.kind])
        assert rule is not None
        severity = (
            config.severities.get(rule.id, rule.severity) if rule.id in config.severities else rule.severity
        )
        if severity is None:
            continue  # the rule is off
        res = problem.res
        name = f"{res.namespace}/{res.name}" if res.namespace else res.name
        message = (
            f"HelmRelease {release.namespace}/{release.name} renders {res.kind} {name}: {problem.message}"
        )
        hint = "fix the HelmRelease's values (or the chart)"
        findings.append(
            Finding(rule.id, rule.name, severity, release.origin.path, release.origin.line, message, hint)
        )
    chart_crds = [Resource(crd, Origin("", 0)) for crd in rendered.crds]
    flux = copy.copy(flux)
    flux.documents = [*flux.documents, *chart_crds]
    summary = {
        "rendered": rendered.validated,
        "not_rendered": rendered.not_rendered,
        "unvalidated": rendered.unvalidated,
    }
    return flux, findings, summary


def _filled(provenance: Any) -> Any:
    from ...validate.sources import package_version

    if provenance.name.startswith("kubernetes-validate") and not provenance.version:
        return provenance._replace(version=package_version("kubernetes-validate"))
    return provenance


def _notes(summary: dict[str, Any], requested: str | None, stream: Any) -> None:
    def say(text: str) -> None:
        print(text, file=stream)

    version = summary["kubernetes_version"]
    if version and requested and not requested.startswith(version.rsplit(".", 1)[0]):
        say(f"homeops: note: no schemas for Kubernetes {requested}; validated against {version}")
    for missing in summary["unavailable"]:
        say(f"homeops: note: {missing['what']} not available: {missing['hint']}")
    skipped = summary["not_validated"]
    if skipped:
        total = sum(entry["objects"] for entry in skipped)
        say(f"homeops: info: not validated (no schema): {total} objects of {len(skipped)} kinds:")
        for entry in skipped:
            say(f"  {entry['kind']} ({entry['objects']})")
    charts = summary.get("charts")
    if charts and charts["not_rendered"]:
        missing = charts["not_rendered"]
        say(f"homeops: info: {len(missing)} HelmReleases not rendered, so not validated:")
        for release, why in missing[:_LISTED]:
            say(f"  {release}: {why}")
        if len(missing) > _LISTED:
            say(f"  … and {len(missing) - _LISTED} more ('-o json' lists them all)")
    say(f"homeops: validated {summary['validated']} objects (Kubernetes {version})")
