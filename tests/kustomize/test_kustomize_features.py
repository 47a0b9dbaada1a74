"""Each feature of the native engine, checked against the real ``kubectl kustomize`` on small fixtures,
plus results written by hand where reading them is the better check."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from kustomize_testlib import FIXTURES, differences, kubectl_build, native_build

from homeops.kustomize import build
from homeops.kustomize.generators import content_hash
from homeops.load.tree import SourceTree

# (fixture repository, folder inside it)
FEATURES = [
    ("namespace", ""),
    ("name-prefix", ""),
    ("labels", ""),
    ("images", ""),
    ("generators", ""),
    ("overlay", "prod"),
    ("overlay", "base"),
    ("strategic-merge", ""),
    ("strategic-merge-lists", ""),
    ("json-patch", ""),
    ("named-targets", ""),
    ("components", "app"),
    ("components", "components/alerts"),
    ("configurations", ""),
]


@pytest.mark.parametrize(("fixture", "folder"), FEATURES, ids=[f"{f}/{d}" if d else f for f, d in FEATURES])
@pytest.mark.parametrize("flux", [False, True], ids=["kubectl", "flux"])
def test_feature_matches_kubectl(fixture: str, folder: str, flux: bool) -> None:
    root = FIXTURES / fixture
    expected = kubectl_build(root / folder, restrict=not flux)
    assert not expected.failed, expected.error
    actual = native_build(SourceTree(root), folder, flux=flux)
    assert not actual.failed, actual.error
    assert expected.objects is not None and actual.objects is not None
    assert expected.objects, "a fixture that builds nothing proves nothing"
    assert differences(expected.objects, actual.objects) == ""


def _objects(fixture: str, folder: str = "", *, flux: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
    result = build(SourceTree(FIXTURES / fixture), folder, flux=flux, fallback=False)
    return {(res.kind, res.name): res.obj for res in result.resources}


def test_content_hash_is_kustomizes() -> None:
    # Values read off `kubectl kustomize` for configMapGenerator/secretGenerator literals x=1 and x=<&>.
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}) == "hmg6f82fh6"
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"x": "1"}}) == "hmg6f82fh6"
    secret = {"kind": "Secret", "type": "Opaque", "data": {"x": base64.b64encode(b"<&>").decode()}}
    assert content_hash(secret) == "m95cc8cgh5"
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "empty"}}) == "6ct58987ht"


def test_name_references_follow_prefix_suffix_and_hash() -> None:
    objects = _objects("name-prefix")
    deployment = objects[("Deployment", "home-app-v1")]
    spec = deployment["spec"]["template"]["spec"]
    config_map = next(name for kind, name in objects if kind == "ConfigMap")
    secret = next(name for kind, name in objects if kind == "Secret")
    assert config_map.startswith("home-env-v1-") and len(config_map) == len("home-env-v1-") + 10
    assert spec["serviceAccountName"] == "home-app-v1"
    assert spec["imagePullSecrets"] == [{"name": secret}, {"name": "external-registry"}]
    container = spec["containers"][0]
    assert container["envFrom"] == [{"configMapRef": {"name": config_map}}, {"secretRef": {"name": secret}}]
    # A reference to something this build does not define is left alone.
    assert container["env"][1]["valueFrom"]["configMapKeyRef"]["name"] == "not-in-this-build"
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "home-data-v1"
    # Namespaces and CRDs keep their names; a StorageClass is renamed and so are references to it.
    assert ("Namespace", "keep-my-name") in objects
    assert ("CustomResourceDefinition", "widgets.example.com") in objects
    assert objects[("PersistentVolumeClaim", "home-data-v1")]["spec"]["storageClassName"] == "home-fast-v1"


def test_namespace_rules() -> None:
    objects = _objects("namespace")
    assert objects[("Namespace", "apps")]["metadata"] == {"name": "apps", "labels": {"team": "home"}}
    assert "namespace" not in objects[("ClusterRole", "reader")]["metadata"]
    # kustomize decides scope from its built-in schema: a cluster-scoped custom resource is namespaced.
    assert objects[("ClusterIssuer", "letsencrypt")]["metadata"]["namespace"] == "apps"
    subjects = objects[("RoleBinding", "app")]["subjects"]
    assert subjects == [
        {"kind": "ServiceAccount", "name": "default", "namespace": "apps"},
        {"kind": "ServiceAccount", "name": "app", "namespace": "apps"},
        {"kind": "User", "name": "someone"},
    ]


def test_flux_generated_kustomization() -> None:
    tree = SourceTree(FIXTURES / "flux-generated")
    result = build(tree, "apps", flux=True, fallback=False)
    found = sorted((res.kind, res.name, res.origin.path) for res in result.resources)
    assert found == [
        ("ConfigMap", "web-config", "apps/config.yml"),
        ("Deployment", "web", "apps/deployment.yaml"),
        ("Role", "inner-reader", "apps/withkust/role.yaml"),
        ("Service", "web", "apps/nested/service.yaml"),
        ("ServiceAccount", "deep", "apps/nested/deeper/sa.yaml"),
    ]
    assert "apps/ignored.yaml" not in result.files
    assert "apps/withkust/unlisted.yaml" not in result.files
    assert result.fallback is None


def test_flux_generated_kustomization_matches_kubectl(tmp_path: Path) -> None:
    # Write by hand the kustomization Flux generates for apps/ (read from fluxcd/pkg/kustomize's
    # rules), and let kubectl build it.
    copy = tmp_path / "repo"
    import shutil

    shutil.copytree(FIXTURES / "flux-generated", copy)
    (copy / "apps" / "kustomization.yaml").write_text(
        "resources:\n- config.yml\n- deployment.yaml\n- empty.yaml\n- nested/deeper/sa.yaml\n"
        "- nested/service.yaml\n- withkust\n"
    )
    expected = kubectl_build(copy / "apps")
    actual = native_build(SourceTree(FIXTURES / "flux-generated"), "apps", flux=True)
    assert expected.objects is not None and actual.objects is not None
    assert differences(expected.objects, actual.objects) == ""


def test_flux_file_path_builds_that_file() -> None:
    result = build(SourceTree(FIXTURES / "flux-generated"), "apps/deployment.yaml", flux=True)
    assert [(r.kind, r.name) for r in result.resources] == [("Deployment", "web")]


def test_origins_point_at_documents_and_generator_entries() -> None:
    result = build(SourceTree(FIXTURES / "generators"), "", fallback=False)
    origins = {(res.kind, res.name.rsplit("-", 1)[0]): res.origin for res in result.resources}
    assert str(origins[("Deployment", "app")]) == "deployment.yaml:1"
    assert (origins[("ConfigMap", "app-config")].path, origins[("ConfigMap", "app-config")].line) == (
        "kustomization.yaml",
        12,
    )
    assert origins[("Secret", "tls")].line == 39
    assert result.files >= {"kustomization.yaml", "deployment.yaml", "files/app.env", "files/logo.bin"}
