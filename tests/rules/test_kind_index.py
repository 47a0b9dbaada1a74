"""The rules' index of objects by (group, kind) answers what a scan of the list would, in its order."""

from __future__ import annotations

from rules_testlib import REPOS

from homeops.model.base import Resource
from homeops.rules.context import Context
from homeops.workspace import open_workspace

HELM = ("helm.toolkit.fluxcd.io", "HelmRelease")
PVC = ("", "PersistentVolumeClaim")
GATEWAY = ("gateway.networking.k8s.io", "Gateway")


def _scan(objects: list[Resource], *kinds: tuple[str, str]) -> list[Resource]:
    return [res for res in objects if (res.group, res.kind) in kinds]


def test_kinds_of_a_list_are_those_a_scan_finds_in_the_same_order() -> None:
    flux = open_workspace(REPOS / "clusters", use_cache=False).flux
    ctx = Context(flux)
    for kinds in ((HELM,), (PVC,), (HELM, PVC), (GATEWAY, HELM, PVC), (("nowhere.example", "Nothing"),)):
        assert ctx.of_kinds(flux.objects, *kinds) == _scan(flux.objects, *kinds)
        assert ctx.of_kinds(flux.documents, *kinds) == _scan(flux.documents, *kinds)
        assert ctx.subjects_of(*kinds) == _scan(list(ctx.subjects()), *kinds)
    assert ctx.of_kinds(flux.objects, HELM)  # the repository has releases: the comparison means something
    assert {res.kind for res in ctx.of_kinds(flux.objects, HELM, PVC)} == {
        "HelmRelease",
        "PersistentVolumeClaim",
    }
    assert ctx.kind_keys(flux.objects) == [(res.group, res.kind) for res in flux.objects]


def test_a_kind_a_core_object_does_not_have_is_not_matched_by_its_kind_alone() -> None:
    flux = open_workspace(REPOS / "clusters", use_cache=False).flux
    ctx = Context(flux)
    # "Secret" in the core group only: a same-named kind of another API group is a different kind
    assert all(res.group == "" for res in ctx.of_kinds(flux.objects, ("", "Secret")))
    assert ctx.of_kinds(flux.objects, ("example.com", "Secret")) == []
