"""YAML as kustomize reads it: the native build against the real ``kubectl kustomize`` over YAML edge
cases, hand-picked and generated (Hypothesis, derandomized, a bounded number of examples).

Each case is a resource file holding one object; the two builds must agree on the objects, types
included (``kubectl kustomize`` writes JSON-typed YAML, so reading its output back is unambiguous), or
both refuse the file. kubectl's refusals come from kustomize itself: a duplicate key, a non-string key
below the top, ``.inf``, a bad tag, a bad merge.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kustomize_testlib import canonical, kubectl_path

from homeops.errors import HomeopsError
from homeops.kustomize import build
from homeops.load.tree import SourceTree
from homeops.load.yamlio import parse

HEAD = "apiVersion: example.com/v1\nkind: Case\nmetadata:\n  name: {name}\n"

ACCEPTED = [
    # YAML 1.1 booleans are strings in YAML 1.2; numbers as go-yaml reads them
    "spec:\n  a: yes\n  b: No\n  c: on\n  d: OFF\n  e: y\n  f: n\n  g: True\n  h: FALSE\n",
    "spec:\n  a: 1e3\n  b: 1.0\n  c: .5\n  d: -.5e2\n  e: 1_000\n  f: 0x1F\n  g: 0o17\n  h: 017\n  i: 08\n",
    "spec:\n  a: 0b101\n  b: -0b101\n  c: +12\n  d: -0\n  e: 1.\n  f: 9223372036854775808\n",
    "spec:\n  a: 18446744073709551615\n  b: 18446744073709551616\n  c: 0xFFFFFFFFFFFFFFFFFF\n  d: 1e400\n",
    "spec:\n  a: 1:20\n  b: 190:20:30\n  c: =\n  d: '<<'\n  e: <<x\n  f: ~\n  g: null\n  h:\n  i: Null\n",
    # timestamps become RFC 3339 text; almost-timestamps stay text
    "spec:\n  a: 2001-12-14\n  b: 2001-12-14t21:59:43.10-05:00\n  c: 2001-12-14 21:59:43.10\n"
    "  d: 2001-12-14T21:59:43Z\n  e: 2001-13-01\n  f: 2001-02-29\n  g: 2000-02-29\n  h: '2001-12-14'\n",
    "spec:\n  a: 2001-12-14T21:59:43+00:00\n  b: 2001-12-14T21:59:43.123456789123+01:30\n  c: 99-1-1\n",
    # tags
    "spec:\n  a: !!str 12\n  b: !!int '12'\n  c: !!float 3\n  d: !!binary aGVsbG8=\n  e: ! 12\n"
    "  f: !custom x\n"
    "  g: !!bool 'true'\n  h: !!null ''\n  i: !!timestamp 2001-1-2\n  j: !!binary |\n    aGVs\n    bG8=\n",
    "spec:\n  a: !!binary /w==\n  b: !!set {x, y}\n  c: !!omap [{a: 1}]\n  d: !!map {z: 1}\n",
    # anchors, redefined anchors, merges (kyaml's precedence; a quoted "<<" dropped)
    "spec:\n  a: &x 1\n  b: *x\n  c: &x 2\n  d: *x\n",
    "spec:\n  p: &p {a: 1, b: 1}\n  q: &q {b: 2, c: 2, d: 2}\n  m:\n    d: 3\n    <<: [*p, *q]\n"
    "  n:\n    <<: *p\n    a: 0\n  o:\n    '<<': {z: 1}\n    k: v\n",
    # block scalars: folded with more-indented lines (go-yaml adds a break), literal, chomping
    "spec:\n  a: >\n    one\n      two\n    three\n\n    four\n  b: >-\n    x\n\n      y\n    z\n"
    "  c: |\n    keep\n  d: >+\n    trail\n\n  e: >2\n      lead\n    normal\n",
    "spec:\n  a: >2\n     starts indented\n    then not\n    and not\n  b: >\n    tab\there\n      more\n",
    "spec:\n  a: >\n    x \n      y\n  b: |-\n    \n    after blank\n",
    # keys of the top mapping become their text
    "1: one\ntrue: t\n1.5: f\n",
]

REFUSED = [
    "spec:\n  a: 1\n  a: 2\n",
    "spec:\n  a: 1\n  'a': 2\n",
    "spec:\n  x: {1: a}\n",
    "spec:\n  x: .inf\n",
    "spec:\n  x: [-.Inf]\n",
    "spec:\n  x: .nan\n",
    "spec:\n  x: !!int abc\n",
    "spec:\n  x: !!binary 'a b'\n",
    "spec:\n  ? [a]\n  : 1\n",
    "spec:\n  m:\n    <<: 5\n",
    "spec:\n  s: &s x\n  m:\n    <<: *s\n",
]


def _folder(tmp: Path, bodies: list[str]) -> Path:
    folder = tmp / "case"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, body in enumerate(bodies):
        name = f"c{i}.yaml"
        (folder / name).write_text(HEAD.format(name=f"c{i}") + body, encoding="utf-8")
        names.append(name)
    (folder / "kustomization.yaml").write_text("resources:\n" + "".join(f"  - {n}\n" for n in names))
    return folder


def _kubectl(folder: Path) -> list[dict[str, object]] | None:
    done = subprocess.run(
        [kubectl_path(), "kustomize", str(folder)], capture_output=True, check=False, timeout=60
    )
    if done.returncode != 0:
        return None
    parsed = parse(done.stdout)
    assert parsed.failure is None, parsed.failure
    return [doc for doc in parsed.documents if isinstance(doc, dict)]


def _native(folder: Path) -> list[dict[str, object]] | None:
    try:
        result = build(SourceTree(folder), "", flux=False, fallback=False)
    except HomeopsError:
        return None
    return [res.obj for res in result.resources]


def _agree(folder: Path) -> tuple[bool, str]:
    expected, actual = _kubectl(folder), _native(folder)
    if expected is None or actual is None:
        return expected is None and actual is None, f"kubectl: {expected}\nnative: {actual}"
    want, have = canonical(expected), canonical(actual)
    return want == have, f"kubectl: {want}\nnative: {have}"


def test_hand_picked_cases_build_identically(tmp_path: Path) -> None:
    kubectl_path()
    folder = _folder(tmp_path, ACCEPTED)
    expected, actual = _kubectl(folder), _native(folder)
    assert expected is not None, "kubectl refused a case meant to be accepted"
    assert actual is not None
    by_name = {str(o["metadata"]["name"]): o for o in expected}  # type: ignore[index]
    for obj in actual:
        name = str(obj["metadata"]["name"])  # type: ignore[index]
        assert canonical([obj]) == canonical([by_name[name]]), ACCEPTED[int(name[1:])]
    assert len(actual) == len(expected)


@pytest.mark.parametrize("body", REFUSED)
def test_what_kustomize_refuses_is_refused(tmp_path: Path, body: str) -> None:
    kubectl_path()
    folder = _folder(tmp_path, [body])
    assert _kubectl(folder) is None
    assert _native(folder) is None


# -- generated --------------------------------------------------------------------------------------

_TOKENS = [
    "0", "1", "7", "8", "9", "12", "x", "o", "b", "e", "E", ".", "_", "-", "+", ":", "inf", "nan", "Inf",
    "NaN", "y", "Y", "yes", "No", "on", "OFF", "true", "False", "null", "~", "0x", "0o", "0b", "1e3", "T",
    "t", "2001-12-14", "12:30:00", "Z", "=", "a", " ", "1.5",
]  # fmt: skip
_plain = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=4).map("".join)
_quoted = _plain.map(lambda text: "'" + text.replace("'", "''") + "'")
_tagged = st.tuples(st.sampled_from(["!!str", "!!int", "!!float", "!!bool", "!!null", "!"]), _plain).map(
    lambda pair: f"{pair[0]} {pair[1]}"
)
_words = st.sampled_from(["alpha", "beta gamma", "", "x", "sum(rate(a[5m]))", "by (job)", "> 0"])
_line = st.tuples(st.integers(min_value=0, max_value=3), _words)
_block = st.tuples(
    st.sampled_from([">", ">-", ">+", "|", "|-", "|+"]), st.lists(_line, min_size=1, max_size=6)
).map(lambda spec: spec[0] + "".join(f"\n      {' ' * indent}{text}".rstrip(" ") for indent, text in spec[1]))
_flow_seq = st.lists(st.one_of(_plain, _quoted), max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
_flow_map = st.lists(st.tuples(_plain, st.one_of(_plain, _quoted)), max_size=3).map(
    lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
)
_value = st.one_of(_plain, _quoted, _tagged, _block, _flow_seq, _flow_map)


@settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_value, min_size=1, max_size=12), aliased=st.sets(st.integers(0, 11), max_size=3))
def test_generated_yaml_builds_as_kubectl_builds_it(
    tmp_path: Path, values: list[str], aliased: set[int]
) -> None:
    kubectl_path()
    # some values anchored, and referred to again at the end (block scalars cannot carry an anchor
    # on the same line as their indicator in every form, so only the others are anchored)
    anchored = [i for i in sorted(aliased) if i < len(values) and not values[i].startswith((">", "|"))]
    body = "spec:\n" + "".join(
        f"  k{i}: {'&a' + str(i) + ' ' if i in anchored else ''}{value}\n" for i, value in enumerate(values)
    )
    body += "".join(f"  r{i}: *a{i}\n" for i in anchored)
    folder = _folder(tmp_path / str(abs(hash(body))), [body])
    same, report = _agree(folder)
    assert same, f"{body}\n{report}"
