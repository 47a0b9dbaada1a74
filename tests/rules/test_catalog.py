"""The rule catalog itself: well-formed ids and names, complete documentation, fixtures, generated docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rules_testlib import REPOS, RULES, markers, reused_repos

from homeops.rules.base import Rule, Severity
from homeops.rules.catalog import all_rules, find_rule
from homeops.rules.docs import pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"
CATALOG = all_rules()


def test_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in CATALOG]
    assert len(ids) == len(set(ids))
    for rule_id in ids:
        assert re.fullmatch(r"[A-Z]{3,4}[0-9]{3}", rule_id), rule_id
    # the prefix names the family (IMG for images, REF for references, ...): one prefix per family
    prefixes: dict[str, set[str]] = {}
    for rule in CATALOG:
        prefixes.setdefault(rule.id[:-3], set()).add(rule.family)
    assert all(len(families) == 1 for families in prefixes.values()), prefixes


def test_names_are_unique_kebab_case() -> None:
    names = [rule.name for rule in CATALOG]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", name), name


def test_lookup_by_id_and_name() -> None:
    for rule in CATALOG:
        assert find_rule(rule.id) is rule
        assert find_rule(rule.id.lower()) is rule
        assert find_rule(rule.name) is rule
    assert find_rule("NOPE999") is None


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_every_rule_is_documented(rule: Rule) -> None:
    assert isinstance(rule.severity, Severity)
    for field in ("family", "seed", "summary", "why", "bad", "good", "fix"):
        value = getattr(rule, field)
        assert isinstance(value, str) and value.strip(), f"{rule.id}: empty {field}"
    assert not rule.summary.endswith("."), "the page adds the full stop"
    assert rule.why.rstrip().endswith((".", ")")), f"{rule.id}: 'why' is a sentence"
    assert rule.bad.strip() != rule.good.strip()


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_examples_are_yaml(rule: Rule) -> None:
    """The pages show bad and good as ```yaml blocks: they must read as YAML (but LOAD001's bad)."""
    list(yaml.safe_load_all(rule.good))
    if rule.id == "LOAD001":
        with pytest.raises(yaml.YAMLError):
            list(yaml.safe_load_all(rule.bad))
    else:
        list(yaml.safe_load_all(rule.bad))


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_every_rule_has_a_failing_and_a_passing_fixture(rule: Rule) -> None:
    folder = RULES / rule.id
    assert folder.is_dir(), f"add tests/testdata/rules/{rule.id}/fail and pass"
    fails = [p for p in folder.iterdir() if p.is_dir() and p.name.split("-")[0] == "fail"]
    passes = [p for p in folder.iterdir() if p.is_dir() and p.name.split("-")[0] == "pass"]
    reused = reused_repos(folder)
    assert fails, f"{rule.id}: no fail/ fixture"
    assert passes or reused, f"{rule.id}: no pass/ fixture and no 'pass: <repo>' line in its README"
    for name in reused:
        assert (REPOS / name).is_dir(), f"{rule.id}: README names a missing layout repo {name!r}"
    if rule.id not in ("LOAD003", "LOAD008"):  # findings without a line: the tests that make them say them
        for fail in fails:
            assert any(place[0] == rule.id for place in markers(fail)), f"{fail}: no '# expect: {rule.id}'"


def test_markers_name_existing_rules() -> None:
    ids = {rule.id for rule in CATALOG}
    for folder in (RULES, REPOS):
        assert {place[0] for place in markers(folder)} <= ids


def test_docs_are_generated_from_the_catalog() -> None:
    expected = pages(CATALOG)
    assert DOCS.is_dir(), "run: homeops rules --write-docs docs/rules"
    written = {p.name: p.read_text(encoding="utf-8") for p in DOCS.iterdir() if p.is_file()}
    stale = sorted(name for name in expected if written.get(name) != expected[name])
    assert not stale, f"out of date, run 'homeops rules --write-docs docs/rules': {stale}"
    assert sorted(set(written) - set(expected)) == [], "pages of rules that no longer exist"


def test_every_page_is_in_the_index() -> None:
    index = pages(CATALOG)["README.md"]
    for rule in CATALOG:
        assert f"[{rule.id}]({rule.id}.md)" in index
