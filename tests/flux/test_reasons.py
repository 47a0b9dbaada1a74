"""For every file, why Flux applies it or why it does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.flux.reasons import explain
from homeops.flux.tree import FluxTree, load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


@pytest.fixture(scope="module")
def home() -> FluxTree:
    return load_flux_tree(SourceTree(FLUX / "gotk-sync"))


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("apps/echo/configmap.yaml", "applied", "applied by Kustomization flux-system/apps (cluster home)"),
        ("apps/echo/kustomization.yaml", "read", "kustomization file used by Kustomization flux-system/apps"),
        ("apps/retired/configmap.yaml", "unlisted", "commented out of apps/kustomization.yaml"),
        ("apps/forgotten/configmap.yaml", "unlisted", "not listed in apps/kustomization.yaml"),
        ("archived/old-echo/ks.yaml", "unreached", "not under any path a cluster reaches"),
        ("archived/old-echo/app/kustomization.yaml", "unreached", "archived/old-echo/ks.yaml"),
        ("templates/settings.yaml.j2", "other", "'homeops configure' renders it"),
        ("clusters/home/flux-system/gotk-sync.yaml", "applied", "flux-system/flux-system"),
    ],
)
def test_why_a_file_is_or_is_not_applied(home: FluxTree, path: str, status: str, words: str) -> None:
    first = explain(home, path)[0]
    assert (first.status, words in first.message) == (status, True), first


def test_an_entry_file_says_it_is_the_entry(home: FluxTree) -> None:
    statuses = [r.status for r in explain(home, "clusters/home/flux-system/gotk-sync.yaml")]
    assert statuses == ["applied", "entry"]


def test_patches_and_generator_inputs_say_what_they_are() -> None:
    fleet = load_flux_tree(SourceTree(FLUX / "artifact-generator"))
    (patch,) = [r for r in explain(fleet, "workloads/staging/greeter-values.yaml")]
    assert patch.status == "read" and patch.message.startswith(
        "patch used by Kustomization flux-system/workloads"
    )
    notes = explain(fleet, "workloads/staging/NOTES.md")[0]
    assert notes.status == "excluded" and ".sourceignore (pattern '*.md')" in notes.message
    chart = explain(fleet, "charts/greeter/templates/deployment.yaml")[0]
    assert chart.status == "other" and "Helm chart in charts/greeter/" in chart.message
    sourceignore = load_flux_tree(SourceTree(FLUX / "sourceignore"))
    (logo,) = explain(sourceignore, "apps/dashboard/logo.png")
    assert logo.message.startswith("generator input used by Kustomization flux-system/apps")
    scratch = explain(sourceignore, "apps/scratch/notes.yaml")[0]
    assert scratch.status == "excluded" and "pattern 'scratch/'" in scratch.message


def test_a_file_git_ignores(tmp_path: Path) -> None:
    repo = tmp_path / "home"
    shutil.copytree(FLUX / "gotk-sync", repo)
    (repo / ".gitignore").write_text("*.local.yaml\n")
    (repo / "apps" / "echo" / "secret.local.yaml").write_text("kind: Secret\n")
    flux = load_flux_tree(SourceTree(repo))
    assert explain(flux, "apps/echo/secret.local.yaml")[0].status == "untracked"


def test_explain_command(capsys: pytest.CaptureFixture[str]) -> None:
    repo = FLUX / "gotk-sync"
    assert main(["explain", str(repo / "apps" / "retired" / "configmap.yaml"), "--repo", str(repo)]) == 0
    assert capsys.readouterr().out == (
        "apps/retired/configmap.yaml\n  unlisted: commented out of apps/kustomization.yaml\n"
    )
    assert main(["explain", str(repo / "apps" / "echo"), "--repo", str(repo), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["path"] for row in rows] == ["apps/echo/configmap.yaml", "apps/echo/kustomization.yaml"]
    assert rows[0]["reasons"] == [
        {
            "status": "applied",
            "message": "applied by Kustomization flux-system/apps (cluster home)",
            "cluster": "home",
            "kustomization": "flux-system/apps",
        }
    ]
    assert main(["explain", str(repo / "nowhere.yaml"), "--repo", str(repo)]) == 2


def test_get_lists_the_unreached_kustomizations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "ks", str(FLUX / "gotk-sync"), "--unreached", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "name": "apps",
            "namespace": "flux-system",
            "file": "archived/old-echo/ks.yaml",
            "line": 2,
            "reason": "not under any path a cluster reaches",
        }
    ]
