"""The simulation's result: a timeline a person reads in order, JSON (a contract), or a gantt chart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..runtime.durations import clock, format_duration
from ..runtime.machines import MACHINES
from .engine import Result
from .settings import DEFAULT_HORIZON, Settings
from .world import SimObject

FLUX_KINDS = ("Kustomization", "HelmRelease")


def kind_of(obj: SimObject) -> str:
    """The Kubernetes kind (the graph calls a CloudNativePG ``Cluster`` a Database)."""
    return obj.res.kind if obj.res is not None and obj.res.kind else obj.node.kind


def _ident(obj: SimObject) -> dict[str, str]:
    node = obj.node
    return {"cluster": node.cluster, "kind": kind_of(obj), "namespace": node.namespace, "name": node.name}


def assumptions(
    result: Result, settings: Settings, *, horizon: float | None, start: Sequence[str] = ()
) -> list[str]:
    """Every assumption of a run, as printed with its result: where it starts, the assumed durations,
    the controller defaults and per-object guesses it used, and the horizon."""
    out = [*start, *settings.assumptions(), *run_assumptions(result)]
    if horizon is not None:
        out.append(f"horizon = {format_duration(horizon)} (--for)")
    else:
        out.append(f"horizon = until nothing changes, at most {format_duration(DEFAULT_HORIZON)}")
    return out


def run_assumptions(result: Result) -> list[str]:
    """What the run took without the repository saying it: the controllers' timers it used, each with
    its value and where it was read (the machines'), and what it assumed about single objects."""
    out = []
    for (kind, name), used_for in sorted(result.timers.items()):
        timer = MACHINES[kind].timer(name)
        value = f" = {timer.shown()}" if timer.default is not None else ""
        out.append(f"{kind} {name}{value}: {used_for} ({timer.source})")
    for f in sorted(result.final, key=lambda f: _sort_key(f.obj)):
        # sources flux bootstrap creates are named together in the notes
        out.extend(f"{f.obj.label}: {note}" for note in f.obj.notes if f.obj.res is not None)
    return out


def to_json(result: Result, assumptions: list[str], notes: list[str]) -> dict[str, Any]:
    return {
        "events": [
            {
                "t": round(e.t, 3),
                **_ident(e.obj),
                "from": e.source,
                "to": e.target,
                "reason": e.reason,
                "message": e.message,
                "emits": list(e.emits),
            }
            for e in result.events
        ],
        "final": [
            {
                **_ident(f.obj),
                "state": f.state,
                "reason": f.reason,
                "message": f.message,
                "ready_at": None if f.ready_at is None else round(f.ready_at, 3),
            }
            for f in sorted(result.final, key=lambda f: _sort_key(f.obj))
        ],
        "converged_at": None if result.converged_at is None else round(result.converged_at, 3),
        "settled_at": round(result.settled_at, 3),
        "critical_path": [
            {**_ident(o), "milestone": milestone, "t": round(t, 3)}
            for o, milestone, t in result.critical_path
        ],
        "stale": [
            {
                **_ident(s.consumer),
                "secret": f"{s.producer.node.namespace}/{s.producer.secret}",
                "external_secret": _ident(s.producer),
                "since": round(s.since, 3),
            }
            for s in result.stale
        ],
        "assumptions": assumptions,
        "notes": [*notes, *result.notes],
    }


def to_text(result: Result, assumptions: list[str], notes: list[str], *, title: str) -> str:
    clusters = sorted({f.obj.node.cluster for f in result.final})
    many = len(clusters) > 1
    lines = [title, ""]
    for e in result.events:
        where = f"[{e.obj.node.cluster}] " if many else ""
        reason = f" ({e.reason})" if e.reason else ""
        message = f", {e.message}" if e.message else ""
        emits = f"  [{', '.join(e.emits)}]" if e.emits else ""
        change = f"{e.source} → {e.target}{reason}{message}{emits}"
        lines.append(f"{clock(e.t)} {where}{kind_of(e.obj)} {e.obj.node.short} {change}")
    lines += ["", "Summary"]
    changed = {id(e.obj): e.t for e in result.events}
    for cluster in clusters:
        finals = [f for f in result.final if f.obj.node.cluster == cluster]
        flux = [f for f in finals if f.obj.kind in FLUX_KINDS]
        ready = sum(1 for f in flux if f.ready_at is not None)
        head = f"  {cluster}: " if many else "  "
        if all(f.ready_at is not None for f in finals):
            last = max((f.ready_at or 0.0 for f in finals), default=0.0)
            lines.append(
                f"{head}converged at {clock(last)}: {ready} of {len(flux)} Kustomizations and "
                f"HelmReleases Ready"
            )
        else:
            lines.append(
                f"{head}does not converge: {ready} of {len(flux)} Kustomizations and HelmReleases Ready"
            )
        stuck = [f for f in finals if f.ready_at is None]
        by_state = Counter(f.state for f in stuck)
        for state in sorted(by_state):
            lines.append(f"    {state} ({by_state[state]}):")
            for f in sorted((f for f in stuck if f.state == state), key=lambda f: _sort_key(f.obj)):
                if f.state == "Absent":
                    parent = f.obj.parent.label if f.obj.parent else "bootstrap"
                    lines.append(
                        f"      {kind_of(f.obj)} {f.obj.node.short}: never applied ({parent} is not Ready)"
                    )
                    continue
                at = changed.get(id(f.obj), 0.0)
                reason = f" {f.reason}" if f.reason else ""
                message = f": {f.message}" if f.message else ""
                lines.append(f"      {kind_of(f.obj)} {f.obj.node.short} since {clock(at)}{reason}{message}")
    if result.critical_path:
        lines.append("  critical path:")
        for obj, milestone, t in result.critical_path:
            lines.append(f"    {clock(t)} {kind_of(obj)} {obj.node.short} {milestone}")
    if result.stopped:
        lines.append(
            f"  stopped at the horizon ({format_duration(result.horizon)}) while objects were still changing"
        )
    if result.stale:
        lines += ["", "Running on stale data (the Secret keeps its last synced values; pods keep running)"]
        for s in sorted(result.stale, key=lambda s: (_sort_key(s.consumer), _sort_key(s.producer))):
            secret = f"{s.producer.node.namespace}/{s.producer.secret}"
            lines.append(
                f"  {kind_of(s.consumer)} {s.consumer.node.short}: Secret {secret} "
                f"(ExternalSecret {s.producer.node.short} failing since {clock(s.since)})"
            )
    notes = [*notes, *result.notes]
    if notes:
        lines += ["", "Notes"] + [f"  {n}" for n in notes]
    lines += ["", "Assumptions"] + [f"  {a}" for a in assumptions]
    return "\n".join(lines) + "\n"


def to_mermaid(result: Result, *, title: str) -> str:
    """A gantt chart: each Kustomization and HelmRelease from its first change (its creation, in a
    bootstrap) to Ready (or to the end); what does not change is left out."""
    critical = {id(o) for o, _, _ in result.critical_path}
    end = max(result.settled_at, result.converged_at or 0.0, 1.0)
    first: dict[int, float] = {}
    for event in result.events:
        first.setdefault(id(event.obj), event.t)
    lines = ["gantt", f"    title {_gantt_text(title)}", "    dateFormat X", "    axisFormat %H:%M:%S"]
    for cluster in sorted({f.obj.node.cluster for f in result.final}):
        for kind in FLUX_KINDS:
            rows = [
                f
                for f in result.final
                if f.obj.node.cluster == cluster and f.obj.kind == kind and id(f.obj) in first
            ]
            if not rows:
                continue
            lines.append(f"    section {_gantt_text(cluster)} {kind}s")
            for n, f in enumerate(sorted(rows, key=lambda f: (f.ready_at is None, f.ready_at or 0.0)), 1):
                start = int(first[id(f.obj)])
                stop = round(f.ready_at if f.ready_at is not None else end)
                tags = ["crit"] if id(f.obj) in critical else []
                if f.ready_at is None:
                    tags.append("active")
                tag = ", ".join([*tags, f"{kind[0].lower()}{n}"])
                lines.append(
                    f"    {_gantt_text(f.obj.node.short)} {f.state} :{tag}, {start}, {max(stop, start + 1)}"
                )
    return "\n".join(lines) + "\n"


def _gantt_text(text: str) -> str:
    return text.replace(":", " ").replace("#", "").replace(";", ",")


def _sort_key(obj: SimObject) -> tuple[str, int, str, str, str]:
    order = {"Kustomization": 0, "HelmRelease": 1}
    return (obj.node.cluster, order.get(obj.node.kind, 2), obj.node.kind, obj.node.namespace, obj.node.name)
