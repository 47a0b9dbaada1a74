"""Kustomizations build from their source's artifact: source-controller's file set, not the disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from homeops.flux.tree import FluxTree, Producer, load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


def producer(flux: FluxTree, name: str) -> Producer:
    return next(p for p in flux.producers.values() if p.id.name == name)


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FLUX / name, target)
    return target


def test_a_sourceignore_replaces_the_default_excludes(tmp_path: Path) -> None:
    flux = load_flux_tree(SourceTree(FLUX / "sourceignore"))
    apps = producer(flux, "apps")
    assert apps.error is None
    (dashboard,) = apps.objects
    assert sorted(dashboard.obj["binaryData"]) == ["logo.png"]  # *.png is no default exclude any more
    assert "apps/scratch/notes.yaml" not in apps.files  # scratch/ is left out: never decoded


def test_without_a_sourceignore_images_are_not_in_the_artifact(tmp_path: Path) -> None:
    repo = copy(tmp_path, "sourceignore")
    (repo / ".sourceignore").unlink()
    shutil.rmtree(repo / "apps" / "scratch")
    apps = producer(load_flux_tree(SourceTree(repo)), "apps")
    assert apps.error is not None
    assert "logo.png" in apps.error.message and "not in the artifact" in apps.error.message


def test_spec_ignore_of_the_git_repository_replaces_the_defaults_too(tmp_path: Path) -> None:
    repo = copy(tmp_path, "sourceignore")
    (repo / ".sourceignore").unlink()
    sync = repo / "clusters" / "home" / "flux-system" / "gotk-sync.yaml"
    sync.write_text(
        sync.read_text().replace(
            "  url: https://github.com/example/home\n",
            "  url: https://github.com/example/home\n  ignore: |\n    scratch/\n",
        )
    )
    apps = producer(load_flux_tree(SourceTree(repo)), "apps")
    assert apps.error is None, apps.error
    assert [r.name for r in apps.objects] == ["dashboard"]


def test_a_file_git_does_not_track_is_not_in_the_artifact(tmp_path: Path) -> None:
    repo = copy(tmp_path, "sourceignore")
    (repo / ".gitignore").write_text("dashboard.json\n")
    apps = producer(load_flux_tree(SourceTree(repo)), "apps")
    assert apps.error is not None and "dashboard.json" in apps.error.message


def test_another_repository_is_external_and_not_built() -> None:
    flux = load_flux_tree(SourceTree(FLUX / "gotk-sync"))
    sources = flux.sources["home"]
    from homeops.model.base import ObjectRef

    assert sources.resolve(ObjectRef("GitRepository", "upstream-crds", "flux-system")) is None
    assert sources.resolve(ObjectRef("OCIRepository", "flux-system", "flux-system")) is None
    assert sources.resolve(ObjectRef("GitRepository", "home", "flux-system")) is not None
