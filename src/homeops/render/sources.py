"""Which chart a HelmRelease installs: its source looked up among the cluster's objects, then fetched.

``chartRef`` names an OCIRepository (the chart is the artifact), a HelmChart, or an ExternalArtifact
that an ArtifactGenerator makes from this repository (the artifact is a packaged chart: helm-controller
loads it with Helm's ``LoadArchive``, so the chart is the one folder at its root); ``chart.spec``
names a chart in a HelmRepository (HTTP or OCI), in a GitRepository (this repository when it is one of
the cluster's own sources, else a remote Git URL) or in a Bucket (not supported). ``valuesFiles`` are read
where source-controller reads them: inside the chart for repository charts, relative to the source's
root for Git charts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RenderError
from ..load.tree import normalize
from ..model.base import NamedResource, ObjectRef, Resource, get_path
from ..model.flux import (
    FLUX_SOURCE_GROUP,
    GitRepository,
    HelmChart,
    HelmRelease,
    HelmRepository,
    OCIRepository,
)
from .charts.archive import within
from .charts.cache import ChartArtifact, ChartCache

if TYPE_CHECKING:
    from ..flux.sources import BuildSource


@dataclass(frozen=True, slots=True)
class ChartSource:
    """A chart fetched for one HelmRelease, and where its ``valuesFiles`` are read from."""

    artifact: ChartArtifact
    values_files: tuple[str, ...] = ()
    read_values_file: Callable[[str], bytes | None] | None = None
    """Reads one ``valuesFiles`` entry (None when absent)."""
    source: Resource | None = None
    """The source object (OCIRepository, HelmRepository, HelmChart, GitRepository)."""
    local_folder: str | None = None
    """The repo-relative chart folder, for a chart built from this repository."""
    ignore_missing_values_files: bool = False


class SourceLookup:
    """The source objects of one cluster, and how to reach this repository's files."""

    def __init__(
        self,
        objects: Mapping[NamedResource, Resource],
        own_sources: frozenset[tuple[str, str]],
        repo_folder: Callable[[], Path],
        artifact: Callable[[ObjectRef], BuildSource | None] | None = None,
    ) -> None:
        self.objects = objects
        self.own_sources = own_sources
        """(kind, name) of the sources that are this repository (GitRepository flux-system, …)."""
        self.repo_folder = repo_folder
        self.artifact = artifact
        """The files of an ExternalArtifact an ArtifactGenerator of the cluster makes (None: not one)."""

    def find(self, ref: ObjectRef) -> Resource:
        found = self.objects.get(ref.id)
        if found is None or found.group != FLUX_SOURCE_GROUP:
            raise RenderError(
                f"{ref.kind} {ref.namespace}/{ref.name} is not applied by any Kustomization of the cluster",
                hint="add the source to a Kustomization, or fix the reference's name and namespace",
            )
        return found


def resolve_chart(release: HelmRelease, lookup: SourceLookup, cache: ChartCache) -> ChartSource:
    """Fetch (or find in the cache) the chart ``release`` installs."""
    ref = release.chart_ref
    if ref is not None and ref.kind == "ExternalArtifact":
        return _external_artifact(ref, lookup, cache)
    if ref is not None:
        source = lookup.find(ref)
        if ref.kind == "OCIRepository":
            return ChartSource(_oci(OCIRepository(source), cache), source=source)
        if ref.kind == "HelmChart":
            chart = HelmChart(source)
            if not chart.chart:
                raise RenderError(f"HelmChart {source.namespace}/{source.name} names no chart")
            inner = chart.source_ref
            if inner is None:
                raise RenderError(f"HelmChart {source.namespace}/{source.name} has no sourceRef")
            files = _strings(chart.spec.get("valuesFiles"))
            found = _from_source(chart.chart, chart.version, inner, files, lookup, cache)
            ignore = chart.spec.get("ignoreMissingValuesFiles") is True
            return replace(found, ignore_missing_values_files=ignore)
        raise RenderError(
            f"chartRef kind {ref.kind!r} is not supported (OCIRepository, HelmChart or ExternalArtifact)"
        )
    template = release.chart
    if template is None:
        raise RenderError(
            "the HelmRelease names no chart (neither spec.chartRef nor spec.chart.spec.chart)",
            hint="set spec.chartRef or spec.chart.spec",
        )
    if template.source_ref is None:
        raise RenderError(
            "spec.chart.spec.sourceRef is missing", hint="name the HelmRepository or GitRepository"
        )
    spec = get_path(release.spec, "chart", "spec")
    files = _strings(spec.get("valuesFiles"))
    found = _from_source(template.chart, template.version, template.source_ref, files, lookup, cache)
    return replace(found, ignore_missing_values_files=spec.get("ignoreMissingValuesFiles") is True)


