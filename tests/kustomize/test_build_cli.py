"""``homeops kustomize build DIR`` equals ``kubectl kustomize DIR`` from any working directory: inside
the repository, outside it, and where no ``.git`` is above the folder (``../base`` then builds as
kustomize builds it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from kustomize_testlib import FIXTURES, canonical, kubectl_path, kustomization_folders

from homeops.cli.main import main
from homeops.load.yamlio import parse


def _kubectl(folder: Path, cwd: Path) -> list[Any] | None:
    done = subprocess.run(
        [kubectl_path(), "kustomize", str(folder)], capture_output=True, check=False, timeout=120, cwd=cwd
    )
    if done.returncode != 0:
        return None
    return [d for d in parse(done.stdout).documents if isinstance(d, dict)]


def _homeops(folder: Path, capsys: pytest.CaptureFixture[str]) -> list[Any] | None:
    code = main(["kustomize", "build", str(folder), "-o", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return json.loads(out) if code == 0 else None


def _project(tmp: Path) -> Path:
    project = tmp / "project"
    (project / "base").mkdir(parents=True)
    (project / "overlays" / "prod").mkdir(parents=True)
    (project / "base" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (project / "base" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
        "data:\n  a: yes\n  b: 1e3\n  c: 2024-01-31\n"
    )
    (project / "overlays" / "prod" / "kustomization.yaml").write_text(
        "resources: [../../base]\nnamePrefix: prod-\n"
        "configMapGenerator:\n  - name: extra\n    literals: [x=on]\n"
    )
    return project


@pytest.mark.parametrize("with_git", [False, True], ids=["no-git", "git"])
@pytest.mark.parametrize("where", ["inside", "outside", "relative"])
def test_same_objects_from_any_working_directory(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    with_git: bool,
    where: str,
) -> None:
    kubectl_path()
    project = _project(tmp_path)
    if with_git:
        (project / ".git").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    overlay = project / "overlays" / "prod"
    cwd = {"inside": overlay, "outside": elsewhere, "relative": elsewhere}[where]
    monkeypatch.chdir(cwd)
    target = Path("../project/overlays/prod") if where == "relative" else overlay
    expected = _kubectl(target, cwd)
    assert expected is not None
    actual = _homeops(target, capsys)
    assert actual is not None
    assert canonical(actual) == canonical(expected)
    names = sorted(o["metadata"]["name"] for o in actual)
    assert names[0].startswith("prod-extra-") and names[1] == "prod-settings"
    settings = next(o for o in actual if o["metadata"]["name"] == "prod-settings")
    assert settings["data"] == {"a": "yes", "b": 1000, "c": "2024-01-31T00:00:00Z"}


def test_the_yaml_output_reads_back_with_the_same_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubectl_path()
    overlay = _project(tmp_path) / "overlays" / "prod"
    assert main(["kustomize", "build", str(overlay)]) == 0
    mine = capsys.readouterr().out
    theirs = subprocess.run(
        [kubectl_path(), "kustomize", str(overlay)], capture_output=True, check=True
    ).stdout
    assert mine.encode() == theirs  # sorted keys, quoting where a Go reader would retype, like kubectl


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_and_fixture_folders_from_outside_their_repository(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    roots = [p for p in sorted(corpus.iterdir()) if p.is_dir()]
    # the fixtures have no .git of their own: copied beside one, they are a repository like the corpus
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures, symlinks=True)
    roots += [p for p in sorted(fixtures.iterdir()) if p.is_dir() and p.name != "errors"]
    problems: list[str] = []
    compared = 0
    for root in roots:
        folders = kustomization_folders(root)
        with ThreadPoolExecutor(max_workers=4) as pool:
            expected = list(pool.map(lambda f: _kubectl(f, elsewhere), folders))
        for folder, want in zip(folders, expected, strict=True):
            have = _homeops(folder, capsys)
            compared += 1
            if (want is None) != (have is None):
                problems.append(
                    f"{folder}: kubectl {'fails' if want is None else 'builds'}, homeops does not"
                )
            elif want is not None and have is not None and canonical(want) != canonical(have):
                problems.append(f"{folder}: objects differ")
    assert compared > 300
    assert not problems, "\n".join(problems[:20])


def test_a_symlink_does_not_widen_the_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without a repository, the root is what the kustomizations name by path; a symlink that leads
    # elsewhere stays outside it (kubectl would follow it, homeops refuses and says where).
    project = _project(tmp_path)
    secret = tmp_path / "secret" / "base"
    shutil.copytree(project / "base", secret)
    (project / "overlays" / "prod" / "linked").symlink_to(secret)
    (project / "overlays" / "prod" / "kustomization.yaml").write_text("resources: [linked]\n")
    assert main(["kustomize", "build", str(project / "overlays" / "prod")]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "kustomization.yaml:1: resource 'linked' is a symlink that points outside the repository" in err
