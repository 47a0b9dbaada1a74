"""Signals that end a run become exceptions, so that cleanup code runs; a commit holds them back.

Python turns SIGINT into ``KeyboardInterrupt`` but dies silently on SIGTERM, SIGHUP (the terminal
closed) or SIGQUIT, skipping every ``finally``: a decrypted file in a private folder would stay
there. :func:`catch_signals` raises :class:`~homeops.errors.Interrupted` for each of them instead;
:func:`held_signals` defers them (and SIGINT) while files are renamed into place, then raises.
SIGKILL cannot be caught: the journal (:mod:`homeops.journal`) and the sweep of private folders
(:mod:`homeops.fsutil`) cover it on the next run. :func:`left_to_the_terminal` lets the keyboard's
signals pass while an editor owns the terminal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .errors import Interrupted

#: Catchable signals whose default action ends the process (SIGINT is Python's KeyboardInterrupt).
TERMINATING = tuple(
    getattr(signal, name)
    for name in (
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGVTALRM",
        "SIGPROF",
        "SIGXCPU",
        "SIGPWR",
    )
    if hasattr(signal, name)
)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def catch_signals() -> Iterator[None]:
    """Inside the block, a terminating signal raises :class:`Interrupted` (signals someone else
    handles, or ignores, are left alone)."""
    if not _main_thread():
        yield
        return
    installed: dict[int, signal._HANDLER] = {}
    for signum in TERMINATING:
        with contextlib.suppress(OSError, ValueError):
            if signal.getsignal(signum) == signal.SIG_DFL:
                installed[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Defer SIGINT and the terminating signals until the block is done, then raise the first."""
    if not _main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous: dict[int, signal._HANDLER] = {}
    for signum in (signal.SIGINT, *TERMINATING):
        with contextlib.suppress(OSError, ValueError):
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise Interrupted(received[0])


@contextlib.contextmanager
def left_to_the_terminal() -> Iterator[None]:
    """While an interactive program runs in the foreground: Ctrl-C (SIGINT) and Ctrl-\\ (SIGQUIT)
    reach it and homeops alike, and belong to it (vi uses Ctrl-C), so homeops lets them pass, as
    ``git commit`` does while its editor runs. A Python handler, not SIG_IGN, so the program itself
    starts with the default handlers."""
    if not _main_thread():
        yield
        return

    def let_pass(signum: int, frame: FrameType | None) -> None:
        pass

    previous = {signum: signal.signal(signum, let_pass) for signum in (signal.SIGINT, signal.SIGQUIT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
