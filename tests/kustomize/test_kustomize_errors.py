"""Bad input: every failure is a KustomizeError naming the file and line, and kubectl fails too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kustomize_testlib import FIXTURES, kubectl_build, kustomization_folders

from homeops.errors import KustomizeError, UnsupportedFeature
from homeops.kustomize import build
from homeops.load.tree import SourceTree

ERRORS = FIXTURES / "errors"
# Folders of errors/ that are not failures themselves (helpers of other cases).
HELPERS = {"duplicate/again", "component-as-resource/component"}
CASES = [
    p.relative_to(ERRORS).as_posix()
    for p in kustomization_folders(ERRORS)
    if p.relative_to(ERRORS).as_posix() not in HELPERS
]


@pytest.mark.parametrize("case", CASES)
def test_native_fails_where_kubectl_fails(case: str) -> None:
    expected = kubectl_build(ERRORS / case)
    assert expected.failed, f"kubectl kustomize builds {case}; the fixture does not test a failure"
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(ERRORS), case, flux=True, fallback=False)
    assert caught.value.where is not None, str(caught.value)
    assert caught.value.where.path.startswith(case.split("/")[0] + "/")
    assert caught.value.where.line > 0, str(caught.value)
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize(
    ("case", "path", "line", "words"),
    [
        ("missing-resource", "missing-resource/kustomization.yaml", 5, "'missing.yaml' does not exist"),
        ("malformed", "malformed/kustomization.yaml", 3, "did not find expected key"),
        ("unknown-field", "unknown-field/kustomization.yaml", 3, "unknown field 'resource'"),
        ("wrong-type", "wrong-type/kustomization.yaml", 1, "namespace must be a string"),
        ("cycle", "cycle/kustomization.yaml", 3, "cycle"),
        ("duplicate", "duplicate/kustomization.yaml", 3, "defined twice"),
        ("patch-no-target", "patch-no-target/kustomization.yaml", 4, "no object matches"),
        ("patch-rename-onto", "patch-rename-onto/kustomization.yaml", 4, "makes two objects the same"),
        # the JSON patch renames without a check; the strategic patch after it checks every object
        ("json-rename-then-patch", "json-rename-then-patch/kustomization.yaml", 11, "makes two objects"),
        ("no-name", "no-name/noname.yaml", 1, "has no metadata.name"),
        ("bad-yaml-resource", "bad-yaml-resource/broken.yaml", 5, "cannot parse"),
    ],
)
def test_error_names_file_and_line(case: str, path: str, line: int, words: str) -> None:
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(ERRORS), case, flux=True, fallback=False)
    assert caught.value.where is not None
    assert (caught.value.where.path, caught.value.where.line) == (path, line)
    assert words in caught.value.message
    assert caught.value.hint


def _repo(tmp_path: Path, kustomization: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "kustomization.yaml").write_text(kustomization)
    (repo / "app" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n")
    (tmp_path / "outside.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\n")
    return repo


@pytest.mark.parametrize("flux", [False, True])
def test_path_leaving_the_repository_is_refused(tmp_path: Path, flux: bool) -> None:
    repo = _repo(tmp_path, "resources:\n  - cm.yaml\n  - ../../outside.yaml\n")
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(repo), "app", flux=flux, fallback=False)
    assert "leaves the repository" in caught.value.message
    assert (caught.value.where.path, caught.value.where.line) == ("app/kustomization.yaml", 3)  # type: ignore[union-attr]


def test_absolute_path_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, f"resources:\n  - {tmp_path / 'outside.yaml'}\n")
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(repo), "app", flux=True, fallback=False)
    assert "absolute path" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == 2


@pytest.mark.parametrize("what", ["resource", "patch", "generator file"])
def test_symlink_out_of_the_repository_is_refused(tmp_path: Path, what: str) -> None:
    kustomization = {
        "resource": "resources:\n  - cm.yaml\n  - link.yaml\n",
        "patch": "resources:\n  - cm.yaml\npatches:\n  - path: link.yaml\n",
        "generator file": "configMapGenerator:\n  - name: x\n    files:\n      - link.yaml\n",
    }[what]
    repo = _repo(tmp_path, kustomization)
    os.symlink(tmp_path / "outside.yaml", repo / "app" / "link.yaml")
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(repo), "app", flux=True, fallback=False)
    assert "outside the repository" in caught.value.message
    assert caught.value.where is not None
    assert caught.value.where.path == "app/kustomization.yaml"
    assert caught.value.where.line > 0


def test_root_only_restriction_without_flux(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "app").mkdir()
    (repo / "base" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n")
    (repo / "app" / "kustomization.yaml").write_text("resources:\n  - ../base/cm.yaml\n")
    # kubectl kustomize refuses a file outside the folder by default; Flux does not.
    assert kubectl_build(repo / "app", restrict=True).failed
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(repo), "app", flux=False, fallback=False)
    assert "LoadRestrictionsRootOnly" in caught.value.message
    result = build(SourceTree(repo), "app", flux=True, fallback=False)
    assert [r.name for r in result.resources] == ["shared"]


def test_flux_refuses_a_folder_with_non_kubernetes_yaml() -> None:
    with pytest.raises(KustomizeError) as caught:
        build(SourceTree(FIXTURES / "flux-generated"), "broken/app", flux=True, fallback=False)
    assert caught.value.where is not None
    assert caught.value.where.path == "broken/app/values.yaml"
    assert "Flux cannot decode" in caught.value.message


def test_missing_folder_and_missing_kustomization() -> None:
    tree = SourceTree(FIXTURES / "flux-generated")
    with pytest.raises(KustomizeError, match="does not exist"):
        build(tree, "nowhere")
    with pytest.raises(KustomizeError, match=r"has no kustomization\.yaml"):
        build(tree, "apps", flux=False)


def test_unsupported_feature_without_fallback_names_feature_and_line() -> None:
    with pytest.raises(UnsupportedFeature) as caught:
        build(SourceTree(FIXTURES / "fallback"), "app", fallback=False)
    assert caught.value.feature == "replacements"
    assert caught.value.where is not None
    assert (caught.value.where.path, caught.value.where.line) == ("app/kustomization.yaml", 6)
