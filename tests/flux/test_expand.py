"""Expanding a cluster: what each Flux Kustomization's build reports, each for itself."""

from __future__ import annotations

from pathlib import Path

from homeops.flux.tree import load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


def test_two_kustomizations_reaching_one_unreadable_file_each_point_at_their_own_path() -> None:
    # apps-a and apps-b both include apps/shared, whose settings.yaml holds a control character: the
    # parser gives no line, so each error points at its own Kustomization's spec.path instead.
    flux = load_flux_tree(SourceTree(FLUX / "shared-unreadable"))
    errors = {p.id.name: p.error for p in flux.producers.values() if p.error is not None}
    assert sorted(errors) == ["apps-a", "apps-b"]
    for error in errors.values():
        assert "cannot parse apps/shared/settings.yaml" in error.message
    assert (str(errors["apps-a"].where), str(errors["apps-b"].where)) == (
        "clusters/home/apps.yaml:8",
        "clusters/home/apps.yaml:21",
    )
