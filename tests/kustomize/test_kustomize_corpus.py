"""The differential test: every folder with a kustomization file, in the real repositories of the
corpus and in the fixtures, built natively (Flux semantics) and by ``kubectl kustomize
--load-restrictor LoadRestrictionsNone``; the objects must be identical, types included (kubectl's
output is read as JSON-typed YAML, which is what it is), and where kubectl fails the native build
must fail too."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from kustomize_testlib import (
    FIXTURES,
    Outcome,
    differences,
    kubectl_build,
    kubectl_path,
    kustomization_folders,
)

from homeops.errors import HomeopsError
from homeops.kustomize import build
from homeops.load.tree import SourceTree


@dataclass
class Tally:
    compared: int = 0
    identical: int = 0
    both_failed: int = 0
    fallback: int = 0


def _native(tree: SourceTree, rel: str) -> tuple[Outcome, str | None]:
    try:
        result = build(tree, rel, flux=True, fallback=True)
    except HomeopsError as exc:
        return Outcome(None, str(exc)), None
    return Outcome([res.obj for res in result.resources]), result.fallback


def _compare_repository(root: Path, tally: Tally, problems: list[str]) -> None:
    folders = kustomization_folders(root)
    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(kubectl_build, folders))
    tree = SourceTree(root)
    for folder, expected in zip(folders, references, strict=True):
        rel = folder.relative_to(root).as_posix() if folder != root else ""
        tally.compared += 1
        actual, fallback = _native(tree, rel)
        tally.fallback += fallback is not None
        where = f"{root.name}/{rel}"
        if expected.failed or actual.failed:
            if expected.failed and actual.failed:
                tally.both_failed += 1
            elif expected.failed:
                message = expected.error[-300:]
                problems.append(f"{where}: kubectl fails but the native build succeeds\n  {message}")
            else:
                problems.append(f"{where}: the native build fails but kubectl succeeds\n  {actual.error}")
            continue
        assert expected.objects is not None and actual.objects is not None
        report = differences(expected.objects, actual.objects)
        if report:
            problems.append(f"{where}: objects differ\n{report}")
        else:
            tally.identical += 1


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_and_fixtures_match_kubectl(corpus: Path) -> None:
    kubectl_path()
    tally = Tally()
    problems: list[str] = []
    roots = [p for p in sorted(corpus.iterdir()) if p.is_dir()]
    roots += [p for p in sorted(FIXTURES.iterdir()) if p.is_dir() and p.name != "errors"]
    for root in roots:
        _compare_repository(root, tally, problems)
    share = tally.fallback / tally.compared if tally.compared else 0.0
    print(
        f"\nkustomize differential: {tally.compared} folders, {tally.identical} identical, "
        f"{tally.both_failed} failing in both, {tally.fallback} built through the kubectl fallback "
        f"({share:.1%})"
    )
    assert not problems, "\n\n".join(problems)
    assert tally.compared > 300


def test_canonical_form_is_order_independent() -> None:
    a = [{"kind": "A", "metadata": {"name": "x"}}, {"kind": "B", "metadata": {"name": "y"}}]
    assert differences(a, list(reversed(a))) == ""
    assert differences(a, a[:1]) != ""
    assert json.loads(json.dumps(a)) == a
