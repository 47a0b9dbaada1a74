"""The CLI's commands, one module each (registered in ``cli/main.py``), and what several of them share."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: check's cached answer imports this
if TYPE_CHECKING:
    import argparse
    from collections.abc import Collection, Mapping


def add_offline(parser: argparse.ArgumentParser) -> None:
    """``--offline`` for a command that reads the Flux tree: remote kustomize bases from the cache only."""
    parser.add_argument(
        "--offline", action="store_true", help="remote kustomize bases only from the cache, no network"
    )


def add_table_output(parser: argparse.ArgumentParser, *more: str) -> None:
    """``--output/-o`` of a command whose human output is a table: ``table`` (also ``text``, the word
    every other command uses), ``json`` and ``more``."""
    formats = ("table", "text", "json", *more)
    parser.add_argument(
        "--output",
        "-o",
        choices=formats,
        default="table",
        help=f"table (also -o text, as the other commands call it), {', '.join(formats[2:])}",
    )


def known_cluster(name: str | None, clusters: Collection[str]) -> None:
    """``--cluster NAME`` names one of the repository's clusters, else a usage error that lists them."""
    from ...errors import UsageError

    if name is not None and name not in clusters:
        raise UsageError(
            f"no cluster {name!r}", hint=f"clusters: {', '.join(sorted(clusters)) or 'none found'}"
        )


def write_docs(folder: str, pages: Mapping[str, str]) -> int:
    """Write generated documentation pages (file name → Markdown) into ``folder``, each atomically, and
    say so on stderr; the exit code."""
    from pathlib import Path

    from ...fsutil import atomic_write

    for name, content in pages.items():
        atomic_write(Path(folder) / name, content)
    print(f"wrote {len(pages)} pages to {folder}", file=sys.stderr)
    return 0
