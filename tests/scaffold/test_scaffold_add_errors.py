"""``homeops add app``: clear refusals, nothing written on a refusal, digests marked, edits kept small."""

from __future__ import annotations

from pathlib import Path

import pytest
from scaffold_testlib import cli, doc, files_under, findings

from homeops.rules.base import Severity
from homeops.scaffold.create import NewOptions, create_repo

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("templates")
    layouts = ("flat", "clusters", "layered")
    return {layout: create_repo(base / layout, NewOptions(layout)).root for layout in layouts}


@pytest.fixture
def flat(template: dict[str, Path], tmp_path: Path) -> Path:
    import shutil

    repo = tmp_path / "flat"
    shutil.copytree(template["flat"], repo)
    return repo


def _unchanged(repo: Path, before: set[str]) -> None:
    assert files_under(repo) == before


def test_existing_app_is_refused(flat: Path) -> None:
    before = files_under(flat)
    run = cli("add", "app", "example", flat, "-n", "default", "--no-secret")
    assert run.code == 2 and "already exists" in run.err
    run = cli("add", "app", "example", flat, "-n", "media", "--no-secret")
    assert run.code == 0, "the same name in another namespace is another app"
    run = cli("add", "app", "envoy-gateway", flat, "-n", "network", "--no-secret")
    assert run.code == 2 and "Flux Kustomization network/envoy-gateway already exists" in run.err
    assert files_under(flat) - before == {p for p in files_under(flat) if "/media/" in p}


@pytest.mark.parametrize("name", ["Sonarr", "my_app", "app-", "a" * 60, "app.x", ""])
def test_bad_names(flat: Path, name: str) -> None:
    before = files_under(flat)
    run = cli("add", "app", name, flat, "-n", "default")
    assert run.code == 2
    assert "not a valid Kubernetes name" in run.err or "longer than" in run.err
    _unchanged(flat, before)


def test_bad_namespace_and_missing_namespace(flat: Path) -> None:
    run = cli("add", "app", "sonarr", flat, "-n", "Media")
    assert run.code == 2 and "namespace 'Media' is not a valid Kubernetes name" in run.err
    run = cli("add", "app", "sonarr", flat)
    assert run.code == 2 and "--namespace is required" in run.err


