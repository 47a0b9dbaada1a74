"""The loader reads what Flux reads (go-yaml v3 through kustomize, then JSON), and turns what it cannot
read into a reason with a line. The values asserted here are what ``kubectl kustomize`` (kustomize
v5.8) prints for the same text; tests/kustomize/test_yaml_parity.py checks the same against the real
binary."""

from __future__ import annotations

import codecs

import pytest

from homeops.load.yamlio import HELM, compose, locate, parse


def test_redefined_anchor_is_loaded_like_go_yaml() -> None:
    # Go YAML lets an anchor be defined again; later aliases see the later value.
    parsed = parse(b"a: &port 80\nb: *port\nc: &port 8080\nd: *port\n")
    assert parsed.failure is None
    assert parsed.documents == ({"a": 80, "b": 80, "c": 8080, "d": 8080},)


def test_custom_tags_load_as_plain_data() -> None:
    parsed = parse(b"host: !env_var DB_HOST\npassword: !secret db_password\nextra: !include [a.yaml]\n")
    assert parsed.documents == ({"host": "DB_HOST", "password": "db_password", "extra": ["a.yaml"]},)


def test_yaml_12_core_typing_as_kustomize_reads_it() -> None:
    parsed = parse(
        b"enabled: on\nflag: yes\nmode: 0775\nmode2: 0o775\nday: 2024-01-31\nport: 8080\n"
        b"big: 1e3\nwhole: 1.0\nhalf: .5\nsep: 1_000\nhex: 0x1F\ntime: 22:22\nnull: ~\n"
    )
    assert parsed.failure is None
    assert parsed.documents == (
        {
            "enabled": "on",  # YAML 1.2: only true/false are booleans
            "flag": "yes",
            "mode": 0o775,  # go-yaml v3 still reads 1.1 octals
            "mode2": 0o775,
            "day": "2024-01-31T00:00:00Z",  # a date decodes to a time, which JSON writes in RFC 3339
            "port": 8080,
            "big": 1000,  # a float, written by JSON as 1000
            "whole": 1,
            "half": 0.5,
            "sep": 1000,
            "hex": 31,
            "time": "22:22",  # no sexagesimal numbers
            # a null key of the top mapping is skipped by go-yaml
        },
    )
    assert type(parsed.documents[0]["big"]) is int


def test_helm_reads_yaml_11_booleans() -> None:
    # Chart values go through sigs.k8s.io/yaml (go-yaml v2): yes/on/y are booleans there.
    parsed = parse(b"a: yes\nb: on\nc: y\nd: off\ne: 1e3\n1: numeric key\nday: 2024-01-31\n", schema=HELM)
    assert parsed.documents == ({"a": True, "b": True, "c": True, "d": False, "e": 1000, "1": "numeric key",
                                 "day": "2024-01-31"},)  # fmt: skip


def test_duplicate_keys_are_refused_as_kustomize_does() -> None:
    parsed = parse(b"kind: ConfigMap\ndata:\n  a: 1\n  b: 2\n  a: 3\n")
    assert parsed.failure is not None
    assert parsed.failure.line == 5
    assert parsed.failure.reason == 'mapping key "a" already defined at line 3'
    # quoting does not make a different key; Helm's reader lets the last one win
    assert parse(b"a: 1\n'a': 2\n").failure is not None
    assert parse(b"a: 1\na: 2\n", schema=HELM).documents == ({"a": 2},)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("spec:\n  ports:\n    1: a\n", 3, "mapping key 1 is not a string"),
        ("spec:\n  x: .inf\n", 2, "not a number JSON can hold"),
        ("spec:\n  x: [1, .nan]\n", 2, "not a number JSON can hold"),
        ("a: !!int abc\n", 1, "cannot decode !!str `abc` as a !!int"),
        ("a: !!binary 'a b'\n", 1, "invalid base64"),
        ("a: !!timestamp soon\n", 1, "as a !!timestamp"),
        ("? [a]\n: 1\n", 1, "invalid map key"),
        ("a:\n  <<: 5\n", 2, "map merge requires map or sequence of maps"),
        ("s: &s x\na:\n  <<: *s\n", 3, "alias for a non-map value"),
        ("m: &m {x: 1}\na:\n  <<: *m\n  <<: *m\n", 4, "duplicate merge key"),
    ],
)
def test_what_kustomize_refuses_is_a_failure_with_a_line(text: str, line: int, words: str) -> None:
    parsed = parse(text)
    assert parsed.failure is not None, parsed
    assert parsed.failure.line == line
    assert words in parsed.failure.reason


def test_tags_decode_as_go_yaml_does() -> None:
    parsed = parse(
        b"a: !!str 12\nb: !!int '12'\nc: !!float 3\nd: !!binary aGVsbG8=\ne: ! 12\nf: !!binary /w==\n"
    )
    assert parsed.documents == ({"a": "12", "b": 12, "c": 3, "d": "hello", "e": 12, "f": "\ufffd"},)


def test_merge_keys_as_kyaml_expands_them() -> None:
    text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2, w: 2}\nm:\n  w: 3\n  <<: [*a, *b]\n"
    text += "q:\n  '<<': dropped\n  k: v\n"
    assert parse(text).documents[0]["m"] == {"w": 3, "x": 1, "y": 1, "z": 2}
    assert parse(text).documents[0]["q"] == {"k": "v"}  # kyaml clears a quoted "<<" field too


