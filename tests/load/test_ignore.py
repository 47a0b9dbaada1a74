"""gitignore-style matching as users expect it from Git."""

from __future__ import annotations

import random
import re

import pytest

from homeops.load.ignore import FLUX_DEFAULT_IGNORES, IgnoreRules

RULES = IgnoreRules(["# comment", "*.log", "build/", "/top.txt", "!keep.log", "a/**/z", "*.sops.*"])


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        ("x.log", False, True),
        ("deep/x.log", False, True),
        ("keep.log", False, False),
        ("build", True, True),
        ("build", False, False),
        ("build/output.yaml", False, True),
        ("top.txt", False, True),
        ("sub/top.txt", False, False),
        ("a/b/c/z", False, True),
        ("a/z", False, True),
        ("secrets/x.sops.yaml", False, True),
        ("kubernetes/app.yaml", False, False),
    ],
)
def test_gitignore_semantics(path: str, is_dir: bool, ignored: bool) -> None:
    assert RULES.ignores(path, is_dir) is ignored


def test_flux_leaves_sops_config_and_ci_out_of_the_artifact() -> None:
    assert FLUX_DEFAULT_IGNORES.ignores(".sops.yaml")
    assert FLUX_DEFAULT_IGNORES.ignores(".github/workflows/ci.yaml")
    assert not FLUX_DEFAULT_IGNORES.ignores("kubernetes/apps/kustomization.yaml")


def _reference(lines: list[str], rel: str, is_dir: bool) -> bool | None:
    """Git's rule spelt out pattern by pattern: the last pattern that matches decides."""
    from homeops.load.ignore import _translate

    verdict = None
    for raw in lines:
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        prefix = "" if "/" in line else "(?:.*/)?"
        if (is_dir or not dir_only) and re.match(f"^{prefix}{_translate(line.lstrip('/'))}$", rel):
            verdict = not negate
    return verdict


def test_matching_all_patterns_at_once_agrees_with_pattern_by_pattern() -> None:
    pieces = (
        "*.log build/ /top.txt !keep.log a/**/z *.sops.* !*.sops.yaml **/cache docs/*.md x?z [ab]*.txt "
        "!b1.txt **/deep/** tmp !/tmp * !*.yaml"
    ).split()
    names = (
        "x.log keep.log build top.txt z cache x.sops.yaml x.sops.json xyz a1.txt b1.txt c.md deep tmp "
        "k.yaml plain"
    ).split()
    folders = ["", "a/", "a/b/", "docs/", "sub/deep/", "build/", "tmp/"]
    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        lines = rng.sample(pieces, rng.randint(1, 7))
        rules = IgnoreRules(lines)
        for folder in folders:
            for name in names:
                for is_dir in (False, True):
                    rel = folder + name
                    assert rules.match(rel, is_dir) == _reference(lines, rel, is_dir), (lines, rel, is_dir)
                    checked += 1
    assert checked > 10_000
