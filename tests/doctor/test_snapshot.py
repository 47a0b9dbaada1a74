"""Snapshot files: what is kept, what is stripped, how files merge, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.cluster.snapshot import clean, data_keys, load_snapshot
from homeops.errors import UsageError


def test_secrets_keep_key_names_only() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "namespace": "a",
            "managedFields": [{}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"k":"dg=="}}'},
        },
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "t0k3n"},
    }
    cleaned = clean(secret)
    assert "data" not in cleaned and "stringData" not in cleaned
    assert "managedFields" not in cleaned["metadata"]
    assert "dg==" not in json.dumps(cleaned) and "hunter2" not in json.dumps(cleaned)
    assert data_keys(cleaned) == {"password", "token"}
    assert secret["data"]  # the input is not changed


def test_merge_files_and_folders_later_wins(tmp_path: Path) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "a"},
        "status": {"phase": "Pending"},
    }
    (tmp_path / "a.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod]}))
    later = {**pod, "status": {"phase": "Running"}}
    (tmp_path / "b.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [later]}))
    # a raw API list response: its items name no kind
    raw = {
        "apiVersion": "v1",
        "kind": "ServiceList",
        "items": [{"metadata": {"name": "svc", "namespace": "a"}}],
    }
    (tmp_path / "c.json").write_text(json.dumps(raw))
    snap = load_snapshot([tmp_path])
    assert len(snap.items) == 2
    assert next(o for o in snap.items if o["kind"] == "Pod")["status"]["phase"] == "Running"
    assert any(o["kind"] == "Service" and o["apiVersion"] == "v1" for o in snap.items)
    assert snap.now().year >= 2024


def test_bad_snapshots_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "List",\n "items": [}')
    with pytest.raises(UsageError) as exc:
        load_snapshot([broken])
    assert exc.value.where is not None and exc.value.where.line == 2
    assert main(["doctor", str(tmp_path), "--from", str(broken)]) == 2
    assert main(["doctor", str(tmp_path), "--from", str(tmp_path / "absent.json")]) == 2
    err = capsys.readouterr().err
    assert "broken.json:2" in err and "absent.json" in err and "Traceback" not in err


def test_maintainer_testdata_states() -> None:
    """fluxcd/flux2 ``cmd/flux/testdata/get/status_objects.yaml`` (maintainer-written, Apache-2.0), as the
    cluster would serve it: ``gr-failed`` retries, ``gr-unknown`` is in progress, ``gr-ready`` is Ready."""
    import yaml

    from homeops.cluster.snapshot import Snapshot
    from homeops.doctor.states import state_of
    from homeops.doctor.view import Ref, View

    source = (
        Path(__file__).resolve().parents[3]
        / "shared"
        / "runtime"
        / "flux2-cli-testdata"
        / "get"
        / "status_objects.yaml"
    )
    if not source.is_file():
        pytest.skip(f"{source} not found")
    text = source.read_text().replace("{{ .fluxns }}", "flux-system").replace("{{ .ns }}", "default")
    items = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    view = View(Snapshot(items, "flux2 testdata"))
    states = {
        name: state_of(view, Ref("GitRepository", "flux-system", name))
        for name in ("gr-failed", "gr-unknown", "gr-ready")
    }
    assert (states["gr-failed"].state, states["gr-failed"].reason) == ("Retrying", "GitOperationFailed")
    assert states["gr-unknown"].state == "Reconciling"
    assert states["gr-ready"].state == "Ready"


def test_corpus_without_a_cluster(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every corpus repository against an empty cluster: no crash, everything Missing, no doctor finding."""
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        code = main(["doctor", str(repo), "--from", str(empty), "--output", "json"])
        out, err = capsys.readouterr()
        assert code == 0 and json.loads(out) == {"problems": []}, (repo.name, err)
        code = main(["status", str(repo), "--from", str(empty), "--output", "json"])
        out, err = capsys.readouterr()
        objects = json.loads(out)["objects"]
        assert "Traceback" not in err
        assert all(o["state"] == "Missing" and o["drift"] == "not-in-cluster" for o in objects), repo.name
        assert code == (1 if objects else 0)
