"""``homeops simulate --change REF``: what a commit sets in motion, in what order, from the cluster converged
on the commit's parent. The repositories are the chain fixture committed to a fresh Git repository, then
changed by one commit."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

Commit = Callable[[Path, str], None]
"""The ``commit`` fixture (tests/simulate/conftest.py)."""

CHAIN = Path(__file__).resolve().parents[1] / "testdata" / "simulate" / "chain"
APPS = "kubernetes/apps"
Edit = Callable[[Path], None]


def replace(path: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        text = (root / path).read_text()
        assert old in text, (path, old)
        (root / path).write_text(text.replace(old, new))

    return edit


def repository(tmp_path: Path, commit: Commit, base: list[Edit], change: list[Edit]) -> Path:
    """The chain fixture with ``base`` edits committed, then one commit of ``change`` edits."""
    root = tmp_path / "repo"
    shutil.copytree(CHAIN, root)
    for edit in base:
        edit(root)
    commit(root, "base")
    for edit in change:
        edit(root)
    commit(root, "change")
    return root


def simulate(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["simulate", str(root), "--change", "HEAD", *args, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out)


def final(payload: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{f['kind']}/{f['namespace']}/{f['name']}": (f["state"], f["reason"]) for f in payload["final"]}


def at(payload: dict[str, Any], name: str, to: str, kind: str | None = None) -> list[float]:
    return [
        e["t"] for e in payload["events"] if e["name"] == name and e["to"] == to and kind in (None, e["kind"])
    ]


POSTGRES = f"{APPS}/database/app/helmrelease.yaml"
WEB = f"{APPS}/web/app/helmrelease.yaml"
SECRET = f"{APPS}/database/app/externalsecret.yaml"
RELOADER = replace(
    POSTGRES,
    "      postgres:\n        containers:",
    '      postgres:\n        annotations:\n          reloader.stakater.com/auto: "true"\n'
    "        containers:",
)


def test_a_commit_reapplies_top_down_and_upgrades_what_it_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    root = repository(
        tmp_path,
        commit,
        [],
        [replace(POSTGRES, "tag: 17.2", "tag: 17.3"), replace(WEB, "tag: 1.0.0", "tag: 1.1.0")],
    )
    code, payload = simulate(capsys, root)
    assert code == 0 and payload["converged_at"] is not None
    assert payload["assumptions"][0].startswith("start = converged on HEAD^")
    fetched = at(payload, "flux-system", "Ready", "GitRepository")
    assert fetched == [5]  # push-notice 0s + source-fetch 5s
    kustomizations = [e for e in payload["events"] if e["kind"] == "Kustomization"]
    assert min(e["t"] for e in kustomizations) == fetched[0]  # the source watch starts every one
    # database waits until secret-store has applied the new revision (same source), re-checked every 30 s
    blocked = next(e for e in kustomizations if e["name"] == "database" and e["to"] == "Blocked")
    assert "'flux-system/secret-store' revision is not up to date" in blocked["message"]
    store_ready = at(payload, "secret-store", "Ready", "Kustomization")[0]
    resumed = next(e["t"] for e in kustomizations if e["name"] == "database" and e["from"] == "Blocked")
    assert resumed >= store_ready and (resumed - blocked["t"]) % 30 == 0
    # the changed releases upgrade once their Kustomization applied them; the others do nothing
    upgrade = at(payload, "postgres", "Upgrading")
    assert upgrade and upgrade[0] >= resumed
    assert final(payload)["HelmRelease/db/postgres"] == ("Ready", "UpgradeSucceeded")
    assert not [e for e in payload["events"] if e["name"] == "vault-connect"]
    # database (wait: true) is Ready once its release is; web applies only then (dependsOn database)
    postgres_ready = at(payload, "postgres", "Ready", "HelmRelease")[0]
    assert at(payload, "database", "Ready", "Kustomization")[0] == postgres_ready
    assert at(payload, "web", "Upgrading")[0] > postgres_ready
    assert final(payload)["HelmRelease/web/web"] == ("Ready", "UpgradeSucceeded")
    messages = {e["message"] for e in kustomizations if e["to"] == "Ready"}
    assert "applied the new revision: 1 object(s) changed" in messages
    assert "applied the new revision: no changes" in messages
    assert "the change modifies: HelmRelease db/postgres, HelmRelease web/web" in payload["notes"]
    # the gantt chart shows what moved, from its first change
    assert main(["simulate", str(root), "--change", "HEAD", "--output", "mermaid"]) == 0
    chart = capsys.readouterr().out
    assert f"db/postgres Ready :crit, h1, {int(upgrade[0])}," in chart
    assert "vault-connect" not in chart


def test_new_secret_data_restarts_the_pods_reloader_watches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    root = repository(tmp_path, commit, [RELOADER], [replace(SECRET, "key: postgres", "key: postgres-v2")])
    code, payload = simulate(capsys, root)
    assert code == 0
    synced = at(payload, "postgres", "Ready", "ExternalSecret")
    # Flux keeps the release Ready: its pods roll, for pod-start
    restart = next(e for e in payload["events"] if e["reason"] == "SecretChanged")
    assert (restart["kind"], restart["from"], restart["to"], restart["t"]) == (
        "HelmRelease",
        "Ready",
        "Ready",
        synced[0],
    )
    done = next(e for e in payload["events"] if e["reason"] == "RolloutComplete")
    assert done["t"] == synced[0] + 15
    assert not at(payload, "postgres", "Upgrading")  # a restart, not a Helm upgrade

    # without the annotation the pods keep the old data, and the result says so
    root = repository(tmp_path / "plain", commit, [], [replace(SECRET, "key: postgres", "key: postgres-v2")])
    _, payload = simulate(capsys, root)
    assert not [e for e in payload["events"] if e["reason"] == "SecretChanged"]
    assert any(
        "HelmRelease db/postgres keeps the old data of Secret db/postgres-secret" in n
        for n in payload["notes"]
    )


EXPLICIT_KEYS = replace(
    SECRET,
    "  dataFrom:\n    - extract:\n        key: postgres",
    "  data:\n    - secretKey: USER\n      remoteRef: {key: postgres, property: user}",
)
NEW_KEY = replace(
    SECRET,
    "      remoteRef: {key: postgres, property: user}",
    "      remoteRef: {key: postgres, property: user}\n"
    "    - secretKey: PASSWORD\n      remoteRef: {key: postgres, property: password}",
)


def pod_env(variable: str, key: str) -> Edit:
    """The database's pods name ``key`` of its Secret (a ``secretKeyRef``)."""
    return replace(
        POSTGRES,
        "            envFrom:",
        f"            env:\n              {variable}:\n                valueFrom:\n"
        "                  secretKeyRef:\n                    name: postgres-secret\n"
        f"                    key: {key}\n            envFrom:",
    )


