"""Go durations (``1h30m``, ``5m0s``, ``750ms``) as the controllers parse them, and back to text."""

from __future__ import annotations

import re

_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: object) -> float | None:
    """Seconds for a Go duration string (``time.ParseDuration``), or None when it is not one.

    A bare number counts as seconds (the ExternalSecret store's legacy integer form).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("0", ""):
        return 0.0 if text == "0" else None
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    total = 0.0
    pos = 0
    for match in _PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        return None
    return sign * total if sign > 0 else None


def format_duration(seconds: float) -> str:
    """Go's ``Duration.String()`` for whole and fractional seconds: ``5m0s``, ``1h0m0s``, ``750ms``."""
    if seconds < 1 and seconds > 0:
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    frac = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{secs + frac:g}s"
    if hours:
        return f"{hours}h{minutes}m{sec_text}"
    if minutes:
        return f"{minutes}m{sec_text}"
    return sec_text


def clock(seconds: float) -> str:
    """``+H:MM:SS`` for a simulated time (fractions of a second shown only when there are some)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    frac = seconds - whole
    tail = f"{frac:.2f}"[1:] if frac >= 0.005 else ""
    return f"+{hours}:{minutes:02d}:{secs:02d}{tail}"
