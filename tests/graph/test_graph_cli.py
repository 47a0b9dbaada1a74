"""``homeops graph`` and ``homeops get`` on the layout repositories and the cycle fixture, in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
FLAT = TESTDATA / "repos" / "flat"
CLUSTERS = TESTDATA / "repos" / "clusters"
LAYERED = TESTDATA / "repos" / "layered"
CYCLE = TESTDATA / "rules" / "DEP002" / "fail"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    return json.loads(out)


# -- rollout order -------------------------------------------------------------------------------

#: The main cluster's Kustomizations by the wave they start in, worked out by hand from the dependsOn
#: written in kubernetes/main (entry point, then what each install.yaml waits for).
MAIN_KUSTOMIZATION_WAVES = [
    ["flux-system/cluster"],
    ["flux-system/cluster-apps"],
    ["flux-system/helm-repositories"],
    ["kube-system/cilium"],
    ["cert-manager/cert-manager"],
    ["external-secrets/external-secrets", "network/envoy-gateway"],
    ["external-secrets/onepassword", "network/envoy-gateway-config"],
    ["dbms/cloudnative-pg-operator", "home/home-assistant"],
    ["media/immich-db"],
    ["media/immich"],
]


def _by_kind(waves: list[list[str]], kind: str) -> list[list[str]]:
    out = []
    for wave in waves:
        members = sorted(label.split("/", 1)[1] for label in wave if label.startswith(kind + "/"))
        if members:
            out.append(members)
    return out


def _wave_of(waves: list[list[str]], label: str) -> int:
    return next(i for i, wave in enumerate(waves) if label in wave)


def test_order_follows_depends_on(capsys: pytest.CaptureFixture[str]) -> None:
    plans = run_json(capsys, "graph", str(CLUSTERS), "--order", "--format", "json")
    assert sorted(plans) == ["main", "staging"]
    main_waves = plans["main"]["waves"]
    assert plans["main"]["blocked"] == []
    assert _by_kind(main_waves, "Kustomization") == MAIN_KUSTOMIZATION_WAVES
    # a HelmRelease starts in the wave after the Kustomization that applies it
    for release, applier in [
        ("HelmRelease/media/immich", "Kustomization/media/immich"),
        ("HelmRelease/kube-system/cilium", "Kustomization/kube-system/cilium"),
        ("HelmRelease/dbms/cloudnative-pg", "Kustomization/dbms/cloudnative-pg-operator"),
    ]:
        assert _wave_of(main_waves, release) == _wave_of(main_waves, applier) + 1
    # staging is the same chain without home-assistant
    staging = _by_kind(plans["staging"]["waves"], "Kustomization")
    assert staging == [
        [name for name in wave if name != "home/home-assistant"] for wave in MAIN_KUSTOMIZATION_WAVES
    ]


def test_order_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", str(LAYERED), "--order", "--cluster", "staging")
    assert code == 0
    assert out.splitlines()[:7] == [
        "cluster staging:",
        "  wave 1:",
        "    Kustomization flux-system/flux-system",
        "  wave 2:",
        "    Kustomization flux-system/infra-controllers",
        "  wave 3:",
        "    HelmRelease cert-manager/cert-manager",
    ]
    assert "cluster production" not in out
    waves = re.split(r"  wave \d+:\n", out)
    assert "Kustomization flux-system/infra-configs" in waves[3]
    assert "Kustomization flux-system/apps" in waves[4]
    assert "HelmRelease apps-staging/linkding" in waves[5]


def test_cycle_is_blocked_and_reported(capsys: pytest.CaptureFixture[str]) -> None:
    plans = run_json(capsys, "graph", str(CYCLE), "--order", "--format", "json")
    plan = plans["default"]
    blocked = set(plan["blocked"])
    members = {f"Kustomization/default/{name}" for name in ("authentik", "immich", "gatus")}
    assert members <= blocked
    assert "Kustomization/default/echo" in blocked  # waits on a member: never starts either
    assert "HelmRelease/default/echo" in blocked
    started = {label for wave in plan["waves"] for label in wave}
    assert started == {
        "Kustomization/flux-system/flux-system",  # the entry point: cluster-template's bootstrap folder
        "Kustomization/flux-system/cluster-meta",
        "Kustomization/flux-system/cluster-apps",
    }
    code, out, _ = run(capsys, "graph", str(CYCLE), "--order")
    assert "  never (a dependsOn cycle, or waiting on one):\n    HelmRelease default/authentik" in out
    code, out, _ = run(capsys, "check", str(CYCLE), "--select", "DEP002", "-o", "json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["path"] == "kubernetes/apps/default/authentik/ks.yaml"
    assert "default/authentik → default/immich → default/gatus → default/authentik" in finding["message"]


# -- impact and why --------------------------------------------------------------------------------


def _walk(tree: dict[str, Any], via: str = "") -> list[tuple[str, str]]:
    """(edge, "Kind namespace/name") of every node of a JSON tree, depth first."""
    here = [(via, f"{tree['kind']} {tree['namespace']}/{tree['name']}".replace(" /", " "))]
    return here + [item for child in tree["children"] for item in _walk(child, child["via"])]


def test_impact_of_the_secret_store(capsys: pytest.CaptureFixture[str]) -> None:
    (tree,) = run_json(
        capsys,
        "graph",
        str(CLUSTERS),
        "--cluster",
        "main",
        "--impact",
        "Kustomization/external-secrets/onepassword",
        "-f",
        "json",
    )
    assert _walk(tree)[0] == ("", "Kustomization external-secrets/onepassword")
    reached = _walk(tree)
    nodes = {node for _, node in reached}
    # what dependsOn the store's Kustomization, directly or not
    for ks in ("dbms/cloudnative-pg-operator", "home/home-assistant", "media/immich-db", "media/immich"):
        assert f"Kustomization {ks}" in nodes
    # what the store feeds: every ExternalSecret, then the releases and the database reading their secrets
    assert ("applies", "ClusterSecretStore onepassword") in reached
    assert ("store", "ExternalSecret media/immich-db-superuser") in reached
    assert ("secret", "Database media/immich-db") in reached
    assert "HelmRelease media/immich" in nodes
    # not downstream of the store
    assert "Kustomization network/envoy-gateway" not in nodes
    assert "Kustomization kube-system/cilium" not in nodes


def test_impact_as_a_text_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "graph", str(CLUSTERS), "--cluster", "main", "--impact", "envoy-gateway-config"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["[main] blocks if it fails:", "Kustomization network/envoy-gateway-config"]
    assert "├── [applies] Gateway network/envoy-external" in out
    assert "[gateway] HelmRelease media/immich" in out
    assert "[dependsOn] Kustomization home/home-assistant" in out
    assert err == ""


def test_why_lists_what_a_release_waits_for(capsys: pytest.CaptureFixture[str]) -> None:
    (tree,) = run_json(capsys, "graph", str(FLAT), "--why", "HelmRelease/default/atuin", "-f", "json")
    reached = _walk(tree)
    assert ("applies", "Kustomization default/atuin") in reached
    assert ("source", "OCIRepository default/atuin") in reached  # the per-app chart source
    assert ("secret", "ExternalSecret default/atuin") in reached
    assert ("claim", "PersistentVolumeClaim default/atuin") in reached
    assert ("gateway", "Gateway network/envoy-internal") in reached
    assert ("dependsOn", "Kustomization external-secrets/onepassword-store") in reached
    assert ("dependsOn", "Kustomization kube-system/cilium") in reached  # transitively
    nodes = {node for _, node in reached}
    assert "Kustomization default/echo" not in nodes


def test_ambiguous_name_takes_the_kustomization_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "graph", str(FLAT), "--why", "atuin")
    assert code == 0
    assert out.splitlines()[1] == "Kustomization default/atuin"
    assert "also names" in err and "HelmRelease/default/atuin" in err


def test_unknown_name_and_cluster_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "graph", str(FLAT), "--impact", "nothing-of-that-name")
    assert code == 2 and "nothing named 'nothing-of-that-name'" in err
    code, _, err = run(capsys, "graph", str(CLUSTERS), "--cluster", "prod")
    assert code == 2 and "clusters: main, staging" in err


# -- graph formats -------------------------------------------------------------------------------


def test_json_graph_shape(capsys: pytest.CaptureFixture[str]) -> None:
    graph = run_json(capsys, "graph", str(CLUSTERS), "--format", "json")
    assert set(graph) == {"nodes", "edges", "missing"}
    keys = {(n["cluster"], n["kind"], n["namespace"], n["name"]) for n in graph["nodes"]}
    assert {n["kind"] for n in graph["nodes"]} <= {
        "Kustomization",
        "HelmRelease",
        "OCIRepository",
        "HelmRepository",
        "GitRepository",
    }
    for edge in graph["edges"]:
        for end in ("from", "to"):
            node = edge[end]
            assert (node["cluster"], node["kind"], node["namespace"], node["name"]) in keys
        assert edge["kind"] in ("dependsOn", "applies", "source")
        assert edge["from"]["cluster"] == edge["to"]["cluster"]  # isolated clusters: no edge crosses
    assert graph["missing"] == []
    immich = next(
        n
        for n in graph["nodes"]
        if n["cluster"] == "main" and n["name"] == "immich" and n["kind"] == "HelmRelease"
    )
    assert immich["path"] == "kubernetes/main/apps/media/immich/app/helmrelease.yaml"
    edges = {
        (e["from"]["name"], e["kind"], e["to"]["name"])
        for e in graph["edges"]
        if e["from"]["cluster"] == "main"
    }
    assert ("immich", "dependsOn", "immich-db") in edges
    assert ("immich", "source", "app-template") in edges


def test_all_kinds_adds_secrets_stores_and_gateways(capsys: pytest.CaptureFixture[str]) -> None:
    graph = run_json(capsys, "graph", str(FLAT), "--format", "json", "--all-kinds")
    kinds = {n["kind"] for n in graph["nodes"]}
    assert {"ExternalSecret", "ClusterSecretStore", "Gateway", "HTTPRoute", "PersistentVolumeClaim"} <= kinds
    assert {e["kind"] for e in graph["edges"]} >= {"store", "secret", "gateway", "claim"}


def test_missing_dependency_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    graph = run_json(capsys, "graph", str(TESTDATA / "rules" / "DEP001" / "fail"), "--format", "json")
    missing = {(m["from"]["name"], m["to"]["namespace"], m["to"]["name"]) for m in graph["missing"]}
    assert missing == {
        ("atuin", "external-secrets", "external-secret"),
        ("echo", "default", "onepassword-store"),
        ("echo", "default", "atuin-postgres"),
    }


def test_mermaid_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", str(CLUSTERS))  # mermaid is the default
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert lines.count("  end") == 2  # one subgraph per cluster
    assert '  subgraph main["cluster main"]' in lines and '  subgraph staging["cluster staging"]' in lines
    declared = {}
    for line in lines:
        match = re.fullmatch(r'    (n\d+)(\[|\(\[|\[/)"(\w+)<br/>([\w./-]+)"(\]|\]\)|/\])', line)
        if match:
            declared[match.group(1)] = (match.group(3), match.group(4))
    edges = [re.fullmatch(r"  (n\d+) (-->|-\.->)\|(\w+)\| (n\d+)", line) for line in lines if "|" in line]
    assert edges and all(edges)
    for edge in edges:
        assert edge is not None
        assert edge.group(1) in declared and edge.group(4) in declared
        assert (edge.group(2) == "-->") == (edge.group(3) == "dependsOn")
    assert ("Kustomization", "media/immich") in declared.values()


def test_dot_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", str(LAYERED), "--format", "dot")
    assert code == 0
    assert out.startswith("digraph homeops {\n") and out.endswith("}\n")
    assert out.count("{") == out.count("}")
    nodes = set(re.findall(r'^    "([^"]+)" \[label=', out, flags=re.M))
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)" \[label="(\w+)", style=(\w+)\];$', out, flags=re.M)
    assert edges
    for source, target, kind, style in edges:
        assert source in nodes and target in nodes
        assert style == {"dependsOn": "solid", "applies": "dashed"}.get(kind, "dotted")
    assert (
        "staging/Kustomization/flux-system/apps",
        "staging/Kustomization/flux-system/infra-configs",
        "dependsOn",
        "solid",
    ) in edges
    assert 'subgraph "cluster_production"' in out


# -- get -------------------------------------------------------------------------------------------


def test_get_kustomizations(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "get", "ks", str(CLUSTERS), "--output", "json")
    immich = [r for r in rows if r["name"] == "immich"]
    assert {r["cluster"] for r in immich} == {"main", "staging"}
    main_row = next(r for r in immich if r["cluster"] == "main")
    assert main_row["namespace"] == "media"  # from the parent kustomization.yaml, not from install.yaml
    assert main_row["path"] == "./kubernetes/main/apps/media/immich/app"
    assert main_row["source"] == "GitRepository/home-ops"
    assert main_row["depends_on"] == [
        "media/immich-db",
        "external-secrets/onepassword",
        "network/envoy-gateway-config",
    ]
    assert main_row["file"] == "kubernetes/main/apps/media/immich/install.yaml"
    assert main_row["status"] == "3 objects"
    assert len([r for r in rows if r["cluster"] == "main"]) == 13
    staging = run_json(capsys, "get", "kustomizations", str(CLUSTERS), "-o", "json", "--cluster", "staging")
    assert {r["cluster"] for r in staging} == {"staging"} and len(staging) == 12


def test_get_helmreleases(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "get", "hr", str(FLAT), "-o", "json")
    by_name = {r["name"]: r for r in rows}
    assert by_name["atuin"] == {
        "name": "atuin",
        "namespace": "default",
        "cluster": "default",
        "chart": "app-template",
        "version": "4.6.1",
        "source": "OCIRepository/atuin",
        "kustomization": "default/atuin",
        "file": "kubernetes/apps/default/atuin/app/helmrelease.yaml",
        "line": 2,
    }
    assert (by_name["cilium"]["chart"], by_name["cilium"]["version"], by_name["cilium"]["source"]) == (
        "cilium",
        "1.16.5",
        "HelmRepository/cilium",
    )
    cert_manager = by_name["cert-manager"]
    assert (cert_manager["chart"], cert_manager["version"]) == ("cert-manager", "v1.16.2")
    layered = run_json(capsys, "get", "helmreleases", str(LAYERED), "-o", "json", "--cluster", "production")
    whoami = next(r for r in layered if r["name"] == "whoami")
    assert (whoami["namespace"], whoami["file"]) == ("apps-production", "apps/base/whoami/helmrelease.yaml")


def test_get_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "hr", str(CLUSTERS), "--cluster", "staging")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "NAMESPACE", "CLUSTER", "CHART", "VERSION", "SOURCE", "KUSTOMIZATION"]
    assert any(
        line.split()[:6]
        == ["immich", "media", "staging", "app-template", "4.6.1", "OCIRepository/app-template"]
        for line in lines
    )
    assert len(lines) == 1 + 7