NEEDS_KEY = pod_env("DB_PASSWORD", "PASSWORD")


def test_a_new_key_blocks_the_upgrade_while_the_store_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    """The commit adds a key to the ExternalSecret and a pod env that names it. With the vault reachable
    the Secret gets the key and the upgrade goes through; with the vault down the Secret keeps its old
    keys: the new pods cannot start and the upgrade fails until the release stalls (upgrade retries: 0)."""
    root = repository(tmp_path, commit, [EXPLICIT_KEYS], [NEW_KEY, NEEDS_KEY])
    code, payload = simulate(capsys, root)
    assert code == 0
    assert final(payload)["HelmRelease/db/postgres"] == ("Ready", "UpgradeSucceeded")

    code, payload = simulate(capsys, root, "--fail", "ClusterSecretStore//vault")
    assert code == 1
    states = final(payload)
    assert states["ExternalSecret/db/postgres"] == ("Stale", "SecretSyncedError")
    assert states["HelmRelease/db/postgres"] == ("Stalled", "RetriesExceeded")
    failed = next(e for e in payload["events"] if e["reason"] == "UpgradeFailed")
    assert "pods wait for key PASSWORD of Secret postgres-secret" in failed["message"]
    upgrade = at(payload, "postgres", "Upgrading")[0]
    assert failed["t"] == upgrade + 300  # the upgrade's timeout (spec.timeout 5m)


