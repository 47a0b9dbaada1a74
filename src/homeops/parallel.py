"""Work on two cores: a forked helper takes items from the front of a list, the caller from the back.

Which side does which item is decided as they go (one shared byte per item), so the split balances
itself whatever the items cost and however late the caller joins in: a caller can start the helper,
do other work (import modules, say), then finish the list with it. Work that must happen anyway can
also be left for "meanwhile" (:func:`meanwhile`): a split that allows it runs it on this core while
the helper gets ahead. Results come back with ``marshal``, so they must be plain data. Anything
unexpected in the helper only means that the caller does those items itself: a split never changes
a result, only how fast it comes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from . import progress

T = TypeVar("T")

_FREE, _HELPER, _CALLER = 0, 1, 2

_pending: list[Callable[[], object]] = []


def meanwhile(task: Callable[[], object]) -> None:
    """Run ``task`` (work needed later anyway, such as imports) during the next split that allows it,
    while its helper works; :func:`catch_up` runs it at the latest."""
    _pending.append(task)


def catch_up() -> None:
    """Run the :func:`meanwhile` tasks still pending."""
    while _pending:
        _pending.pop(0)()


def fork_safe() -> bool:
    """Whether this process may fork a helper: one thread, no Go runtime loaded, not switched off."""
    import threading

    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and "helm_python" not in sys.modules  # Helm's Go library cannot survive a fork
        and os.environ.get("HOMEOPS_NO_FORK") != "1"
    )


class Split(Generic[T]):
    """A list of items being worked through by a forked helper; :meth:`finish` completes it."""

    def __init__(
        self, items: Sequence[T], work: Callable[[T], Any], *, meanwhile: bool = False, what: str = ""
    ) -> None:
        """``meanwhile``: :meth:`finish` first runs the pending :func:`meanwhile` tasks. ``what``: the
        work, as :mod:`homeops.progress` reports it while :meth:`finish` runs ("" reports nothing)."""
        import mmap

        self._done = True  # until the helper runs
        self._meanwhile = meanwhile
        self.what = what
        self.items = items
        self._claims = mmap.mmap(-1, max(len(items), 1))
        read_end, write_end = os.pipe()
        try:
            self._pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if self._pid == 0:  # the helper: never returns
            os.close(read_end)
            _helper(items, work, self._claims, write_end)
        os.close(write_end)
        self._read_end = read_end
        self._done = False

    def finish(self, work: Callable[[T], Any]) -> dict[int, Any]:
        """Do the items the helper has not taken, wait for it; item index → result.

        An index is missing when its item failed in the helper (or the helper died): do it again.
        """
        if self._meanwhile:
            catch_up()
        claims = self._claims
        mine: dict[int, Any] = {}
        total = len(self.items)
        for index in range(total - 1, -1, -1):
            if claims[index] != _FREE:
                break
            claims[index] = _CALLER
            mine[index] = work(self.items[index])
            if self.what and progress.active():
                # The helper claims from the front: the first free byte is how far it got.
                helper = claims.find(b"\0")
                progress.step(total if helper < 0 else helper + total - index, total, self.what)
        theirs = self._collect()
        theirs.update(mine)  # an item both sides took (a rare race): keep the caller's own result
        return theirs

    def cancel(self) -> None:
        """Stop the helper and forget its results (it stops after its current item)."""
        if self._done:
            return
        self._claims[:] = bytes([_CALLER]) * len(self._claims)
        os.close(self._read_end)  # a helper blocked on sending gets an error and exits
        self._reap()

    def __del__(self) -> None:
        self.cancel()

    def _reap(self) -> None:
        self._done = True
        os.waitpid(self._pid, 0)
        self._claims.close()

    def _collect(self) -> dict[int, Any]:
        import marshal

        chunks = []
        with os.fdopen(self._read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        self._reap()
        try:
            pairs = marshal.loads(b"".join(chunks)) if chunks else []
            return {int(index): result for index, result in pairs}
        except (EOFError, ValueError, TypeError):
            return {}


def start(
    items: Sequence[T], work: Callable[[T], Any], *, minimum: int = 2, meanwhile: bool = False, what: str = ""
) -> Split[T] | None:
    """Fork a helper for ``items``; None when there are fewer than ``minimum`` or forking is unsafe."""
    if len(items) < minimum or not fork_safe():
        return None
    try:
        return Split(items, work, meanwhile=meanwhile, what=what)
    except OSError:
        return None


def run(
    items: Sequence[T], work: Callable[[T], Any], *, minimum: int = 2, meanwhile: bool = False, what: str = ""
) -> list[Any]:
    """``[work(item) for item in items]`` on two cores when worth it (results must be plain data).

    ``meanwhile``: the pending :func:`meanwhile` tasks run here while the helper works. ``what``: the
    work as :mod:`homeops.progress` reports it.
    """
    split = start(items, work, minimum=minimum, meanwhile=meanwhile, what=what)
    done = split.finish(work) if split is not None else {}
    return [done[i] if i in done else work(item) for i, item in enumerate(items)]


def _helper(items: Sequence[Any], work: Callable[[Any], Any], claims: Any, write_end: int) -> None:
    """The helper's whole life: claim from the front, send the results, exit without any cleanup."""
    import gc
    import marshal

    code = 0
    try:
        gc.disable()  # short-lived: collecting would only copy the parent's pages
        done: list[tuple[int, Any]] = []
        for index in range(len(items)):
            if claims[index] != _FREE:
                break
            claims[index] = _HELPER
            try:
                done.append((index, work(items[index])))
            except Exception:
                continue  # the caller does it again and sees the error itself
        try:
            payload = marshal.dumps(done)
        except ValueError:  # a result marshal cannot carry: send the others
            payload = marshal.dumps([pair for pair in done if marshallable(pair)])
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    except BaseException:
        code = 1
    finally:
        fsutil = sys.modules.get("homeops.fsutil")
        if fsutil is not None:
            fsutil.remove_process_dirs()  # what a full cache disk made it keep in RAM instead
        os._exit(code)


def marshallable(value: Any) -> bool:
    """Whether ``marshal`` can carry the value (plain builtins only, no custom classes)."""
    import marshal

    try:
        marshal.dumps(value)
    except ValueError:
        return False
    return True
