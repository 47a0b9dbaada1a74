"""Clusters come from their real entry points: what the cluster was bootstrapped with, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.flux.tree import FluxTree, load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


def load(name: str) -> FluxTree:
    return load_flux_tree(SourceTree(FLUX / name))


def kustomizations(flux: FluxTree) -> set[tuple[str, str]]:
    return {(cluster, ident.name) for cluster, ident in flux.producers}


def test_gotk_sync_is_the_entry_and_an_archived_copy_is_not() -> None:
    flux = load("gotk-sync")
    assert not flux.guessed
    assert list(flux.clusters) == ["home"]
    assert flux.clusters["home"].root_files == ("clusters/home/flux-system/gotk-sync.yaml",)
    assert kustomizations(flux) == {("home", "flux-system"), ("home", "apps")}
    # The archived ks.yaml names its Kustomization "apps" too: it must not replace the live one.
    apps = flux.producers[("home", next(i for c, i in flux.producers if i.name == "apps"))]
    assert apps.path == "apps"
    assert [r.origin.path for r in flux.unapplied_kustomizations] == ["archived/old-echo/ks.yaml"]


def test_a_second_git_repository_of_the_same_url_is_this_repository() -> None:
    flux = load("gotk-sync")
    apps = next(p for p in flux.producers.values() if p.id.name == "apps")
    assert apps.ks.source_ref is not None and apps.ks.source_ref.name == "home"
    assert not apps.external
    assert [r.name for r in apps.objects] == ["echo"]


def test_the_flux_instance_chart_values_of_a_helm_release_are_the_entry() -> None:
    flux = load("flux-instance")
    (cluster,) = flux.clusters.values()
    (entry,) = cluster.entries
    assert entry.synthesized and "flux-instance HelmRelease" in entry.how
    assert entry.ks.name == entry.ks.namespace == "flux-system"
    assert entry.ks.origin.path == "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml"
    assert kustomizations(flux) == {
        ("default", "flux-system"),
        ("default", "cluster-apps"),
        ("default", "flux-instance"),
    }


def test_a_flux_instance_object_names_its_cluster_by_its_sync_path() -> None:
    flux = load("flux-instance-object")
    assert list(flux.clusters) == ["lab"]
    assert "FluxInstance flux" in flux.clusters["lab"].entries[0].how
    assert kustomizations(flux) == {("lab", "flux-system"), ("lab", "apps")}


def test_a_bootstrap_helmfile_installing_flux_instance_with_a_values_file() -> None:
    flux = load("helmfile-values")
    (entry,) = flux.clusters["default"].entries
    assert "bootstrap helmfile release flux-instance" in entry.how
    cluster_apps = next(p for p in flux.producers.values() if p.id.name == "cluster-apps")
    assert [r.name for r in cluster_apps.objects] == ["settings"]


def test_without_any_entry_point_the_roots_are_guessed_and_the_tree_says_so() -> None:
    flux = load("guessed")
    assert flux.guessed
    assert kustomizations(flux) == {("default", "app")}


@pytest.mark.parametrize("layout", ["flat", "clusters", "layered"])
def test_the_layouts_homeops_writes_have_entry_points(layout: str) -> None:
    flux = load_flux_tree(SourceTree(FLUX.parent / "repos" / layout))
    assert not flux.guessed
    assert flux.clusters
