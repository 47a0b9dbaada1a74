"""Deterministic YAML output: key order kept, block style, multi-line strings as literal blocks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from .load.yamlio import needs_quotes

_Dumper: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _BlockDumper(_Dumper):  # type: ignore[misc]
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        # Trailing spaces on a line make libyaml refuse the literal style; keep those quoted.
        if not any(line != line.rstrip(" \t") for line in data.splitlines()):
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    elif needs_quotes(data):
        # PyYAML quotes what YAML 1.1 would retype; Go readers also retype 1e3, 0o17, 1_000...
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_BlockDumper.add_representer(str, _str)


def dump_yaml(data: Any, *, sort_keys: bool = False) -> str:
    """One document, the same bytes for the same data."""
    return str(
        yaml.dump(
            data,
            Dumper=_BlockDumper,
            sort_keys=sort_keys,
            default_flow_style=False,
            allow_unicode=True,
            width=10_000,
        )
    )


def dump_all(documents: Iterable[Any], *, sort_keys: bool = False) -> str:
    """Documents separated by ``---``."""
    return "".join(f"---\n{dump_yaml(doc, sort_keys=sort_keys)}" for doc in documents)
