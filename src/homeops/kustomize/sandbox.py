"""What ``kubectl kustomize`` may read, laid out in a private folder before it runs.

When the native engine leaves a build to ``kubectl kustomize``, kubectl must read exactly what
Flux's kustomize-controller could read: the files of the source, never a path or a symlink leading
out of it. kubectl itself follows absolute paths, ``..`` and symlinks wherever they go, so it never
runs on the repository. Instead, every kustomization it will load is read here first, from the build
folder down through resources, components, patches, generators, replacements, configurations, CRDs,
OpenAPI schemas and plugin configurations, each path checked by the native engine's loader (which
refuses absolute paths, escapes, symlinks leaving the root and files source-controller leaves out);
only the files so found are copied into a private temporary folder, as plain files, and kubectl runs
there. A remote base comes from homeops' cache (:mod:`homeops.kustomize.remote`), copied in beside
the source, and its entry rewritten to point at the copy, so kubectl never uses the network either.
A path missed here is missing in the copy: the build fails, nothing is read.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import KustomizeError, Where
from ..load.tree import SourceTree, join
from . import kfile
from .loader import Loader, RemoteUnavailable, looks_remote

SOURCE = "source"
"""Folder of the copy that holds the repository's files."""

_FILE_LISTS = ("crds", "configurations")
_PATCH_LISTS = ("patches", "patchesJson6902")
_HELM = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
_PLUGIN_LISTS = ("generators", "transformers", "validators")
#: Builtin plugin configurations that read files, and the fields that name them.
_PLUGIN_FILES = {
    "PatchTransformer": ("path",),
    "PatchJson6902Transformer": ("path",),
    "PatchStrategicMergeTransformer": ("paths",),
    "ConfigMapGenerator": ("files", "envs", "env"),
    "SecretGenerator": ("files", "envs", "env"),
    "ReplacementTransformer": ("replacements", "path"),
}


class Plan:
    """The private folder to lay out: files copied from a tree, and kustomizations rewritten."""

    def __init__(self) -> None:
        self.copies: dict[str, tuple[SourceTree, str]] = {}
        """Path in the folder → (tree, repo-relative path) to copy."""
        self.writes: dict[str, str] = {}
        """Path in the folder → text (a kustomization with remote entries pointed at their copy, or
        the kustomization Flux writes for the build folder)."""

    def lay_out(self, scratch: Path) -> None:
        for dest, (tree, rel) in self.copies.items():
            target = scratch / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tree.read_bytes(rel))
        for dest, text in self.writes.items():
            target = scratch / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def plan(
    tree: SourceTree,
    directory: str,
    *,
    flux: bool,
    kustomization: dict[str, Any] | None,
    offline: bool = False,
) -> Plan:
    """Every file ``kubectl kustomize`` may read to build ``directory``; ``kustomization`` replaces the
    folder's own kustomization file (Flux's overrides, or the one Flux generates); ``offline``: remote
    bases only from the cache.

    Raises :class:`~homeops.kustomize.loader.OutsideSource` naming the kustomization file and line of
    a path that leaves the source, :class:`~homeops.kustomize.loader.RemoteUnavailable` for a remote
    base that cannot be fetched, and :class:`~homeops.errors.KustomizeError` for what Flux refuses.
    """
    walker = _Walker(flux, offline)
    walker.folder(_Root(tree, SOURCE, flux), directory, override=kustomization)
    return walker.plan


class _Root:
    """One tree the build reads from: the source, or a cached remote repository."""

    def __init__(self, tree: SourceTree, label: str, flux: bool) -> None:
        self.tree = tree
        self.label = label
        self.loader = Loader(tree, flux=flux)

    def dest(self, rel: str) -> str:
        return f"{self.label}/{rel}" if rel else self.label


