"""The graph picture's layout: waves as columns, namespaces as lanes, apps on one row, no overlaps."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from homeops.report.html.collect import collect_repository
from homeops.report.html.layout import NODE_H, NODE_W, Layout, layout, node_key

LIVE_REPO = Path(__file__).resolve().parents[1] / "testdata" / "live" / "repo"


def node(kind: str, namespace: str, name: str) -> dict[str, str]:
    return {"cluster": "c", "kind": kind, "namespace": namespace, "name": name}


def edge(source: dict[str, str], target: dict[str, str], kind: str) -> dict[str, Any]:
    return {"from": source, "to": target, "kind": kind, "detail": ""}


ROOT = node("Kustomization", "flux-system", "apps")
DB_KS = node("Kustomization", "db", "postgres")
DB_HR = node("HelmRelease", "db", "postgres")
APP_KS = node("Kustomization", "media", "immich")
APP_SRC = node("OCIRepository", "media", "immich")
APP_HR = node("HelmRelease", "media", "immich")
OTHER_KS = node("Kustomization", "media", "jellyfin")
NODES = [ROOT, DB_KS, DB_HR, APP_KS, APP_SRC, APP_HR, OTHER_KS]
EDGES = [
    edge(DB_KS, ROOT, "applies"),
    edge(APP_KS, ROOT, "applies"),
    edge(OTHER_KS, ROOT, "applies"),
    edge(APP_KS, DB_KS, "dependsOn"),
    edge(DB_HR, DB_KS, "applies"),
    edge(APP_SRC, APP_KS, "applies"),
    edge(APP_HR, APP_KS, "applies"),
    edge(APP_HR, APP_SRC, "source"),
]
WAVES = {
    node_key(n): w for n, w in [(ROOT, 0), (DB_KS, 1), (OTHER_KS, 1), (DB_HR, 2), (APP_KS, 2), (APP_HR, 3)]
}


def overlaps(placed: Layout) -> list[tuple[str, str]]:
    out = []
    for (a, p), (b, q) in combinations(placed.positions.items(), 2):
        if abs(p.x - q.x) < NODE_W and abs(p.y - q.y) < NODE_H:
            out.append((a, b))
    return out


def test_waves_are_columns_and_an_app_reads_left_to_right_on_one_row() -> None:
    placed = layout(NODES, EDGES, WAVES)
    named = {"root": ROOT, "db": DB_KS, "app": APP_KS, "src": APP_SRC, "hr": APP_HR, "other": OTHER_KS}
    at = {key: placed.positions[node_key(n)] for key, n in named.items()}
    # what comes first is further left: the root, then the database, then the app that depends on it
    assert at["root"].x < at["db"].x < at["app"].x < at["src"].x < at["hr"].x
    # the same wave is the same column, in any lane
    assert at["other"].x == at["db"].x
    # the app's Kustomization, source and release line up
    assert at["app"].y == at["src"].y == at["hr"].y


def test_one_lane_per_namespace_in_rollout_order() -> None:
    placed = layout(NODES, EDGES, WAVES)
    assert [lane.namespace for lane in placed.lanes] == ["flux-system", "db", "media"]
    for lane in placed.lanes:
        members = [n for n in NODES if n["namespace"] == lane.namespace]
        for member in members:
            y = placed.positions[node_key(member)].y
            assert lane.y < y and y + NODE_H <= lane.y + lane.height
    assert not overlaps(placed)
    assert placed.width >= max(p.x for p in placed.positions.values()) + NODE_W


def test_several_clusters_get_headings_and_their_own_lanes() -> None:
    other = {**ROOT, "cluster": "d"}
    placed = layout([*NODES, other], EDGES, {**WAVES, node_key(other): 0})
    assert [name for name, _ in placed.clusters] == ["c", "d"]
    assert placed.lanes[-1].cluster == "d"
    assert not overlaps(placed)


def check_layout(path: Path) -> None:
    data = collect_repository(path, simulation=False)
    nodes, edges = data.graph["nodes"], data.graph["edges"]
    waves = {k: w for plan in data.waves.values() for w, wave in enumerate(plan["waves"]) for k in wave}
    placed = layout(nodes, edges, waves)
    assert set(placed.positions) == {node_key(n) for n in nodes}
    assert not overlaps(placed), path.name
    # Kustomizations and HelmReleases start after what applies them and what they depend on: to its left.
    for e in edges:
        if e["kind"] in ("applies", "dependsOn") and e["from"]["kind"] in ("Kustomization", "HelmRelease"):
            need, user = placed.positions[node_key(e["to"])], placed.positions[node_key(e["from"])]
            assert need.x < user.x, json.dumps(e)


def test_the_live_test_repository() -> None:
    check_layout(LIVE_REPO)


@pytest.mark.corpus
def test_every_corpus_repository(corpus: Path) -> None:
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        check_layout(repo)
