"""`homeops build`: Kustomizations and HelmReleases rendered as the Flux controllers would, against
hand-written golden files (tests/testdata/render/expected)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from render_testlib import cli, copy_repo, documents, golden

from homeops.render.flux import DEFAULT_KUBE_VERSION, RenderOptions, render
from homeops.render.helm import HelmOptions
from homeops.render.snapshot import Snapshot
from homeops.workspace import open_workspace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def test_kustomization_output_is_substituted_and_annotated(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "build", "ks", "echo", str(repo))
    assert code == 0, err
    assert documents(out) == golden("ks-echo.yaml")


def test_helm_release_values_order_post_renderers_crds_labels(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "build", "hr", "demo/echo", str(repo))
    assert code == 0, err
    assert documents(out) == golden("hr-echo.yaml")


def test_release_name_shortened_crds_skipped_values_files_replace_defaults(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "build", "hr", "tools-with-a-rather-long-name", str(repo))
    assert code == 0, err
    assert documents(out) == golden("hr-tools.yaml")


def test_all_is_every_kustomization_then_every_release(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "build", "all", str(repo), "--output", "json")
    assert code == 0
    items = json.loads(out)["items"]
    producers = [o["metadata"]["annotations"]["homeops.dev/producer"] for o in items]
    assert list(dict.fromkeys(producers)) == [
        "Kustomization/demo/echo",
        "Kustomization/demo/tools",
        "Kustomization/flux-system/cluster",
        "Kustomization/flux-system/cluster-apps",
        "Kustomization/flux-system/flux-system",  # the entry point: it applies kubernetes/flux/cluster
        "HelmRelease/demo/echo",
        "HelmRelease/demo/tools-with-a-rather-long-name",
    ]
    assert all(o["metadata"]["annotations"]["homeops.dev/cluster"] == "default" for o in items)


def test_show_secrets_reveals_what_is_redacted_by_default(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, hidden, _ = cli(capsys, "build", "ks", "echo", str(repo))
    assert "plain-token-in-git" not in hidden
    _, shown, _ = cli(capsys, "build", "ks", "echo", str(repo), "--show-secrets")
    secret = next(d for d in documents(shown) if d["kind"] == "Secret")
    assert secret["stringData"] == {"token": "plain-token-in-git"}


def test_same_tree_same_bytes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = cli(capsys, "build", "all", str(repo))[1]
    second = cli(capsys, "build", "all", str(repo), "--no-render-cache")[1]
    third = cli(capsys, "build", "all", str(repo))[1]  # from the render cache
    assert first == second == third
    assert first.count("\n---\n") >= 10


def test_threads_do_not_change_the_result(repo: Path) -> None:
    snapshot = Snapshot.of(open_workspace(repo).flux)
    from homeops.render.flux import FolderFiles

    one = render(snapshot, FolderFiles(repo), options=RenderOptions(workers=1, render_cache=False))
    many = render(snapshot, FolderFiles(repo), options=RenderOptions(workers=8, render_cache=False))
    assert one == many


def test_failures_are_per_producer_and_exit_3(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = repo / "kubernetes/apps/demo/tools/app/helmrelease.yaml"
    release.write_text(release.read_text().replace("chart: charts/echo", "chart: charts/missing"))
    code, out, err = cli(capsys, "build", "hr", str(repo))
    assert code == 3
    assert "HelmRelease/demo/tools-with-a-rather-long-name: failed:" in err
    assert "charts/missing" in err and "Traceback" not in err
    assert {d["metadata"]["name"] for d in documents(out)} >= {"echo", "echo-rendered"}  # echo still renders


def test_kube_version_from_flag_and_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert DEFAULT_KUBE_VERSION == HelmOptions().kube_version
    chart = repo / "charts/echo/Chart.yaml"
    chart.write_text(chart.read_text() + 'kubeVersion: ">=1.40.0-0"\n')
    code, _, err = cli(capsys, "build", "hr", "echo", str(repo))
    assert code == 3 and "requires kubeVersion >=1.40.0-0" in err
    assert cli(capsys, "build", "hr", "echo", str(repo), "--kube-version", "1.40.1")[0] == 0
    (repo / ".homeops.yaml").write_text('kubernetes-version: "1.41.0"\n')
    assert cli(capsys, "build", "hr", "echo", str(repo))[0] == 0


def test_unknown_name_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "build", "hr", "nope", str(repo))
    assert code == 2 and "no HelmRelease named 'nope'" in err
