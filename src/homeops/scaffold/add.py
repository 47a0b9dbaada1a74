"""``homeops add app``: read the repository's conventions, write the app, wire it in, all at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .app import AppOptions, AppPlan, check_options, plan_app
from .files import FileSet
from .model import Conventions
from .reader import read_conventions

if TYPE_CHECKING:
    from ..workspace import Workspace


@dataclass(frozen=True, slots=True)
class AddResult:
    conventions: Conventions
    plan: AppPlan
    created: tuple[str, ...]
    changed: tuple[str, ...]
    """Existing files edited (the parent kustomization.yaml)."""
    before: dict[str, str]
    """The edited files' content before the edit, for showing a diff."""


def add_app(repo: str | Path, options: AppOptions, *, cluster: str | None = None) -> AddResult:
    """Add one app to the repository at ``repo``; nothing is written if any step fails."""
    from ..journal import locked
    from ..workspace import open_workspace

    check_options(options)
    with locked(repo, "add app"):
        workspace = open_workspace(repo)
        return _add(workspace, options, cluster)


def _add(workspace: Workspace, options: AppOptions, cluster: str | None) -> AddResult:
    conventions = read_conventions(workspace.flux, cluster=cluster)
    _refuse_existing(workspace.flux, conventions, options)
    files = FileSet(workspace.root)
    plan = plan_app(conventions, options, files)
    before = {rel: files.original(rel) or "" for rel in files.changed}
    created, changed = tuple(files.created), tuple(files.changed)
    files.commit("add app")
    return AddResult(conventions, plan, created, changed, before)


def _refuse_existing(flux: object, conventions: Conventions, options: AppOptions) -> None:
    from ..flux.tree import FluxTree

    assert isinstance(flux, FluxTree)
    wanted = (
        {("flux-system", f"app-{options.name}")}
        if conventions.layout == "layered"
        else {(options.namespace or "", options.name), (options.namespace or "", f"{options.name}-db")}
    )
    for (cluster, ident), producer in flux.producers.items():
        if cluster == conventions.cluster and (ident.namespace, ident.name) in wanted:
            raise UsageError(
                f"a Flux Kustomization {ident.namespace}/{ident.name} already exists "
                f"({producer.ks.origin.path})",
                hint="choose another app name",
            )
