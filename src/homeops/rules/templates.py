"""Rule for seed rule "Templates are source; generated files are output"."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Hit, Severity, rule
from .context import Context


@rule(
    id="GEN001",
    name="generated-file-edited",
    family="templates",
    severity=Severity.WARNING,
    seed="Templates are source; generated files are output: edit the template, run configure, commit",
    summary="A file that homeops configure generated was edited by hand",
    why="The next 'homeops configure' (or 'task configure') renders the template again and silently "
    "throws the hand edit away; the change must be made in the template to last.",
    bad="# kubernetes/apps/default/kustomization.yaml (generated from templates/…/kustomization.yaml.j2)\n"
    "resources:\n  - ./echo/ks.yaml\n  - ./new-app/ks.yaml   # added by hand\n",
    good="# templates/…/kustomization.yaml.j2\nresources:\n  - ./echo/ks.yaml\n  - ./new-app/ks.yaml\n"
    "# then: homeops configure\n",
    fix="Make the change in the template the ledger names, run 'homeops configure', and commit both.",
)
def generated_file_edited(ctx: Context) -> Iterator[Hit]:
    from ..errors import HomeopsError

    try:
        ledger = ctx.ledger
    except HomeopsError as exc:
        from ..configure.ledger import LEDGER_PATH

        yield Hit(LEDGER_PATH, 1, exc.message, exc.hint)
        return
    if ledger is None:
        return
    for path in ledger.edited_by_hand(ctx.tree.root):
        source = ledger.source_of(path) or "its template"
        yield Hit(
            path,
            1,
            f"generated from {source} by 'homeops configure' but edited by hand since; the next configure "
            "overwrites the edit",
            f"make the change in {source} and run 'homeops configure'",
        )
