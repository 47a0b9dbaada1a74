"""``check`` command lines read without argparse give exactly argparse's namespace, or are left to it."""

from __future__ import annotations

import contextlib
import io
import itertools

import pytest

from homeops.cli.main import _selected
from homeops.cli.parser import build_parser
from homeops.cli.quick import quick_args

WORDS = [
    "check", "PATH", "P2", "", "-o", "json", "--output", "--output=sarif", "--fail-on", "none",
    "--select", "a,b", "--select=", "--min-severity", "warning", "--no-cache", "--offline", "--debug",
    "--color", "never", "--color=always", "-x", "--", "-h", "-ojson", "--out", "bogus", "--offline=1",
]  # fmt: skip


def _argparse(argv: list[str]) -> dict[str, object] | None:
    parser = build_parser(_selected(argv), list_all=False)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(parser.parse_args(argv))
    except SystemExit:
        return None


def _command_lines() -> list[list[str]]:
    lines = []
    for count in (1, 2, 3):
        for rest in itertools.product(WORDS, repeat=count):
            lines.append(["check", *rest])
            lines.append([rest[0], "check", *rest[1:]])
    return lines


def test_every_line_read_quickly_is_read_as_argparse_reads_it() -> None:
    quick = [(argv, args) for argv in _command_lines() if (args := quick_args(argv)) is not None]
    assert len(quick) > 1000  # the common lines are among them
    for argv, args in quick:
        assert vars(args) == _argparse(argv), argv


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "-h"],
        ["check", "--out", "json"],  # an abbreviation
        ["check", "-ojson"],
        ["check", "-o", "yaml"],  # not a choice: argparse's error
        ["check", "a", "b"],
        ["check", "--select"],
        ["check", "--select", "-x"],
        ["--version", "check"],
        ["graph", "."],
        ["check", "--", "-dir"],
    ],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert quick_args(argv) is None


def test_the_usual_lines() -> None:
    args = quick_args(["--color", "never", "check", "repo", "-o", "json", "--fail-on=warning"])
    assert args is not None
    assert vars(args) == {
        "command": "check",
        "debug": False,
        "color": "never",
        "path": "repo",
        "output": "json",
        "fail_on": "warning",
        "select": None,
        "min_severity": "info",
        "no_cache": False,
        "offline": False,
    }


def test_the_quick_tables_are_checks_own_options() -> None:
    """Every option, choice and default quick.py knows is the one ``check``'s parser declares (an option
    it does not know is only left to argparse; one it knows wrongly would be read wrongly)."""
    from homeops.cli import quick

    parser = build_parser("check", list_all=False)
    check = next(a for a in parser._actions if a.dest == "command").choices["check"]  # type: ignore[union-attr]
    declared = {}
    for action in check._actions:
        for option in action.option_strings:
            declared[option] = (action.dest, tuple(action.choices) if action.choices else None, action.nargs)
    for option, attribute in quick._CHECK_FLAGS.items():
        assert declared[option] == (attribute, None, 0), option
    for option, (attribute, choices) in quick._CHECK_VALUES.items():
        assert declared[option] == (attribute, choices, None), option
    defaults = {a.dest: a.default for a in check._actions if a.dest not in ("help", "debug", "color")}
    args = quick_args(["check"])
    assert args is not None
    assert {k: v for k, v in vars(args).items() if k in defaults} == defaults
