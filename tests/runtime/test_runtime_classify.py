"""classify() against status objects written by the controllers' maintainers, and our own shaped ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.runtime.machines import MACHINES, classify
from homeops.runtime.routes import classify_parents

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"


def _documents(path: Path, **variables: str) -> list[dict[str, Any]]:
    text = path.read_text()
    for name, value in variables.items():
        text = text.replace("{{ ." + name + " }}", value)
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


def test_flux2_cli_testdata(reference: Path) -> None:
    """Maintainer-written objects of fluxcd/flux2 cmd/flux/testdata (da2d22d): the `flux get`/`trace`/`tree`
    goldens show READY True for every Kustomization and HelmRelease that has a status, and the
    `debug` fixtures carry no status at all (nothing reported yet)."""
    seen = {}
    for path in sorted((reference / "flux2-cli-testdata").glob("*/*.yaml")):
        for doc in _documents(path, fluxns="flux-system", ns="default"):
            if doc.get("kind") not in MACHINES:
                continue
            key = f"{path.parent.name}/{path.name}:{doc['kind']}/{doc['metadata']['name']}"
            seen[key] = classify(doc["kind"], doc)
    assert seen["tree/kustomizations.yaml:Kustomization/flux-system"] == ("Ready", "ReconciliationSucceeded")
    assert seen["trace/helmrelease.yaml:HelmRelease/podinfo"] == ("Ready", "ReconciliationSucceeded")
    assert seen["trace/helmrelease-oci.yaml:Kustomization/infrastructure"] == (
        "Ready",
        "ReconciliationSucceeded",
    )
    assert seen["debug_helmrelease/objects.yaml:HelmRelease/test-with-history"] == ("Reconciling", "NoStatus")
    assert seen["debug_kustomization/objects.yaml:Kustomization/test"] == ("Reconciling", "NoStatus")
    flux = ("Kustomization", "HelmRelease")
    with_status = [k for k in seen if not k.startswith("debug_") and k.split(":")[1].split("/")[0] in flux]
    assert len(with_status) >= 10
    assert all(seen[k] == ("Ready", "ReconciliationSucceeded") for k in with_status)


def test_flux2_cli_sources(reference: Path) -> None:
    """The same maintainer-written data for sources: `flux get sources git --status-selector` goldens
    (get_status_ready_*.golden) print READY True for gr-ready, False for gr-failed, Unknown for
    gr-unknown; the source machine reads those as Ready, Failed (retried with back-off) and in
    progress, with the reason source-controller set."""
    found = {}
    for path in sorted((reference / "flux2-cli-testdata").glob("*/*.yaml")):
        for doc in _documents(path, fluxns="flux-system", ns="default"):
            if doc.get("kind") in ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart"):
                found[f"{path.parent.name}:{doc['kind']}/{doc['metadata']['name']}"] = classify(
                    doc["kind"], doc
                )
    golden = (reference / "flux2-cli-testdata" / "get" / "get_status_ready_not_true.golden").read_text()
    assert "gr-failed" in golden and "gr-unknown" in golden and "gr-ready" not in golden
    assert found["get:GitRepository/gr-ready"] == ("Ready", "GitOperationSucceed")
    assert found["get:GitRepository/gr-failed"] == ("Failed", "GitOperationFailed")
    assert found["get:GitRepository/gr-unknown"] == ("Reconciling", "Progressing")
    assert found["trace:HelmChart/podinfo-podinfo"] == ("Ready", "ChartPullSucceeded")
    assert found["trace:OCIRepository/podinfo-charts"] == ("Ready", "Succeed")
    assert MACHINES["GitRepository"].timer("retry-backoff").delay(3) == 3.0


@pytest.mark.parametrize("fixture", ["flux-spec-status.yaml", "shaped-status.yaml"])
def test_status_fixtures(fixture: str) -> None:
    docs = _documents(TESTDATA / "runtime" / fixture)
    assert docs
    for doc in docs:
        expected = tuple(doc["metadata"]["annotations"]["expect"].split("/"))
        assert classify(doc["kind"], doc) == expected, doc["metadata"]["name"]


_CONDITION = re.compile(
    r"Type:\s+string\(v1\.RouteCondition(\w+)\),\s+Status:\s+metav1\.Condition(\w+),\s+"
    r"Reason:\s+string\(v1\.RouteReason(\w+)\)"
)


def test_gateway_api_conformance(reference: Path) -> None:
    """kubernetes-sigs/gateway-api conformance (4564255): each invalid-HTTPRoute test names the condition a
    conformant controller must set on the route's parent. We build the status the test demands (its
    route and Gateway names, the condition it asserts, Accepted=True where the test first requires the
    route to be accepted) and check the state classify() reads from it."""
    checked = 0
    for path in sorted((reference / "gateway-api-conformance").glob("httproute-invalid-*.go")):
        text = path.read_text()
        match = _CONDITION.search(text)
        assert match, path.name
        cond_type, status, reason = match.groups()
        gateway = re.search(r'gwNN := types.NamespacedName\{Name: "([^"]+)"', text)
        assert gateway
        conditions = [{"type": cond_type, "status": status, "reason": reason}]
        if "MustBeAccepted" in text:
            conditions.insert(0, {"type": "Accepted", "status": "True", "reason": "Accepted"})
        route = {
            "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "gateway-conformance-infra"},
            "status": {"parents": [{"parentRef": {"name": gateway.group(1)}, "conditions": conditions}]},
        }
        expected = "Rejected" if cond_type == "Accepted" else "RefsUnresolved"
        assert classify("HTTPRoute", route) == (expected, reason), path.name
        [parent] = classify_parents(route)
        assert (parent.gateway, parent.state, parent.reason) == (
            f"gateway-conformance-infra/{gateway.group(1)}",
            expected,
            reason,
        )
        if "MustHaveNoAcceptedParents" in text:
            # the same tests accept a route with no parents at all: nobody attached it
            assert classify("HTTPRoute", {"status": {"parents": []}}) == ("Pending", "NoParents")
        checked += 1
    assert checked == 8


def test_route_accepted_through_one_parent_rejected_by_another() -> None:
    route = {
        "metadata": {"namespace": "media"},
        "status": {
            "parents": [
                {
                    "parentRef": {"name": "internal", "namespace": "network"},
                    "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted"},
                        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
                    ],
                },
                {
                    "parentRef": {"name": "external", "namespace": "network", "sectionName": "https"},
                    "conditions": [
                        {"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners"}
                    ],
                },
            ]
        },
    }
    assert classify("HTTPRoute", route) == ("Rejected", "NotAllowedByListeners")
    assert [(p.gateway, p.section, p.state) for p in classify_parents(route)] == [
        ("network/internal", "", "Accepted"),
        ("network/external", "https", "Rejected"),
    ]


def test_bad_shapes_do_not_crash() -> None:
    for obj in ({}, {"status": None}, {"status": {"conditions": "x"}}, {"status": {"conditions": [None, 3]}}):
        for kind in MACHINES:
            state, _ = classify(kind, obj)
            assert state in {s.name for s in MACHINES[kind].states}


def test_unknown_kind() -> None:
    with pytest.raises(KeyError):
        classify("ConfigMap", {})
