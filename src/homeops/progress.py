"""Progress of long library work (parsing, building Kustomizations, running rules), for a front end.

Like logging: library code reports steps with :func:`step` and nothing happens unless a front end
listens (:func:`listen`); the CLI draws a bar on a terminal. A step costs one global lookup when
nobody listens, so reporting never slows a run down. Imports nothing: it loads at start-up.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from collections.abc import Callable

    Listener = Callable[[int, int, str], None]
    """Called as (done, total, what is being done)."""

_listener: Listener | None = None


def step(done: int, total: int, what: str) -> None:
    """Report that ``done`` of ``total`` units of ``what`` are done."""
    if _listener is not None:
        _listener(done, total, what)


def active() -> bool:
    """Whether anyone listens: work that costs something only to report progress can be skipped."""
    return _listener is not None


def listen(listener: Listener | None) -> Listener | None:
    """Send the steps reported from now on to ``listener`` (None: to nobody); returns the one before,
    to be restored when the work is over."""
    global _listener
    previous, _listener = _listener, listener
    return previous
