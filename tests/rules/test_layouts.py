"""The three clean layout repositories: no finding at all, and the features that make them realistic are
really there (so that "no finding" is not the result of a rule that never looked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rules_testlib import REPOS, describe, findings, markers

from homeops.flux.tree import FluxTree
from homeops.model.kinds import is_sops_encrypted
from homeops.rules.clusters import isolated
from homeops.rules.context import Context
from homeops.workspace import open_workspace

LAYOUTS = ("flat", "clusters", "layered")


def _flux(name: str) -> FluxTree:
    return open_workspace(REPOS / name, use_cache=False).flux


def _applied(flux: FluxTree, kind: str, name: str, cluster: str | None = None) -> dict[str, Any]:
    found = [
        r
        for r in flux.objects
        if r.kind == kind and r.name == name and (cluster is None or r.notes["cluster"] == cluster)
    ]
    assert found, f"no applied {kind} {name}"
    return found[0].obj


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_repo_is_clean(layout: str) -> None:
    found = findings(REPOS / layout)
    assert found == [], f"{layout} must be clean:\n{describe(found)}"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_repo_builds_completely(layout: str) -> None:
    flux = _flux(layout)
    assert flux.problems == []
    for producer in flux.producers.values():
        assert producer.error is None and not producer.missing_path, producer.id
    # every *.sops.yaml is really encrypted (with the throwaway key whose public half is in .sops.yaml)
    sops_files = [p for p in (REPOS / layout).rglob("*.sops.yaml") if p.name != ".sops.yaml"]
    assert sops_files
    for path in sops_files:
        parsed = flux.tree.parsed(path.relative_to(REPOS / layout).as_posix())
        assert all(is_sops_encrypted(doc) for doc in parsed.documents), path
    assert "age1" in (REPOS / layout / ".sops.yaml").read_text()


def test_flat_layout_features() -> None:
    flux = _flux("flat")
    assert sorted(flux.clusters) == ["default"]
    # ks.yaml has no metadata.namespace: the namespace comes from the parent kustomization.yaml
    ks_file = yaml.safe_load((REPOS / "flat/kubernetes/apps/default/atuin/ks.yaml").read_text())
    assert "namespace" not in ks_file["metadata"]
    names = {(p.ks.namespace, p.ks.name) for p in flux.producers.values()}
    assert {
        ("default", "atuin"),
        ("external-secrets", "onepassword-store"),
        ("network", "envoy-gateway-config"),
    } <= names
    # the HelmRelease file has no retries; the entry point's patch gives them to the applied release
    release_file = REPOS / "flat/kubernetes/apps/default/atuin/app/helmrelease.yaml"
    assert "remediation" not in release_file.read_text()
    atuin = _applied(flux, "HelmRelease", "atuin")
    assert atuin["spec"]["install"]["remediation"]["retries"] == 3
    assert atuin["spec"]["upgrade"]["remediation"]["retries"] == 3
    assert atuin["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "atuin"}  # per-app source
    # cluster settings substituted, SOPS-encrypted values left as written
    env = atuin["spec"]["values"]["controllers"]["atuin"]["containers"]["app"]["env"]
    assert env["TZ"] == "Europe/Berlin"
    assert atuin["spec"]["values"]["route"]["app"]["hostnames"] == ["sh.${SECRET_DOMAIN}"]
    assert _applied(flux, "PersistentVolumeClaim", "atuin")["metadata"]["namespace"] == "default"
    assert _applied(flux, "ClusterSecretStore", "onepassword")
    assert {"envoy-internal", "envoy-external"} <= {r.name for r in flux.objects if r.kind == "Gateway"}


def test_clusters_layout_is_two_isolated_islands() -> None:
    flux = _flux("clusters")
    assert sorted(flux.clusters) == ["main", "staging"]
    assert isolated(Context(flux))
    shared = {path: clusters for path, clusters in flux.files_applied().items() if len(clusters) > 1}
    assert shared == {}
    for cluster in ("main", "staging"):
        database = _applied(flux, "Cluster", "immich-db", cluster)
        assert database["spec"]["storage"]["storageClass"] == "rook-ceph-block"
        release = _applied(flux, "HelmRelease", "immich", cluster)
        assert release["spec"]["install"]["remediation"]["retries"] == 3  # written in the release itself
    settings = {
        cluster: _applied(flux, "ConfigMap", "cluster-settings", cluster)["data"]["CLUSTER_NAME"]
        for cluster in flux.clusters
    }
    assert settings == {"main": "main", "staging": "staging"}


def test_layered_layout_shares_bases_on_purpose() -> None:
    flux = _flux("layered")
    assert sorted(flux.clusters) == ["production", "staging"]
    assert not isolated(Context(flux))
    shared = {path for path, clusters in flux.files_applied().items() if len(clusters) > 1}
    assert "apps/base/linkding/helmrelease.yaml" in shared
    assert "infrastructure/controllers/cert-manager.yaml" in shared
    staging = _applied(flux, "HelmRelease", "whoami", "staging")
    production = _applied(flux, "HelmRelease", "whoami", "production")
    assert staging["metadata"]["namespace"] == "apps-staging"
    assert staging["spec"]["values"]["controllers"]["whoami"]["replicas"] == 1
    assert production["spec"]["values"]["controllers"]["whoami"]["replicas"] == 2
    assert staging["spec"]["install"]["remediation"]["retries"] == 3  # from the apps Kustomization's patch
    hostnames = staging["spec"]["values"]["route"]["app"]["hostnames"]
    assert hostnames == ["whoami.staging.${SECRET_DOMAIN}"]  # CLUSTER_ENV substituted, the SOPS one kept


def test_layout_repos_carry_no_markers() -> None:
    for layout in LAYOUTS:
        assert not markers(REPOS / layout), layout


def test_readme_describes_each_layout() -> None:
    for layout in LAYOUTS:
        assert Path(REPOS / layout / "README.md").is_file()
