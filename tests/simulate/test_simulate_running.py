"""Simulating a running cluster: converged on the repository (``--converged``) or as a snapshot shows it
(``--from``). A store that fails leaves ExternalSecrets Stale while their Secret exists (pods keep running
on stale data); a Secret that does not exist blocks the pods that need it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

TESTS = Path(__file__).resolve().parents[1]
CHAIN = TESTS / "testdata" / "simulate" / "chain"
LIVE = TESTS / "testdata" / "live" / "repo"
sys.path.insert(0, str(TESTS / "doctor"))

import cluster_states  # noqa: E402  (the live-cluster tests' snapshots of LIVE)


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["simulate", *args, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out)


def final(payload: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{f['kind']}/{f['namespace']}/{f['name']}": (f["state"], f["reason"]) for f in payload["final"]}


def first(payload: dict[str, Any], name: str, to: str) -> float:
    return next(e["t"] for e in payload["events"] if e["name"] == name and e["to"] == to)


def test_a_converged_cluster_does_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = simulate(capsys, str(CHAIN), "--converged")
    assert code == 0
    assert payload["events"] == [] and payload["converged_at"] == 0
    assert all(state in ("Ready", "Valid", "Bound") for state, _ in final(payload).values())
    assert payload["assumptions"][0].startswith("start = converged on the repository at +0:00:00")


def test_a_failed_store_leaves_its_secrets_stale_and_the_pods_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The vault becomes unreachable at +0:00:00. external-secrets marks the store failed at its next
    re-validation (--store-requeue-interval, 5 min); the ExternalSecret fails at its next refresh
    (refreshInterval 1h) and keeps the Secret as it was: the database keeps running on it. Kustomizations
    that health-check them fail at their next interval (10m) after their timeout (interval - 30s), and
    what depends on them is blocked at its own next interval."""
    code, payload = simulate(capsys, str(CHAIN), "--converged", "--fail", "ClusterSecretStore//vault")
    assert code == 1 and payload["converged_at"] is None
    states = final(payload)
    assert states["ClusterSecretStore//vault"] == ("Failed", "ValidationFailed")
    assert first(payload, "vault", "Failed") == 300
    assert states["ExternalSecret/db/postgres"] == ("Stale", "SecretSyncedError")
    assert first(payload, "postgres", "Stale") == 3600
    # the database is not touched: it runs on the last synced data
    assert states["HelmRelease/db/postgres"] == ("Ready", "InstallSucceeded")
    assert not [e for e in payload["events"] if e["kind"] == "HelmRelease"]
    [stale] = payload["stale"]
    assert (stale["kind"], stale["name"], stale["secret"], stale["since"]) == (
        "HelmRelease",
        "postgres",
        "db/postgres-secret",
        3600,
    )
    # secret-store (wait: true, interval 10m, timeout 9m30s) fails at its first interval after +0:05:00
    assert states["Kustomization/flux-system/secret-store"] == ("Failed", "HealthCheckFailed")
    assert first(payload, "secret-store", "Failed") == 600 + 5 + 570
    # database depends on it: Blocked at its next interval tick after that
    assert states["Kustomization/flux-system/database"] == ("Blocked", "DependencyNotReady")
    assert first(payload, "database", "Blocked") == 1200
    assert any(a.startswith("SecretStore refreshInterval = 5m0s") for a in payload["assumptions"])
    assert any(
        a.startswith("ExternalSecret retry-backoff = 5ms doubling to 16m40s") for a in payload["assumptions"]
    )


def test_the_text_lists_what_runs_on_stale_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CHAIN), "--converged", "--fail", "ClusterSecretStore//vault"]) == 1
    out = capsys.readouterr().out
    section = out[out.index("Running on stale data") :]
    assert (
        "HelmRelease db/postgres: Secret db/postgres-secret "
        "(ExternalSecret db/postgres failing since +1:00:00)" in section
    )


def test_bootstrap_lists_the_external_secrets_back_off(capsys: pytest.CaptureFixture[str]) -> None:
    """The ExternalSecret waits for its store, then retries on controller-runtime's back-off: an assumption
    the result must print."""
    _, payload = simulate(capsys, str(CHAIN))
    assert (
        "ExternalSecret retry-backoff = 5ms doubling to 16m40s: retry of a failed sync, without limit "
        "(controller-runtime default rate limiter: 5ms doubling, capped at 1000s, no retry limit)"
    ) in payload["assumptions"]
    assert any(a.startswith("Kustomization timeout: ") for a in payload["assumptions"])


def _snapshot(tmp_path: Path, scenario: str | None) -> Path:
    return cluster_states.write(tmp_path / f"{scenario or 'healthy'}.json", scenario)