def test_unknown_layout(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests/app.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    run = cli("add", "app", "sonarr", tmp_path, "-n", "media")
    assert run.code == 2 and "cannot tell this repository's layout" in run.err
    assert "flat (kubernetes/apps/<namespace>/<app>/ks.yaml)" in run.err


def test_two_clusters_need_a_cluster(template: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "clusters"
    shutil.copytree(template["clusters"], repo)
    run = cli("add", "app", "sonarr", repo, "-n", "media")
    assert run.code == 2 and "2 clusters (main, staging)" in run.err and "--cluster" in run.err
    run = cli("add", "app", "sonarr", repo, "-n", "media", "--cluster", "prod")
    assert run.code == 2 and "no cluster 'prod'" in run.err
    run = cli("add", "app", "sonarr", repo, "-n", "media", "--cluster", "staging")
    assert run.code == 0, run.err
    assert (repo / "kubernetes/staging/apps/media/sonarr/install.yaml").exists()
    assert not (repo / "kubernetes/main/apps/media").exists()


def test_layered_takes_an_environment_not_a_namespace(template: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "layered"
    shutil.copytree(template["layered"], repo)
    run = cli("add", "app", "sonarr", repo, "-n", "media")
    assert run.code == 2 and "--namespace does not apply" in run.err and "apps-staging" in run.err
    run = cli("add", "app", "sonarr", repo, "--env", "qa")
    assert run.code == 2 and "unknown environment 'qa'" in run.err
    run = cli("add", "app", "sonarr", repo, "--env", "prod")
    assert run.code == 0, run.err
    entry = doc(repo / "clusters/home/app-sonarr.yaml")
    assert entry["spec"]["path"] == "./tenants/apps/sonarr/overlays/prod"


def test_images_without_a_version_or_with_a_bad_digest(flat: Path) -> None:
    for image, message in (
        ("ghcr.io/a/b", "names no version"),
        ("ghcr.io/a/b:latest", "names no version"),
        ("ghcr.io/a/b:1.0@sha256:xyz", "is not a sha256 digest"),
    ):
        run = cli("add", "app", "sonarr", flat, "-n", "media", "--image", image)
        assert run.code == 2 and message in run.err, image


def test_a_pinned_image_is_written_as_given(flat: Path) -> None:
    run = cli(
        "add",
        "app",
        "sonarr",
        flat,
        "-n",
        "media",
        "--image",
        f"ghcr.io/a/sonarr:4.0.1@{DIGEST}",
        "--port",
        "8989",
    )
    assert run.code == 0, run.err
    values = doc(flat / "kubernetes/apps/media/sonarr/app/helmrelease.yaml")["spec"]["values"]
    assert values["controllers"]["sonarr"]["containers"]["app"]["image"] == {
        "repository": "ghcr.io/a/sonarr",
        "tag": f"4.0.1@{DIGEST}",
    }
    assert values["service"]["app"]["ports"]["http"]["port"] == 8989
    assert "todo: pin" not in run.err


def test_an_image_without_digest_is_marked_and_check_says_so(flat: Path) -> None:
    run = cli("add", "app", "sonarr", flat, "-n", "media", "--image", "ghcr.io/a/sonarr:4.0.1", "--no-secret")
    assert run.code == 0, run.err
    assert "todo: pin the image digest" in run.err
    path = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"
    lines = (flat / path).read_text().splitlines()
    image = next(i for i, text in enumerate(lines, 1) if text.strip() == "image:")
    assert lines[image + 1].strip() == "tag: 4.0.1  # homeops: pin digest"
    reported = [f for f in findings(flat) if f.path == path]
    assert [f.line for f in reported] == [image + 2]  # the tag line, where the marker is
    assert "ghcr.io/a/sonarr:4.0.1" in reported[0].message and "digest" in reported[0].message


def test_a_marked_image_is_reported_as_info(flat: Path) -> None:
    cli("add", "app", "sonarr", flat, "-n", "media", "--image", "ghcr.io/a/sonarr:4.0.1", "--no-secret")
    path = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"
    assert [f.severity for f in findings(flat) if f.path == path] == [Severity.INFO]


def test_what_the_repository_lacks_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "bare"
    app = repo / "kubernetes/apps/default/hello"
    (app / "app").mkdir(parents=True)
    (repo / "kubernetes/flux/cluster").mkdir(parents=True)
    (repo / "kubernetes/flux/cluster/ks.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster-apps\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./kubernetes/apps\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    (app / "ks.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: hello\nspec:\n"
        "  interval: 1h\n  path: ./kubernetes/apps/default/hello/app\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n"
    )
    (repo / "kubernetes/apps/default/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\n"
        "resources:\n  - ./hello/ks.yaml\n"
    )
    (app / "app/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
    )
    for argv, message in (
        (["--secret", "x"], "no ClusterSecretStore"),
        (["--no-secret", "--route", "internal"], "no internal Gateway"),
        (["--no-secret", "--route", "none", "--database"], "no CloudNativePG operator"),
        (["--no-secret", "--route", "none", "--storage", "nfs"], "no NFS server"),
        (["--no-secret", "--route", "none", "--storage", "pvc"], "no storage class"),
    ):
        run = cli("add", "app", "web", repo, "-n", "default", *argv)
        assert run.code == 2 and message in run.err, (argv, run.err)
    run = cli(
        "add",
        "app",
        "web",
        repo,
        "-n",
        "default",
        "--no-secret",
        "--route",
        "none",
        "--storage",
        "pvc",
        "--storage-class",
        "local-path",
    )
    assert run.code == 0, run.err
    assert doc(repo / "kubernetes/apps/default/web/app/pvc.yaml")["spec"]["storageClassName"] == "local-path"


def test_the_parent_kustomization_keeps_comments_and_order(flat: Path) -> None:
    assert cli("add", "app", "zeta", flat, "-n", "default", "--no-secret").code == 0
    parent = flat / "kubernetes/apps/default/kustomization.yaml"
    text = parent.read_text().replace("resources:\n", "# apps of the default namespace\nresources:  # keep\n")
    text = text.replace(
        "  - ./example/ks.yaml\n  - ./zeta/ks.yaml\n", "  - ./zeta/ks.yaml  # last\n  - ./example/ks.yaml\n"
    )
    parent.write_text(text)
    run = cli("add", "app", "sonarr", flat, "-n", "default", "--no-secret")
    assert run.code == 0, run.err
    assert parent.read_text() == text + "  - ./sonarr/ks.yaml\n", "unsorted list: appended, all else kept"
    assert "+  - ./sonarr/ks.yaml" in run.out
    assert "--- a/kubernetes/apps/default/kustomization.yaml" in run.out


def test_a_new_namespace_is_listed_where_the_parent_lists_folders(flat: Path) -> None:
    apps = flat / "kubernetes/apps"
    namespaces = sorted(p.name for p in apps.iterdir() if p.is_dir())
    listing = "".join(f"  - ./{name}\n" for name in namespaces)
    text = (
        f"---\n# every namespace\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n{listing}"
    )
    (apps / "kustomization.yaml").write_text(text)
    run = cli("add", "app", "sonarr", flat, "-n", "media", "--no-secret")
    assert run.code == 0, run.err
    after = (apps / "kustomization.yaml").read_text()
    assert after == text.replace("  - ./network\n", "  - ./media\n  - ./network\n")
    assert (apps / "media/namespace.yaml").exists()
    run = cli("add", "app", "radarr", flat, "-n", "media", "--no-secret")
    assert run.code == 0 and (apps / "kustomization.yaml").read_text() == after
