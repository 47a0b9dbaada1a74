"""Version constraints as Helm (Masterminds/semver v3) reads them: what Flux and Helm would pick.

The constraint table is checked twice: against the expectations written here, and against Helm
itself, whose ``semverCompare`` template function is the same Masterminds library Flux and Helm use
to choose chart versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeops.render.charts.semver import (
    SemverError,
    Version,
    highest,
    is_exact,
    parse_constraint,
    parse_version,
    try_version,
)

CASES = [
    ("1.2.3", "1.2.3", True),
    ("1.2.3", "1.2.4", False),
    ("=1.2.3", "1.2.3+meta", True),
    ("!=1.2.3", "1.2.4", True),
    ("!=1.2.x", "1.2.9", False),
    ("^1.2.3", "1.9.0", True),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.3", "1.2.2", False),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.4", False),
    ("^0", "0.9.0", True),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    ("~1", "1.9.9", True),
    ("~1", "2.0.0", False),
    ("~>1.2", "1.2.5", True),
    (">=1.2.0", "3.0.0", True),
    (">=1.2.0 <2", "1.9.9", True),
    (">=1.2.0, <2", "2.0.0", False),
    ("*", "99.0.0", True),
    ("1.2.x", "1.2.7", True),
    ("1.2.x", "1.3.0", False),
    ("1.x", "1.99.0", True),
    ("1.X", "2.0.0", False),
    (">1.2", "1.2.5", False),  # a range: >1.2 needs 1.3 or later
    (">1.2", "1.3.0", True),
    (">1", "1.9.0", False),
    ("<=1.2", "1.2.9", True),
    ("<=1.2", "1.3.0", False),
    ("<1.2.0", "1.1.9", True),
    ("1.2 - 1.4.5", "1.4.5", True),
    ("1.2 - 1.4.5", "1.4.6", False),
    ("1.2 - 1.4.5", "1.1.9", False),
    ("^1 || ^3", "3.1.0", True),
    ("^1 || ^3", "2.1.0", False),
    ("v1.2.3", "1.2.3", True),
    # pre-releases only when the AND group names one
    ("^1.0.0", "1.2.0-rc.1", False),
    ("*", "2.0.0-beta.1", False),
    (">=1.0.0-0", "1.2.0-rc.1", True),
    (">=1.2.0-0 <2", "1.2.0-rc.1", True),
    (">=1.2.0 <2", "1.2.0-rc.1", False),
    ("^1.2.0-0", "1.3.0-alpha.1", True),
    (">=1.25.0-0", "1.33.0", True),
    (">=1.25.0-0", "1.24.9", False),
    ("1.0.0-rc.1", "1.0.0-rc.1", True),
    ("1.0.0-rc.1", "1.0.0-rc.2", False),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), CASES)
def test_constraints(constraint: str, version: str, expected: bool) -> None:
    assert parse_constraint(constraint).allows(parse_version(version)) is expected


def test_helm_agrees(tmp_path: Path) -> None:
    """Helm's own semverCompare gives the same answer for every case."""
    from homeops.render.helm import HelmOptions, render_chart

    chart = tmp_path / "oracle"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: oracle\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: oracle\ndata:\n"
        "  results: '{{ range .Values.cases }}{{ semverCompare (index . 0) (index . 1) }},{{ end }}'\n"
    )
    cases = [[c, v] for c, v, _ in CASES]
    (obj,) = render_chart(
        chart, release_name="o", namespace="o", values={"cases": cases}, options=HelmOptions()
    )
    helm = [answer == "true" for answer in obj["data"]["results"].rstrip(",").split(",")]
    ours = [parse_constraint(c).allows(parse_version(v)) for c, v, _ in CASES]
    disagreements = [(c, v, h) for (c, v, _), h, o in zip(CASES, helm, ours, strict=True) if h != o]
    assert disagreements == [], json.dumps(disagreements)


def test_lenient_versions() -> None:
    assert str(parse_version("v1.2")) == "1.2.0"
    assert str(parse_version("2")) == "2.0.0"
    assert str(parse_version("1.2.3-rc.1+build.7")) == "1.2.3-rc.1+build.7"
    for bad in ("", "latest", "1.2.3.4", "1.2.3-01"):
        with pytest.raises(SemverError):
            parse_version(bad)


def test_precedence_follows_semver() -> None:
    ordered = (
        "1.0.0-alpha 1.0.0-alpha.1 1.0.0-alpha.beta 1.0.0-beta.2 1.0.0-beta.11 1.0.0-rc.1 "
        "1.0.0 1.0.1 1.10.0 2.0.0"
    )
    parsed = [parse_version(v) for v in ordered.split()]
    assert sorted(reversed(parsed)) == parsed
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")  # build metadata does not count


def test_invalid_constraint() -> None:
    with pytest.raises(SemverError):
        parse_constraint(">= one.two")


def test_exact_versions_are_recognised() -> None:
    assert is_exact("1.2.3") and is_exact("v1.2.3-rc.1+b")
    assert not any(is_exact(c) for c in ("1.2", "^1.2.3", "1.2.x", "*", ">=1.0.0", ""))


def test_highest_match_skips_what_does_not_match() -> None:
    tags = ["1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "not-a-version"]
    candidates = [(v, t) for t in tags if (v := try_version(t)) is not None]

    def pick(constraint: str) -> str | None:
        best: tuple[Version, str] | None = highest(candidates, parse_constraint(constraint))
        return best[1] if best else None

    assert pick("^1") == "1.1.0"
    assert pick("*") == "2.0.0"
    assert pick(">=1.2.0-0 <2") == "1.2.0-rc.1"
    assert pick("^5") is None