def _external_artifact(ref: ObjectRef, lookup: SourceLookup, cache: ChartCache) -> ChartSource:
    """The chart of an ExternalArtifact: its files as source-watcher assembles them, loaded as
    helm-controller loads the artifact, a packaged chart whose files all sit in one folder."""
    what = f"ExternalArtifact {ref.namespace}/{ref.name}"
    built = lookup.artifact(ref) if lookup.artifact is not None else None
    if built is None:
        raise RenderError(
            f"{what} is made by no ArtifactGenerator of the cluster from this repository",
            hint="check the chartRef's name and namespace against the ArtifactGenerator's spec.artifacts",
        )
    if built.error is not None:
        raise RenderError(f"{what} cannot be generated: {built.error}", hint="fix the ArtifactGenerator")
    if built.partial:
        raise RenderError(
            f"{what} is made from sources outside this repository, which homeops does not fetch",
            hint="homeops renders charts from OCI, Helm repositories, Git and this repository",
        )
    files = built.tree.files()
    loose = sorted(f for f in files if "/" not in f)
    if loose:
        raise RenderError(
            f"{what} holds {loose[0]!r} at its root: helm-controller loads it as a packaged chart, "
            "whose files are all in one folder (Helm: chart illegally contains content outside the base "
            "directory)",
            hint='copy the chart into a folder of the artifact, e.g. to: "@artifact/<chart>/"',
        )
    folders = sorted({f.split("/", 1)[0] for f in files})
    if len(folders) != 1:
        raise RenderError(
            f"{what} holds {len(folders)} folders at its root ({', '.join(folders) or 'none'}): "
            "helm-controller would load their files as one chart",
            hint="keep one chart folder per artifact",
        )
    folder = built.tree.root / folders[0]
    return ChartSource(cache.local(folder), source=built.origin, local_folder=None)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _oci(repo: OCIRepository, cache: ChartCache) -> ChartArtifact:
    url = repo.url
    if not url:
        raise RenderError(f"OCIRepository {repo.namespace}/{repo.name} has no spec.url")
    ref = repo.ref
    return cache.oci(
        url,
        tag=_opt(ref.get("tag")),
        semver=_opt(ref.get("semver")),
        digest=_opt(ref.get("digest")),
        insecure=repo.insecure,
    )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _from_source(
    chart: str,
    version: str | None,
    ref: ObjectRef,
    values_files: tuple[str, ...],
    lookup: SourceLookup,
    cache: ChartCache,
) -> ChartSource:
    if ref.kind == "GitRepository" and (ref.kind, ref.name) in lookup.own_sources:
        # This repository (its GitRepository is often created at bootstrap, outside the tree).
        folder = _chart_path(chart)
        root = lookup.repo_folder()
        artifact = cache.local(root / folder, root=root)
        return ChartSource(artifact, values_files, _repo_file(root), lookup.objects.get(ref.id), folder)
    source = lookup.find(ref)
    if ref.kind == "HelmRepository":
        repo = HelmRepository(source)
        if not repo.url:
            raise RenderError(f"HelmRepository {source.namespace}/{source.name} has no spec.url")
        url = repo.url
        if repo.is_oci and not url.startswith("oci://"):
            url = "oci://" + url.split("://", 1)[-1]
        insecure = bool(repo.spec.get("insecure") is True)
        artifact = cache.helm_repo(url, chart, version, insecure=insecure)
        return ChartSource(artifact, values_files, _inside_chart(artifact, chart_root=""), source)
    if ref.kind == "GitRepository":
        folder = _chart_path(chart)
        git = GitRepository(source)
        if not git.url:
            raise RenderError(f"GitRepository {source.namespace}/{source.name} has no spec.url")
        artifact = cache.git(git.url, ref={str(k): str(v) for k, v in git.ref.items()}, path=folder)
        return ChartSource(artifact, values_files, _inside_chart(artifact, chart_root=folder), source)
    if ref.kind == "Bucket":
        raise RenderError(
            f"the chart comes from Bucket {source.namespace}/{source.name}: Bucket sources are not supported",
            hint="homeops renders charts from OCI, Helm repositories and Git; render this one in-cluster",
        )
    raise RenderError(f"chart sourceRef kind {ref.kind!r} is not supported")


def _chart_path(chart: str) -> str:
    folder = normalize(chart.strip().lstrip("/"))
    if not folder:
        raise RenderError(f"invalid chart path {chart!r}", hint="use a folder inside the Git repository")
    return folder


def _inside_chart(artifact: ChartArtifact, *, chart_root: str) -> Callable[[str], bytes | None]:
    def read(rel: str) -> bytes | None:
        from .helm import chart_file

        clean = posixpath.normpath(rel.lstrip("/"))
        if clean.startswith("../"):
            raise RenderError(f"valuesFiles entry {rel!r} lies outside the chart")
        if chart_root:
            # Git sources name values files from the repository root; only the chart's own are reachable.
            if not clean.startswith(chart_root.rstrip("/") + "/"):
                raise RenderError(
                    f"valuesFiles entry {rel!r} lies outside the chart folder {chart_root} of a remote "
                    "Git source, which homeops cannot read",
                )
            clean = clean[len(chart_root.rstrip("/")) + 1 :]
        return chart_file(artifact, clean)

    return read


def _repo_file(root: Path) -> Callable[[str], bytes | None]:
    def read(rel: str) -> bytes | None:
        clean = normalize(rel.lstrip("/"))
        if not clean:
            raise RenderError(f"valuesFiles entry {rel!r} lies outside the repository")
        path = root / clean
        if not within(path, root):
            raise RenderError(
                f"valuesFiles entry {rel!r} is a symlink that leads outside the repository; it is not read",
                hint="Flux reads values files from its source artifact only: put the file itself there",
            )
        return path.read_bytes() if path.is_file() else None

    return read
