"""The sources a cluster's Kustomizations build from, and the exact files each gives Flux.

A Kustomization's ``sourceRef`` names an artifact, and kustomize-controller builds ``spec.path``
inside that artifact, never inside the repository as it sits on disk:

* a GitRepository that is this repository (the entry point's source, or any GitRepository of the
  same URL): the repository as source-controller archives it, with its ``.sourceignore`` files and
  ``spec.ignore`` (which replace the built-in excludes) and its ``spec.include`` copies;
* an ExternalArtifact an ArtifactGenerator of the cluster makes (:mod:`homeops.flux.artifacts`);
* anything else (another Git repository, an OCI artifact, a bucket) is external: not built.

:class:`ClusterSources` answers, per cluster, which of these a reference is. It learns the sources the
cluster applies as the tree expands (:meth:`ClusterSources.note`) and falls back to the documents as
written for those not applied yet (the flux-system GitRepository is applied by the Kustomization that
reads it).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from ..load.ignore import SourceIgnore, SourcePattern, read_source_patterns
from ..load.tree import SourceTree
from ..model.base import ObjectRef, Resource, get_path
from ..model.flux import FLUX_SOURCE_GROUP
from ..records import NamedTuple
from . import artifacts
from .entries import cluster_name


class BuildSource(NamedTuple):
    """What a Kustomization of this source is built from."""

    tree: SourceTree
    """A view of the repository (its ignore patterns applied), or an artifact's own folder."""
    label: str
    """For people: ``GitRepository flux-system/flux-system (this repository)``."""
    to_repo: Mapping[str, str] | None = None
    """Artifact path → repository path of its content; None: the repository's own paths."""
    partial: bool = False
    """Part of the content comes from outside the repository: a missing path is not an error."""
    error: str | None = None
    """Why the controller cannot produce this artifact (an ArtifactGenerator copy that fails)."""
    origin: Resource | None = None
    """The object that defines the source (GitRepository, ArtifactGenerator), when known."""

    def repo_path(self, rel: str) -> str:
        """Where an artifact path's content is in the repository."""
        if self.to_repo is None:
            return rel
        return self.to_repo.get(rel, rel)


