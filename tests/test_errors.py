"""The exception root: an error copied to another place keeps everything else and leaves the original."""

from __future__ import annotations

from homeops.errors import UnsupportedFeature, Where


def test_an_error_moved_elsewhere_is_a_copy_with_the_same_message_and_hint() -> None:
    original = UnsupportedFeature("helmCharts", where=Where("apps/kustomization.yaml", 4))
    original.hint = "install kubectl"
    moved = original.at(Where("clusters/home/apps.yaml", 8))
    assert type(moved) is UnsupportedFeature and moved.feature == "helmCharts"
    assert str(moved) == (
        "clusters/home/apps.yaml:8: unsupported kustomize feature: helmCharts\n  hint: install kubectl"
    )
    assert str(original.where) == "apps/kustomization.yaml:4"