def test_a_new_key_nobody_needs_yet_is_stale_but_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    root = repository(tmp_path, commit, [EXPLICIT_KEYS], [NEW_KEY])
    code, payload = simulate(capsys, root, "--fail", "ClusterSecretStore//vault")
    assert code == 1  # the ExternalSecret does not converge
    states = final(payload)
    assert states["ExternalSecret/db/postgres"] == ("Stale", "SecretSyncedError")
    assert states["HelmRelease/db/postgres"] == ("Ready", "InstallSucceeded")
    assert [(s["name"], s["secret"]) for s in payload["stale"]] == [("postgres", "db/postgres-secret")]


def test_added_apps_install_and_removed_apps_are_pruned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    def add_cache(root: Path) -> None:
        shutil.copytree(root / APPS / "web", root / APPS / "cache")
        for path in (root / APPS / "cache").rglob("*.yaml"):
            path.write_text(path.read_text().replace("web", "cache"))

    drop_web = replace(f"{APPS}/kustomization.yaml", "  - ./web/ks.yaml", "  - ./cache/ks.yaml")
    root = repository(tmp_path, commit, [], [add_cache, drop_web, lambda r: shutil.rmtree(r / APPS / "web")])
    code, payload = simulate(capsys, root)
    assert code == 0
    states = final(payload)
    assert states["Kustomization/flux-system/web"] == ("Absent", "Pruned")
    assert states["HelmRelease/web/web"] == ("Absent", "Pruned")
    assert states["HelmRelease/cache/cache"] == ("Ready", "InstallSucceeded")
    pruned = at(payload, "web", "Absent", "HelmRelease")[0]
    applied = min(e["t"] for e in payload["events"] if e["name"] == "cluster-apps" and e["to"] == "Ready")
    assert pruned == applied  # the root Kustomization deletes what it no longer applies
    assert "the change adds" in " ".join(payload["notes"]) and "the change removes" in " ".join(
        payload["notes"]
    )


def test_bad_references_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(CHAIN, plain)
    assert main(["simulate", str(plain), "--change", "HEAD"]) == 2
    assert "not inside a Git repository" in capsys.readouterr().err
    root = repository(tmp_path, commit, [], [replace(WEB, "tag: 1.0.0", "tag: 1.1.0")])
    assert main(["simulate", str(root), "--change", "nope"]) == 2
    assert "'nope' is not a commit" in capsys.readouterr().err
    assert main(["simulate", str(root), "--change", "HEAD~1"]) == 2  # the root commit
    assert "BASE..HEAD" in capsys.readouterr().err
    code, payload = simulate(capsys, root, "--cluster", "default")
    assert code == 0 and final(payload)["HelmRelease/web/web"] == ("Ready", "UpgradeSucceeded")


def test_a_reloaded_pod_that_lost_its_key_does_not_roll_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    """The commit renames a key the database's pods name; Reloader restarts them, the new pods cannot
    start without the key, and the old ones keep serving: Flux still shows the release Ready, but the
    rollout never finishes."""
    needs_user = pod_env("DB_USER", "USER")
    rename = replace(SECRET, "secretKey: USER", "secretKey: USERNAME")
    root = repository(tmp_path, commit, [EXPLICIT_KEYS, needs_user, RELOADER], [rename])
    code, payload = simulate(capsys, root)
    assert code == 1 and payload["converged_at"] is None
    stuck = next(e for e in payload["events"] if e["reason"] == "CreateContainerConfigError")
    assert stuck["kind"] == "HelmRelease" and stuck["to"] == "Ready"
    assert "key USER of Secret postgres-secret" in stuck["message"]


def test_a_new_chart_version_upgrades_after_its_source_fetched_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: Commit
) -> None:
    """The commit changes only the OCIRepository's tag: the HelmRelease object is the same, but its chart
    changes (diff's changed-only selection says so); helm-controller upgrades when the source watch brings
    the new artifact."""
    oci = replace(f"{APPS}/database/app/ocirepository.yaml", "tag: 4.0.0", "tag: 4.1.0")
    root = repository(tmp_path, commit, [], [oci])
    code, payload = simulate(capsys, root)
    assert code == 0
    fetched = at(payload, "postgres", "Ready", "OCIRepository")
    upgrading = at(payload, "postgres", "Upgrading", "HelmRelease")
    assert fetched and upgrading and upgrading[0] >= fetched[0]
    assert "new chart for: HelmRelease db/postgres" in payload["notes"]
    assert final(payload)["HelmRelease/db/postgres"] == ("Ready", "UpgradeSucceeded")
