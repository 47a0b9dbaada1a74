"""Terminal styling: colour only on a TTY, never with NO_COLOR, forced with --color always."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO


def use_colour(stream: TextIO, mode: str = "auto") -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


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
