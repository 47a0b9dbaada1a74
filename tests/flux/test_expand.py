"""Expanding a cluster: what each Flux Kustomization's build reports, each for itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homeops import parallel
from homeops.flux import expand
from homeops.flux.tree import FluxTree, load_flux_tree
from homeops.load.tree import SourceTree

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"
REPOS = Path(__file__).resolve().parent.parent / "testdata" / "repos"


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


def _expanded(flux: FluxTree) -> tuple[list[Any], list[Any]]:
    producers = [
        (key, p.path, sorted(p.files), str(p.error), [(r.obj, r.origin, r.notes) for r in p.objects])
        for key, p in flux.producers.items()
    ]
    return producers, [(r.obj, r.origin, r.notes) for r in flux.objects]


def test_clusters_built_ahead_together_expand_as_one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two clusters of 11 and 10 Kustomizations in their last wave: together over the threshold of
    # builds done ahead (on two cores), alone under it (built in order, one cluster after the other).
    repo = REPOS / "clusters"
    ahead: list[int] = []
    run = parallel.run
    monkeypatch.setattr(
        parallel, "run", lambda items, *a, **k: ahead.append(len(items)) or run(items, *a, **k)
    )
    together = load_flux_tree(SourceTree(repo))
    assert ahead == [21]
    monkeypatch.setattr(expand, "_PARALLEL_MIN_BUILDS", 1_000)
    in_order = load_flux_tree(SourceTree(repo))
    assert ahead == [21]
    assert [key[0] for key in together.producers] == sorted(key[0] for key in together.producers)
    assert len(together.producers) == 25
    assert _expanded(together) == _expanded(in_order)
