"""Validate what HelmReleases render to, when their charts are in the cache (never fetched here).

Each HelmRelease is rendered offline as helm-controller would (``homeops build hr``); the CRDs the
charts install (their ``crds/`` folders and templates) join the catalog first, so that a chart's own
custom resources are checked against the schema it ships. A problem in a rendered object is reported on
the HelmRelease that renders it (its chart, not the repository, holds the object's text). Releases whose
chart is not cached are listed, not failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model.base import Origin, Resource
from ..records import NamedTuple
from .engine import Problem, validate

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .catalog import Catalog


class RenderedProblem(NamedTuple):
    release: Resource
    """The HelmRelease that renders the object."""
    problem: Problem


class ChartResult(NamedTuple):
    problems: list[RenderedProblem]
    unvalidated: dict[str, int]
    validated: int
    not_rendered: list[tuple[str, str]]
    """(HelmRelease ``namespace/name``, why) for each release not rendered (chart not cached…)."""
    crds: list[dict[str, Any]]


def rendered_problems(
    workspace: Workspace,
    make_catalog: Callable[[list[dict[str, Any]]], Catalog],
    kubernetes_version: str,
) -> ChartResult:
    """Render every HelmRelease offline, then validate what they render against ``make_catalog(crds)``."""
    from ..render.flux import FolderFiles, RenderOptions, render
    from ..render.snapshot import Snapshot

    snapshot = Snapshot.of(workspace.flux)
    options = RenderOptions(offline=True, kube_version=kubernetes_version)
    results = render(snapshot, FolderFiles(workspace.root), kustomizations=[], options=options)
    releases = {str(res.id): res for res in workspace.flux.of_kind("HelmRelease")}
    rendered: list[tuple[Resource, dict[str, Any]]] = []
    not_rendered: list[tuple[str, str]] = []
    for result in results:
        release = releases.get(result.producer)
        if result.failed or result.skipped or release is None:
            why = result.error or result.skipped or "not found"
            not_rendered.append((result.producer.removeprefix("HelmRelease/"), why.splitlines()[0]))
            continue
        rendered.extend((release, obj) for obj in result.objects)
    crds = [obj for _r, obj in rendered if obj.get("kind") == "CustomResourceDefinition"]
    catalog = make_catalog(crds)
    objects = [Resource(obj, Origin(release.origin.path, release.origin.line, release.origin.index),
                        {"release": release}) for release, obj in rendered]  # fmt: skip
    report = validate(objects, catalog)
    problems = [RenderedProblem(p.res.notes["release"], p) for p in report.problems]
    return ChartResult(problems, report.unvalidated, report.validated, not_rendered, crds)
