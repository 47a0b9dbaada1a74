"""The tolerant loader reads what Flux reads, and turns what it cannot read into a reason with a line."""

from __future__ import annotations

import codecs

import pytest

from homeops.load.yamlio import compose, locate, parse


def test_redefined_anchor_is_loaded_like_go_yaml() -> None:
    # Go YAML lets an anchor be defined again; later aliases see the later value.
    parsed = parse(b"a: &port 80\nb: *port\nc: &port 8080\nd: *port\n")
    assert parsed.failure is None
    assert parsed.documents == ({"a": 80, "b": 80, "c": 8080, "d": 8080},)


def test_custom_tags_load_as_plain_data() -> None:
    parsed = parse(b"host: !env_var DB_HOST\npassword: !secret db_password\nextra: !include [a.yaml]\n")
    assert parsed.documents == ({"host": "DB_HOST", "password": "db_password", "extra": ["a.yaml"]},)


def test_yaml_11_typing_as_kubernetes_reads_it() -> None:
    parsed = parse(b"enabled: on\nmode: 0775\nday: 2024-01-31\nport: 8080\n")
    assert parsed.documents == ({"enabled": True, "mode": 0o775, "day": "2024-01-31", "port": 8080},)


def test_duplicate_keys_last_one_wins() -> None:
    assert parse(b"a: 1\na: 2\n").documents == ({"a": 2},)


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


def test_undefined_alias_is_a_failure() -> None:
    parsed = parse(b"a: *nowhere\n")
    assert parsed.failure is not None
    assert "alias" in parsed.failure.reason


def test_locate_finds_field_lines_through_merge_keys() -> None:
    text = "base: &b\n  image: x\nspec:\n  <<: *b\n  list:\n    - a\n    - b\n"
    node = compose(text)[0]
    assert locate(node, ["spec", "list", 1]) == 7
    assert locate(node, ["spec", "image"]) == 2
    assert locate(node, ["spec", "missing", "deeper"]) == 3
