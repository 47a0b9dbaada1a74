"""Minimal edits of existing YAML files: add one list item, change one scalar, touch nothing else.

Edits are splices at the exact places the YAML composer reports, so comments, key order, quoting,
indentation and blank lines stay byte-for-byte. A shape a splice cannot handle (a flow-style list)
falls back to a ruamel.yaml round trip, which keeps comments and order but may re-indent. Every
result is parsed again and compared with the intended data before anyone writes it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import yaml

from ..errors import LoadError, Where, WriteError
from ..load import yamlio
from .yamltext import double_quoted, scalar


def _documents(text: str, rel: str) -> list[yaml.Node]:
    parsed = yamlio.parse(text)
    if parsed.failure is not None:
        raise LoadError(
            f"YAML does not parse: {parsed.failure.reason}",
            where=Where(rel, parsed.failure.line),
            hint="fix the file first; homeops does not edit files it cannot read",
        )
    return [node for node in yamlio.compose(text) if node is not None]


def _mapping_child(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just after the newline ending the line that holds ``index``."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


# -- lists ----------------------------------------------------------------------------------------


def _peer(entry: str) -> str:
    """What kind of entry a list item is: its file name (``ks.yaml``) or ``/`` for a folder."""
    name = entry.rstrip("/").rsplit("/", 1)[-1]
    return name if name.endswith((".yaml", ".yml")) and "/" in entry.strip("./") else "/"


def _norm(entry: str) -> str:
    return entry.removeprefix("./").rstrip("/")


def add_list_item(text: str, key: str, item: str, *, rel: str = "kustomization.yaml") -> str:
    """``text`` with ``item`` added to the top-level list ``key`` of its first document.

    The item goes where a person would put it: in sorted position when the items of its kind
    (``*/ks.yaml`` entries, folders) are sorted, else after the last of them. Adding an item that is
    already listed returns ``text`` unchanged.
    """
    docs = _documents(text, rel)
    if not docs or not isinstance(docs[0], yaml.MappingNode):
        raise WriteError(f"{rel} is not a YAML mapping; cannot add {item!r} to {key}", where=Where(rel))
    doc = docs[0]
    seq = _mapping_child(doc, key)
    if seq is None:
        result = _append_key(text, doc, key, item)
    elif not isinstance(seq, yaml.SequenceNode):
        raise WriteError(f"{key} in {rel} is not a list", where=Where(rel, seq.start_mark.line + 1))
    elif any(isinstance(n, yaml.ScalarNode) and _norm(n.value) == _norm(item) for n in seq.value):
        return text
    elif seq.flow_style or not seq.value:
        result = _round_trip_append(text, key, item)
    else:
        result = _splice_item(text, key, seq, item)
    _verify(text, result, rel, lambda data: _with_item(data, key, item))
    return result


def _splice_item(text: str, key: str, seq: yaml.SequenceNode, item: str) -> str:
    items: list[yaml.Node] = list(seq.value)
    first = items[0]
    line_start = _line_start(text, first.start_mark.index)
    prefix = text[line_start : first.start_mark.index]  # "  - "
    if prefix.strip() != "-":
        return _round_trip_append(text, key, item)
    kind = _peer(item)
    peers = [n for n in items if isinstance(n, yaml.ScalarNode) and _peer(n.value) == kind]
    values = [_norm(n.value) for n in peers]
    new_line = f"{prefix}{scalar(item)}\n"
    if peers and values == sorted(values):
        after = [n for n in peers if _norm(n.value) > _norm(item)]
        if after:
            at = _line_start(text, after[0].start_mark.index)
            return text[:at] + new_line + text[at:]
    anchor = peers[-1] if peers else items[-1]
    at = _line_end(text, max(anchor.end_mark.index - 1, 0))
    if at == len(text) and not text.endswith("\n"):
        return text + "\n" + new_line
    return text[:at] + new_line + text[at:]


def _append_key(text: str, doc: yaml.MappingNode, key: str, item: str) -> str:
    indent = _sequence_indent(text)
    block = f"{key}:\n{indent}- {scalar(item)}\n"
    end = doc.end_mark.index
    at = _line_start(text, end) if end < len(text) and text[end:].strip() else len(text)
    if at == len(text) and text and not text.endswith("\n"):
        return text + "\n" + block
    return text[:at] + block + text[at:]


def _sequence_indent(text: str) -> str:
    """The indentation of block list items in this file ("  " for "  - x" under a key, "" for "- x")."""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped.startswith("- ") and not line.startswith(" " * 5):
            return line[: len(line) - len(stripped)]
    return "  "


def _round_trip_append(text: str, key: str, item: str) -> str:
    """ruamel.yaml round trip for list shapes a splice cannot handle (flow style, odd indentation)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    rt = YAML()
    rt.preserve_quotes = True
    indent = _sequence_indent(text)
    rt.indent(mapping=2, sequence=len(indent) + 2, offset=len(indent))
    rt.width = 4096
    docs = list(rt.load_all(text))
    data = docs[0]
    current = data.get(key)
    if isinstance(current, CommentedSeq) and current.fa.flow_style():
        current.fa.set_block_style()
    if current is None:
        data[key] = [item]
    else:
        current.append(item)
    out = io.StringIO()
    if text.lstrip().startswith("---"):
        rt.explicit_start = True
    rt.dump_all(docs, out)
    return out.getvalue()


