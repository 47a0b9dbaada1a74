"""Charts from the sources a HelmRelease names: a real OCI registry and a Helm HTTP repository on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from render_testlib import cli, documents

from services import HttpRepo, OciRegistry, helm_http_repo, oci_registry

APPTPL = Path(__file__).resolve().parents[1] / "testdata" / "charts" / "apptpl"

ROOT = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: cluster, namespace: flux-system}
spec:
  interval: 1h
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""

APP_VALUES = """\
  values:
    controllers:
      main:
        containers:
          app:
            image: {repository: ghcr.io/example/web, tag: "1.2.3"}
"""


@dataclass
class Served:
    registry: OciRegistry
    http: HttpRepo


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import helm_python

    work = tmp_path_factory.mktemp("sources")
    archive = Path(helm_python.package(APPTPL, destination=work / "dist"))
    folder = work / "http"
    folder.mkdir()
    helm_python.package(APPTPL, destination=folder)
    helm_python.repo_index_generate(folder)
    with oci_registry(work / "registry") as registry, helm_http_repo(folder) as http:
        registry.push(archive)
        yield Served(registry, http)


def write_repo(root: Path, sources: str, release_chart: str) -> Path:
    (root / "cluster").mkdir(parents=True)
    (root / "cluster" / "ks.yaml").write_text(ROOT)
    (root / "apps").mkdir()
    (root / "apps" / "sources.yaml").write_text(sources)
    (root / "apps" / "web.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: web, namespace: flux-system}\nspec:\n  interval: 1h\n" + release_chart + APP_VALUES
    )
    return root


def deployment(out: str) -> dict[str, object]:
    found = [d for d in documents(out) if d["kind"] == "Deployment"]
    assert len(found) == 1, out
    return found[0]


EXPECTED_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "flux-system",
        "labels": {
            "app.kubernetes.io/name": "web",
            "app.kubernetes.io/controller": "main",
            "helm.toolkit.fluxcd.io/name": "web",
            "helm.toolkit.fluxcd.io/namespace": "flux-system",
        },
        "annotations": {
            "homeops.dev/producer": "HelmRelease/flux-system/web",
            "homeops.dev/cluster": "default",
        },
    },
    "spec": {
        "replicas": 1,
        "selector": {
            "matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/controller": "main"}
        },
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/controller": "main"}},
            "spec": {
                "securityContext": {"runAsNonRoot": True},
                "containers": [{"name": "app", "image": "ghcr.io/example/web:1.2.3"}],
            },
        },
    },
}


@pytest.mark.parametrize("ref", ["tag: 3.0.0", "semver: '>=3.0.0 <4.0.0'"], ids=["tag", "semver"])
def test_chart_ref_to_an_oci_repository(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    sources = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        "metadata: {name: apptpl, namespace: flux-system}\n"
        f"spec:\n  interval: 1h\n  url: {served.registry.url('charts/apptpl')}\n  ref:\n    {ref}\n"
    )
    repo = write_repo(tmp_path / "repo", sources, "  chartRef: {kind: OCIRepository, name: apptpl}\n")
    code, out, err = cli(capsys, "build", "hr", str(repo))
    assert code == 0, err
    assert deployment(out) == EXPECTED_DEPLOYMENT
    # Now cached: offline works, and renders the same thing.
    code, again, _ = cli(capsys, "build", "hr", str(repo), "--offline")
    assert code == 0 and again == out


def test_chart_spec_from_a_helm_http_repository(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        "metadata: {name: charts, namespace: flux-system}\n"
        f"spec:\n  interval: 1h\n  url: {served.http.url}\n"
    )
    chart = (
        "  chart:\n    spec:\n      chart: apptpl\n      version: 3.x\n"
        "      sourceRef: {kind: HelmRepository, name: charts}\n"
    )
    repo = write_repo(tmp_path / "repo", sources, chart)
    code, out, err = cli(capsys, "build", "hr", str(repo))
    assert code == 0, err
    assert deployment(out) == EXPECTED_DEPLOYMENT


def test_chart_spec_from_an_oci_helm_repository(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        "metadata: {name: oci-charts, namespace: flux-system}\n"
        f"spec:\n  interval: 1h\n  type: oci\n  url: {served.registry.url('charts')}\n"
    )
    chart = ("  chart:\n    spec:\n      chart: apptpl\n      version: 3.0.0\n"
             "      sourceRef: {kind: HelmRepository, name: oci-charts}\n")  # fmt: skip
    repo = write_repo(tmp_path / "repo", sources, chart)
    code, out, err = cli(capsys, "build", "hr", str(repo))
    assert code == 0, err
    assert deployment(out) == EXPECTED_DEPLOYMENT


def test_offline_with_an_empty_cache_and_a_bucket_fail_clearly(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(tmp_path / "empty-cache"))
    sources = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        "metadata: {name: apptpl, namespace: flux-system}\n"
        f"spec:\n  interval: 1h\n  url: {served.registry.url('charts/apptpl')}\n  ref: {{tag: 3.0.0}}\n"
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\n"
        "metadata: {name: bucket, namespace: flux-system}\nspec: {interval: 1h, bucketName: charts}\n"
    )
    repo = write_repo(tmp_path / "repo", sources, "  chartRef: {kind: OCIRepository, name: apptpl}\n")
    (repo / "apps" / "other.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: other, namespace: flux-system}\n"
        "spec:\n  chart:\n    spec: {chart: ./apptpl, sourceRef: {kind: Bucket, name: bucket}}\n"
    )
    code, out, err = cli(capsys, "build", "hr", str(repo), "--offline")
    assert code == 3 and out == ""
    assert "HelmRelease/flux-system/web: failed:" in err and "is not in the chart cache" in err
    assert "HelmRelease/flux-system/other: failed:" in err and "Bucket sources are not supported" in err
    assert "Traceback" not in err
