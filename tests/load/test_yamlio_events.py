"""The loader builds documents from parser events; libyaml's parser (the fast path) and PyYAML's
pure-Python one (where libyaml is missing) must give the same data, failures on the same lines."""

from __future__ import annotations

import math
from typing import Any

import pytest

from homeops.load import yamlio
from homeops.load.yamlio import ParsedFile, parse

SAMPLES = [
    "a: 1\nb: [x, y]\nc: {d: e}\n",
    # every implicit type of YAML 1.1 and 1.2, as plain and as quoted text
    "i: [0, -12, +7, 0x1F, 0o17, 017, 0b101, 1_000, '12', 190:20:30]\n",
    "f: [1.5, -.5, 1e3, 6.8523015e+5, .inf, -.Inf, .NaN, 190:20:30.15, '1.5']\n",
    "b: [yes, No, TRUE, off, On, y, n, 'true']\n",
    "n: [~, null, Null, NULL, '', 'null']\nempty:\n",
    "t: [2024-01-31, 2001-12-14t21:59:43.10-05:00, '2024-01-31']\n",
    "odd: [=, <<, '<<', '=', -, '-', .]\n",
    # keys of every type at the top (they become their text) and below it (refused), duplicate keys
    "1: a\ntrue: b\n~: c\n1.5: d\nx: 1\ny: 2\n",
    "a:\n  1: a\n",
    "x: 1\ny: 2\nx: 3\n",
    # anchors and aliases, shared objects, redefined anchors, undefined and recursive aliases
    "base: &b {x: 1}\nuse: *b\nlist: &l [1, 2]\nagain: *l\nscalar: &s v\nref: *s\n",
    "a: &p 80\nb: *p\nc: &p 8080\nd: *p\n",
    "a: &outer {b: &outer 1}\nc: *outer\n",
    "a: *nowhere\n",
    "a: &self [1, *self]\n",
    # merge keys, alone, in lists, overridden; a key named '<<' in quotes is dropped as kyaml does
    "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n",
    "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n",
    "'<<': plain key\n",
    "x: &m <<\n",
    "<<: 1\n",
    # tags: known, custom, non-specific
    "a: !!str 1\nb: !!int '2'\nc: !!float 3\nd: !!binary aGVsbG8=\ne: !!set {a, b}\n",
    "f: !!timestamp 2001-1-2\ng: !!timestamp 2001-12-14 21:59:43.10\n",
    "a: !!int x\n",
    "f: >\n  one\n    more\n  two\n",
    "host: !env_var DB_HOST\nl: !custom [1]\nm: !custom {a: 1}\n",
    "a: ! 12\nb: ! [1]\n",
    # complex keys
    "? [a, b]\n: 1\n? {c: d}\n: 2\n",
    # documents: empty, comments only, scalars, lists, explicit ends, directives
    "",
    "# just a comment\n",
    "---\n",
    "---\n---\n- a\n---\n# c\n---\nkind: X\n",
    "--- text\n...\n--- 12\n",
    "%YAML 1.1\n---\na: 1\n",
    "key: value\n...\n",
    # block scalars, folded, with windows line ends
    "a: |\n  one\n  two\nb: >-\n  folded\n  text\n",
    "a: 1\r\nb:\r\n  - x\r\n",
    # broken files: the same failure, line and reason
    "a: [1, 2\n",
    "a: b: c\n",
    "- a\nb: c\n",
    "a:\n  - b\n c: d\n",
    "a: 'unclosed\n",
    "a: 1\n---\n[\n",
    # deep nesting
    "a: " + "[" * 150 + "]" * 150 + "\n",
]


def _slow(text: str | bytes, monkeypatch: pytest.MonkeyPatch) -> ParsedFile:
    with monkeypatch.context() as patched:
        patched.setattr(yamlio, "_CParser", None)
        return parse(text)


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return [(type(k), k) for k in a] == [(type(k), k) for k in b] and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _agree(fast: ParsedFile, slow: ParsedFile) -> bool:
    """Same data and lines; a failure on the same line (the two parsers word syntax errors apart)."""
    if (fast.failure is None) != (slow.failure is None):
        return False
    if fast.failure is not None and slow.failure is not None:
        return fast.failure.line == slow.failure.line
    return fast.lines == slow.lines and _same(list(fast.documents), list(slow.documents))


@pytest.mark.parametrize("text", SAMPLES)
def test_libyaml_and_the_python_parser_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = parse(text), _slow(text, monkeypatch)
    assert _agree(fast, slow), (fast, slow)


def test_aliases_share_one_object_as_in_pyyaml() -> None:
    doc = parse("base: &b {x: 1}\nuse: *b\n").documents[0]
    assert doc["use"] is doc["base"]


def test_plain_values_are_memoised_but_containers_are_fresh() -> None:
    first, second = parse("a: {b: 1}\n").documents[0], parse("a: {b: 1}\n").documents[0]
    assert first == second and first["a"] is not second["a"]


def test_corpus_files_parse_the_same_on_both_paths(corpus: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = 0
    for path in sorted(corpus.rglob("*.y*ml")):
        if ".git" in path.parts or not path.is_file():
            continue
        raw = path.read_bytes()
        assert _agree(parse(raw), _slow(raw, monkeypatch)), path
        checked += 1
    assert checked > 1000


def _paths(data: Any, prefix: tuple[str | int, ...] = ()) -> Any:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, (*prefix, i))


def test_untagged_compose_locates_every_field_like_the_tagged_one(corpus: Any) -> None:
    located = 0
    for path in sorted(corpus.rglob("*.y*ml"))[::7]:
        if ".git" in path.parts or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        tagged, untagged = yamlio.compose(text), yamlio.compose(text, tags=False)
        assert len(tagged) == len(untagged), path
        for doc, a, b in zip(parse(text).documents, tagged, untagged, strict=False):
            for field in _paths(doc):
                assert yamlio.locate(a, field) == yamlio.locate(b, field), (path, field)
                located += 1
    assert located > 1000