def _with_item(data: Any, key: str, item: str) -> Any:
    out = dict(data)
    out[key] = [*list(out.get(key) or []), item]
    return out


def _verify(before: str, after: str, rel: str, expect: Any) -> None:
    """Refuse to write unless ``after`` holds exactly the intended change of ``before``."""
    old = yamlio.parse(before)
    new = yamlio.parse(after)
    if new.failure is not None or len(old.documents) != len(new.documents):
        raise WriteError(
            f"editing {rel} would break it; nothing was written",
            where=Where(rel),
            hint="please report this as a homeops bug, with the file",
        )
    wanted = [expect(old.documents[0]), *old.documents[1:]]
    got = list(new.documents)
    if _comparable(wanted) != _comparable(got):
        raise WriteError(
            f"editing {rel} would change more than intended; nothing was written",
            where=Where(rel),
            hint="please report this as a homeops bug, with the file",
        )


def _comparable(value: Any) -> Any:
    """Lists compared as multisets, since an item may go in sorted position."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_comparable(v) for v in value), key=repr)
    return value


# -- scalars ------------------------------------------------------------------------------------


def scalar_span(text: str, doc_index: int, path: Sequence[str | int]) -> tuple[int, int, str | None]:
    """(start, end, quote style) of the scalar at ``path`` in document ``doc_index``."""
    nodes = yamlio.compose(text)
    node: yaml.Node | None = nodes[doc_index] if doc_index < len(nodes) else None
    for part in path:
        if isinstance(part, int):
            inside = isinstance(node, yaml.SequenceNode) and part < len(node.value)
            node = node.value[part] if inside and node is not None else None
        else:
            node = _mapping_child(node, part) if node is not None else None
        if node is None:
            raise KeyError(".".join(str(p) for p in path))
    if not isinstance(node, yaml.ScalarNode):
        raise KeyError(".".join(str(p) for p in path))
    return node.start_mark.index, node.end_mark.index, node.style


def set_scalar(text: str, doc_index: int, path: Sequence[str | int], value: str, *, rel: str) -> str:
    """``text`` with the scalar at ``path`` replaced by ``value``, in the same quoting style."""
    try:
        start, end, style = scalar_span(text, doc_index, path)
    except KeyError:
        dotted = ".".join(str(p) for p in path)
        raise WriteError(f"{rel} has no value at {dotted}", where=Where(rel)) from None
    if style == '"':
        token = double_quoted(value)
    elif style == "'":
        token = "'" + value.replace("'", "''") + "'"
    elif style in ("|", ">"):
        raise WriteError(
            f"{rel}: the value at {'.'.join(str(p) for p in path)} is a block scalar",
            where=Where(rel),
            hint="edit it by hand",
        )
    else:
        token = scalar(value)
    result = text[:start] + token + text[end:]

    def expect(data: Any) -> Any:
        return _set_path(data, path, value)

    _verify_doc(text, result, rel, doc_index, expect)
    return result


def _set_path(data: Any, path: Sequence[str | int], value: str) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(data, dict):
        out = dict(data)
        out[head] = _set_path(data[head], rest, value)
        return out
    items = list(data)
    assert isinstance(head, int)
    items[head] = _set_path(items[head], rest, value)
    return items


def _verify_doc(before: str, after: str, rel: str, index: int, expect: Any) -> None:
    old = yamlio.parse(before)
    new = yamlio.parse(after)
    wanted = list(old.documents)
    if index < len(wanted):
        wanted[index] = expect(wanted[index])
    if new.failure is not None or list(new.documents) != wanted:
        raise WriteError(
            f"editing {rel} would change more than intended; nothing was written",
            where=Where(rel),
            hint="please report this as a homeops bug, with the file",
        )
