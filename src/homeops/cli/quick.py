"""The common ``homeops check`` command lines, read without ``argparse``.

Building the argument parser costs more than the rest of a ``check`` the result cache answers
(``argparse`` with ``gettext`` and ``locale``, one ArgumentParser per command). :func:`quick_args`
reads a command line made only of options ``check`` has, spelt out in full, with valid values, and
gives the namespace argparse would give; anything else (help, an abbreviation, ``-ojson``, a value
that starts with ``-``, an unknown option, a second path…) is left to argparse, errors included.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

_COLOR = ("auto", "always", "never")
_OUTPUTS = ("text", "json", "sarif", "github")
_GLOBAL_FLAGS = {"--debug": "debug"}
_GLOBAL_VALUES: dict[str, tuple[str, tuple[str, ...] | None]] = {"--color": ("color", _COLOR)}
"""The options of every command (``cli.parser.add_global_options``): option → (attribute, choices)."""

_CHECK_FLAGS = {**_GLOBAL_FLAGS, "--no-cache": "no_cache", "--offline": "offline"}
_CHECK_VALUES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    **_GLOBAL_VALUES,
    "--output": ("output", _OUTPUTS),
    "-o": ("output", _OUTPUTS),
    "--fail-on": ("fail_on", ("error", "warning", "info", "none")),
    "--select": ("select", None),
    "--min-severity": ("min_severity", ("error", "warning", "info")),
}
"""``check``'s options (``cli.commands.check.add_parser``): option → (attribute, choices or None)."""


class Args:
    """The attributes ``argparse.Namespace`` would have (``check``'s ``run`` reads nothing else)."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


def quick_args(argv: Sequence[str]) -> Args | None:
    """What argparse would make of ``argv`` when it is a plain ``check`` command line, else None."""
    values: dict[str, object] = {"debug": False, "color": "auto"}
    i = _options(argv, 0, _GLOBAL_FLAGS, _GLOBAL_VALUES, values, None)
    if i is None or i >= len(argv) or argv[i] != "check":
        return None
    values.update(
        command="check",
        path=".",
        output="text",
        fail_on=None,
        select=None,
        min_severity="info",
        no_cache=False,
        offline=False,
    )
    paths: list[str] = []
    if _options(argv, i + 1, _CHECK_FLAGS, _CHECK_VALUES, values, paths) is None or len(paths) > 1:
        return None
    if paths:
        values["path"] = paths[0]
    return Args(**values)


def _options(
    argv: Sequence[str],
    i: int,
    flags: dict[str, str],
    options: dict[str, tuple[str, tuple[str, ...] | None]],
    values: dict[str, object],
    paths: list[str] | None,
) -> int | None:
    """Read options from ``argv[i]`` on into ``values``: the index of the first other word (a command,
    when ``paths`` is None; else every other word is a path and the end is returned), None for
    anything argparse must judge."""
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            if paths is None:
                return i
            paths.append(arg)
        elif arg in flags:
            values[flags[arg]] = True
        else:
            name, equals, value = arg.partition("=")
            if name not in options or (equals and not name.startswith("--")):
                return None
            if not equals:
                i += 1
                if i == len(argv):
                    return None
                value = argv[i]
            attribute, choices = options[name]
            if value.startswith("-") or (choices is not None and value not in choices):
                return None
            values[attribute] = value
        i += 1
    return i
