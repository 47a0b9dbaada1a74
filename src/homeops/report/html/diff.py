"""The HTML diff: per producer, each object's before and after side by side, changed lines and the
changed parts of them highlighted, the changed fields listed, and failures to render at the top.

Built from the diff's object model (:class:`~homeops.diff.objects.DiffResult`), the same data the
text, unified, markdown and JSON outputs print, so Secret values are redacted here exactly as there.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ...diff.objects import DiffResult, ObjectChange
from ...diff.report import field_path, value_text
from ...records import NamedTuple
from ...yamlout import dump_yaml
from .page import render

CONTEXT = 3
"""Unchanged lines kept around a change; longer unchanged runs fold into one row."""
OPEN_LIMIT = 40
"""Objects shown open when there are at most this many changes."""


class Cell(NamedTuple):
    number: int | None
    parts: tuple[tuple[str, bool], ...]
    """Text pieces, each marked when it is the changed part of the line."""


class Row(NamedTuple):
    kind: str
    """``eq``, ``chg`` (both sides differ), ``del``, ``add`` or ``skip`` (folded unchanged lines)."""
    left: Cell
    right: Cell
    folded: int = 0


def side_by_side(before: str, after: str, *, context: int = CONTEXT) -> list[Row]:
    """Rows of a two-column diff of two texts, unchanged runs longer than ``2 * context`` folded."""
    a, b = before.splitlines(), after.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    codes = matcher.get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            keep_head = context if n > 0 else 0
            keep_tail = context if n < len(codes) - 1 else 0
            length = i2 - i1
            if length > keep_head + keep_tail + 1:
                rows += [_same(a, b, i1 + k, j1 + k) for k in range(keep_head)]
                rows.append(Row("skip", Cell(None, ()), Cell(None, ()), length - keep_head - keep_tail))
                rows += [_same(a, b, i2 - keep_tail + k, j2 - keep_tail + k) for k in range(keep_tail)]
            else:
                rows += [_same(a, b, i1 + k, j1 + k) for k in range(length)]
            continue
        rows += list(_changed(a, b, i1, i2, j1, j2))
    return rows


def _same(a: list[str], b: list[str], i: int, j: int) -> Row:
    return Row("eq", Cell(i + 1, ((a[i], False),)), Cell(j + 1, ((b[j], False),)))


def _changed(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> Iterator[Row]:
    for k in range(max(i2 - i1, j2 - j1)):
        i, j = i1 + k, j1 + k
        if i < i2 and j < j2:
            left, right = _marks(a[i], b[j])
            yield Row("chg", Cell(i + 1, left), Cell(j + 1, right))
        elif i < i2:
            yield Row("del", Cell(i + 1, ((a[i], False),)), Cell(None, ()))
        else:
            yield Row("add", Cell(None, ()), Cell(j + 1, ((b[j], False),)))


def _marks(old: str, new: str) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
    """Both lines cut into words, the runs of words that differ marked."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(("".join(b[j1:j2]), tag != "equal"))
    return tuple(left), tuple(right)


_WORDS = re.compile(r"\w+|\s+|[^\w\s]")


def _object(change: ObjectChange) -> dict[str, Any]:
    before = dump_yaml(change.before) if change.before is not None else ""
    after = dump_yaml(change.after) if change.after is not None else ""
    return {
        "key": str(change.key),
        "status": change.status,
        "note": change.note,
        "fields": [
            {"path": field_path(f), "before": value_text(f.before), "after": value_text(f.after)}
            for f in change.fields
        ],
        "rows": side_by_side(before, after),
    }


def diff_page(result: DiffResult, *, title: str) -> str:
    """The whole page for one diff (``title`` says what was compared)."""
    grouped = result.by_producer()
    producers = []
    for name, changes in sorted(grouped.items()):
        counts = Counter(c.status for c in changes)
        producers.append({"name": name, "counts": counts, "objects": [_object(c) for c in changes]})
    totals = Counter(c.status for c in result.changes)
    return render(
        "diff.html.j2",
        scripts=("diff.js",),
        title=title,
        failures=result.failures,
        producers=producers,
        totals=totals,
        unchanged=result.unchanged,
        open_all=len(result.changes) <= OPEN_LIMIT,
    )
