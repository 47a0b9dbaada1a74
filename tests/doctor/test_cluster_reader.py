"""The cluster reader against a Kubernetes API stand-in on loopback (tests/kube_api.py), with the shipped
``kubectl`` as a second client: status, why and doctor give the same answers live and from ``--from``."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homeops import proc
from homeops.cli.main import main
from kube_api import KubeAPI, kube_api_server

KUBECTL_KINDS = (
    "kustomizations,helmreleases,gitrepositories,ocirepositories,externalsecrets,clustersecretstores,"
    "gateways,httproutes,deployments,replicasets,pods,events,services,configmaps,secrets,"
    "persistentvolumeclaims,storageclasses"
)


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # kubectl's discovery cache stays in the test


@pytest.fixture
def served(
    snapshot_of: Callable[[str | None], Path], tmp_path: Path
) -> Iterator[Callable[[str | None], tuple[KubeAPI, Path, Path]]]:
    stack: list[Any] = []

    def serve(scenario: str | None) -> tuple[KubeAPI, Path, Path]:
        path = snapshot_of(scenario)
        items = json.loads(path.read_text())["items"]
        server = kube_api_server(items)
        api = server.__enter__()
        stack.append(server)
        return api, api.kubeconfig(tmp_path / "kubeconfig"), path

    yield serve
    for server in stack:
        server.__exit__(None, None, None)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out, err
    return code, json.loads(out)


def _without_times(payload: Any) -> Any:
    if isinstance(payload, dict) and "next" in payload and payload["next"]:
        payload = {**payload, "next": {**payload["next"], "at": None}}
    return payload


@pytest.mark.parametrize("scenario", ["vault-chain", "crash-loop", "storage-claim", None])
def test_live_and_snapshot_agree(
    scenario: str | None, served: Any, live_repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, kubeconfig, path = served(scenario)
    repo = str(live_repo[0])
    live = ["--kubeconfig", str(kubeconfig), "--context", "homelab"]
    for command in (["status", repo], ["doctor", repo], ["why", "ks/flux-system/web", repo]):
        from_file = run_json(capsys, *command, "--from", str(path))
        from_api = run_json(capsys, *command, *live)
        assert _without_times(from_api) == _without_times(from_file), command
    assert {method for method, _ in api.requests} == {"GET"}  # read-only


def test_snapshot_save_strips_values(served: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api, kubeconfig, _ = served("vault-chain")
    out = tmp_path / "saved.json"
    assert main(["snapshot", "save", str(out), "--kubeconfig", str(kubeconfig)]) == 0
    text = out.read_text()
    saved = json.loads(text)
    assert saved["kind"] == "List" and saved["apiVersion"] == "v1"
    assert "c2VjcmV0LXZhbHVl" not in text and "managedFields" not in text
    kinds = {o["kind"] for o in saved["items"]}
    assert {
        "Kustomization",
        "HelmRelease",
        "Pod",
        "Event",
        "ClusterSecretStore",
        "HTTPRoute",
        "StorageClass",
    } <= kinds
    assert "HelmRepository.source.toolkit.fluxcd.io" in saved["homeops"]["unavailable"]
    assert all(o.get("apiVersion") and o.get("kind") for o in saved["items"])
    assert {m for m, _ in api.requests} == {"GET"}
    # paging: every list asked for pages of at most 500
    assert all("limit=500" in p for _, p in api.requests)


def test_kubectl_output_is_a_snapshot(
    served: Any, live_repo: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubectl = proc.which("kubectl")
    _api, kubeconfig, path = served("vault-chain")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    result = subprocess.run(
        [kubectl, "get", KUBECTL_KINDS, "-A", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    dumped = tmp_path / "kubectl.json"
    dumped.write_text(result.stdout)
    repo = str(live_repo[0])
    assert run_json(capsys, "doctor", repo, "--from", str(dumped)) == run_json(
        capsys, "doctor", repo, "--from", str(path)
    )
    status_kubectl = run_json(capsys, "status", repo, "--from", str(dumped))
    assert status_kubectl == run_json(capsys, "status", repo, "--from", str(path))


def test_missing_object_and_watch_answer_like_the_api_server(served: Any) -> None:
    import urllib.request

    api, _, _ = served(None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as missing:
        opener.open(f"{api.url}/api/v1/namespaces/default/pods/nope")
    status = json.loads(missing.value.read())
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    with opener.open(f"{api.url}/api/v1/namespaces/default/pods?watch=true") as response:
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    assert {e["type"] for e in events} == {"ADDED"} and len(events) == 2


def test_unreachable_cluster_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kube_api import KubeAPI

    config = KubeAPI("http://127.0.0.1:9", [], {}).kubeconfig(tmp_path / "kc")
    assert main(["status", str(tmp_path), "--kubeconfig", str(config)]) == 3
    err = capsys.readouterr().err
    assert "cannot reach the Kubernetes API" in err and "Traceback" not in err
    assert main(["status", str(tmp_path), "--kubeconfig", str(config), "--context", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
