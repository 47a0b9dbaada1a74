"""Terminal presentation: colour only on a TTY (never with NO_COLOR, forced with --color always), a
progress bar on a terminal's stderr, and tables fitted to the terminal's width."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def use_colour(stream: TextIO, mode: str = "auto") -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream)


@dataclass(frozen=True, slots=True)
class Style:
    enabled: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO | None = None, mode: str = "auto") -> Style:
        return cls(use_colour(stream or sys.stdout, mode))

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def blue(self, text: str) -> str:
        return self._wrap("34", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)


# -- progress ------------------------------------------------------------------------------------


Progress = Callable[[int, int, str], None]
"""Called as work advances: (done, total, what is being done)."""

_BAR = 30
_LABEL = 60


def progress_bar(stream: TextIO, *, delay: float = 0.0) -> Progress | None:
    """A one-line progress bar on ``stream`` when it is a terminal (and not in CI); None otherwise.

    ``delay``: draw nothing until that many seconds have passed, so that a fast run shows no bar at all.
    The bar is redrawn at most ten times a second and erased when ``done`` reaches ``total``.
    """
    if not is_terminal(stream) or os.environ.get("CI"):
        return None
    from ..printable import printable

    stream = getattr(stream, "raw", stream)  # its own carriage returns; the label is made printable
    start = time.monotonic()
    shown = [0.0, False]  # last draw, whether anything is on the line

    def show(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        finished = done >= total
        if finished:
            if shown[1]:
                stream.write("\r" + " " * (_BAR + _LABEL + 15) + "\r")
                stream.flush()
                shown[1] = False
            return
        if now - start < delay or now - float(shown[0]) < 0.1:
            return
        filled = _BAR * done // max(total, 1)
        label = printable(what)[:_LABEL]
        stream.write(f"\r[{'#' * filled}{'.' * (_BAR - filled)}] {done}/{total} {label:<{_LABEL}}")
        stream.flush()
        shown[:] = [now, True]

    return show


# -- tables --------------------------------------------------------------------------------------

_GAP = "  "
_MIN_CELL = 8
"""A column is never shortened below this (or its header, or its longest cell when that is shorter)."""
_MIN_FIRST = 40
"""The first column is shortened only beyond this width."""


def terminal_width(stream: TextIO) -> int | None:
    """The width of the terminal ``stream`` writes to; None when it is not a terminal (a pipe, a file):
    then nothing is shortened."""
    if not is_terminal(stream):
        return None
    import shutil

    return shutil.get_terminal_size().columns


def table(rows: Sequence[dict[str, object]], columns: Sequence[str], *, width: int | None = None) -> str:
    """``rows`` as a plain-text table of ``columns`` (headers from the keys). With ``width``, the widest
    columns are shortened (ending in "…") until each line fits, as far as the columns' minimum allows."""

    def cell(value: object) -> str:
        if isinstance(value, list):
            return ",".join(str(v) for v in value) or "-"
        return "-" if value in (None, "") else str(value)

    header = [c.upper().replace("_", " ") for c in columns]
    body = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    if width is not None:
        # The first column names the row: it keeps its width (up to a limit) while the others give way.
        minimums = [max(len(h), _MIN_CELL) for h in header]
        minimums[0] = max(minimums[0], min(widths[0], _MIN_FIRST))
        widths = fit(widths, minimums, width - len(_GAP) * (len(columns) - 1))

    def line(cells: Sequence[str]) -> str:
        return _GAP.join(_shorten(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), *(line(r) for r in body)]) + "\n"


def fit(widths: Sequence[int], minimums: Sequence[int], room: int) -> list[int]:
    """Column widths that add up to at most ``room``: every column wider than some cap is cut to it
    (never below its minimum), the narrower ones keep their width. Fair to the long ones, and stable:
    a column that fits is never touched."""
    if sum(widths) <= room:
        return list(widths)
    floors = [min(w, m) for w, m in zip(widths, minimums, strict=True)]
    cap = max(widths)
    while cap > 0 and sum(max(min(w, cap), f) for w, f in zip(widths, floors, strict=True)) > room:
        cap -= 1
    return [max(min(w, cap), f) for w, f in zip(widths, floors, strict=True)]


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
