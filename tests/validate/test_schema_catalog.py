"""The schema catalog: the sources it finds, the content-addressed cache it builds once, the release it
picks, the Flux schemas shipped with homeops."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.validate import catalog as catalog_module
from homeops.validate import openapi, sources
from homeops.validate.catalog import Catalog

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget"},
        "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}}],
    },
}


def test_built_once_then_read_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Catalog("1.33.0", [WIDGET_CRD], cache=tmp_path)
    assert first.validator("apps/v1", "Deployment") is not None
    stored = sorted(p.name for p in tmp_path.glob("*.marshal"))
    assert len(stored) == 3  # Kubernetes, the CRDs, Flux

    def no_build(*_args: object) -> object:
        raise AssertionError("converted again although cached")

    monkeypatch.setattr(openapi, "core_bundle", no_build)
    monkeypatch.setattr(openapi, "crd_kinds", no_build)
    monkeypatch.setattr(catalog_module, "crd_kinds", no_build)
    second = Catalog("1.33.0", [WIDGET_CRD], cache=tmp_path)
    assert second.validator("apps/v1", "Deployment") is not None
    assert second.validator("example.com/v1", "Widget") is not None
    assert sorted(p.name for p in tmp_path.glob("*.marshal")) == stored


def test_the_key_is_the_content(tmp_path: Path) -> None:
    Catalog("1.33.0", [WIDGET_CRD], cache=tmp_path)
    changed = {**WIDGET_CRD, "spec": {**WIDGET_CRD["spec"], "group": "example.org"}}
    other = Catalog("1.33.0", [changed], cache=tmp_path)
    assert other.knows("example.org/v1", "Widget") and not other.knows("example.com/v1", "Widget")
    Catalog("1.30.0", cache=tmp_path)  # another release, another entry
    assert len(list(tmp_path.glob("*.marshal"))) == 5  # 2 releases, 2 CRD sets, Flux


def test_a_corrupt_cache_entry_is_built_again(tmp_path: Path) -> None:
    Catalog("1.33.0", cache=tmp_path)
    for entry in tmp_path.glob("*.marshal"):
        entry.write_bytes(b"\x00garbage")
    assert Catalog("1.33.0", cache=tmp_path).validator("v1", "ConfigMap") is not None


def test_the_release_asked_for_or_the_nearest_shipped() -> None:
    found = sources.kubernetes_schemas("1.33.4")
    assert found is not None and found.version == "1.33.0" and found.folder.name == "v1.33.0-local-strict"
    future = sources.kubernetes_schemas("1.99.0")
    assert future is not None and future.requested == "1.99.0" and future.version != "1.99.0"
    default = sources.kubernetes_schemas(None)
    assert default is not None and default.version == sources.DEFAULT_KUBERNETES_VERSION


def test_kinds_of_a_newer_release_are_not_guessed(tmp_path: Path) -> None:
    old = Catalog("1.25.0", cache=tmp_path)
    # flowcontrol v1 arrived in 1.29: against 1.25 it has no schema, so it is not validated
    assert not old.knows("flowcontrol.apiserver.k8s.io/v1", "FlowSchema")
    assert Catalog("1.30.0", cache=tmp_path).knows("flowcontrol.apiserver.k8s.io/v1", "FlowSchema")


def test_repository_crds_come_first(tmp_path: Path) -> None:
    assert Catalog(cache=tmp_path, crds=[WIDGET_CRD]).source("example.com/v1", "Widget") == "crd"
    assert Catalog(cache=tmp_path).source("v1", "ConfigMap") == "kubernetes"


def test_flux_kinds_of_every_version(tmp_path: Path) -> None:
    catalog = Catalog("1.33.0", cache=tmp_path)
    for api_version, kind in [
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        ("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease"),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
        ("source.toolkit.fluxcd.io/v1beta2", "HelmRepository"),
        ("source.toolkit.fluxcd.io/v1", "ExternalArtifact"),
        ("notification.toolkit.fluxcd.io/v1beta3", "Alert"),
        ("notification.toolkit.fluxcd.io/v1", "Receiver"),
        ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy"),
    ]:
        assert catalog.source(api_version, kind) == "flux", (api_version, kind)
        assert catalog.validator(api_version, kind) is not None
    (flux,) = [p for p in catalog.provenance if p.name.startswith("@kubernetes-models/flux-cd")]
    assert (flux.version, flux.licence) == ("4.0.0", "MIT")


def test_the_flux_schemas_need_no_npm_and_no_network(tmp_path: Path) -> None:
    """What a pip user gets: the schemas are package data, read without any tarball or tool."""
    assert sources.FLUX_SCHEMAS.is_file()
    assert (sources.FLUX_SCHEMAS.parent / "flux-schemas.LICENSE").read_text().startswith("MIT License")
    catalog = Catalog("1.33.0", cache=tmp_path, flux_schemas=sources.FLUX_SCHEMAS)
    assert catalog.unavailable == []
    assert catalog.knows("kustomize.toolkit.fluxcd.io/v1", "Kustomization")


def test_a_missing_or_broken_flux_schema_file_is_named(tmp_path: Path) -> None:
    missing = Catalog("1.33.0", cache=tmp_path / "a", flux_schemas=tmp_path / "nothing.json")
    assert not missing.knows("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
    assert [u.what for u in missing.unavailable] == ["Flux schemas"]
    assert "reinstall homeops" in missing.unavailable[0].hint
    broken = tmp_path / "broken.json"
    broken.write_text('{"source": {}, "kinds": ')
    catalog = Catalog("1.33.0", cache=tmp_path / "b", flux_schemas=broken)
    assert [u.what for u in catalog.unavailable] == ["Flux schemas"]
    assert catalog.knows("v1", "ConfigMap")  # the other sources still work
