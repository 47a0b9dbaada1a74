"""Gathering what a repository report shows, as plain data: the graph and its waves, each node's object
and findings, the rule docs, the bootstrap simulation and, from a snapshot or a cluster, live state and
the doctor's problems. Each part is the same JSON the matching command prints (``graph -f json``,
``check -o json``, ``simulate -o json``, ``status``/``doctor -o json``), so the page shows what they show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .layout import node_key

if TYPE_CHECKING:
    from ...graph.model import Graph
    from ...workspace import Workspace

GRAPH_KINDS = (
    "Kustomization",
    "HelmRelease",
    "OCIRepository",
    "HelmRepository",
    "GitRepository",
    "HelmChart",
    "Bucket",
)
"""The kinds ``homeops graph`` draws by default (the others are reached from a node's details)."""


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """Where live state comes from: snapshot files, else the kube context (read-only)."""

    sources: Sequence[str] = ()
    context: str | None = None
    kubeconfig: str | None = None
    cluster: str | None = None


@dataclass(slots=True)
class RepositoryData:
    """Everything a repository report shows, as JSON-shaped values."""

    title: str
    graph: dict[str, Any]
    """``homeops graph -f json``: nodes, edges, missing."""
    waves: dict[str, dict[str, list[list[str]] | list[str]]]
    """Per cluster: ``waves`` (lists of node keys) and ``blocked`` (node keys)."""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Node key → ``{"path", "line", "yaml", "findings": [indexes into findings]}``."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """``homeops check -o json`` findings."""
    rules: dict[str, dict[str, str]] = field(default_factory=dict)
    """Rule id → its documentation (the fields ``docs/rules/<ID>.md`` is generated from)."""
    simulation: dict[str, Any] | None = None
    """``homeops simulate -o json`` (the bootstrap), None when it was not run."""
    status: dict[str, Any] | None = None
    """``homeops status -o json``, with live state only."""
    problems: dict[str, Any] | None = None
    """``homeops doctor -o json``, with live state only."""
    live_source: str | None = None
    live_cluster: str | None = None
    notes: list[str] = field(default_factory=list)
    """What could not be shown, and why (a simulation that failed, ...)."""


def collect_repository(
    path: str | Path, *, live: LiveOptions | None = None, simulation: bool = True
) -> RepositoryData:
    """Read the repository at ``path`` once and gather every section of its report."""
    from ...graph.export import to_json as graph_json
    from ...graph.model import build_graph, rollout
    from ...workspace import open_workspace

    workspace = open_workspace(path)
    flux = workspace.flux
    graph = build_graph(flux)
    data = RepositoryData(
        title=workspace.root.name,
        graph=json.loads(graph_json(graph, GRAPH_KINDS)),
        waves={},
    )
    for cluster in sorted({n.cluster for n in graph.nodes}):
        plan = rollout(graph, cluster)
        data.waves[cluster] = {
            "waves": [[node_key(n._asdict()) for n in wave] for wave in plan.waves],
            "blocked": [node_key(n._asdict()) for n in plan.blocked],
        }
    if not flux.clusters:
        templates = sum(1 for f in workspace.tree.files() if f.endswith(".j2"))
        data.notes.append(
            "No Flux entry point found: nothing to draw or simulate"
            + (f" ({templates} templates: run 'homeops configure' to render them)" if templates else "")
        )
    _findings(data, workspace)
    _objects(data, workspace, graph)
    if simulation:
        data.simulation = simulation_json(workspace, graph)
    if live is not None:
        _live(data, workspace.root, live)
    return data


def _findings(data: RepositoryData, workspace: Workspace) -> None:
    from ...report.findings import to_json
    from ...rules.catalog import all_rules
    from ...rules.engine import run_checks

    findings = run_checks(workspace.flux, workspace.config)
    data.findings = json.loads(to_json(findings))["findings"]
    used = {f.rule for f in findings}
    for rule in all_rules():
        if rule.id in used:
            data.rules[rule.id] = {
                "id": rule.id,
                "name": rule.name,
                "severity": rule.severity.value,
                "family": rule.family,
                "summary": rule.summary,
                "why": rule.why,
                "bad": rule.bad,
                "good": rule.good,
                "fix": rule.fix,
            }


def _objects(data: RepositoryData, workspace: Workspace, graph: Graph) -> None:
    """Each drawn node's object as YAML, where it is written, and the findings that concern it: those
    in its own file, and for a Kustomization those in files only its build reads."""
    from ...yamlout import dump_yaml

    by_path: dict[str, list[str]] = {}
    for node, res in graph.nodes.items():
        if node.kind not in GRAPH_KINDS:
            continue
        key = node_key(node._asdict())
        entry: dict[str, Any] = {"path": None, "line": None, "yaml": "", "findings": []}
        if res is not None:
            entry.update(path=res.origin.path, line=res.origin.line, yaml=dump_yaml(res.obj))
            by_path.setdefault(res.origin.path, []).append(key)
        data.objects[key] = entry
    builders: dict[str, tuple[int, str]] = {}
    for (cluster, ident), producer in workspace.flux.producers.items():
        key = node_key({"cluster": cluster, "kind": "Kustomization", **ident._asdict()})
        for file in producer.files:
            size = len(producer.files)
            if file not in builders or size < builders[file][0]:
                builders[file] = (size, key)
    for index, finding in enumerate(data.findings):
        owners = by_path.get(finding["path"]) or (
            [builders[finding["path"]][1]] if finding["path"] in builders else []
        )
        for key in owners:
            if key in data.objects:
                data.objects[key]["findings"].append(index)


def simulation_json(workspace: Workspace, graph: Graph) -> dict[str, Any]:
    """The bootstrap simulation as ``homeops simulate -o json`` prints it (no ``--fail``)."""
    from ...simulate.report import to_json
    from ...simulate.scenario import simulate_tree
    from ...simulate.settings import settings

    chosen = settings(workspace.config.simulate, workspace.config.simulate_lines)
    return to_json(*simulate_tree(workspace.flux, graph, chosen))


def _live(data: RepositoryData, root: Path, live: LiveOptions) -> None:
    from ...doctor.report import doctor_json, status_json
    from ...doctor.scenarios import run_scenarios
    from ...doctor.session import open_session
    from ...doctor.status import status_rows

    ctx = open_session(
        root,
        sources=list(live.sources) or None,
        context=live.context,
        kubeconfig=live.kubeconfig,
        cluster=live.cluster,
    )
    data.status = json.loads(status_json(status_rows(ctx.explainer, ctx.repo, ctx.cluster)))
    data.problems = json.loads(doctor_json(run_scenarios(ctx)))
    data.live_source = str(ctx.view.snapshot.source)
    data.live_cluster = ctx.cluster
