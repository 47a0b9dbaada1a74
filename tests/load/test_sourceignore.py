"""source-controller's ignore patterns, as fluxcd/pkg sourceignore reads them (go-git's gitignore)."""

from __future__ import annotations

import pytest

from homeops.load.ignore import FLUX_DEFAULT_IGNORES, SourceIgnore, pattern_matches, read_source_patterns


def ignore(text: str, domain: tuple[str, ...] = ()) -> SourceIgnore:
    return SourceIgnore.for_source(read_source_patterns(text, domain))


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("logo.png", True),
        ("apps/dashboard/logo.png", True),
        ("charts/app-1.0.0.tar.gz", True),
        (".github/workflows/ci.yaml", True),
        ("kubernetes/.sops.yaml", True),
        (".sops.yaml", True),
        (".gitignore", True),
        ("apps/kustomization.yaml", False),
        ("apps/values.json", False),
    ],
)
def test_the_defaults_when_nothing_is_given(path: str, ignored: bool) -> None:
    assert FLUX_DEFAULT_IGNORES.ignores(path) is ignored


def test_given_patterns_replace_the_defaults_but_not_the_vcs_excludes() -> None:
    rules = ignore("docs/\n")
    assert not rules.ignores("apps/logo.png")  # no longer a default exclude
    assert not rules.ignores(".github/workflows/ci.yaml")
    assert rules.ignores(".gitignore")  # VCS excludes always stay
    assert rules.ignores("docs/index.yaml")


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        ("build", True, True),
        ("build", False, False),  # a folders-only pattern does not match a file of that name
        ("build/out.yaml", False, True),
        ("apps/build/out.yaml", False, True),  # a name pattern matches any name along the path
        ("top/x.yaml", False, True),
        ("apps/top/x.yaml", False, False),  # a leading / anchors to the root
        ("apps/a/b/z.yaml", False, True),
        ("apps/z.yaml", False, True),
        ("kubernetes/apps/keep.yaml", False, False),
        ("x.log", False, True),
        ("keep.log", False, False),  # the later ! pattern decides
    ],
)
def test_go_git_semantics(path: str, is_dir: bool, ignored: bool) -> None:
    rules = ignore("# comment\nbuild/\n/top\napps/**/z.yaml\n*.log\n!keep.log\n")
    assert rules.ignores(path, is_dir) is ignored


def test_a_folder_left_out_does_not_hide_a_file_put_back() -> None:
    # The classic spec.ignore of a GitRepository reading upstream CRDs: everything out, config/crd in.
    rules = ignore("# exclude\n/*\n# include\n!config/crd\n")
    assert rules.ignores("README.md")
    assert rules.ignores("config/webhook/manifests.yaml")
    assert not rules.ignores("config/crd/standard/gateway.yaml")
    assert rules.ignores("config", is_dir=True)  # the folder itself is out; its crd files are not


def test_patterns_of_a_nested_sourceignore_apply_below_its_folder_only() -> None:
    rules = ignore("*.yaml\n", domain=("apps", "scratch"))
    assert rules.ignores("apps/scratch/notes.yaml")
    assert rules.ignores("apps/scratch/deep/notes.yaml")
    assert not rules.ignores("apps/other.yaml")
    assert not rules.ignores("apps/scratch", is_dir=True)  # never the folder the file sits in


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*.yaml", ".hidden.yaml", True),  # Go's * also matches a leading dot
        ("[^a]*", "bravo", True),
        ("[^a]*", "alpha", False),
        ("[!a]*", "!x", True),  # ! is no negation in Go's classes
        ("file?.yaml", "file1.yaml", True),
        ("bad[", "bad[", False),  # a malformed pattern matches nothing
        ("*.tar.gz", "site.tar.gz", True),
        ("*.tar.gz", "site.tar.gzip", False),
        ("*.tar.gz", "site.tarxgz", False),  # the dot is no wildcard
        ("*", "anything", True),
        ("README", "README", True),
        ("README", "README.md", False),
        ("a.b", "axb", False),
        ("x*.yaml", "y.yaml", False),  # a * not in front
    ],
)
def test_names_are_matched_like_go_filepath_match(pattern: str, name: str, matches: bool) -> None:
    assert ignore(pattern).ignores(name) is matches


def test_the_decisive_pattern_is_the_last_of_all_that_match() -> None:
    # decisive() tries only the patterns a path's names allow; it must agree with trying every one.
    rules = ignore(
        "build/\n/top\napps/**/z.yaml\n*.log\n!keep.log\n/*\n!config/crd\n**/.sops.yaml\n"
        "apps/b?r/baz\n/docs/**\n/a/[xy]/c\n!/apps/keep/**\n"
    )
    paths = [
        "build", "build/out.yaml", "top/x.yaml", "apps/top/x.yaml", "apps/a/b/z.yaml", "apps/z.yaml",
        "x.log", "keep.log", "config/crd/a.yaml", "config", "kubernetes/.sops.yaml", ".sops.yaml",
        "apps/bar/baz", "apps/bar/baz/q.yaml", "apps/baz", "docs/index.md", "docs", "a/x/c", "a/z/c",
        "apps/keep/z.yaml", "apps/keep", ".git/config", "deep/er/still/.sops.yaml/x",
    ]  # fmt: skip
    for path in paths:
        for is_dir in (False, True):
            names = path.split("/")
            every = [p for p in rules.patterns if pattern_matches(p, names, is_dir)]
            assert rules.decisive(path, is_dir) == (every[-1] if every else None), (path, is_dir)
