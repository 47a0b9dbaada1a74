"""The ``homeops`` argument parser: every command's options, built only for the command named.

Separate from :mod:`homeops.cli.main` so that a command line :mod:`homeops.cli.quick` reads itself
(the common ``check`` runs) imports neither ``argparse`` nor ``gettext``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from .main import _available

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from typing import Any


def _columns() -> int:
    """What ``shutil.get_terminal_size().columns`` answers, without importing ``shutil`` (which brings
    ``bz2`` and ``lzma``: a tenth of the start-up of a check the result cache answers)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, given the width it would look up itself (see :func:`_columns`)."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help (and sub-commands' help) uses :class:`_HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(selected: str | None, *, list_all: bool = True) -> argparse.ArgumentParser:
    """The parser, with the full options of the ``selected`` command only.

    ``list_all=False`` leaves the other commands out altogether (each costs an ArgumentParser):
    for a run that names its command and asks for no top-level help.
    """
    parser = _Parser(
        prog="homeops",
        description="Understand, check, graph, render and safely write Flux GitOps homelab repositories.",
        epilog="Exit codes: 0 ok, 1 findings or differences, 2 usage or config error, 3 failure, "
        "4 missing tool. Run 'homeops COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"homeops {__version__}")
    add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _available().items():
        if name == selected:
            module = importlib.import_module(f"homeops.cli.commands.{module_name}")
            module.add_parser(sub)
            _accept_global_options(sub.choices[name])
        elif list_all or selected is None:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug`` and ``--color``: on the top-level parser with their defaults, on a command's parser
    without (``SUPPRESS``), so that a flag given after the command is taken and one given before it is
    not overwritten by a default."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show tracebacks for errors",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto" if top else argparse.SUPPRESS,
        help="colour output (default: auto)",
    )


def _accept_global_options(parser: argparse.ArgumentParser) -> None:
    """Accept the global options on a command's parser and on all of its sub-commands' parsers."""
    add_global_options(parser, top=False)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _accept_global_options(child)
