"""check, graph and get on every real repository of the corpus and on the layouts ``homeops new``
writes: no traceback, the Flux trees found, and exactly the errors and warnings of the labelled audit.

Every error and warning was opened at its file and line and judged real or not, with a one-line reason,
in tests/testdata/audit/labels.yaml. The audit test fails when a finding judged false comes back, when
one judged real disappears, and when an error or warning appears that nobody has judged
(``python tests/cli/audit.py`` lists those). docs/accuracy.md holds the precision per repository,
written from the labels (``python tests/cli/audit.py --write``) and checked here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit import CORPUS, LAYOUTS, check, corpus_repos, labels, new_layout, serious, table

from homeops.cli.main import main

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


def _judge(name: str, found: dict[tuple[str, str, int], str]) -> None:
    judged = labels().get(name, {})
    back = sorted(p for p in found if p in judged and not judged[p].real)
    assert not back, f"{name}: findings judged false are back: {back}"
    gone = sorted(p for p, label in judged.items() if label.real and p not in found)
    assert not gone, f"{name}: findings judged real are no longer reported: {gone}"
    unjudged = sorted(f"{p[1]}:{p[2]} {p[0]} {m}" for p, m in found.items() if p not in judged)
    listed = "\n".join(unjudged)
    assert not unjudged, f"{name}: errors and warnings nobody has judged (add them to labels.yaml):\n{listed}"


@pytest.mark.corpus
@pytest.mark.parametrize("repo", REPOS)
def test_check_reports_exactly_the_audited_findings(repo: Path) -> None:
    findings = check(repo)
    _judge(repo.name, serious(findings))
    for finding in findings:
        assert (repo / finding["path"]).exists(), finding
        assert finding["line"] >= 1
        # What homeops cannot fetch offline is never an error.
        assert not (finding["severity"] == "error" and "offline" in finding["message"]), finding


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_new_layouts_have_no_unjudged_findings(layout: str, tmp_path: Path) -> None:
    _judge(f"layout-{layout}", serious(check(new_layout(layout, tmp_path / layout))))


@pytest.mark.corpus
def test_docs_accuracy_is_the_table_of_the_labels(tmp_path: Path) -> None:
    found = {repo.name: serious(check(repo)) for repo in corpus_repos()}
    for layout in LAYOUTS:
        found[f"layout-{layout}"] = serious(check(new_layout(layout, tmp_path / layout)))
    text = (Path(__file__).resolve().parents[2] / "docs" / "accuracy.md").read_text()
    assert table(found) in text, "docs/accuracy.md is out of date: run python tests/cli/audit.py --write"


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
