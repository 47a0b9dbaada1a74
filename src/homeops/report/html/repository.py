"""The repository report: the graph picture, rollout waves, bootstrap timeline, live state and
findings, as one page (:func:`repository_page`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from ...runtime.durations import clock
from .collect import RepositoryData
from .layout import layout, node_key
from .page import render, script_json
from .svg import graph_svg, timeline_bars, timeline_svg

_SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}

LIVE_CLASS = {
    "Ready": "ok",
    "Reconciling": "wait",
    "Blocked": "wait",
    "Retrying": "bad",
    "Stalled": "bad",
    "Suspended": "off",
    "Missing": "missing",
}
"""Live state → the colour class of a node (green, amber, red, grey, dashed)."""


def repository_page(data: RepositoryData, *, rules_url: str | None = None) -> str:
    """The whole page. ``rules_url``: where the rule docs are published (``{id}`` is replaced by the
    rule id); the docs are inlined either way, so the page needs no link to work."""
    nodes = data.graph["nodes"]
    edges = data.graph["edges"]
    keys = {node_key(n): i for i, n in enumerate(nodes)}
    waves = {key: w for plan in data.waves.values() for w, wave in enumerate(plan["waves"]) for key in wave}
    for plan in data.waves.values():
        blocked_wave = len(plan["waves"])
        for key in plan["blocked"]:
            waves[str(key)] = blocked_wave
    placed = layout(nodes, edges, waves)
    live = _live_by_key(data)
    badges = {}
    for key, entry in data.objects.items():
        found = [data.findings[i] for i in entry["findings"]]
        if found:
            worst = max((f["severity"] for f in found), key=lambda s: _SEVERITY_RANK[s])
            badges[key] = (len(found), worst)
    states = {key: LIVE_CLASS.get(row["state"], "wait") for key, row in live.items()}
    svg = graph_svg(nodes, edges, placed, badges=badges, states=states)
    timeline = _timeline(data.simulation, keys)
    payload = _payload(data, nodes, edges, live)
    counts = Counter(n["kind"] for n in nodes)
    severities = Counter(f["severity"] for f in data.findings)
    return render(
        "report.html.j2",
        scripts=("graph.js", "report.js"),
        title=data.title,
        svg=svg,
        data_json=script_json(payload),
        counts=counts,
        sources=sum(v for k, v in counts.items() if k not in ("Kustomization", "HelmRelease")),
        severities=severities,
        clusters=sorted(data.waves),
        waves=_waves(data, keys),
        timeline=timeline,
        live=_live_view(data, keys),
        by_rule=_by_rule(data, rules_url),
        by_file=_by_file(data),
        notes=data.notes,
        missing=data.graph.get("missing", []),
    )


def _live_by_key(data: RepositoryData) -> dict[str, dict[str, Any]]:
    if data.status is None:
        return {}
    return {node_key(row): row for row in data.status["objects"]}


def _payload(
    data: RepositoryData,
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    live: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    """What the script needs to show a node's details, keyed by node index."""
    keys = {node_key(n): i for i, n in enumerate(nodes)}
    ready = {}
    if data.simulation is not None:
        ready = {node_key(f): f.get("ready_at") for f in data.simulation.get("final", ())}
    problems: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in (data.problems or {}).get("problems", ()):
        problems[node_key(problem)].append(problem)
    out_nodes = []
    for node in nodes:
        key = node_key(node)
        entry = data.objects.get(key, {})
        item: dict[str, Any] = {
            "kind": node["kind"],
            "namespace": node["namespace"],
            "name": node["name"],
            "cluster": node["cluster"],
            "path": entry.get("path"),
            "line": entry.get("line"),
            "yaml": entry.get("yaml", ""),
            "findings": entry.get("findings", []),
        }
        if key in live:
            item["live"] = live[key]
        if key in ready:
            item["ready"] = None if ready[key] is None else clock(float(ready[key]))
        if key in problems:
            item["problems"] = problems[key]
        out_nodes.append(item)
    out_edges = [
        [keys[node_key(e["to"])], keys[node_key(e["from"])], e["kind"]]
        for e in edges
        if node_key(e["to"]) in keys and node_key(e["from"]) in keys
    ]
    return {"nodes": out_nodes, "edges": out_edges, "findings": data.findings, "many": len(data.waves) > 1}


