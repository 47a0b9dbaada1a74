"""homeops.yamlout writes what PyYAML's dumper writes for the same data, byte for byte."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from homeops import yamlout
from homeops.load.yamlio import parse


class _Reference(yamlout._Dumper):  # type: ignore[misc,name-defined]
    """PyYAML's dumper with homeops' string style and nothing else: what yamlout did before."""


_Reference.add_representer(str, yamlout._str)


def reference(data: Any, sort_keys: bool = False) -> str:
    return str(
        yaml.dump(
            data,
            Dumper=_Reference,
            sort_keys=sort_keys,
            default_flow_style=False,
            allow_unicode=True,
            width=10_000,
        )
    )


STRINGS = [
    "",
    " ",
    "plain",
    "with space",
    " leading",
    "trailing ",
    "true",
    "yes",
    "on",
    "null",
    "~",
    "1",
    "0x1F",
    "1e3",
    "1.5",
    "0o17",
    "1_000",
    "2024-01-31",
    "12:30",
    "a: b",
    "a #b",
    "#c",
    "-",
    "- x",
    "? q",
    "*ref",
    "&anchor",
    "!tag",
    "%dir",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "back\\slash",
    "tab\there",
    "é ünï",
    "日本",
    "emoji 🚀",
    "line\nbreak",
    "line\nbreak\n",
    "two\n\n",
    "\nlead",
    "trail \nspace",
    "{a: 1}",
    "[1, 2]",
    "=",
    "<<",
    "a,b",
    "${VAR}",
    "{{ .Values.x }}",
    "ctrl\x07",
    "nbsp\u00a0x",
    "long " * 50,
]


def sample(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice([*STRINGS, 0, -7, 10**20, True, False, None, 1.5, float("inf")])
    if roll < 0.75:
        return {
            rng.choice([*STRINGS[:30], 1, True, None]): sample(rng, depth + 1)
            for _ in range(rng.randint(0, 4))
        }
    return [sample(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_same_bytes_as_pyyaml_on_generated_documents() -> None:
    rng = random.Random(20261207)
    for _ in range(3000):
        data = sample(rng)
        assert yamlout.dump_yaml(data) == reference(data), data
        sortable = not isinstance(data, dict) or len({type(k) for k in data}) <= 1
        if sortable:
            assert yamlout.dump_yaml(data, sort_keys=True) == reference(data, sort_keys=True), data


def test_containers_met_twice_become_anchors_as_before() -> None:
    shared = {"port": 8080, "path": ["/healthz"]}
    data = {"liveness": shared, "readiness": shared, "list": [shared["path"], shared["path"]]}
    text = yamlout.dump_yaml(data)
    assert text == reference(data)
    assert "&id001" in text and "*id001" in text
    assert yamlout.dump_yaml(data, sort_keys=True) == reference(data, sort_keys=True)


def test_same_bytes_as_pyyaml_on_the_corpus(corpus: Path) -> None:
    for path in sorted(corpus.rglob("*.yaml"))[::7]:
        for document in parse(path.read_bytes()).documents:
            assert yamlout.dump_yaml(document) == reference(document), path


def test_same_bytes_as_pyyaml_on_strings_of_tricky_characters() -> None:
    rng = random.Random(7)
    alphabet = "aZ09_./=+ ${}:@,-#'\"\\?*&!|>%`[]~"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        data = {text: [text, {"k": text}], "v": text}
        assert yamlout.dump_yaml(data) == reference(data), repr(text)
