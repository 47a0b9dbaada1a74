"""ArtifactGenerator outputs are built as source-watcher's builder builds them; Kustomizations and
HelmReleases read those trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.flux.artifacts import Assembled, artifact_specs, assemble
from homeops.flux.tree import FluxTree, Producer, load_flux_tree
from homeops.load import yamlio
from homeops.load.tree import SourceTree
from homeops.model.base import Origin, Resource

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"

REPO = {
    "deploy/app.yaml": "deploy/app.yaml",
    "deploy/db/cluster.yaml": "deploy/db/cluster.yaml",
    "deploy/README.md": "deploy/README.md",
    "deploy/testdata/bad.yaml": "deploy/testdata/bad.yaml",
    "deploy/logo.png": "deploy/logo.png",
    "configs/prod.yaml": "configs/prod.yaml",
    "configs/dev/extra.yaml": "configs/dev/extra.yaml",
}


def generator(*copies: dict[str, Any], sources: list[dict[str, str]] | None = None) -> Resource:
    obj = {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "gen", "namespace": "apps"},
        "spec": {
            "sources": sources or [{"alias": "repo", "kind": "GitRepository", "name": "flux-system"}],
            "artifacts": [{"name": "out", "copy": list(copies)}],
        },
    }
    return Resource(obj, Origin("gen.yaml", 1))


def build(*copies: dict[str, Any], inputs: dict[str, Any] | None = None) -> Assembled:
    (spec,) = artifact_specs(generator(*copies))
    return assemble(spec, inputs if inputs is not None else {"repo": REPO})


@pytest.mark.parametrize(
    ("source", "target", "files"),
    [
        # dir/** drops the prefix; every match is copied with what is below it
        ("@repo/deploy/**", "@artifact/", {"app.yaml", "db/cluster.yaml", "README.md", "testdata/bad.yaml"}),
        # any other glob keeps the whole matched path below the destination
        ("@repo/deploy/*.yaml", "@artifact/apps/", {"apps/deploy/app.yaml"}),
        # a folder named without glob becomes a sub-folder of the destination
        ("@repo/configs/", "@artifact/apps/", {"apps/configs/prod.yaml", "apps/configs/dev/extra.yaml"}),
        # the whole source
        ("@repo/", "@artifact/all/", {f"all/{p}" for p in REPO if not p.endswith(".png")}),
        # one file to a file name, or into a folder
        ("@repo/configs/prod.yaml", "@artifact/apps/app.yaml", {"apps/app.yaml"}),
        ("@repo/configs/prod.yaml", "@artifact/apps/", {"apps/prod.yaml"}),
    ],
)
def test_copy_semantics(source: str, target: str, files: set[str]) -> None:
    result = build({"from": source, "to": target})
    assert result.error is None
    assert set(result.files) == files


def test_a_renamed_file_keeps_its_repository_origin() -> None:
    result = build({"from": "@repo/configs/prod.yaml", "to": "@artifact/apps/app.yaml"})
    assert result.files == {"apps/app.yaml": "configs/prod.yaml"}


def test_excludes_match_paths_and_bare_names() -> None:
    result = build({"from": "@repo/deploy/**", "to": "@artifact/", "exclude": ["*.md", "**/testdata/**"]})
    assert set(result.files) == {"app.yaml", "db/cluster.yaml"}


def test_the_archive_leaves_out_what_source_controller_leaves_out() -> None:
    result = build({"from": "@repo/deploy/**", "to": "@artifact/"})
    assert "logo.png" not in result.files  # copied, then dropped by the archive's default patterns


def test_later_copies_replace_earlier_files() -> None:
    result = build(
        {"from": "@repo/configs/prod.yaml", "to": "@artifact/values.yaml"},
        {"from": "@repo/configs/dev/extra.yaml", "to": "@artifact/values.yaml"},
    )
    assert result.files == {"values.yaml": "configs/dev/extra.yaml"}


@pytest.mark.parametrize(
    ("copy", "message"),
    [
        ({"from": "@repo/nothing/*.yaml", "to": "@artifact/"}, "no files match"),
        ({"from": "@repo/nothing.yaml", "to": "@artifact/"}, "does not exist"),
        ({"from": "@other/deploy/**", "to": "@artifact/"}, "source alias 'other' not found"),
        ({"from": "@repo/deploy/*.md", "to": "@artifact/", "exclude": ["*.md"]}, "were excluded"),
        ({"from": "repo/deploy", "to": "@artifact/"}, "must be '@alias/pattern'"),
        ({"from": "@repo/deploy/**", "to": "out/"}, "must start with '@artifact/'"),
    ],
)
def test_what_source_watcher_refuses(copy: dict[str, Any], message: str) -> None:
    result = build(copy)
    assert result.error is not None and message in result.error


def test_inputs_from_outside_the_repository_leave_it_partial() -> None:
    result = build({"from": "@repo/deploy/**", "to": "@artifact/"}, inputs={"repo": None})
    assert result.partial and result.error is None and result.files == {}


def test_merge_strategy_merges_yaml_like_helm_values(tmp_path: Path) -> None:
    contents = {
        "a.yaml": b"image:\n  tag: '1'\n  pull: Always\nlist: [1, 2]\n",
        "b.yaml": b"image:\n  tag: '2'\nlist: [3]\n",
    }
    (spec,) = artifact_specs(
        generator(
            {"from": "@repo/a.yaml", "to": "@artifact/values.yaml"},
            {"from": "@repo/b.yaml", "to": "@artifact/values.yaml", "strategy": "Merge"},
        )
    )
    result = assemble(spec, {"repo": {"a.yaml": "a.yaml", "b.yaml": "b.yaml"}}, contents.__getitem__)
    assert yaml.safe_load(result.merged["values.yaml"]) == {
        "image": {"tag": "2", "pull": "Always"},
        "list": [3],
    }


def test_merged_yaml_keeps_strings_that_a_go_reader_would_retype() -> None:
    # kustomize and Helm read the merged file with go-yaml: 1e3 and 0o17 unquoted are numbers there
    contents = {"a.yaml": b"a: '1e3'\n", "b.yaml": b"b: '0o17'\nc: 'on'\n"}
    (spec,) = artifact_specs(
        generator(
            {"from": "@repo/a.yaml", "to": "@artifact/values.yaml"},
            {"from": "@repo/b.yaml", "to": "@artifact/values.yaml", "strategy": "Merge"},
        )
    )
    result = assemble(spec, {"repo": {"a.yaml": "a.yaml", "b.yaml": "b.yaml"}}, contents.__getitem__)
    parsed = yamlio.parse(result.merged["values.yaml"])
    assert list(parsed.documents) == [{"a": "1e3", "b": "0o17", "c": "on"}]


# -- the layout of fluxcd/flux2-kustomize-helm-example today ---------------------------------------


def producer(flux: FluxTree, cluster: str, name: str) -> Producer:
    return next(p for (c, i), p in flux.producers.items() if c == cluster and i.name == name)


@pytest.fixture(scope="module")
def fleet() -> FluxTree:
    return load_flux_tree(SourceTree(FLUX / "artifact-generator"))


def test_kustomizations_of_external_artifacts_build_from_the_generated_trees(fleet: FluxTree) -> None:
    assert {(c, i.name) for c, i in fleet.producers} == {
        (cluster, name)
        for cluster in ("staging", "production")
        for name in ("flux-system", "platform-controllers", "platform-settings", "workloads")
    }
    workloads = producer(fleet, "staging", "workloads")
    assert workloads.path == "staging" and workloads.error is None
    assert workloads.source is not None and "ArtifactGenerator flux-system/fleet" in workloads.source
    # origins and files are the repository's own paths, not the artifact's
    assert {r.origin.path for r in workloads.objects} == {
        "workloads/base/greeter/namespace.yaml",
        "workloads/base/greeter/release.yaml",
    }
    assert "workloads/staging/greeter-values.yaml" in workloads.files
    assert "workloads/staging/NOTES.md" not in workloads.files


def test_overlay_patches_and_flux_patches_apply_per_environment(fleet: FluxTree) -> None:
    def greeter(cluster: str) -> dict[str, Any]:
        release = next(r for r in producer(fleet, cluster, "workloads").objects if r.kind == "HelmRelease")
        return release.obj["spec"]["values"]

    assert greeter("staging") == {"message": "hello from staging", "replicas": 1}
    assert greeter("production") == {"message": "hello", "replicas": 3}
    tier = {
        c: producer(fleet, c, "platform-settings").objects[0].obj["data"]["tier"]
        for c in ("staging", "production")
    }
    assert tier == {"staging": "testing", "production": "live"}


def test_a_failing_copy_fails_the_kustomizations_of_that_artifact(tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "fleet"
    shutil.copytree(FLUX / "artifact-generator", repo)
    generator = repo / "clusters" / "staging" / "artifacts.yaml"
    generator.write_text(generator.read_text().replace("@repo/platform/**", "@repo/platfrom/**"))
    flux = load_flux_tree(SourceTree(repo))
    controllers = producer(flux, "staging", "platform-controllers")
    assert controllers.error is not None
    assert "no files match pattern 'platfrom/**'" in controllers.error.message
    assert (
        controllers.error.where is not None
        and controllers.error.where.path == "clusters/staging/artifacts.yaml"
    )
    assert producer(flux, "production", "platform-controllers").error is None


def test_build_and_diff_work_on_the_artifact_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_env: None
) -> None:
    import json
    import shutil
    import subprocess

    from homeops.cli.main import main

    repo = tmp_path / "fleet"
    shutil.copytree(FLUX / "artifact-generator", repo)
    assert main(["build", "all", str(repo), "--offline", "-o", "json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    rendered = {
        (
            o["metadata"]["annotations"]["homeops.dev/cluster"],
            o["metadata"]["annotations"]["homeops.dev/producer"],
        )
        for o in items
        if o["kind"] == "Deployment"
    }
    assert rendered == {
        (cluster, f"HelmRelease/{name}/{name}")
        for cluster in ("staging", "production")
        for name in ("gateway", "greeter")
    }
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "fleet"]):
        subprocess.run(["git", *argv], cwd=repo, check=True)
    values = repo / "workloads" / "staging" / "greeter-values.yaml"
    values.write_text(values.read_text().replace("hello from staging", "hi from staging"))
    assert main(["diff", str(repo), "-o", "json"]) == 1
    changes = json.loads(capsys.readouterr().out)
    assert "hi from staging" in json.dumps(changes)
    assert "production" not in json.dumps(changes)


def test_check_finds_nothing_wrong_in_the_artifact_layout(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from homeops.cli.main import main

    assert main(["check", str(FLUX / "artifact-generator"), "-o", "json", "--no-cache"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f for f in findings if f["severity"] != "info"] == []


def test_an_external_artifact_nothing_generates_is_a_missing_source(tmp_path: Path) -> None:
    import shutil

    from homeops.rules.engine import run_checks
    from homeops.workspace import open_workspace

    repo = tmp_path / "fleet"
    shutil.copytree(FLUX / "artifact-generator", repo)
    workloads = repo / "clusters" / "staging" / "workloads.yaml"
    workloads.write_text(workloads.read_text().replace("name: workloads\n  path", "name: workload\n  path"))
    chart = repo / "platform" / "controllers" / "gateway.yaml"
    chart.write_text(
        chart.read_text().replace(
            "  chart:\n    spec:\n      chart: ./charts/greeter\n      reconcileStrategy: Revision\n"
            "      sourceRef:\n        kind: GitRepository\n        name: flux-system\n"
            "        namespace: flux-system\n",
            "  chartRef:\n    kind: ExternalArtifact\n    name: platform\n    namespace: flux-system\n",
        )
    )
    workspace = open_workspace(repo, use_cache=False)
    found = [(f.path, f.message) for f in run_checks(workspace.flux, workspace.config, select=["REF002"])]
    assert found == [
        (
            "clusters/staging/workloads.yaml",
            "Kustomization flux-system/workloads: ExternalArtifact flux-system/workload does not exist",
        )
    ]