class _Walker:
    def __init__(self, flux: bool, offline: bool) -> None:
        self.flux = flux
        self.offline = offline
        self.plan = Plan()
        self.seen: set[tuple[str, str, bool]] = set()
        self.remotes: dict[str, _Root] = {}

    # -- folders and their kustomization ---------------------------------------------------------

    def folder(
        self, root: _Root, directory: str, *, override: dict[str, Any] | None = None, plugins: bool = False
    ) -> None:
        key = (root.label, directory, plugins)
        if key in self.seen and override is None:
            return
        self.seen.add(key)
        if override is not None:
            path = kfile.find(root.tree, directory) or join(directory, "kustomization.yaml")
            data = override
        else:
            found = kfile.find(root.tree, directory)
            if found is None:
                return  # kubectl reports the missing kustomization itself
            path = found
            parsed = root.tree.parsed(path)
            if parsed.failure is not None:
                raise KustomizeError(
                    f"invalid kustomization: {parsed.failure.reason}", where=Where(path, parsed.failure.line)
                )
            document = parsed.documents[0] if parsed.documents else None
            data = document if isinstance(document, dict) else {}
        context = _Kustomization(root, path, directory, plugins)
        rewritten = self._fields(context, data)
        if rewritten is not None or override is not None:
            from ..yamlout import dump_yaml  # quotes every string a Go reader would retype

            self.plan.writes[root.dest(path)] = dump_yaml(rewritten if rewritten is not None else data)
        else:
            self.plan.copies[root.dest(path)] = (root.tree, path)

    def _fields(self, k: _Kustomization, data: dict[str, Any]) -> dict[str, Any] | None:
        """Check and collect every path of one kustomization; the data with remote entries rewritten
        (None when nothing changed)."""
        changed: dict[str, Any] = {}
        for field in ("resources", "bases", "components"):
            entries = _strings(data.get(field))
            new = [self._resource(k, entry, (field, i)) for i, entry in enumerate(entries)]
            if new != entries:
                changed[field] = new
        for field in _FILE_LISTS:
            for i, entry in enumerate(_strings(data.get(field))):
                self._file(k, entry, (field, i))
        for i, entry in enumerate(_strings(data.get("patchesStrategicMerge"))):
            if not _inline(entry):
                self._file(k, entry, ("patchesStrategicMerge", i))
        for field in _PATCH_LISTS:
            for i, item in enumerate(_mappings(data.get(field))):
                if isinstance(item.get("path"), str):
                    self._file(k, item["path"], (field, i, "path"))
        for field in ("configMapGenerator", "secretGenerator"):
            for i, item in enumerate(_mappings(data.get(field))):
                self._generator(k, item, (field, i))
        openapi = data.get("openapi")
        if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
            self._file(k, openapi["path"], ("openapi", "path"))
        for i, item in enumerate(_mappings(data.get("replacements"))):
            if isinstance(item.get("path"), str):
                self._file(k, item["path"], ("replacements", i, "path"))
        for field in _HELM:
            if data.get(field):
                raise KustomizeError(
                    f"{field} needs kustomize's --enable-helm, which Flux's kustomize-controller never "
                    "passes: Flux fails this build",
                    where=k.where((field,)),
                    hint="render the chart with a HelmRelease instead",
                )
        for field in _PLUGIN_LISTS:
            for i, entry in enumerate(_strings(data.get(field))):
                self._plugin_entry(k, entry, (field, i))
        if not changed:
            return None
        return {**data, **changed}

    # -- entries ---------------------------------------------------------------------------------

    def _resource(self, k: _Kustomization, entry: str, at: tuple[str | int, ...]) -> str:
        if looks_remote(entry):
            return self._remote(k, entry, at)
        with k.at(at) as where:
            rel = k.root.loader.resolve(k.directory, entry, where, "resource")
        if k.root.loader.is_dir(rel):
            self.folder(k.root, rel, plugins=k.plugins)
        elif k.root.loader.is_file(rel):
            self._copy(k.root, rel, yaml=True)
            if k.plugins:
                self._plugin_file(k, rel, at)
        return entry

    def _file(
        self, k: _Kustomization, entry: str, at: tuple[str | int, ...], *, yaml: bool = True
    ) -> str | None:
        """Check one file entry and copy it; its repo-relative path (None when it is not a file).

        ``yaml``: kustomize parses the file (a patch, a schema...), so it must parse here too."""
        with k.at(at) as where:
            if looks_remote(entry):
                raise RemoteUnavailable(
                    f"remote file {entry!r} is not downloaded: homeops reads only the repository and "
                    "its cached remote bases",
                    where=where,
                    hint="vendor the file into the repository to have it checked",
                )
            rel = k.root.loader.resolve(k.directory, entry, where, "file")
        if not k.root.loader.is_file(rel):
            return None  # missing (or a folder): kubectl says so
        self._copy(k.root, rel, yaml=yaml)
        return rel

    def _generator(self, k: _Kustomization, item: Mapping[str, Any], at: tuple[str | int, ...]) -> None:
        for i, source in enumerate(_strings(item.get("files"))):
            path = source.partition("=")[2] if "=" in source else source
            self._file(k, path, (*at, "files", i), yaml=False)
        for i, source in enumerate(_strings(item.get("envs"))):
            self._file(k, source, (*at, "envs", i), yaml=False)
        if isinstance(item.get("env"), str):
            self._file(k, item["env"], (*at, "env"), yaml=False)

    def _remote(self, k: _Kustomization, entry: str, at: tuple[str | int, ...]) -> str:
        from . import remote

        with k.at(at) as where:
            spec = remote.parse(entry)
            remote.refuse_local(entry, spec, where, offline=self.offline)
            if spec is None:
                return self._remote_file(k, entry, where)
            cached = remote.checkout(spec, where, offline=self.offline)
            found = self.remotes.get(cached.key)
            if found is None:
                found = _Root(SourceTree(cached.root), f"remote/{cached.key}", False)
                self.remotes[cached.key] = found
            rel = found.loader.resolve("", spec.path, where, "remote base folder")
        if found.loader.is_dir(rel):
            self.folder(found, rel, plugins=k.plugins)
        elif found.loader.is_file(rel):
            self._copy(found, rel)
        # the copy's path, from the folder of the kustomization that names it
        return posixpath.relpath(found.dest(rel), posixpath.dirname(k.root.dest(k.path)))

    def _remote_file(self, k: _Kustomization, url: str, where: Where) -> str:
        """A resource kustomize downloads over HTTP: from homeops' cache, copied in beside the source."""
        from . import remote

        if not url.startswith(("https://", "http://")):
            raise RemoteUnavailable(
                f"remote resource {url!r} is neither a Git repository nor a web file homeops can fetch",
                where=where,
                hint="vendor it into the repository",
            )
        cached = remote.fetch_file(url, where, offline=self.offline)
        tree = SourceTree(cached.parent)
        root = _Root(tree, f"remote/{cached.parent.name[:16]}", False)
        self._copy(root, cached.name, yaml=True)
        return posixpath.relpath(root.dest(cached.name), posixpath.dirname(k.root.dest(k.path)))

    # -- plugin configurations -------------------------------------------------------------------

    def _plugin_entry(self, k: _Kustomization, entry: str, at: tuple[str | int, ...]) -> None:
        if _inline(entry):
            for document in _documents(entry):
                self._plugin_config(k, document, at)
            return
        if looks_remote(entry):
            self._remote(k, entry, at)
            return
        with k.at(at) as where:
            rel = k.root.loader.resolve(k.directory, entry, where, "plugin configuration")
        if k.root.loader.is_dir(rel):
            self.folder(k.root, rel, plugins=True)
        elif k.root.loader.is_file(rel):
            self._copy(k.root, rel)
            self._plugin_file(k, rel, at)

    def _plugin_file(self, k: _Kustomization, rel: str, at: tuple[str | int, ...]) -> None:
        parsed = k.root.tree.parsed(rel)
        for document in parsed.documents if parsed.failure is None else ():
            if isinstance(document, dict):
                self._plugin_config(k, document, at)

    def _plugin_config(self, k: _Kustomization, config: dict[str, Any], at: tuple[str | int, ...]) -> None:
        kind = config.get("kind")
        api = str(config.get("apiVersion") or "")
        if api != "builtin" and not api.startswith("builtin/"):
            raise KustomizeError(
                f"plugin {kind!r} ({api or 'no apiVersion'}) is not one of kustomize's builtins; Flux runs "
                "no plugins",
                where=k.where(at),
                hint="use a builtin transformer, or move the change into the kustomization itself",
            )
        if kind == "HelmChartInflationGenerator":
            raise KustomizeError(
                "HelmChartInflationGenerator needs kustomize's --enable-helm, which Flux never passes",
                where=k.where(at),
                hint="render the chart with a HelmRelease instead",
            )
        for field in _PLUGIN_FILES.get(str(kind), ()):
            value = config.get(field)
            if field == "replacements":
                paths = [item["path"] for item in _mappings(value) if isinstance(item.get("path"), str)]
            elif isinstance(value, str):
                paths = [value]
            else:
                paths = _strings(value)
            for path in paths:
                if field == "files" and "=" in path:
                    path = path.partition("=")[2]
                if field == "paths" and _inline(path):
                    continue
                self._file(k, path, at, yaml=field not in ("files", "envs", "env"))

    def _copy(self, root: _Root, rel: str, *, yaml: bool = False) -> None:
        """Copy a file; one kustomize parses must parse here first (go-yaml's limits: an alias bomb
        would exhaust kubectl's memory, which has no bound of its own)."""
        if yaml:
            parsed = root.tree.parsed(rel)
            if parsed.failure is not None:
                raise KustomizeError(
                    f"cannot parse {rel}: {parsed.failure.reason}",
                    where=Where(rel, parsed.failure.line),
                    hint="fix the YAML of the file",
                )
        self.plan.copies.setdefault(root.dest(rel), (root.tree, rel))


class _Kustomization:
    """One kustomization being checked: where it is, and how to place an error in it."""

    def __init__(self, root: _Root, path: str, directory: str, plugins: bool) -> None:
        self.root = root
        self.path = path
        self.directory = directory
        self.plugins = plugins

    def where(self, at: tuple[str | int, ...]) -> Where:
        return Where(self.path, kfile.line_of(self.root.tree, self.path, list(at)))

    @contextmanager
    def at(self, at: tuple[str | int, ...]) -> Iterator[Where]:
        """A placeholder location for errors about one entry; its line is looked up only on error."""
        marker = Where(self.path)
        try:
            yield marker
        except KustomizeError as exc:
            if exc.where is marker:
                exc.where = self.where(at)
            raise


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _inline(entry: str) -> bool:
    """An entry that holds YAML (an inline patch or plugin configuration) rather than a path."""
    return "\n" in entry.strip() or entry.lstrip().startswith(("{", "apiVersion:", "kind:"))


def _documents(text: str) -> list[dict[str, Any]]:
    from ..load.yamlio import parse

    parsed = parse(text)
    return [d for d in parsed.documents if isinstance(d, dict)] if parsed.failure is None else []
