"""JSON from files homeops does not control (chart schemas, snapshots, a repository's ledger, a
registry's answers), read with the nesting bound YAML has (:data:`~homeops.load.yamlio.MAX_DEPTH`).

Python's decoder recurses once per level and gives up with ``RecursionError`` around a thousand, and
homeops walks what it reads recursively too: a document nested deeper is refused here, as a
``ValueError`` naming the depth, like any other JSON that cannot be read.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from .yamlio import MAX_DEPTH

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class TooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH`."""


def depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings are not looked into)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be too deep: the common case costs two counts
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def loads(data: str | bytes) -> Any:
    """``json.loads``, refusing a document nested deeper than :data:`MAX_DEPTH` (:class:`TooDeep`)."""
    text = data.decode(json.detect_encoding(data), "surrogatepass") if isinstance(data, bytes) else data
    if depth(text) > MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels") from None
