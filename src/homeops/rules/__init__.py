"""The rule catalog and the engine that runs it (``homeops check``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from pathlib import Path


def check_tree(root: Path) -> list[str]:
    """Error-level findings of a repository folder as ``path:line RULE message`` lines (empty: clean).

    Used by ``homeops configure`` to refuse a write that would leave the repository failing ``check``.
    """
    from ..workspace import open_workspace
    from .base import Severity, at_or_above
    from .engine import run_checks

    workspace = open_workspace(root, use_cache=False)
    findings = at_or_above(run_checks(workspace.flux, workspace.config), Severity.ERROR)
    return [f"{f.path}:{f.line} {f.rule} {f.message}" for f in findings]
