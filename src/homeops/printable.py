"""Output that carries no control sequence of the repository's to the terminal.

Names, values, file names and messages of a repository end up in homeops' output. Written as they are,
an escape sequence among them could set the terminal's title or clipboard (OSC 52), clear the screen,
move the cursor, or hide a finding behind a carriage return. Every control character is shown as an
escape instead (``\\x1b``, ``\\r``), except newlines, tabs and the colour codes homeops writes itself
(:class:`~homeops.report.style.Style`). Data formats (JSON, YAML) escape them already.

Imports nothing: the CLI wraps its streams before any command runs, on the fast path of ``check`` too.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TextIO

_SHOWN = {
    code: repr(chr(code))[1:-1] for code in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))
}
_OWN_CODES = frozenset({"0m", "1m", "2m", "31m", "32m", "33m", "34m"})
"""What follows ``ESC [`` in the colours homeops writes; any other sequence comes from data."""


def printable(text: str) -> str:
    """``text`` with every control character shown as an escape, but newlines, tabs and homeops'
    own colour codes."""
    if "\x1b" not in text:
        return text.translate(_SHOWN)
    head, *rest = text.split("\x1b[")
    out = [head.translate(_SHOWN)]
    for piece in rest:
        end = piece.find("m", 0, 3) + 1
        if end and piece[:end] in _OWN_CODES:
            out.append("\x1b[" + piece[:end] + piece[end:].translate(_SHOWN))
        else:
            out.append("\\x1b[" + piece.translate(_SHOWN))
    return "".join(out)


class PrintableStream:
    """A text stream that writes :func:`printable` text (everything else is the stream's own)."""

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)