def _normal_url(url: str) -> str:
    """``ssh://git@github.com/a/b.git`` and ``https://github.com/a/b`` name the same repository."""
    text = url.strip().lower().rstrip("/")
    text = re.sub(r"^[a-z+]+://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    text = text.replace(":", "/", 1) if re.match(r"^[^/]+:[^0-9]", text) else text
    return text.removesuffix(".git")


class ClusterSources:
    """Which of a cluster's sources are this repository, and the tree each gives to build."""

    def __init__(
        self,
        tree: SourceTree,
        cluster: str,
        own: Iterable[tuple[str, str]],
        urls: Iterable[str] = (),
        documents: Iterable[Resource] = (),
    ) -> None:
        """``own``: (kind, name) of the sources that are this repository (the entry points');
        ``urls``: Git URLs of this repository; ``documents``: the repository's documents as written."""
        self.tree = tree
        self.cluster = cluster
        self.own = set(own)
        self.urls = {_normal_url(u) for u in urls if u}
        self.documents = [d for d in documents if source_like(d)]
        self.applied: dict[tuple[str, str, str], Resource] = {}
        self._resolved: dict[tuple[str, str, str], BuildSource | None] = {}
        self._views: dict[tuple[SourcePattern, ...], SourceTree] = {}
        self._resolving: set[tuple[str, str, str]] = set()

    def note(self, res: Resource) -> None:
        """Remember a source or generator the cluster applies (it wins over the documents as written)."""
        if source_like(res):
            self.applied.setdefault((res.kind, res.namespace, res.name), res)

    # -- resolving --------------------------------------------------------------------------------

    def resolve(self, ref: ObjectRef) -> BuildSource | None:
        """What ``ref`` (a ``sourceRef``) builds from; None when it is not in this repository."""
        key = (ref.kind, ref.namespace, ref.name)
        if key in self._resolved:
            return self._resolved[key]
        if key in self._resolving:
            return None  # a source made from itself: not something homeops can follow
        self._resolving.add(key)
        try:
            found = self._resolve(ref)
        finally:
            self._resolving.discard(key)
        self._resolved[key] = found
        return found

    def resolve_default(self) -> BuildSource:
        """The source of a Kustomization that names none (old API versions): the repository."""
        return BuildSource(self.view(()), "this repository (no sourceRef)")

    def _resolve(self, ref: ObjectRef) -> BuildSource | None:
        if ref.kind == "ExternalArtifact":
            return self._artifact(ref)
        definition = self.find(ref)
        own = (ref.kind, ref.name) in self.own
        if not own and ref.kind == "GitRepository" and definition is not None:
            url = get_path(definition.obj, "spec", "url")
            own = isinstance(url, str) and _normal_url(url) in self.urls
        if not own:
            return None
        label = f"{ref.kind} {ref.namespace}/{ref.name} (this repository)"
        if ref.kind != "GitRepository" or definition is None:
            return BuildSource(self.view(()), label, origin=definition)
        ignore = get_path(definition.obj, "spec", "ignore")
        extra = (
            tuple(
                read_source_patterns(ignore, (), f"spec.ignore of GitRepository {ref.namespace}/{ref.name}")
            )
            if isinstance(ignore, str)
            else ()
        )
        includes = get_path(definition.obj, "spec", "include")
        if isinstance(includes, list) and includes:
            return self._with_includes(ref, definition, extra, includes, label)
        return BuildSource(self.view(extra), label, origin=definition)

    def view(self, extra: tuple[SourcePattern, ...]) -> SourceTree:
        """The repository as an artifact archived with its ``.sourceignore`` files and ``extra``
        patterns (a ``spec.ignore``); one view per set of patterns, shared."""
        found = self._views.get(extra)
        if found is None:
            if not extra:
                found = self.tree  # the repository's own reading: .sourceignore files or the defaults
            else:
                patterns = [*self.tree.source_patterns(), *extra]
                found = self.tree.view(SourceIgnore.for_source(patterns))
            self._views[extra] = found
        return found

    def find(self, ref: ObjectRef) -> Resource | None:
        """The object defining a source: the one the cluster applies, else one written in the
        repository (of this cluster's folder first)."""
        key = (ref.kind, ref.namespace, ref.name)
        if key in self.applied:
            return self.applied[key]
        candidates = [
            d
            for d in self.documents
            if d.kind == ref.kind and d.name == ref.name and (d.namespace or ref.namespace) == ref.namespace
        ]
        if not candidates:
            candidates = [d for d in self.documents if d.kind == ref.kind and d.name == ref.name]
        mine = [d for d in candidates if cluster_name(d.origin.path) == self.cluster]
        chosen = mine or candidates
        return chosen[0] if chosen else None

    # -- includes and artifacts -------------------------------------------------------------------

    def _files_of(self, ref: ObjectRef) -> Mapping[str, str] | None:
        """A source's files (source path → repository path); None when it is not in this repository."""
        found = self.resolve(ref)
        if found is None or found.partial or found.error:
            return None
        if found.to_repo is not None:
            return found.to_repo
        return artifacts.repo_files(found.tree)

    def _with_includes(
        self,
        ref: ObjectRef,
        definition: Resource,
        extra: tuple[SourcePattern, ...],
        includes: list[object],
        label: str,
    ) -> BuildSource:
        # source-controller copies each include into the checkout first, then archives the whole with
        # this GitRepository's patterns (.sourceignore files of the result, then spec.ignore).
        files = {rel: rel for rel in self.tree.files()}
        partial = False
        for item in includes:
            name = get_path(item, "repository", "name")
            if not isinstance(name, str):
                continue
            from_path = _secure_join(str(get_path(item, "fromPath") or ""))
            to_path = _secure_join(str(get_path(item, "toPath") or name))
            included = self._files_of(ObjectRef("GitRepository", name, ref.namespace))
            if included is None:
                partial = True
                continue
            prefix = f"{from_path}/" if from_path else ""
            for path, repo in included.items():
                if path.startswith(prefix):
                    files[f"{to_path}/{path[len(prefix) :]}" if to_path else path[len(prefix) :]] = repo
        patterns: list[SourcePattern] = []
        for path in sorted(
            (p for p in files if p.rsplit("/", 1)[-1] == ".sourceignore"), key=lambda p: p.split("/")[:-1]
        ):
            try:
                text = self.tree.read_bytes(files[path]).decode("utf-8", "replace")
            except OSError:
                continue
            patterns.extend(read_source_patterns(text, tuple(path.split("/")[:-1]), path))
        source = SourceIgnore.for_source([*patterns, *extra])
        kept = {dest: repo for dest, repo in files.items() if not source.ignores(dest)}
        built = artifacts.materialize(self.tree, artifacts.Assembled(kept, {}, partial, None))
        return BuildSource(built, label + " with its includes", kept, partial, None, definition)

    def _artifact(self, ref: ObjectRef) -> BuildSource | None:
        spec = self._artifact_spec(ref)
        if spec is None:
            return None
        inputs = {alias: self._files_of(source) for alias, source in spec.sources.items()}
        assembled = artifacts.assemble(spec, inputs, self.tree.read_bytes)
        generator = spec.generator
        label = (
            f"ExternalArtifact {ref.namespace}/{ref.name} of ArtifactGenerator "
            f"{generator.namespace}/{generator.name}"
        )
        if assembled.error is not None:
            return BuildSource(self.tree, label, {}, assembled.partial, assembled.error, generator)
        built = artifacts.materialize(self.tree, assembled)
        return BuildSource(built, label, assembled.files, assembled.partial, None, generator)

    def _artifact_spec(self, ref: ObjectRef) -> artifacts.ArtifactSpec | None:
        applied = [r for r in self.applied.values() if artifacts.is_generator(r)]
        written = [d for d in self.documents if artifacts.is_generator(d)]
        mine = [d for d in written if cluster_name(d.origin.path) == self.cluster]
        for generator in [*applied, *(mine or written)]:
            for spec in artifacts.artifact_specs(generator):
                if spec.name == ref.name and spec.namespace == ref.namespace:
                    return spec
        return None


def _secure_join(path: str) -> str:
    """A path inside the artifact as source-controller's ``securejoin`` makes it: ``..`` stops at the
    root, so ``../../etc`` is ``etc`` (never a path outside the artifact)."""
    return posixpath.normpath("/" + path).lstrip("/")


def source_like(res: Resource) -> bool:
    """A Flux source or an ArtifactGenerator: what :class:`ClusterSources` keeps of the documents."""
    return res.group == FLUX_SOURCE_GROUP or artifacts.is_generator(res)
