"""The YAML writer: what it writes reads back as the data it was given, in the hand-written style."""

from __future__ import annotations

import pytest
import yaml

from homeops.load import yamlio
from homeops.scaffold.yamltext import Alias, Anchored, Commented, Document, dump, dump_documents, scalar


@pytest.mark.parametrize(
    "value",
    [
        "08",
        "1.2",
        "yes",
        "on",
        "n",
        "true",
        "null",
        "~",
        "0x1f",
        "1e3",
        "-5",
        ".inf",
        "a: b",
        "#x",
        "@x",
        "*x",
        "{{ .Release.Name }}.${SECRET_DOMAIN}",
        "${SECRET_DOMAIN}",
        "x # y",
        " lead",
        "trail ",
        "",
        "it's",
        'q"q',
        "5.1.0",
        "10.11.1.21",
        "v1.16.2",
        "2026.7.11@sha256:ab",
        "Etc/UTC",
        "1h",
    ],
)
def test_scalar_reads_back_as_the_same_string(value: str) -> None:
    assert yaml.safe_load(f"k: {scalar(value)}\n") == {"k": value}


def test_plain_where_people_write_plain() -> None:
    assert scalar("5.1.0") == "5.1.0"
    assert scalar("10.11.1.21") == "10.11.1.21"
    assert scalar("ghcr.io/sharevb/it-tools") == "ghcr.io/sharevb/it-tools"
    assert scalar(True) == "true"
    assert scalar(8080) == "8080"


def test_block_style_with_indented_sequences_and_header() -> None:
    data = {"resources": ["./a.yaml", "./b"], "spec": {"dependsOn": [{"name": "x", "namespace": "media"}]}}
    text = dump(data, ["yaml-language-server: $schema=https://example.com/s.json"])
    assert text == (
        "---\n"
        "# yaml-language-server: $schema=https://example.com/s.json\n"
        "resources:\n"
        "  - ./a.yaml\n"
        "  - ./b\n"
        "spec:\n"
        "  dependsOn:\n"
        "    - name: x\n"
        "      namespace: media\n"
    )


def test_anchor_alias_and_comment() -> None:
    text = dump(
        {
            "metadata": {"name": Anchored("app", "immich")},
            "spec": {
                "postBuild": {"substitute": {"APP": Alias("app")}},
                "tag": Commented("1.2.3", "homeops: pin digest"),
            },
        }
    )
    assert "  name: &app immich\n" in text
    assert "      APP: *app\n" in text
    assert "  tag: 1.2.3  # homeops: pin digest\n" in text
    data = yamlio.parse(text).documents[0]
    assert data["spec"]["postBuild"]["substitute"]["APP"] == "immich"
    assert data["spec"]["tag"] == "1.2.3"


def test_multiline_strings_are_literal_blocks() -> None:
    patch = "apiVersion: v1\nkind: X\nmetadata:\n  name: _\n"
    text = dump({"patches": [{"patch": patch, "target": {"kind": "X"}}]})
    assert "  - patch: |\n      apiVersion: v1\n" in text
    assert yaml.safe_load(text)["patches"][0]["patch"] == patch


def test_many_documents() -> None:
    text = dump_documents([Document({"a": 1}), Document({"b": []}, ("note",))])
    assert text == "---\na: 1\n---\n# note\nb: []\n"
    assert list(yaml.safe_load_all(text)) == [{"a": 1}, {"b": []}]