def test_from_a_snapshot_the_refresh_counts_from_the_last_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The snapshot was taken at 12:00; the ExternalSecret last synced at 11:30 (status.refreshTime) with
    refreshInterval 1h: with the vault gone it fails at 12:30, and the echo release keeps running."""
    code, payload = simulate(
        capsys,
        str(LIVE),
        "--from",
        str(_snapshot(tmp_path, None)),
        "--fail",
        "ClusterSecretStore//onepassword",
    )
    assert code == 1
    assert first(payload, "echo", "Stale") == 1800
    assert final(payload)["HelmRelease/default/echo"][0] == "Ready"
    assert [(s["name"], s["secret"]) for s in payload["stale"]] == [("echo", "default/echo-secret")]
    assert "2026-03-01 12:00:00Z" in payload["assumptions"][0]


def test_from_a_snapshot_stale_secret_versus_missing_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two snapshots of the same failing store: in one the Secret exists (stale but serving, the release
    stays Ready), in the other it was never written (the pod cannot start, the release stalled)."""
    _, stale = simulate(capsys, str(LIVE), "--from", str(_snapshot(tmp_path, "stale-secret")))
    assert final(stale)["ExternalSecret/default/echo"] == ("Stale", "SecretSyncedError")
    assert final(stale)["HelmRelease/default/echo"][0] == "Ready"
    assert [s["name"] for s in stale["stale"]] == ["echo"]

    _, missing = simulate(capsys, str(LIVE), "--from", str(_snapshot(tmp_path, "vault-chain")))
    assert final(missing)["ExternalSecret/default/echo"] == ("Failed", "SecretSyncedError")
    assert final(missing)["HelmRelease/default/echo"] == ("Stalled", "RetriesExceeded")
    assert missing["stale"] == []


def test_from_a_snapshot_missing_objects_are_recreated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = json.loads(_snapshot(tmp_path, None).read_text())
    snap["items"] = [
        o for o in snap["items"] if not (o["kind"] == "HelmRelease" and o["metadata"]["name"] == "web")
    ]
    path = tmp_path / "no-web.json"
    path.write_text(json.dumps(snap))
    code, payload = simulate(capsys, str(LIVE), "--from", str(path))
    assert code == 0
    # its Kustomization (interval 1h) applies it again at its next reconcile, then it installs
    assert first(payload, "web", "Installing") >= 3600
    assert final(payload)["HelmRelease/default/web"] == ("Ready", "InstallSucceeded")


def test_start_options_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CHAIN), "--converged", "--change", "HEAD"]) == 2
    assert "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [(), ("--fail", "HelmRelease/db/postgres"), ("--converged", "--fail", "ClusterSecretStore//vault")],
    ids=["bootstrap", "failing-release", "running-failing-store"],
)
def test_the_simulation_speaks_the_machines_states(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """Every state an object passes through is a state of its kind's machine (docs/runtime): the
    simulation and the live commands use one vocabulary."""
    from homeops.runtime.machines import MACHINES

    _, payload = simulate(capsys, str(CHAIN), *args)
    seen = [(e["kind"], e["to"]) for e in payload["events"]] + [
        (f["kind"], f["state"]) for f in payload["final"]
    ]
    for kind, state in seen:
        if kind in MACHINES:
            assert state in {s.name for s in MACHINES[kind].states}, (kind, state)


def test_every_assumption_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Defaults the repository leaves to the controllers, and guesses about single objects, are listed."""
    import shutil

    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    web = root / "kubernetes/apps/web/app/helmrelease.yaml"
    web.write_text(web.read_text().replace("interval: 1h", "interval: 1 hour"))
    _, payload = simulate(capsys, str(root))
    assumptions = payload["assumptions"]
    assert "HelmRelease web/web: spec.interval '1 hour' is not a duration: assumed 10m" in assumptions
    assert any(a.startswith("HelmRelease timeout = 5m0s: for the 1 HelmRelease(s)") for a in assumptions)
    # the repository's 3, and the flux-system Kustomization its entry point stands for (flux bootstrap's)
    assert any(a.startswith("Kustomization retryInterval: for the 4 Kustomization(s)") for a in assumptions)
    assert any(a.startswith("image-pull = 30s") for a in assumptions)


def test_failures_on_a_running_cluster_show_at_the_next_reconcile(capsys: pytest.CaptureFixture[str]) -> None:
    """kustomize-controller applies every interval: a Kustomization that cannot apply fails at its next
    one (database: 10m) and its dependents are blocked at theirs. helm-controller leaves a deployed,
    up-to-date release alone: a failing release stays Ready for Flux, and the result says so."""
    code, payload = simulate(
        capsys, str(CHAIN), "--converged", "--fail", "Kustomization/flux-system/database"
    )
    assert code == 1
    assert first(payload, "database", "Failed") == 600 + 5  # kustomization-apply
    assert final(payload)["Kustomization/flux-system/web"] == ("Blocked", "DependencyNotReady")
    assert first(payload, "web", "Blocked") == 1200

    code, payload = simulate(capsys, str(CHAIN), "--converged", "--fail", "HelmRelease/db/postgres")
    assert code == 0 and payload["events"] == [] and payload["critical_path"] == []
    assert any("HelmRelease db/postgres fails (--fail) but stays Ready" in n for n in payload["notes"])
