"""Flux's envsubst dialect, checked against the behaviour kustomize-controller documents and tests."""

from __future__ import annotations

import pytest

from homeops.flux.substitute import Outcome, Variables, disabled, expand, substitute


@pytest.mark.parametrize(
    ("values", "text", "expected"),
    [
        ({"v": "abcdEFGH28ij"}, "${#v}", "12"),
        ({"v": "abcdEFGH28ij"}, "${v^}", "AbcdEFGH28ij"),
        ({"v": "abcdEFGH28ij"}, "${v^^}", "ABCDEFGH28IJ"),
        ({"v": "ABCDEFGH28IJ"}, "${v,}", "aBCDEFGH28IJ"),
        ({"v": "ABCDEFGH28IJ"}, "${v,,}", "abcdefgh28ij"),
        ({"p": "/home/bozo/ideas/thoughts.for.today"}, "${p:11}", "ideas/thoughts.for.today"),
        ({"p": "/home/bozo/ideas/thoughts.for.today"}, "${p:11:5}", "ideas"),
        ({"v": "abc"}, "${v=xyz}", "abc"),
        ({}, "${v=xyz}", "xyz"),
        ({}, "${v:=xyz}", "xyz"),
        ({}, "${v:-fallback}", "fallback"),
        ({"d": "foo1"}, "foo: ${v=prefix${d}-suffix}", "foo: prefixfoo1-suffix"),
        ({"z": "abcABC123ABCabc"}, "${z/%abc/XYZ}", "abcABC123ABCXYZ"),
        ({"z": "abcABC123ABCabc"}, "${z/#abc/XYZ}", "XYZABC123ABCabc"),
        ({"z": "abcABC123ABCabc"}, "${z//abc/xyz}", "xyzABC123ABCxyz"),
        ({"z": "abcABC123ABCabc"}, "${z/abc/xyz}", "xyzABC123ABCabc"),
        ({"z": "foo/bar/baz"}, r"${z//\//-}", "foo-bar-baz"),
        ({"f": "bash.string.txt"}, "${f#*.}", "string.txt"),
        ({"f": "bash.string.txt"}, "${f##*.}", "txt"),
        ({"f": "bash.string.txt"}, "${f%.*}", "bash.string"),
        ({"f": "bash.string.txt"}, "${f%%.*}", "bash"),
        ({"v": "x"}, "$${v}", "${v}"),
        ({"v": "x"}, "a $v and $$ b", "a $v and $ b"),
        ({"d": "foo"}, "something $${var=${d}}", "something ${var=foo}"),
        ({"v": ""}, "${v:=empty-means-default}", "empty-means-default"),
    ],
)
def test_expressions(values: dict[str, str], text: str, expected: str) -> None:
    assert expand(text, Variables(values)) == expected


def test_missing_variables_are_recorded_defaults_are_not() -> None:
    outcome = Outcome()
    assert expand("${A}-${B:=b}-${C^^}", Variables({}), outcome) == "-b-"
    assert outcome.missing == {"A", "C"}


def test_bad_syntax_is_an_error_not_an_exception() -> None:
    outcome = Outcome()
    assert expand("echo ${!name}", Variables({"x": "1"}), outcome) == "echo ${!name}"
    assert outcome.errors and "variable name" in outcome.errors[0]


def test_opaque_sops_values_stay_as_written() -> None:
    outcome = Outcome()
    text = "https://app.${SECRET_DOMAIN}"
    assert expand(text, Variables({}, frozenset({"SECRET_DOMAIN"})), outcome) == text
    assert not outcome.missing


def test_objects_retype_plain_scalars_and_share_unchanged_parts() -> None:
    spec = {"untouched": {"deep": ["a"]}}
    obj = {"runAsUser": "${PUID:=1000}", "enabled": "${ON}", "name": "${APP}-db", "spec": spec}
    out = substitute(obj, Variables({"APP": "immich", "ON": "true"}), Outcome())
    assert out == {"runAsUser": 1000, "enabled": True, "name": "immich-db", "spec": spec}
    assert out["spec"] is spec


def test_keys_are_substituted_too() -> None:
    out = substitute({"${K}": "v"}, Variables({"K": "key"}), Outcome())
    assert out == {"key": "v"}


def test_opt_out_by_label_or_annotation() -> None:
    key = "kustomize.toolkit.fluxcd.io/substitute"
    assert disabled({"metadata": {"annotations": {key: "disabled"}}})
    assert disabled({"metadata": {"labels": {key: "disabled"}}})
    assert not disabled({"metadata": {"annotations": {key: "enabled"}}})
