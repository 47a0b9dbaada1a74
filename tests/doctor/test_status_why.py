"""``homeops status`` and ``homeops why`` on scenario snapshots of the test repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out)


def by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['name']}": o for o in objects}


def test_status_of_a_healthy_cluster(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(capsys, "status", str(live_repo[0]), "--from", str(snapshot_of(None)))
    assert code == 0
    rows = by_name(payload["objects"])
    assert {
        "Kustomization/cluster-apps",
        "Kustomization/web",
        "HelmRelease/echo",
        "OCIRepository/app-template",
    } <= set(rows)
    assert all(o["state"] == "Ready" for o in payload["objects"])
    assert rows["Kustomization/web"]["revision"] == f"main@sha1:{live_repo[1]}"
    assert all(o["drift"] is None for o in payload["objects"])
    assert set(payload["objects"][0]) >= {
        "cluster",
        "kind",
        "namespace",
        "name",
        "state",
        "reason",
        "revision",
        "drift",
    }


def test_status_states_and_drift(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(capsys, "status", str(live_repo[0]), "--from", str(snapshot_of("vault-chain")))
    rows = by_name(payload["objects"])
    assert code == 1
    assert (rows["Kustomization/web"]["state"], rows["Kustomization/web"]["reason"]) == (
        "Blocked",
        "DependencyNotReady",
    )
    assert rows["Kustomization/web"]["waits_for"] == "ClusterSecretStore/onepassword"
    assert (rows["HelmRelease/echo"]["state"], rows["HelmRelease/echo"]["reason"]) == (
        "Stalled",
        "RetriesExceeded",
    )

    code, payload = run_json(
        capsys, "status", str(live_repo[0]), "--from", str(snapshot_of("dependency-missing"))
    )
    rows = by_name(payload["objects"])
    assert (rows["Kustomization/gateway"]["state"], rows["Kustomization/gateway"]["drift"]) == (
        "Missing",
        "not-in-cluster",
    )

    code, payload = run_json(capsys, "status", str(live_repo[0]), "--from", str(snapshot_of("image-drift")))
    assert by_name(payload["objects"])["Kustomization/web"]["drift"] == "behind-head"

    code, payload = run_json(
        capsys, "status", str(live_repo[0]), "--from", str(snapshot_of("helmrelease-stuck"))
    )
    web = by_name(payload["objects"])["HelmRelease/web"]
    assert (web["state"], web["attempt"], web["attempts"]) == ("Retrying", 2, 4)


def test_status_waiting_on_an_install_is_not_a_failure(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(capsys, "status", str(live_repo[0]), "--from", str(snapshot_of("bootstrapping")))
    assert by_name(payload["objects"])["Kustomization/web"]["state"] == "Blocked"
    assert code == 0


def test_status_lists_flux_objects_gone_from_git(
    snapshot_of: Callable[[str | None], Path],
    live_repo: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    snap = json.loads(snapshot_of(None).read_text())
    orphan = json.loads(
        json.dumps(
            next(o for o in snap["items"] if o["kind"] == "Kustomization" and o["metadata"]["name"] == "web")
        )
    )
    orphan["metadata"]["name"] = "old-app"
    snap["items"].append(orphan)
    path = tmp_path / "orphan.json"
    path.write_text(json.dumps(snap))
    _, payload = run_json(capsys, "status", str(live_repo[0]), "--from", str(path))
    assert by_name(payload["objects"])["Kustomization/old-app"]["drift"] == "not-in-git"


def test_why_walks_the_vault_chain(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(
        capsys,
        "why",
        "Kustomization/flux-system/web",
        str(live_repo[0]),
        "--from",
        str(snapshot_of("vault-chain")),
    )
    assert code == 1
    hops = [(h["kind"], h["state"], h["reason"]) for h in payload["chain"]]
    assert hops[0] == ("Kustomization", "Blocked", "DependencyNotReady")
    assert ("HelmRelease", "Stalled", "RetriesExceeded") in hops
    assert ("Pod", "Blocked", "CreateContainerConfigError") in hops
    assert ("ExternalSecret", "Retrying", "SecretSyncedError") in hops
    assert hops[-1] == ("ClusterSecretStore", "Retrying", "ValidationFailed")
    assert len(hops) >= 5
    assert payload["next"]["action"].startswith(
        "will not retry: Stalled — run `flux reconcile helmrelease echo -n default --reset`"
    )
    assert payload["next"]["at"] is None


def test_why_times_the_next_retry(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, payload = run_json(
        capsys,
        "why",
        "pod/default/web-5c7b9d8f4-k8m2p",
        str(live_repo[0]),
        "--from",
        str(snapshot_of("crash-loop")),
    )
    assert len(payload["chain"]) == 1
    # restart 6 failed at 11:58:30; the back-off is capped at 300 s
    assert payload["next"]["at"] == "2026-03-01T12:03:30Z"
    _, payload = run_json(
        capsys, "why", "hr/default/web", str(live_repo[0]), "--from", str(snapshot_of(None))
    )
    assert [h["state"] for h in payload["chain"]] == ["Ready"] and payload["next"] is None


def test_why_of_an_unknown_object(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["why", "hr/default/wbe", str(live_repo[0]), "--from", str(snapshot_of(None))]) == 2
    assert "HelmRelease/default/web" in capsys.readouterr().err


def test_the_text_outputs(
    snapshot_of: Callable[[str | None], Path], live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    snap = str(snapshot_of("vault-chain"))
    assert main(["status", str(live_repo[0]), "--from", snap]) == 1
    out = capsys.readouterr().out
    assert "Kustomization/flux-system/web" in out and "waits for ClusterSecretStore/onepassword" in out
    assert main(["why", "ks/flux-system/web", str(live_repo[0]), "--from", snap]) == 1
    out = capsys.readouterr().out
    assert out.index("Kustomization/flux-system/web") < out.index("ClusterSecretStore/onepassword")
    assert "next: will not retry" in out
