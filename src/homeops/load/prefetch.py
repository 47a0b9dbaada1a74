"""Start parsing a repository's YAML files on the other core before anything else is loaded.

``homeops check`` calls :func:`start` right after walking the repository, so that the files parse
while the process imports the modules that will read them; :class:`~homeops.load.tree.SourceTree`
takes the running helper over (:meth:`~homeops.load.tree.SourceTree.adopt`) and collects its work.
Light on purpose: nothing heavier than the parser is imported, and that before the fork, so that the
helper inherits it instead of importing it a second time (this process needs it anyway).
"""

from __future__ import annotations

import os
from functools import partial

from .. import parallel

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from typing import Any

    from .cache import ParseCache
    from .walk import Walk

YAML_SUFFIXES = (".yaml", ".yml")

MINIMUM = 150
"""Below this many files to parse, a helper process costs more than it saves."""


def start(root: str, walked: Walk, cache: ParseCache | None) -> parallel.Split[str] | None:
    """Parse the walked YAML files that ``cache`` does not hold, on the other core; None when not worth it.

    Only files of the walk are read: they are inside the repository, symlinks included.
    """
    todo = [
        rel
        for rel in walked.files
        if rel.endswith(YAML_SUFFIXES) and not (cache and cache.has(rel, *walked.stats[rel]))
    ]
    if len(todo) >= MINIMUM:
        from . import yamlio  # noqa: F401  (see the module's docstring)
    return parallel.start(todo, partial(parse_plain, root), minimum=MINIMUM, what="parsing YAML files")


def parse_plain(root: str, rel: str) -> tuple[Any, ...] | None:
    """One file parsed, as plain data for the way back from the helper, with the bytes it was parsed
    from (None when unreadable)."""
    from .walk import read_file
    from .yamlio import parse

    try:
        data = read_file(os.path.join(root, rel))
    except OSError:
        return None
    parsed = parse(data)
    failure = (parsed.failure.line, parsed.failure.reason) if parsed.failure else None
    return parsed.documents, parsed.lines, failure, data
