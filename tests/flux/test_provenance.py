"""Findings about built objects point at the line that wrote the field: the resource file, or the patch."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.flux.provenance import Provenance
from homeops.flux.tree import load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


@pytest.mark.parametrize(
    ("key", "place"),
    [
        ("SESSION_SECRET_KEY", ("apps/base/release.yaml", 19)),  # written in the resource itself
        ("LOG_LEVEL", ("apps/overlay/values.yaml", 10)),  # the base's value, replaced by a patch file
        ("API_TOKEN", ("apps/overlay/values.yaml", 11)),  # a patch file listed in the overlay
        ("DB_PASSWORD", ("apps/overlay/kustomization.yaml", 16)),  # an inline patch (block scalar)
        ("ADMIN_PASSWORD", ("apps/overlay/kustomization.yaml", 18)),  # a JSON 6902 operation
        # a parent's Flux patch that puts a HelmRelease patch into its child Kustomizations
        ("MQTT_PASSWORD", ("clusters/home/flux-system/gotk-sync.yaml", 41)),
    ],
)
def test_fields_are_placed_where_they_were_written(key: str, place: tuple[str, int]) -> None:
    flux = load_flux_tree(SourceTree(FLUX / "provenance"))
    (release,) = [r for r in flux.objects if r.kind == "HelmRelease"]
    assert Provenance(flux).locate(release, ("spec", "values", "env", key)) == place


def test_a_parent_patch_replaces_the_child_s_own_patches_as_flux_does() -> None:
    # A strategic merge patch replaces a CRD's list: the child's SMTP_PASSWORD patch is gone.
    flux = load_flux_tree(SourceTree(FLUX / "provenance"))
    (release,) = [r for r in flux.objects if r.kind == "HelmRelease"]
    assert "SMTP_PASSWORD" not in release.obj["spec"]["values"]["env"]


def test_a_kustomization_field_set_by_its_parent_points_at_the_parent_s_patch() -> None:
    flux = load_flux_tree(SourceTree(FLUX / "provenance"))
    apps = next(r for r in flux.objects if r.kind == "Kustomization" and r.name == "apps")
    where, line = Provenance(flux).locate(apps, ("spec", "patches", 0, "patch"))
    assert where == "clusters/home/flux-system/gotk-sync.yaml" and 29 <= line <= 42
