"""Every rule against its fixtures: the failing repo finds exactly the hand-marked lines, the passing repo
finds nothing.

``tests/testdata/rules/<RULE>/`` holds ``fail/`` (and ``fail-<variant>/``) repositories whose files carry
``# expect: <RULE>`` on each line a finding must point at, and ``pass/`` (``pass-<variant>/``) repositories
that must be clean. A ``pass: <repo>`` line in the rule's README reuses a layout repository of
``tests/testdata/repos/`` as a passing case.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rules_testlib import REPOS, RULES, copy_repo, describe, findings, markers, places, reused_repos

from homeops.rules.catalog import all_rules


@dataclass(frozen=True)
class Case:
    rule: str
    root: Path

    @property
    def name(self) -> str:
        return (
            f"{self.rule}/{self.root.name}"
            if self.root.parent.name == self.rule
            else (f"{self.rule}/repos/{self.root.name}")
        )


def cases(prefix: str) -> list[Case]:
    out = []
    for rule_dir in sorted(p for p in RULES.iterdir() if p.is_dir()):
        for sub in sorted(p for p in rule_dir.iterdir() if p.is_dir()):
            if sub.name == prefix or sub.name.startswith(prefix + "-"):
                out.append(Case(rule_dir.name, sub))
        if prefix == "pass":
            out.extend(Case(rule_dir.name, REPOS / name) for name in reused_repos(rule_dir))
    return out


FAIL = cases("fail")
PASS = cases("pass")


def _prepare(case: Case, tmp_path: Path) -> Path:
    """The repository to check: the fixture itself, or a copy with the links git cannot hold."""
    if case.rule == "LOAD003" and case.root.name.startswith("fail"):
        repo = copy_repo(case.root, tmp_path / "repo")
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "media.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
        apps = repo / "kubernetes" / "apps"
        os.symlink("../../../elsewhere", apps / "media")
        os.symlink("../../../../elsewhere/media.yaml", apps / "default" / "shared.yaml")
        return repo
    if case.rule == "LOAD008" and case.root.name.startswith("fail"):
        if os.geteuid() == 0:
            pytest.skip("root reads any folder: tests/rules/test_unreadable.py runs it unprivileged")
        repo = copy_repo(case.root, tmp_path / "repo")
        os.chmod(repo / LOCKED, 0)
        return repo
    return case.root


LOCKED = "kubernetes/apps/default/locked"
"""The folder of LOAD008's failing fixture that is made unreadable."""
_LINE_ZERO = {
    "LOAD003": {
        ("LOAD003", "kubernetes/apps/media", 0),
        ("LOAD003", "kubernetes/apps/default/shared.yaml", 0),
    },
    "LOAD008": {("LOAD008", LOCKED, 0)},
}


@pytest.mark.parametrize("case", FAIL, ids=lambda c: c.name)
def test_fail_fixture_finds_exactly_the_marked_lines(case: Case, tmp_path: Path) -> None:
    repo = _prepare(case, tmp_path)
    expected = markers(repo)
    for place in _LINE_ZERO.get(case.rule, ()):
        expected[place] += 1
    found = findings(repo)
    own = Counter({place: n for place, n in expected.items() if place[0] == case.rule})
    assert own, f"{case.name}: no '# expect: {case.rule}' marker"
    assert places(found, case.rule) == own, (
        f"{case.name}: {case.rule} findings differ from the markers\nfound:\n"
        f"{describe([f for f in found if f.rule == case.rule])}\nmarked: {sorted(own)}"
    )
    # Nothing else fires unannounced: a finding of another rule needs its own marker too.
    assert places(found) == expected, f"{case.name}: unmarked findings\n{describe(found)}"


@pytest.mark.parametrize("case", PASS, ids=lambda c: c.name)
def test_pass_fixture_is_clean(case: Case) -> None:
    found = findings(case.root)
    assert not [f for f in found if f.rule == case.rule], describe(found)
    assert not found, f"{case.name}: the passing fixture is not clean\n{describe(found)}"
    assert not markers(case.root), "a passing fixture must not carry '# expect:' markers"


def test_every_fixture_folder_names_a_rule() -> None:
    ids = {rule.id for rule in all_rules()}
    assert sorted(p.name for p in RULES.iterdir() if p.is_dir() and p.name not in ids) == []