def test_folded_scalars_keep_the_line_break_go_yaml_adds() -> None:
    # go-yaml writes a folded scalar back with an extra break before a more-indented line, and
    # kustomize reads that back: the applied text has one more line break than the YAML spec says.
    parsed = parse(b"expr: >\n  sum(rate(x[5m]))\n    by (job)\n  > 0\nplain: >\n  a\n  b\n")
    assert parsed.documents == ({"expr": "sum(rate(x[5m]))\n\n  by (job)\n> 0\n", "plain": "a b\n"},)


def test_flux_variables_in_non_string_positions_stay_text() -> None:
    parsed = parse(b"runAsUser: ${PUID:=1000}\nreplicas: ${REPLICAS}\n")
    assert parsed.documents == ({"runAsUser": "${PUID:=1000}", "replicas": "${REPLICAS}"},)


def test_many_empty_and_list_documents_with_their_lines() -> None:
    parsed = parse(b"---\n---\n- a\n- b\n---\n# only a comment\n---\nkind: X\n")
    assert parsed.documents == (None, ["a", "b"], None, {"kind": "X"})
    assert parsed.lines[1] == 3
    assert parsed.lines[3] == 8


@pytest.mark.parametrize(
    "raw",
    [
        codecs.BOM_UTF8 + b"kind: ConfigMap\r\nmetadata:\r\n  name: x\r\n",
        "kind: ConfigMap\nmetadata:\n  name: x\n".encode("utf-16"),
        b"%YAML 1.1\n---\nkind: ConfigMap\nmetadata:\n  name: x\n",
    ],
    ids=["bom-crlf", "utf16", "yaml-directive"],
)
def test_encodings_and_directives(raw: bytes) -> None:
    parsed = parse(raw)
    assert parsed.failure is None
    assert parsed.documents == ({"kind": "ConfigMap", "metadata": {"name": "x"}},)


def test_invalid_utf8_is_a_failure_with_line_and_offset() -> None:
    parsed = parse(b"a: 1\nb: caf\xe9\n")
    assert parsed.documents == ()
    assert parsed.failure is not None
    assert parsed.failure.line == 2
    assert "not valid UTF-8" in parsed.failure.reason and "0xe9" in parsed.failure.reason


def test_tab_indentation_is_a_failure_not_a_crash() -> None:
    parsed = parse(b"a:\n\tb: 1\n")
    assert parsed.failure is not None
    assert parsed.failure.line == 2


def test_broken_yaml_reports_the_parser_reason_and_line() -> None:
    parsed = parse(b"kind: ConfigMap\ndata:\n  key: [unclosed\nother: 1\n")
    assert parsed.failure is not None
    assert parsed.failure.line == 4
    assert "flow sequence" in parsed.failure.reason


def test_undefined_and_recursive_aliases_are_failures() -> None:
    parsed = parse(b"a: *nowhere\n")
    assert parsed.failure == (1, "unknown anchor 'nowhere' referenced")
    recursive = parse(b"a: &self [1, *self]\n")
    assert recursive.failure == (1, "anchor 'self' value contains itself")


def _bomb(levels: int, width: int = 9) -> bytes:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: lol", "data:", '  a0: &a0 ["lol"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return ("\n".join(lines) + "\n").encode()


def test_an_alias_bomb_is_refused_quickly_with_its_line() -> None:
    bomb = _bomb(30)  # 9**30 nodes once expanded, in under 2 KB
    assert len(bomb) < 2048
    parsed = parse(bomb)
    assert parsed.failure is not None
    assert "excessive aliasing" in parsed.failure.reason
    assert 6 < parsed.failure.line <= 36


def test_modest_aliasing_is_fine() -> None:
    # go-yaml's rule only bites past 1,000 decoded nodes when 99% of them come from aliases
    parsed = parse(_bomb(2))
    assert parsed.failure is None
    assert len(parsed.documents[0]["data"]["a2"]) == 9


def test_nesting_is_bounded() -> None:
    parsed = parse(("a: " + "[" * 300 + "]" * 300 + "\n").encode())
    assert parsed.failure is not None and "nested deeper than" in parsed.failure.reason
    assert parse(("a: " + "[" * 150 + "]" * 150 + "\n").encode()).failure is None


def test_locate_finds_field_lines_through_merge_keys() -> None:
    text = "base: &b\n  image: x\nspec:\n  <<: *b\n  list:\n    - a\n    - b\n"
    node = compose(text)[0]
    assert locate(node, ["spec", "list", 1]) == 7
    assert locate(node, ["spec", "image"]) == 2
    assert locate(node, ["spec", "missing", "deeper"]) == 3


def test_locate_in_a_document_that_redefines_an_anchor() -> None:
    # app-template values repeat an anchor per controller; each alias means the latest definition
    text = (
        "a:\n  probes: &probes\n    port: 1\n  readiness: *probes\n"
        "b:\n  probes: &probes\n    port: 2\n  readiness: *probes\n"
    )
    for tags in (True, False):
        node = compose(text, tags=tags)[0]
        assert locate(node, ["b", "readiness", "port"]) == 7
        assert locate(node, ["a", "readiness", "port"]) == 3
        assert locate(node, ["b", "probes"]) == 6


def test_plain_values_as_each_reader_types_them() -> None:
    from homeops.load.yamlio import plain_value

    # what kustomize-controller reads back after substituting variables (sigs.k8s.io/yaml)
    assert [plain_value(t, schema=HELM) for t in ("y", "on", "0x1F", "1e3", "1:20", "~", ".inf")] == [
        True, True, 31, 1000, "1:20", None, ".inf",
    ]  # fmt: skip
    assert [plain_value(t) for t in ("y", "on", "2024-01-31", "<<")] == [
        "y",
        "on",
        "2024-01-31T00:00:00Z",
        "<<",
    ]
