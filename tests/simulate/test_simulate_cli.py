"""``homeops simulate`` on a small repository: timeline, --fail, the JSON contract, overrides, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

CHAIN = Path(__file__).resolve().parents[1] / "testdata" / "simulate" / "chain"
BOOTSTRAP_SYNC = CHAIN.parent / "bootstrap-sync"
ROUTE_BEFORE_GATEWAY = CHAIN.parent / "route-before-gateway"


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["simulate", *args, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def states(payload: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{f['kind']}/{f['namespace']}/{f['name']}": (f["state"], f["reason"]) for f in payload["final"]}


def test_bootstrap_converges(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(CHAIN))
    assert code == 0
    assert set(payload) >= {"events", "final", "converged_at", "assumptions"}
    for event in payload["events"]:
        assert set(event) >= {"t", "cluster", "kind", "namespace", "name", "from", "to", "reason"}
    flux = {k: v for k, v in states(payload).items() if k.split("/")[0] in ("Kustomization", "HelmRelease")}
    # 4 Kustomizations of the repository, the flux-system one its entry point makes
    # (kubernetes/flux/cluster), and 3 HelmReleases
    assert len(flux) == 8 and all(state == "Ready" for state, _ in flux.values())
    ready = {f"{f['kind']}/{f['namespace']}/{f['name']}": f["ready_at"] for f in payload["final"]}
    # the order the repository asks for: store, then database, then web
    assert ready["HelmRelease/security/vault-connect"] < ready["ClusterSecretStore//vault"]
    assert ready["ClusterSecretStore//vault"] <= ready["Kustomization/flux-system/secret-store"]
    assert ready["Kustomization/flux-system/secret-store"] < ready["Kustomization/flux-system/database"]
    assert ready["ExternalSecret/db/postgres"] < ready["HelmRelease/db/postgres"]
    assert ready["HelmRelease/db/postgres"] <= ready["Kustomization/flux-system/database"]
    assert ready["Kustomization/flux-system/database"] < ready["HelmRelease/web/web"]
    assert payload["converged_at"] == max(ready.values())
    # database was blocked from its first check at +10s: it proceeds on a 30 s re-check tick
    blocked = [e["t"] for e in payload["events"] if e["name"] == "database" and e["to"] == "Blocked"]
    resumed = [e["t"] for e in payload["events"] if e["name"] == "database" and e["from"] == "Blocked"]
    assert (resumed[0] - blocked[0]) % 30 == 0
    assert payload["critical_path"][-1]["name"] == "web"
    assert any("image-pull = 30s" in a for a in payload["assumptions"])


def test_bootstrap_sync_source_exists_before_its_kustomization(capsys: pytest.CaptureFixture[str]) -> None:
    """gotk-sync.yaml's GitRepository is applied by the Kustomization that reads from it: bootstrap
    applies both, so the Kustomization does not wait for its own source to be applied."""
    code, payload = simulate(capsys, str(BOOTSTRAP_SYNC))
    assert code == 0, payload["final"]
    final = states(payload)
    assert final["GitRepository/flux-system/flux-system"][0] == "Ready"
    assert final["Kustomization/flux-system/flux-system"][0] == "Ready"
    assert final["Kustomization/flux-system/hello"][0] == "Ready"


def test_wait_does_not_hold_for_a_route_whose_gateway_comes_later(capsys: pytest.CaptureFixture[str]) -> None:
    """kstatus reports an HTTPRoute Current once applied: a Kustomization with ``wait`` that applies it
    is Ready before the Kustomization that makes its Gateway (and depends on it) runs."""
    code, payload = simulate(capsys, str(ROUTE_BEFORE_GATEWAY))
    assert code == 0, payload["final"]
    final = states(payload)
    assert final["Kustomization/flux-system/cni"][0] == "Ready"
    assert final["Kustomization/flux-system/gateway"][0] == "Ready"
    assert final["HTTPRoute/kube-system/cni-ui"][0] == "Accepted"
    assert not any(e["reason"] == "HealthCheckFailed" for e in payload["events"])


def test_failing_release_stalls_and_blocks_its_dependents(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(CHAIN), "--fail", "HelmRelease/db/postgres")
    assert code == 1
    assert payload["converged_at"] is None
    failures = [e for e in payload["events"] if e["name"] == "postgres" and e["reason"] == "InstallFailed"]
    assert len(failures) == 4  # retries: 3
    start = next(e["t"] for e in payload["events"] if e["name"] == "postgres" and e["to"] == "Installing")
    stall = next(e["t"] for e in payload["events"] if e["reason"] == "RetriesExceeded")
    assert stall == pytest.approx(start + 4 * 300 + 3 * 10 + (0.75 + 1.5 + 3))
    final = states(payload)
    assert final["HelmRelease/db/postgres"] == ("Stalled", "RetriesExceeded")
    assert final["Kustomization/flux-system/database"] == ("Failed", "HealthCheckFailed")
    assert final["Kustomization/flux-system/web"] == ("Blocked", "DependencyNotReady")
    assert final["HelmRelease/web/web"][0] == "Absent"
    assert final["Kustomization/flux-system/secret-store"] == ("Ready", "ReconciliationSucceeded")


def test_failing_store_keeps_the_secret_from_ever_being_written(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(CHAIN), "--fail", "ClusterSecretStore//vault")
    assert code == 1
    final = states(payload)
    assert final["ClusterSecretStore//vault"] == ("Failed", "ValidationFailed")
    assert final["Kustomization/flux-system/secret-store"] == ("Failed", "HealthCheckFailed")
    assert final["Kustomization/flux-system/database"] == ("Blocked", "DependencyNotReady")


def test_text_timeline_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CHAIN), "--fail", "HelmRelease/db/postgres"]) == 1
    out = capsys.readouterr().out
    assert "HelmRelease db/postgres Installing → Failed (InstallFailed), " in out
    assert "attempt 2 of 4" in out
    assert "Stalled (1):" in out and "Failed to install after 4 attempt(s)" in out
    assert "\nAssumptions\n" in out
    lines = [line for line in out.splitlines() if line.startswith("+")]
    times = [line.split()[0] for line in lines]
    assert times == sorted(times, key=lambda t: [float(x) for x in t[1:].split(":")])


def test_mermaid_gantt(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CHAIN), "--output", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gantt\n") and "dateFormat X" in out
    assert "section home Kustomizations" in out or "Kustomizations" in out
    assert "db/postgres Ready :crit" in out


def test_for_bounds_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(CHAIN), "--for", "2m")
    assert code == 1
    assert max(e["t"] for e in payload["events"]) <= 120
    assert states(payload)["HelmRelease/web/web"][0] == "Absent"


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CHAIN), "--fail", "HelmRelease/db/postgress"]) == 2
    err = capsys.readouterr().err
    assert "HelmRelease/db/postgress" in err and "did you mean HelmRelease/db/postgres" in err
    assert main(["simulate", str(CHAIN), "--fail", "postgres"]) == 2
    assert "KIND/NAMESPACE/NAME" in capsys.readouterr().err
    assert main(["simulate", str(CHAIN), "--for", "soon"]) == 2
    assert main(["simulate", str(CHAIN), "--cluster", "nope"]) == 2


def test_homeops_yaml_overrides_an_assumption(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "chain"
    shutil.copytree(CHAIN, repo)
    _, before = simulate(capsys, str(repo))
    (repo / ".homeops.yaml").write_text("simulate:\n  image-pull: 2m\n  helm-controller-concurrent: 8\n")
    _, after = simulate(capsys, str(repo))
    assert (
        "image-pull = 2m0s: pulling a workload's images on a cold node (seed 002: 10s-2m) (.homeops.yaml)"
        in (after["assumptions"])
    )
    # vault-connect's timeout is 2m: render 10s + pull 2m + start 15s does not fit, the install fails
    assert after["converged_at"] is None
    assert states(after)["HelmRelease/security/vault-connect"] == ("Stalled", "RetriesExceeded")
    (repo / ".homeops.yaml").write_text("simulate:\n  image-pull: 1m\n")
    _, slower = simulate(capsys, str(repo))

    def ready(payload: dict[str, Any], name: str) -> float:
        return next(
            f["ready_at"] for f in payload["final"] if f["name"] == name and f["kind"] == "HelmRelease"
        )

    assert ready(slower, "vault-connect") == ready(before, "vault-connect") + 30
    assert slower["converged_at"] > before["converged_at"]
    (repo / ".homeops.yaml").write_text("simulate:\n  image-pul: 2m\n")
    assert main(["simulate", str(repo)]) == 2
    err = capsys.readouterr().err
    assert ".homeops.yaml:2" in err and "unknown simulate setting 'image-pul'" in err
    (repo / ".homeops.yaml").write_text("simulate:\n  image-pull: soon\n")
    assert main(["simulate", str(repo)]) == 2
    assert "must be a duration" in capsys.readouterr().err


def test_empty_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(tmp_path))
    assert code == 0
    assert payload["final"] == [] and payload["converged_at"] == 0
    assert any("no Flux objects" in note for note in payload["notes"])


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"


def test_the_bundled_example_converges(capsys: pytest.CaptureFixture[str]) -> None:
    """Its entry point writes the GitRepository it syncs from under the path it syncs (as flux
    bootstrap's gotk-sync.yaml does): the bootstrap creates that source, Flux does not wait to apply it."""
    code, payload = simulate(capsys, str(EXAMPLE))
    assert code == 0 and payload["converged_at"] is not None
    final = {f"{f['kind']}/{f['namespace']}/{f['name']}": f for f in payload["final"]}
    source = final["GitRepository/flux-system/home-ops"]
    assert source["state"] == "Ready" and source["ready_at"] == 5  # fetched at once: source-fetch = 5s
    assert all(
        f["state"] == "Ready" for k, f in final.items() if k.startswith(("Kustomization", "HelmRelease"))
    )


def test_the_report_shows_what_simulate_prints(capsys: pytest.CaptureFixture[str]) -> None:
    from homeops.graph.model import build_graph
    from homeops.report.html.collect import simulation_json
    from homeops.workspace import open_workspace

    for repo in (EXAMPLE, CHAIN):
        _code, printed = simulate(capsys, str(repo))
        workspace = open_workspace(repo)
        assert simulation_json(workspace, build_graph(workspace.flux)) == printed
        assert printed["notes"] or repo == EXAMPLE  # CHAIN's flux-system source is assumed: a note
