"""``homeops validate`` run in-process: the schema step alone, its exit codes, outputs and options."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
FAIL = TESTDATA / "rules" / "SCH001" / "fail"
PASS = TESTDATA / "rules" / "SCH001" / "pass"
RENDER_REPO = TESTDATA / "render" / "repo"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _err = run(capsys, *argv, "--output", "json")
    return code, json.loads(out)


def test_errors_at_their_lines_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(FAIL))
    assert code == 1
    assert (
        "kubernetes/apps/default/secret-app/app/deployment.yaml:7 SCH001 error: "
        'Deployment default/secret-app: spec.replicas must be an integer, got string "two"'
    ) in out
    assert (
        "kubernetes/apps/default/secret-app/ks.yaml:9 SCH001 error: Kustomization default/secret-app" in out
    )
    assert "7 errors" in err and "homeops: validated" in err


def test_a_clean_repository_exits_0_and_says_what_it_validated(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = as_json(capsys, str(PASS))
    assert code == 0 and report["findings"] == []
    validation = report["validation"]
    assert validation["kubernetes_version"] == "1.33.0"
    assert validation["validated"] == 7 and validation["not_validated"] == []
    names = [source["name"] for source in validation["sources"]]
    assert "kubernetes-validate (PyPI)" in names
    (kubernetes,) = [s for s in validation["sources"] if s["name"] == "kubernetes-validate (PyPI)"]
    assert kubernetes["licence"] == "Apache-2.0" and kubernetes["version"]


def _repo_with(tmp_path: Path, manifest: str, config: str = "") -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(PASS, repo)
    app = repo / "kubernetes" / "apps" / "default" / "secret-app" / "app"
    (app / "claim.yaml").write_text(manifest)
    kustomization = app / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace(
            "  - ./configmap.yaml\n", "  - ./configmap.yaml\n  - ./claim.yaml\n"
        )
    )
    if config:
        (repo / ".homeops.yaml").write_text(config)
    return repo


# resource.k8s.io/v1 is served from Kubernetes 1.34 on
CLAIM = """---
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu
spec:
  spec:
    devices:
      request: []
"""


def test_the_kubernetes_version_decides_what_is_known(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo_with(tmp_path, CLAIM)
    code, report = as_json(capsys, str(repo))
    assert code == 0 and report["validation"]["not_validated"] == [
        {"kind": "resource.k8s.io/v1/ResourceClaimTemplate", "objects": 1}
    ]
    code, report = as_json(capsys, str(repo), "--kubernetes-version", "1.34.1")
    assert code == 1 and report["validation"]["kubernetes_version"] == "1.34.0"
    (finding,) = report["findings"]
    assert (finding["rule"], finding["path"], finding["line"]) == (
        "SCH002",
        "kubernetes/apps/default/secret-app/app/claim.yaml",
        9,
    )
    repo_config = _repo_with(tmp_path / "b", CLAIM, 'kubernetes-version: "1.35.0"\n')
    code, report = as_json(capsys, str(repo_config))
    assert code == 1 and report["validation"]["kubernetes_version"] == "1.35.0"


def test_kinds_without_a_schema_are_listed_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    widget = "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: two\n"
    repo = _repo_with(tmp_path, widget + widget.replace("name: w", "name: v"))
    code, _out, err = run(capsys, str(repo))
    assert code == 0
    assert "not validated (no schema): 2 objects of 1 kinds:\n  example.com/v1/Widget (2)" in err


def test_charts_render_from_the_cache_and_their_crds_join(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(RENDER_REPO, repo)
    code, report = as_json(capsys, str(repo), "--charts")
    assert code == 0, report["findings"]
    assert report["validation"]["charts"]["rendered"] > 0
    assert report["validation"]["not_validated"] == []  # the chart's Gizmo, by the CRD it ships
    release = repo / "kubernetes" / "apps" / "demo" / "echo" / "app" / "helmrelease.yaml"
    release.write_text(release.read_text().replace('value: "yes"', "value: 1"))
    code, report = as_json(capsys, str(repo), "--charts")
    assert code == 1
    (finding,) = report["findings"]
    assert finding["path"] == "kubernetes/apps/demo/echo/app/helmrelease.yaml" and finding["rule"] == "SCH001"
    assert finding["message"] == (
        "HelmRelease demo/echo renders Deployment demo/echo: "
        "spec.template.spec.containers[0].env[0].value must be a string, got number 1"
    )


def test_a_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, str(tmp_path / "nowhere"))
    assert code == 2 and "homeops: error" in err


def test_custom_resources_are_validated_against_the_crds_charts_ship(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(RENDER_REPO, repo)
    app = repo / "kubernetes" / "apps" / "demo" / "echo" / "app"
    (app / "gizmo.yaml").write_text(
        "---\napiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: mine\nspec:\n  size: 1\n"
    )
    kustomization = app / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("resources:\n", "resources:\n  - ./gizmo.yaml\n")
    )
    # the chart is in the repository (its crds/ folder is read as written) and, with --charts, rendered
    for options in ((), ("--charts",)):
        code, report = as_json(capsys, str(repo), *options)
        assert code == 1
        (finding,) = report["findings"]
        # the chart's CRD declares no spec: server-side apply rejects it
        assert (finding["rule"], finding["path"], finding["line"]) == (
            "SCH002",
            "kubernetes/apps/demo/echo/app/gizmo.yaml",
            6,
        )
        assert finding["message"] == "Gizmo demo/mine: spec: field not declared in schema"
