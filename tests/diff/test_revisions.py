"""`homeops diff` between Git revisions of a real repository: add, change, delete, reorder, a side failing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main
from services import GitRemote

REPO = Path(__file__).resolve().parents[1] / "testdata" / "render" / "repo"
ECHO_HR = "kubernetes/apps/demo/echo/app/helmrelease.yaml"


@pytest.fixture
def remote(committed: Callable[[Path], GitRemote]) -> GitRemote:
    return committed(REPO)


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code = main(["diff", *argv, "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new))


def keys(result: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(c["status"], c["producer"], c["kind"], c["name"]) for c in result["changes"]}


def test_no_change_is_exit_0(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    code, result, err = diff(capsys, str(remote.work))
    assert code == 0, err
    assert result == {"changes": [], "failures": [], "unchanged": 0}
    assert "merge-base of HEAD and origin/main" in err


def test_a_changed_value_shows_in_the_release_and_in_what_it_renders(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, ECHO_HR, "d: inline", "d: changed")
    code, result, _ = diff(capsys, str(remote.work))
    assert code == 1
    assert keys(result) == {
        ("changed", "Kustomization/demo/echo", "HelmRelease", "echo"),
        ("changed", "HelmRelease/demo/echo", "ConfigMap", "echo-rendered"),
    }
    release = next(c for c in result["changes"] if c["kind"] == "HelmRelease")
    assert release["fields"] == [{"path": "spec.values.nested.d", "before": "inline", "after": "changed"}]
    _, ignored, _ = diff(capsys, str(remote.work), "--ignore", "spec.values.nested.d")
    assert keys(ignored) == {("changed", "HelmRelease/demo/echo", "ConfigMap", "echo-rendered")}


def test_added_and_deleted_apps(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    work = remote.work
    shutil.rmtree(work / "kubernetes/apps/demo/tools")
    edit(work, "kubernetes/apps/demo/kustomization.yaml", "  - ./tools/ks.yaml\n", "  - ./more/ks.yaml\n")
    (work / "kubernetes/apps/demo/more").mkdir()
    (work / "kubernetes/apps/demo/more/ks.yaml").write_text(
        (REPO / "kubernetes/apps/demo/tools/ks.yaml")
        .read_text()
        .replace("name: tools", "name: more")
        .replace("demo/tools/app", "demo/more/app")
    )
    shutil.copytree(REPO / "kubernetes/apps/demo/tools/app", work / "kubernetes/apps/demo/more/app")
    (work / "kubernetes/apps/demo/more/app/helmrelease.yaml").unlink()
    edit(work, "kubernetes/apps/demo/more/app/worker.yaml", "name: tools-worker", "name: more-worker")
    code, result, _ = diff(capsys, str(work))
    assert code == 1
    assert keys(result) == {
        ("removed", "Kustomization/flux-system/cluster-apps", "Kustomization", "tools"),
        ("added", "Kustomization/flux-system/cluster-apps", "Kustomization", "more"),
        ("removed", "Kustomization/demo/tools", "HelmRelease", "tools-with-a-rather-long-name"),
        ("removed", "Kustomization/demo/tools", "Deployment", "tools-worker"),
        ("added", "Kustomization/demo/more", "Deployment", "more-worker"),
        ("removed", "HelmRelease/demo/tools-with-a-rather-long-name", "ConfigMap",
         "tools-and-utilities-namespace-tools-with-fa6307920a05-rendered"),
        ("removed", "HelmRelease/demo/tools-with-a-rather-long-name", "Deployment",
         "tools-and-utilities-namespace-tools-with-fa6307920a05"),
        ("removed", "HelmRelease/demo/tools-with-a-rather-long-name", "Job",
         "tools-and-utilities-namespace-tools-with-fa6307920a05-setup"),
    }  # fmt: skip


def test_reordering_a_named_list_is_not_a_change(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = remote.work / "kubernetes/apps/demo/tools/app/worker.yaml"
    text = worker.read_text()
    first = '            - name: FIRST\n              value: "1"\n'
    second = '            - name: SECOND\n              value: "2"\n'
    worker.write_text(text.replace(first + second, second + first))
    assert worker.read_text() != text
    code, result, _ = diff(capsys, str(remote.work))
    assert code == 0 and result["changes"] == []


def test_a_side_that_fails_is_reported_not_shown_as_a_deletion(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, ECHO_HR, "chart: ./charts/echo", "chart: ./charts/gone")
    code, result, _ = diff(capsys, str(remote.work))
    assert code == 3
    assert [(f["producer"], f["side"]) for f in result["failures"]] == [("HelmRelease/demo/echo", "head")]
    assert "charts/gone" in result["failures"][0]["error"]
    assert not any(c["producer"] == "HelmRelease/demo/echo" for c in result["changes"])
    # The base failing (the head fixes it) is reported the same way.
    remote.commit({}, "broken")
    edit(remote.work, ECHO_HR, "chart: ./charts/gone", "chart: ./charts/echo")
    code, result, _ = diff(capsys, str(remote.work), "--base", "HEAD")
    assert code == 3
    assert [(f["producer"], f["side"]) for f in result["failures"]] == [("HelmRelease/demo/echo", "base")]


def test_base_ref_path_orig_and_formats(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    first = remote.git("rev-parse", "HEAD")
    edit(remote.work, "kubernetes/apps/demo/echo/ks.yaml", "GREETING: hello", "GREETING: bonjour")
    remote.commit({}, "bonjour")
    code, result, _ = diff(capsys, str(remote.work), "--base", first)
    assert code == 1
    assert ("changed", "HelmRelease/demo/echo", "ConfigMap", "echo-rendered") in keys(result)
    code, by_folder, _ = diff(capsys, str(remote.work), "--path-orig", str(REPO))
    assert code == 1 and by_folder["changes"] == result["changes"]
    capsys.readouterr()
    assert main(["diff", str(remote.work), "--base", first, "--output", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "| `HelmRelease/demo/echo` | 0 | 1 | 0 |" in markdown and "<details>" in markdown
    assert main(["diff", str(remote.work), "--base", first, "--output", "unified"]) == 1
    unified = capsys.readouterr().out
    assert (
        "-    greeting: hello from main (production)\n+    greeting: bonjour from main (production)"
        in unified
    )
    assert '+  values.json: \'{"gizmo":true,"greeting":"bonjour from main (production)"' in unified


def test_diff_images(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    edit(remote.work, "kubernetes/apps/demo/tools/ks.yaml", 'TOOLS_TAG: "3.1"', 'TOOLS_TAG: "3.2"')
    capsys.readouterr()
    assert main(["diff", "images", str(remote.work)]) == 1
    out = capsys.readouterr().out.splitlines()
    users = "(HelmRelease/demo/tools-with-a-rather-long-name, Kustomization/demo/tools)"
    assert out == [f"+ registry.example/tools:3.2  {users}", f"- registry.example/tools:3.1  {users}"]


def test_secret_values_are_hidden_but_their_changes_show(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        remote.work, "kubernetes/apps/demo/echo/app/secret.yaml", "plain-token-in-git", "rotated-token-value"
    )
    capsys.readouterr()
    assert main(["diff", str(remote.work)]) == 1
    out = capsys.readouterr().out
    assert "stringData.token" in out
    assert "plain-token-in-git" not in out and "rotated-token-value" not in out
    assert main(["diff", str(remote.work), "--show-secrets"]) == 1
    assert "rotated-token-value" in capsys.readouterr().out


def test_a_kustomization_failing_hides_nothing_it_applies(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    (remote.work / "kubernetes/apps/demo/tools/app/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [./gone.yaml]\n"
    )
    code, result, _ = diff(capsys, str(remote.work))
    assert code == 3
    failures = {(f["producer"], f["side"]): f["error"] for f in result["failures"]}
    assert set(failures) == {
        ("Kustomization/demo/tools", "head"),
        ("HelmRelease/demo/tools-with-a-rather-long-name", "head"),
    }
    assert "gone.yaml" in failures[("Kustomization/demo/tools", "head")]
    assert failures[("HelmRelease/demo/tools-with-a-rather-long-name", "head")] == (
        "not rendered: Kustomization/demo/tools failed"
    )
    assert result["changes"] == []


CRD = "charts/echo/crds/gizmos.yaml"


def crd_change(result: dict[str, Any]) -> dict[str, Any]:
    (change,) = [c for c in result["changes"] if c["kind"] == "CustomResourceDefinition"]
    return change


def test_a_chart_crd_change_is_flagged_when_the_upgrade_skips_crds(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, CRD, "    plural: gizmos\n", "    plural: gizmos\n    shortNames: [gz]\n")
    code, result, _ = diff(capsys, str(remote.work))
    assert code == 1
    change = crd_change(result)
    assert change["status"] == "changed" and change["producer"] == "HelmRelease/demo/echo"
    assert change["fields"] == [{"path": "spec.names.shortNames", "before": None, "after": ["gz"]}]
    assert "upgrade.crds is Skip" in change["note"]
    capsys.readouterr()
    main(["diff", str(remote.work)])
    assert "note: not applied: the release's upgrade.crds is Skip" in capsys.readouterr().out


def test_create_replace_rolls_crd_changes_out_and_create_only_adds(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, CRD, "    plural: gizmos\n", "    plural: gizmos\n    shortNames: [gz]\n")
    edit(remote.work, ECHO_HR, "  install:\n", "  upgrade:\n    crds: CreateReplace\n  install:\n")
    _, result, _ = diff(capsys, str(remote.work))
    assert crd_change(result)["note"] is None
    edit(remote.work, ECHO_HR, "crds: CreateReplace\n  install:", "crds: Create\n  install:")
    _, result, _ = diff(capsys, str(remote.work))
    assert "upgrade.crds is Create, which only creates missing CRDs" in crd_change(result)["note"]


def test_a_crd_dropped_from_the_chart_stays_in_the_cluster(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    (remote.work / CRD).unlink()
    _, result, _ = diff(capsys, str(remote.work))
    change = crd_change(result)
    assert change["status"] == "removed"
    assert change["note"].startswith("Helm never deletes a CRD")