def _waves(data: RepositoryData, keys: Mapping[str, int]) -> list[dict[str, Any]]:
    out = []
    for cluster, plan in sorted(data.waves.items()):
        out.append(
            {
                "cluster": cluster,
                "waves": [[_chip(str(k), keys) for k in wave] for wave in plan["waves"]],
                "blocked": [_chip(str(k), keys) for k in plan["blocked"]],
            }
        )
    return out


def _chip(key: str, keys: Mapping[str, int]) -> dict[str, Any]:
    _cluster, kind, namespace, name = key.split("/", 3)
    return {"i": keys.get(key), "kind": kind, "label": f"{namespace}/{name}" if namespace else name}


def _timeline(simulation: dict[str, Any] | None, keys: Mapping[str, int]) -> dict[str, Any] | None:
    if simulation is None:
        return None
    bars = timeline_bars(simulation)
    end = max(
        [float(simulation.get("settled_at") or 0.0), float(simulation.get("converged_at") or 0.0)]
        + [b.end for b in bars if b.end is not None]
    )
    stuck = [b for b in bars if b.end is None]
    converged = simulation.get("converged_at")
    return {
        "svg": timeline_svg(bars, end, keys),
        "converged": None if converged is None else clock(float(converged)),
        "ready": len(bars) - len(stuck),
        "total": len(bars),
        "stuck": stuck,
        "critical": [
            {
                "t": clock(float(s["t"])),
                "label": f"{s['kind']} {s['namespace']}/{s['name']}",
                "what": s["milestone"],
            }
            for s in simulation.get("critical_path", ())
        ],
        "assumptions": simulation.get("assumptions", []),
        "notes": simulation.get("notes", []),
    }


def _live_view(data: RepositoryData, keys: Mapping[str, int]) -> dict[str, Any] | None:
    if data.status is None:
        return None
    rows = []
    for row in data.status["objects"]:
        key = node_key(row)
        rows.append({**row, "i": keys.get(key), "css": LIVE_CLASS.get(row["state"], "wait")})
    order = {"bad": 0, "missing": 1, "wait": 2, "off": 3, "ok": 4}
    rows.sort(key=lambda r: (order[r["css"]], r["kind"], r["namespace"], r["name"]))
    problems = [
        {
            **p,
            "i": keys.get(node_key(p)),
            "root_i": keys.get(node_key({**p["root_cause"], "cluster": p["cluster"]})),
        }
        for p in (data.problems or {}).get("problems", ())
    ]
    counts = Counter(r["css"] for r in rows)
    return {
        "source": data.live_source,
        "cluster": data.live_cluster,
        "rows": rows,
        "problems": problems,
        "counts": counts,
    }


def _by_rule(data: RepositoryData, rules_url: str | None) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in data.findings:
        grouped[finding["rule"]].append(finding)
    out = []
    for rule_id, found in grouped.items():
        doc = data.rules.get(rule_id, {"id": rule_id, "name": found[0]["name"], "summary": ""})
        worst = max((f["severity"] for f in found), key=lambda s: _SEVERITY_RANK[s])
        url = rules_url.replace("{id}", rule_id) if rules_url else None
        out.append({"doc": doc, "findings": found, "severity": worst, "url": url})
    return sorted(out, key=lambda g: (-_SEVERITY_RANK[g["severity"]], g["doc"]["id"]))


def _by_file(data: RepositoryData) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in data.findings:
        grouped[finding["path"] or "(repository)"].append(finding)
    return [{"path": path, "findings": found} for path, found in sorted(grouped.items())]
