"""YAML text for new files, written the way homelab repositories are written by hand.

Block style, sequences indented under their key (``resources:\\n  - ./a``), key order as given, strings
quoted only when a plain scalar would read back differently. Unlike a generic dumper it can attach a
trailing comment to a value (:class:`Commented`), name an anchor and refer to it (:class:`Anchored`,
:class:`Alias`) and write multi-line strings as literal blocks: what a user reads in the generated
file is what a person would have typed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Commented:
    """A value with a comment at the end of its line."""

    value: Any
    comment: str


@dataclass(frozen=True, slots=True)
class Anchored:
    """A scalar value that defines the anchor ``&name``."""

    name: str
    value: Any


@dataclass(frozen=True, slots=True)
class Alias:
    """A reference ``*name`` to an anchor defined earlier in the same document."""

    name: str


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document and the comment lines written above it (after ``---``)."""

    data: Mapping[str, Any]
    header: tuple[str, ...] = ()
    """Comment lines without their ``#`` (e.g. a yaml-language-server schema line)."""


def scalar(value: Any) -> str:
    """One scalar as YAML text: plain when it reads back as the same value, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text and "\n" not in text and _reads_back(text):
        return text
    return double_quoted(text)


#: Plain scalars some YAML reader (1.1 or 1.2, Go or Python) would not read as a string.
_AMBIGUOUS = re.compile(
    r"^([-+]?[0-9][0-9_.:eE+-]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|~|null|Null|NULL"
    r"|y|Y|n|N|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?0[xob][0-9a-fA-F_]+)$"
)

#: Versions and addresses (two dots or more) are strings in every YAML dialect.
_DOTTED = re.compile(r"^[0-9]+(\.[0-9]+){2,}$")


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=4096)
def _reads_back(text: str) -> bool:
    if text != text.strip() or text.startswith(("'", '"')) or " #" in text or "\t" in text:
        return False
    if _AMBIGUOUS.match(text) and not _DOTTED.match(text):
        return False
    try:
        loaded = yaml.load(f"k: {text}\n", Loader=_Loader)
    except yaml.YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text and type(loaded.get("k")) is str


def double_quoted(text: str) -> str:
    """``text`` as a double-quoted YAML scalar on one line."""
    out = yaml.safe_dump(text, default_style='"', width=10_000, allow_unicode=True)
    return out.rstrip("\n").removesuffix("\n...")


def dump_documents(documents: Iterable[Document]) -> str:
    """Documents each introduced by ``---`` (and their header comments)."""
    parts: list[str] = []
    for doc in documents:
        lines = ["---", *(f"# {line}" if line else "#" for line in doc.header)]
        lines.extend(_mapping(doc.data, 0))
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


def dump(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """A file of one document."""
    return dump_documents([Document(data, tuple(header))])


def _mapping(data: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        head = f"{pad}{scalar(key)}:"
        lines.extend(_entry(head, value, indent))
    return lines


def _entry(head: str, value: Any, indent: int) -> list[str]:
    """``head`` (``key:`` or ``-``) followed by ``value``, nested under ``indent``."""
    comment = ""
    if isinstance(value, Commented):
        comment = f"  # {value.comment}"
        value = value.value
    if isinstance(value, Mapping):
        if not value:
            return [f"{head} {{}}{comment}"]
        if head.lstrip().startswith("-") and not comment:
            inner = _mapping(value, indent + 2)
            first = inner[0].lstrip()
            return [f"{head} {first}", *inner[1:]]
        return [f"{head}{comment}", *_mapping(value, indent + 2)]
    if isinstance(value, list | tuple):
        if not value:
            return [f"{head} []{comment}"]
        lines = [f"{head}{comment}"]
        for item in value:
            lines.extend(_entry(f"{' ' * (indent + 2)}-", item, indent + 2))
        return lines
    if isinstance(value, str) and "\n" in value:
        body = [f"{' ' * (indent + 2)}{line}" if line else "" for line in value.rstrip("\n").split("\n")]
        chomp = "" if value.endswith("\n") else "-"
        return [f"{head} |{chomp}{comment}", *body]
    return [f"{head} {_inline(value)}{comment}"]


def _inline(value: Any) -> str:
    if isinstance(value, Anchored):
        return f"&{value.name} {_inline(value.value)}"
    if isinstance(value, Alias):
        return f"*{value.name}"
    return scalar(value)
