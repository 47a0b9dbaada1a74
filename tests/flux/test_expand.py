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


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


_SUBSTITUTING = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  interval: 1h
  path: ./apps/{name}
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system}}
  postBuild:
    substituteFrom:
      - {{kind: {kind}, name: {source}}}
"""


def test_a_kustomization_whose_sources_are_known_is_substituted_with_its_build_ahead_as_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In the wave after flux-system: 'known' substitutes from a ConfigMap flux-system made (settled:
    # finished with its build, ahead), 'late' from one a sibling of the same wave makes (not settled:
    # substituted in order, after 'maker'), 'lost' from a Secret nothing makes (missing).
    _write(
        tmp_path,
        {
            "clusters/home/sync.yaml": (
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
                "metadata: {name: flux-system, namespace: flux-system}\n"
                "spec: {interval: 1h, url: 'https://example.com/repo', ref: {branch: main}}\n---\n"
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                "metadata: {name: flux-system, namespace: flux-system}\n"
                "spec: {interval: 1h, path: ./clusters/home, prune: true,"
                " sourceRef: {kind: GitRepository, name: flux-system}}\n"
            ),
            "clusters/home/settings.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: flux-system}\n"
                "data: {DOMAIN: example.org}\n"
            ),
            "clusters/home/apps.yaml": "".join(
                _SUBSTITUTING.format(name=name, kind=kind, source=source)
                for name, kind, source in (
                    ("known", "ConfigMap", "settings"),
                    ("late", "ConfigMap", "late-settings"),
                    ("lost", "Secret", "nowhere"),
                )
            )
            + "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            "metadata: {name: maker, namespace: flux-system}\n"
            "spec: {interval: 1h, path: ./apps/maker, prune: true,"
            " sourceRef: {kind: GitRepository, name: flux-system}}\n",
            "apps/maker/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late-settings, namespace: flux-system}\n"
                "data: {PORT: '8080'}\n"
            ),
            "apps/known/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: known, namespace: default}\n"
                "data: {host: 'app.${DOMAIN}'}\n"
            ),
            "apps/late/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: default}\n"
                "data: {port: '${PORT}'}\n"
            ),
            "apps/lost/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lost, namespace: default}\n"
                "data: {token: '${TOKEN:=none}'}\n"
            ),
        },
    )
    settled: dict[str, bool] = {}
    real = expand.Expander.settled

    def noting(self: expand.Expander, ks: Any) -> Any:
        found = real(self, ks)
        settled[ks.name] = found is not None
        return found

    monkeypatch.setattr(expand.Expander, "settled", noting)
    monkeypatch.setattr(expand, "_PARALLEL_MIN_BUILDS", 1)
    ahead = load_flux_tree(SourceTree(tmp_path))
    assert settled == {"flux-system": True, "known": True, "late": False, "lost": False, "maker": True}
    monkeypatch.setattr(expand, "_PARALLEL_MIN_BUILDS", 1_000)
    in_order = load_flux_tree(SourceTree(tmp_path))
    assert _expanded(ahead) == _expanded(in_order)
    data = {r.name: r.obj.get("data") for r in ahead.objects if r.namespace == "default"}
    # (Flux substitutes in the object's YAML and reads it again: the quotes are gone, 8080 a number)
    assert data == {"known": {"host": "app.example.org"}, "late": {"port": 8080}, "lost": {"token": "none"}}
    missing = {p.id.name: p.missing_sources for p in ahead.producers.values()}
    assert (missing["known"], missing["late"], missing["lost"]) == ([], [], [("Secret", "nowhere")])
