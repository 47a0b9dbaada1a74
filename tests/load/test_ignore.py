"""gitignore-style matching as users expect it from Git."""

from __future__ import annotations

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
