"""check, graph and get on every real repository of the corpus: no traceback, the Flux trees found, and
exactly the errors and warnings that were read one by one and judged real (2026-11-23).

Why each counted finding is real:

- Chrtol: REC003 x24 are the ``helm.toolkit.fluxcd.io/v2beta1`` leftovers the corpus README mentions;
  DEP003 x7 are apps using the ``onepassword`` ClusterSecretStore without depending on
  ``onepassword-store`` (three other apps of the repo do depend on it; nothing bootstraps it);
  IMG001 x8 are tag-only images; REC001 x1 is ``generic-device-plugin``, the one release without
  retries; REF003 x1 is ``media/qbittorrent/tools/``, a folder no Kustomization applies;
  LOAD002 x1 is ``qbittorrent/app`` whose ``config/Corefile`` is missing from the corpus snapshot
  (the corpus keeps only data files), so Flux would fail on this snapshot too.
- bjw-s-labs: IMG001 x26 are tag-only images (``autobrr:v1.84.0``…); LOAD002 x2 are folders whose
  ``.lua``/``.sh`` generator inputs the corpus snapshot does not keep.
- fluxcd example: CHT001 x3 are chart versions ``>=1.0.0``, ``1.x`` and ``*``; REC001 x3 are releases
  without remediation retries.
- onedr0p/home-ops: REC001 x1 is the entry point's HelmRelease defaults patch, which sets upgrade
  retries but no install retries for 67 releases (one finding at the patch); LOAD002 x1 is a
  generator script missing from the snapshot.
- cluster-template: only templates, no Flux tree; nothing to report.

The bootstrap-provided ClusterSecretStores of onedr0p and bjw-s (applied by their bootstrap helmfile)
and their ``op://`` bootstrap secrets must NOT be reported; these expectations pin that too.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import CORPUS, corpus_repos
from homeops.cli.main import main

EXPECTED: dict[str, dict[str, int]] = {
    "Chrtol__home-cluster": {"DEP003": 7, "IMG001": 7, "LOAD002": 1, "REC001": 1, "REC003": 24},
    "bjw-s-labs__home-ops": {"IMG001": 26, "LOAD002": 2},
    "fluxcd__flux2-kustomize-helm-example__a484a05e": {"CHT001": 4, "REC001": 3},
    "onedr0p__cluster-template__feb482b6": {},
    "onedr0p__home-ops": {"LOAD002": 1},
}

#: (clusters, Flux Kustomizations, HelmReleases) each repository applies.
TREES: dict[str, tuple[int, int, int]] = {
    "Chrtol__home-cluster": (1, 59, 48),
    "bjw-s-labs__home-ops": (1, 94, 78),
    "fluxcd__flux2-kustomize-helm-example__a484a05e": (2, 8, 6),
    "onedr0p__cluster-template__feb482b6": (0, 0, 0),
    "onedr0p__home-ops": (1, 79, 67),
}

WITH_VALUE_IMAGES = {"Chrtol__home-cluster", "bjw-s-labs__home-ops", "onedr0p__home-ops"}

REPOS = [pytest.param(p, id=p.name) for p in corpus_repos()] or [
    pytest.param(CORPUS / "missing", marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    return code, captured.out, captured.err


@pytest.mark.corpus
@pytest.mark.parametrize("repo", REPOS)
def test_check_reports_exactly_the_reviewed_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(repo), "-o", "json", "--no-cache")
    findings = json.loads(out)["findings"]
    serious = Counter(f["rule"] for f in findings if f["severity"] in ("error", "warning"))
    assert dict(serious) == EXPECTED[repo.name]
    assert code == (1 if any(f["severity"] == "error" for f in findings) else 0)
    for finding in findings:
        assert (repo / finding["path"]).exists(), finding
        assert finding["line"] >= 1


@pytest.mark.corpus
@pytest.mark.parametrize("repo", REPOS)
def test_get_and_graph_find_the_flux_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clusters, kustomizations, releases = TREES[repo.name]
    code, out, _ = run(capsys, "get", "ks", str(repo), "-o", "json")
    ks_rows = json.loads(out)
    assert code == 0 and len(ks_rows) == kustomizations
    assert len({row["cluster"] for row in ks_rows}) == clusters
    code, out, _ = run(capsys, "get", "hr", str(repo), "-o", "json")
    assert code == 0 and len(json.loads(out)) == releases
    code, out, _ = run(capsys, "graph", str(repo), "--order", "-f", "json")
    plan = json.loads(out)
    assert code == 0 and len(plan) == clusters
    planned = sum(len(wave) for waves in plan.values() for wave in waves["waves"])
    blocked = sum(len(waves["blocked"]) for waves in plan.values())
    assert planned + blocked == kustomizations + releases
    code, out, _ = run(capsys, "graph", str(repo), "-f", "mermaid")
    assert code == 0 and out.startswith("flowchart LR")
    code, out, _ = run(capsys, "get", "images", str(repo), "-o", "json")
    # Images named in values; the fluxcd example's vendor charts name none (they come with the charts).
    assert code == 0 and bool(json.loads(out)) == (repo.name in WITH_VALUE_IMAGES)


@pytest.mark.corpus
def test_impact_of_the_secret_store_reaches_the_apps(capsys: pytest.CaptureFixture[str]) -> None:
    repo = CORPUS / "onedr0p__home-ops"
    if not repo.is_dir():
        pytest.skip("corpus not found")
    code, out, _ = run(
        capsys, "graph", str(repo), "--impact", "kustomization/external-secrets/onepassword-connect"
    )
    assert code == 0
    assert "ClusterSecretStore onepassword-connect" in out
    assert "[store] ExternalSecret" in out
