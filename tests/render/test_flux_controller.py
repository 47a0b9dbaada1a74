"""helm-controller's rendering path beyond the values: post-render strategies, hooks, CRD labels.

Each test edits the echo HelmRelease of the fixture repository (a chart with a CRD, a Deployment and a
``pre-install`` Job hook; postRenderers that patch the Deployment and retag ``registry.example/echo``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from render_testlib import cli, copy_repo, documents

ECHO_HR = "kubernetes/apps/demo/echo/app/helmrelease.yaml"
ORIGIN = {"helm.toolkit.fluxcd.io/name": "echo", "helm.toolkit.fluxcd.io/namespace": "demo"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def set_spec(repo: Path, text: str) -> None:
    """Add ``text`` (indented spec fields) to the echo HelmRelease's spec."""
    path = repo / ECHO_HR
    path.write_text(path.read_text().replace("spec:\n", f"spec:\n{text}", 1))


def echo(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    code, out, err = cli(capsys, "build", "hr", "echo", str(repo))
    assert code == 0, err
    return {d["kind"]: d for d in documents(out)}


def labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("labels") or {})


def image(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def test_crds_carry_the_origin_labels_helm_controller_applies_them_with(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_spec(repo, "  commonMetadata:\n    labels: {team: a}\n")
    objects = echo(repo, capsys)
    assert labels(objects["CustomResourceDefinition"]) == ORIGIN  # commonMetadata is not for crds/
    assert labels(objects["Deployment"]) == {"team": "a", **ORIGIN}


def test_by_default_hooks_go_through_the_post_renderers_with_the_templates(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_spec(repo, "  commonMetadata:\n    annotations: {owner: me}\n")
    job = echo(repo, capsys)["Job"]
    assert image(job) == "registry.example/echo:2.0"
    assert labels(job) == ORIGIN and job["metadata"]["annotations"]["owner"] == "me"


def test_nohooks_leaves_hooks_as_the_chart_renders_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_spec(repo, "  postRenderStrategy: nohooks\n  commonMetadata:\n    labels: {team: a}\n")
    objects = echo(repo, capsys)
    assert image(objects["Job"]) == "registry.example/echo:1.0" and labels(objects["Job"]) == {}
    assert image(objects["Deployment"]) == "registry.example/echo:2.0"
    assert labels(objects["Deployment"]) == {"team": "a", **ORIGIN}


def test_a_patch_naming_its_target_finds_it_only_in_a_stream_that_holds_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patch without ``target`` applies to the object it names; kustomize fails when the stream has
    none. Combined, the Deployment is in the one stream; separate, the hooks' stream lacks it."""
    patch = (
        "  postRenderers:\n    - kustomize:\n        patches:\n          - patch: |\n"
        "              apiVersion: apps/v1\n              kind: Deployment\n"
        "              metadata:\n                name: echo\n                annotations: {patched: 'yes'}\n"
    )
    text = (repo / ECHO_HR).read_text()
    (repo / ECHO_HR).write_text(text[: text.index("  postRenderers:")] + patch)
    assert echo(repo, capsys)["Deployment"]["metadata"]["annotations"]["patched"] == "yes"
    set_spec(repo, "  postRenderStrategy: separate\n")
    code, _, err = cli(capsys, "build", "hr", "echo", str(repo))
    assert code == 3 and "postRenderers[0].kustomize" in err


def test_separate_streams_still_post_render_the_hooks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_spec(repo, "  postRenderStrategy: separate\n")
    objects = echo(repo, capsys)
    assert image(objects["Job"]) == "registry.example/echo:2.0" and labels(objects["Job"]) == ORIGIN


def test_an_unknown_strategy_fails_the_release(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_spec(repo, "  postRenderStrategy: NoHooks\n")
    code, _, err = cli(capsys, "build", "hr", "echo", str(repo))
    assert code == 3 and "spec.postRenderStrategy 'NoHooks' is not one of" in err


def test_install_disable_hooks_means_no_hook_is_created(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / ECHO_HR
    path.write_text(path.read_text().replace("  install:\n", "  install:\n    disableHooks: true\n"))
    assert "Job" not in echo(repo, capsys)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, "app"),
        ({"targetNamespace": "tools"}, "tools-app"),
        ({"targetNamespace": "tools", "releaseName": "mine"}, "mine"),
        # helm-controller's own test vectors for ShortenName (internal/release/name_test.go):
        ({"releaseName": "release-name-with-very-long-name-which-is-longer-than-53-characters"},
         "release-name-with-very-long-name-which-i-788ca0d0d7b0"),
        ({"releaseName": "another-release-name-with-very-long-name-which-is-longer-than-53-characters"},
         "another-release-name-with-very-long-name-7e72150d5a36"),
    ],
)  # fmt: skip
def test_release_name_defaults_and_shortening(spec: dict[str, Any], expected: str) -> None:
    from homeops.model.base import Origin, Resource
    from homeops.model.flux import HelmRelease
    from homeops.render.release import release_name

    obj = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": "app", "namespace": "apps"}, "spec": spec}  # fmt: skip
    assert release_name(HelmRelease(Resource(obj, Origin("hr.yaml", 1)))) == expected
