"""``homeops doctor``: each scenario found exactly where it is present, with the right root cause."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

Expected = set[tuple[str, str, str, str, str, str]]
"""(scenario, kind, name, root kind, root name, root reason)."""

EXPECTED: dict[str | None, Expected] = {
    None: set(),
    "bootstrapping": set(),  # waiting on an install in progress is waiting, not a problem
    "escaped-placeholder": set(),  # $${VAR} unescaped by Flux on purpose
    "vault-chain": {
        ("helmrelease-stuck", "HelmRelease", "echo", "ClusterSecretStore", "onepassword", "ValidationFailed"),
        (
            "externalsecret-sync",
            "ExternalSecret",
            "echo",
            "ClusterSecretStore",
            "onepassword",
            "ValidationFailed",
        ),
        ("dependency-chain", "Kustomization", "web", "ClusterSecretStore", "onepassword", "ValidationFailed"),
    },
    "crash-loop": {
        ("crash-loop", "Pod", "web-5c7b9d8f4-k8m2p", "Pod", "web-5c7b9d8f4-k8m2p", "CrashLoopBackOff")
    },
    "helmrelease-stuck": {("helmrelease-stuck", "HelmRelease", "web", "HelmRelease", "web", "UpgradeFailed")},
    "externalsecret-sync": {
        ("externalsecret-sync", "ExternalSecret", "echo", "ExternalSecret", "echo", "SecretSyncedError")
    },
    "stale-secret": {
        ("stale-secret", "ExternalSecret", "echo", "ClusterSecretStore", "onepassword", "ValidationFailed")
    },
    "httproute-backend": {("httproute", "HTTPRoute", "echo", "Service", "echo-app", "NotFound")},
    "httproute-gateway": {("httproute", "HTTPRoute", "echo", "HTTPRoute", "echo", "NoMatchingParent")},
    "storage-claim": {
        ("storage-claim", "Pod", "echo-7d9f8c6b5-x2x4q", "StorageClass", "ceph-blockk", "NotFound")
    },
    "placeholder": {("placeholder", "HelmRelease", "web", "Kustomization", "web", "NoPostBuild")},
    "dependency-missing": {
        ("dependency-chain", "Kustomization", "echo", "Kustomization", "gateway", "NotFound"),
        ("dependency-chain", "Kustomization", "web", "Kustomization", "gateway", "NotFound"),
    },
    "image-drift": {("image-drift", "HelmRelease", "web", "Kustomization", "web", "NotAtHead")},
}


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", *argv, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def summary(payload: dict[str, Any]) -> Expected:
    return {
        (
            p["scenario"],
            p["kind"],
            p["name"],
            p["root_cause"]["kind"],
            p["root_cause"]["name"],
            p["root_cause"]["reason"],
        )
        for p in payload["problems"]
    }


@pytest.mark.parametrize("scenario", list(EXPECTED), ids=[s or "healthy" for s in EXPECTED])
def test_doctor_finds_exactly_the_scenario(
    scenario: str | None,
    snapshot_of: Callable[[str | None], Path],
    live_repo: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, payload = doctor(capsys, str(live_repo[0]), "--from", str(snapshot_of(scenario)))
    assert summary(payload) == EXPECTED[scenario]
    assert code == (1 if EXPECTED[scenario] else 0)
    for problem in payload["problems"]:
        assert problem["cluster"] == "default"
        assert problem["evidence"] and all(isinstance(e, str) for e in problem["evidence"])
        assert problem["fix"]


def test_every_scenario_id_has_a_present_case() -> None:
    from homeops.doctor.scenarios import SCENARIOS

    found = {row[0] for rows in EXPECTED.values() for row in rows}
    assert found == {s.id for s in SCENARIOS}


def test_the_vault_chain_evidence_names_every_hop(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, payload = doctor(
        capsys, str(live_repo[0]), "--from", str(snapshot_of("vault-chain")), "--select", "dependency-chain"
    )
    evidence = "\n".join(payload["problems"][0]["evidence"])
    for text in (
        "DependencyNotReady",
        "HealthCheckFailed",
        "RetriesExceeded",
        'secret "echo-secret" not found',
        "SecretSyncedError",
        "connection refused",
        "--reset",
    ):
        assert text in evidence


def test_sarif_and_text(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    snap = str(snapshot_of("httproute-backend"))
    assert main(["doctor", str(live_repo[0]), "--from", snap, "--output", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["httproute"]
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= {"httproute", "crash-loop"}
    assert main(["doctor", str(live_repo[0]), "--from", snap]) == 1
    out = capsys.readouterr().out
    assert "HTTPRoute/default/echo" in out and "Service/default/echo-app" in out and "fix:" in out


def test_unknown_scenario_is_a_usage_error(
    live_repo: tuple[Path, str], snapshot_of: Callable[[str | None], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", str(live_repo[0]), "--from", str(snapshot_of(None)), "--select", "nope"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_docs_pages_match_the_catalog(tmp_path: Path) -> None:
    from homeops.doctor.report import scenario_index, scenario_page
    from homeops.doctor.scenarios import SCENARIOS

    docs = Path(__file__).resolve().parents[2] / "docs" / "doctor"
    for scenario in SCENARIOS:
        assert (docs / f"{scenario.id}.md").read_text() == scenario_page(scenario), (
            f"regenerate docs/doctor ({scenario.id})"
        )
    assert (docs / "README.md").read_text() == scenario_index()
