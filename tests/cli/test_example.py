"""The bundled example (examples/home-ops) as a new user first meets it: the README's commands on it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from homeops.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"


def test_explain_finds_the_example_repository_without_repo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example lives inside homeops' own Git repository; its .homeops.yaml marks its root, as it
    # marks any repository's, so explain does not read the whole homeops checkout as the repository.
    release = EXAMPLE / "kubernetes" / "main" / "apps" / "media" / "immich" / "app" / "helmrelease.yaml"
    assert main(["explain", str(release)]) == 0
    assert capsys.readouterr().out == (
        "kubernetes/main/apps/media/immich/app/helmrelease.yaml\n"
        "  applied: applied by Kustomization media/immich (cluster main)\n"
    )
    monkeypatch.chdir(EXAMPLE)
    install = os.path.join("kubernetes", "main", "apps", "media", "immich", "install.yaml")
    assert main(["explain", install]) == 0
    assert "applied by Kustomization flux-system/cluster-apps" in capsys.readouterr().out


@pytest.mark.usefixtures("isolated_env")
def test_build_without_a_key_says_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    # the onepassword app's Secret is SOPS-encrypted: without a key it renders as a placeholder
    assert main(["build", "ks", "onepassword", str(EXAMPLE)]) == 0
    err = capsys.readouterr().err
    assert "onepassword-connect-secret: SOPS-encrypted and no age key was given" in err
    assert err.count("hint: give the age key with --age-key FILE") == 1


def test_get_ks_counts_objects_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "ks", str(EXAMPLE), "-o", "json"]) == 0
    status = {row["name"]: row["status"] for row in json.loads(capsys.readouterr().out)}
    assert status["cert-manager"] == "1 object"
    assert status["onepassword"] == "3 objects"


def test_every_finding_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    install = repo / "kubernetes" / "main" / "apps" / "media" / "immich" / "install.yaml"
    install.write_text(install.read_text().replace("dependsOn:", "dependsOn:\n    - name: nothere", 1))
    app = repo / "kubernetes" / "main" / "apps" / "media" / "immich" / "app"
    (app / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n data: [\n")
    (app / "kustomization.yaml").write_text((app / "kustomization.yaml").read_text() + "  - ./broken.yaml\n")
    assert main(["check", str(repo), "--no-cache"]) == 1
    out = capsys.readouterr().out
    findings = [line for line in out.splitlines() if " error: " in line]
    assert any(" DEP001 " in line for line in findings) and any(" LOAD001 " in line for line in findings)
    assert out.count("    fix: ") == len(findings), out
    assert "fix: Use the exact name and namespace of a Kustomization" in out  # DEP001's own fix


def test_explain_in_a_folder_without_flux_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "values.yaml").write_text("a: 1\n")
    assert main(["explain", str(tmp_path / "values.yaml"), "--repo", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "nothing Flux-shaped found" in err and "guessed" not in err


def test_an_empty_listing_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    # a table of headers alone reads like a failure; the note on stderr says nothing was found
    assert main(["get", "ks", str(EXAMPLE), "--unreached"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["NAME", "NAMESPACE", "FILE", "LINE", "REASON"]
    assert "no Kustomization or HelmRelease that no cluster applies found" in err
    # a cluster the repository does not have is a usage error, as for graph, build and simulate
    assert main(["get", "hr", str(EXAMPLE), "--cluster", "elsewhere"]) == 2
    err = capsys.readouterr().err
    assert "no cluster 'elsewhere'" in err and "clusters: main" in err
