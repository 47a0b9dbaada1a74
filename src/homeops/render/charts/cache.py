"""Fetch Helm charts the way Flux's source-controller does, and keep them in a content-addressed cache.

Four sources, each a plain-argument method of :class:`ChartCache`: an OCI artifact (tag, semver range
or digest), a Helm HTTP repository (name + version constraint; ``oci://`` repositories go the OCI
way), a folder inside a Git repository at a ref, and a folder on disk. Every one yields a
:class:`ChartArtifact`: a verified ``.tgz`` in the cache and its sha256.

Immutable answers (an OCI digest, an exact Helm-repository version, a Git commit) are fetched once,
ever. Mutable ones (an OCI tag, a tag list, a repository index, a Git branch) are trusted for ``ttl``
seconds. ``offline=True`` never touches the network and names what is missing.

The documents a chart's ``values.schema.json`` refers to belong to the chart too (:meth:`schemas`,
:mod:`.schemas`), and Helm renders from a copy of the chart without its schemas
(:meth:`without_schemas`): homeops validates the values itself, against the resolved documents.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ...fsutil import private_tempdir
from ...load.cache import cache_dir
from . import git as gitsrc
from .archive import (
    Dependency,
    FetchDependency,
    chart_yaml,
    dependencies,
    leaving,
    package_folder,
    parse_chart_yaml,
    source_json,
    strip_schemas,
    within,
)
from .credentials import registry_credentials
from .errors import ChartIntegrityError, ChartNotCached, ChartSourceError
from .helmrepo import chart_url, download_index, select
from .oci import ChartManifest, OciRef, Registry, is_digest, parse_oci_url
from .schemas import ChartSchemas, SchemaResolver
from .semver import SemverError, highest, is_exact, parse_constraint, try_version
from .store import ChartStore
from .transport import BasicAuth, basic_authorization, display_url, get

DEFAULT_TTL = 600.0


@dataclass(frozen=True, slots=True)
class ChartArtifact:
    """A chart archive in the cache, verified."""

    path: Path
    """The ``.tgz`` (inside the cache; do not modify)."""
    digest: str
    """``sha256:<hex>`` of the archive bytes."""
    name: str
    """From the chart's ``Chart.yaml``."""
    version: str
    """From the chart's ``Chart.yaml``."""
    source: str
    """Where it came from, for messages: URL and the resolved tag, version, digest or commit."""


class ChartCache:
    """Chart sources behind one cache folder; safe to share between threads."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        offline: bool = False,
        ttl: float = DEFAULT_TTL,
        timeout: float = 30.0,
    ) -> None:
        self.root = root if root is not None else cache_dir() / "charts"
        self.offline = offline
        self.ttl = ttl
        """Seconds a mutable answer (tag → digest, tag list, index, branch → commit) is trusted."""
        self.timeout = timeout
        self._store = ChartStore(self.root)
        self._schemas = SchemaResolver(ChartStore(self.root / "schemas", suffix=".json"), offline=offline)
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._registries: dict[tuple[str, str, bool, BasicAuth | None], Registry] = {}
        self._packaging = threading.local()
        """Per thread: the local folders being packaged, to refuse dependency cycles."""

    # --- OCI -----------------------------------------------------------------------------------

    def oci(
        self,
        url: str,
        *,
        tag: str | None = None,
        semver: str | None = None,
        digest: str | None = None,
        insecure: bool = False,
        credentials: BasicAuth | None = None,
    ) -> ChartArtifact:
        """The chart at ``oci://host/path/chart``; ``digest`` wins over ``semver``, which wins over ``tag``.

        Without any, the tag is ``latest`` (as in Flux). Plain HTTP is used for loopback hosts and
        when ``insecure``. Credentials default to the Docker config's entry for the host.
        """
        ref = parse_oci_url(url)
        if digest:
            if not is_digest(digest):
                raise ChartSourceError(
                    f"invalid digest {digest!r} for {ref.url}",
                    source=ref.url,
                    hint="use sha256:<64 hex digits>",
                )
            return self._oci_digest(ref, digest, insecure, credentials)
        if semver is not None:
            tag = self._oci_semver_tag(ref, semver, insecure, credentials)
        return self._oci_tag(ref, tag or "latest", insecure, credentials)

    def _oci_digest(
        self,
        ref: OciRef,
        digest: str,
        insecure: bool,
        credentials: BasicAuth | None,
        *,
        label: str = "",
        manifest: ChartManifest | None = None,
    ) -> ChartArtifact:
        key = (ref.url, digest)
        source = f"{ref.url}{':' + label if label else ''}@{digest}"
        with self._lock_for("oci-digest", key):
            found = self._artifact(self._store.get("oci-digest", key), source)
            if found is not None:
                return found
            self._require_network(f"chart {ref.url}@{digest}")
            registry = self._registry(ref, insecure, credentials)
            manifest = manifest if manifest is not None else registry.manifest(digest)
            if not self._store.has_blob(manifest.layer_digest):
                self._store.put_blob(registry.blob(manifest.layer_digest, manifest.layer_size))
            return self._record("oci-digest", key, manifest.layer_digest, source)

    def _oci_tag(self, ref: OciRef, tag: str, insecure: bool, credentials: BasicAuth | None) -> ChartArtifact:
        key = (ref.url, tag)
        manifest: ChartManifest | None = None
        with self._lock_for("oci-tag", key):
            known = self._store.get("oci-tag", key, max_age=self._max_age)
            if known is None:
                self._require_network(f"chart {ref.url}:{tag}")
                manifest = self._registry(ref, insecure, credentials).manifest(tag)
                known = self._store.put("oci-tag", key, {"manifest": manifest.digest})
        return self._oci_digest(
            ref, str(known["manifest"]), insecure, credentials, label=tag, manifest=manifest
        )

    def _oci_semver_tag(self, ref: OciRef, semver: str, insecure: bool, credentials: BasicAuth | None) -> str:
        try:
            constraint = parse_constraint(semver)
        except SemverError as exc:
            raise ChartSourceError(f"{ref.url}: {exc}", source=ref.url) from exc
        key = (ref.url,)
        with self._lock_for("oci-tags", key):
            listed = self._store.get("oci-tags", key, max_age=self._max_age)
            if listed is not None:
                tags = [str(t) for t in listed.get("tags") or []]
            elif self.offline:
                tags = [str(r["key"][2]) for r in self._store.records("oci-tag") if r["key"][1] == ref.url]
            else:
                tags = self._registry(ref, insecure, credentials).tags()
                self._store.put("oci-tags", key, {"tags": tags})
        # OCI tags cannot hold '+': Helm pushes 1.0.0+build as 1.0.0_build.
        candidates = [(v, t) for t in sorted(tags) if (v := try_version(t.replace("_", "+"))) is not None]
        best = highest(candidates, constraint)
        if best is None:
            if self.offline:
                raise self._not_cached(f"a version of {ref.url} matching {semver!r}")
            newest = ", ".join(t for _, t in sorted(candidates, reverse=True)[:5]) or "none"
            raise ChartSourceError(
                f"no tag of {ref.url} matches the semver range {semver!r}",
                source=ref.url,
                hint=f"newest tags: {newest}",
            )
        return best[1]

    def _registry(self, ref: OciRef, insecure: bool, credentials: BasicAuth | None) -> Registry:
        key = (ref.host, ref.repository, insecure, credentials)
        with self._guard:
            registry = self._registries.get(key)
            if registry is None:
                registry = Registry(
                    ref,
                    insecure=insecure,
                    credentials=credentials or registry_credentials(ref.host),
                    timeout=self.timeout,
                )
                self._registries[key] = registry
            return registry

    # --- Helm HTTP repositories ----------------------------------------------------------------

    def helm_repo(
        self,
        url: str,
        chart: str,
        version: str | None,
        *,
        credentials: BasicAuth | None = None,
        insecure: bool = False,
    ) -> ChartArtifact:
        """``chart`` at ``version`` (a version or a constraint; None means the newest release).

        An ``oci://`` repository URL is read as an OCI HelmRepository: an exact version is a tag,
        anything else a semver range over the tags.
        """
        wanted = (version or "").strip()
        if url.startswith("oci://"):
            full = url.rstrip("/") + "/" + chart
            if is_exact(wanted):
                return self.oci(
                    full, tag=wanted.replace("+", "_"), insecure=insecure, credentials=credentials
                )
            return self.oci(full, semver=wanted or "*", insecure=insecure, credentials=credentials)
        shown = display_url(url)
        if is_exact(wanted):
            found = self._artifact(self._store.get("helm", (url, chart, wanted)), f"{shown} {chart} {wanted}")
            if found is not None:
                return found
        entries = self._index(url, credentials)
        if entries is None:  # offline without an index: choose among the versions we hold
            return self._helm_offline_pick(url, chart, wanted)
        entry = select(entries, repo_url=url, chart=chart, version=wanted)
        key = (url, chart, entry.version)
        source = f"{shown} {chart} {entry.version}"
        with self._lock_for("helm", key):
            found = self._artifact(self._store.get("helm", key), source)
            if found is None:
                self._require_network(f"chart {chart} {entry.version} from {shown}")
                archive_url = chart_url(url, entry, chart)
                same_host = urllib.parse.urlsplit(archive_url).netloc == urllib.parse.urlsplit(url).netloc
                reply = get(
                    archive_url,
                    what=f"downloading chart {chart} {entry.version}",
                    authorization=basic_authorization(credentials) if credentials and same_host else None,
                    timeout=self.timeout,
                )
                expected = entry.digest.lower().removeprefix("sha256:")
                actual = hashlib.sha256(reply.body).hexdigest()
                if expected and actual != expected:
                    raise ChartIntegrityError(
                        f"chart {chart} {entry.version} from {shown} has sha256 {actual}, "
                        f"the repository index says {expected}",
                        source=shown,
                        hint="the archive was corrupted or tampered with; do not use it",
                    )
                found = self._record("helm", key, self._store.put_blob(reply.body), source)
        if is_exact(wanted) and wanted != entry.version:
            self._store.put("helm", (url, chart, wanted), {"blob": found.digest})
        return found

    def _index(self, url: str, credentials: BasicAuth | None) -> dict[str, list[dict[str, Any]]] | None:
        key = (url,)
        with self._lock_for("helm-index", key):
            record = self._store.get("helm-index", key, max_age=self._max_age)
            if record is None:
                if self.offline:
                    return None
                downloaded = download_index(url, credentials=credentials, timeout=self.timeout)
                record = self._store.put("helm-index", key, {"entries": downloaded})
        entries = record.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _helm_offline_pick(self, url: str, chart: str, wanted: str) -> ChartArtifact:
        what = f"chart {chart} {wanted or '(newest)'} from {display_url(url)}"
        try:
            constraint = parse_constraint(wanted or "*")
        except SemverError as exc:
            raise ChartSourceError(f"{display_url(url)}: {exc}", source=url) from exc
        held = {
            str(r["key"][3]): r
            for r in self._store.records("helm")
            if r["key"][1:3] == [url, chart] and self._store.has_blob(str(r.get("blob")))
        }
        best = highest(((v, s) for s in sorted(held) if (v := try_version(s)) is not None), constraint)
        if best is None:
            raise self._not_cached(what)
        found = self._artifact(held[best[1]], f"{display_url(url)} {chart} {best[1]}")
        assert found is not None
        return found

    # --- Git -----------------------------------------------------------------------------------

    def git(self, url: str, *, ref: Mapping[str, str], path: str) -> ChartArtifact:
        """The chart folder ``path`` of a Git repository at ``ref`` (GitRepository ``spec.ref``)."""
        relpath = _clean_relpath(path, url)
        kind, value = gitsrc.select_ref(ref)
        if kind == "commit" and gitsrc.is_commit(value):
            commit, label = value, value[:12]
        else:
            rkey = (url, kind, value)
            with self._lock_for("git-ref", rkey):
                known = self._store.get("git-ref", rkey, max_age=self._max_age)
                if known is None:
                    self._require_network(f"{kind} {value!r} of {url}")
                    commit, label = gitsrc.resolve(url, kind, value, timeout=self.timeout)
                    known = self._store.put("git-ref", rkey, {"commit": commit, "label": label})
            commit, label = str(known["commit"]), str(known["label"])
        key = (url, commit, relpath)
        source = f"{url}@{label} ({commit[:12]}) {relpath}"
        with self._lock_for("git", key):
            found = self._artifact(self._store.get("git", key), source)
            if found is not None:
                return found
            self._require_network(f"chart {relpath} of {url} at {label}")
            with private_tempdir("homeops-git-") as tmp:
                tree = tmp / "tree"
                tree.mkdir()
                gitsrc.export(url, commit, tree, timeout=max(self.timeout, 120.0))
                folder = tree / relpath
                if not (folder / "Chart.yaml").is_file():
                    raise ChartSourceError(
                        f"{url} at {label} has no chart at {relpath} (no Chart.yaml)",
                        source=url,
                        hint="check spec.chart.spec.chart (the path inside the GitRepository)",
                    )
                packaged = package_folder(folder, fetch=self._dependencies_in(tree), root=tree)
                digest = self._store.put_blob(packaged)
                self._schemas.keep_source_json(digest, source_json(folder, packaged))
            return self._record("git", key, digest, source)

    # --- a folder on disk ----------------------------------------------------------------------

    def local(self, folder: Path, *, root: Path | None = None) -> ChartArtifact:
        """The chart in ``folder``, packaged deterministically (same files → same digest).

        ``root``: the source the chart belongs to (the repository). Nothing outside it is read: not the
        folder when a symlink leads it out, not a file through a symlink, not a ``file://`` dependency
        (source-controller builds a chart inside its artifact). None: the caller trusts the folder."""
        if root is not None and not within(folder, root):
            raise ChartSourceError(
                f"the chart folder {folder} leads outside the repository (a symlink); it is not read",
                source=str(folder),
                hint="Flux reads charts from its source artifact only: move the chart into the repository",
            )
        folder = folder.resolve()
        if not (folder / "Chart.yaml").is_file():
            raise ChartSourceError(
                f"{folder} is not a Helm chart (no Chart.yaml)",
                source=str(folder),
                hint="check the chart path",
            )
        packaging = self._packaging_stack()
        if folder in packaging:
            chain = " -> ".join(str(p) for p in [*packaging, folder])
            raise ChartSourceError(f"chart dependencies form a cycle: {chain}", source=str(folder))
        # One record per chart content: the same chart checked out in another folder (a diff's base
        # revision in a fresh temp dir) reuses it instead of adding a record per folder.
        fingerprint = _fingerprint(folder, root)
        key = (fingerprint or str(folder),)
        with self._lock_for("local", key):
            known = self._store.get("local", key)
            if fingerprint and known is not None and known.get("fingerprint") == fingerprint:
                found = self._artifact(known, str(folder))
                if found is not None:
                    return found
            packaging.append(folder)
            try:
                packaged = package_folder(folder, fetch=self._dependencies_in(root), root=root)
                digest = self._store.put_blob(packaged)
                self._schemas.keep_source_json(digest, source_json(folder, packaged))
            finally:
                packaging.pop()
            meta = chart_yaml(self._store.blob_path(digest).read_bytes(), source=str(folder))
            record = {"blob": digest, "name": str(meta["name"]), "version": str(meta["version"])}
            if fingerprint:
                self._store.put("local", key, {**record, "fingerprint": fingerprint})
            found = self._artifact(record, str(folder))
            assert found is not None
            return found

    def _packaging_stack(self) -> list[Path]:
        stack: list[Path] | None = getattr(self._packaging, "folders", None)
        if stack is None:
            stack = []
            self._packaging.folders = stack
        return stack

    def _dependencies_in(self, root: Path | None) -> FetchDependency:
        """How the dependencies of a chart of ``root`` are fetched (``file://`` ones inside it only)."""
        return lambda dep, chart_folder: self._fetch_dependency(dep, chart_folder, root)

    def _fetch_dependency(self, dep: Dependency, chart_folder: Path, root: Path | None) -> Path:
        repo = dep.repository
        if repo.startswith("file://"):
            target = chart_folder / repo[len("file://") :]
            if root is not None and not within(target, root):
                raise ChartSourceError(
                    f"dependency {dep.name} of {chart_folder} is {repo}, outside the chart's source; "
                    "it is not read",
                    source=str(chart_folder),
                    hint="Flux builds a chart inside its source artifact: vendor the dependency into "
                    "charts/ or the repository",
                )
            return self.local(target.resolve(), root=root).path
        if repo.startswith(("oci://", "http://", "https://")):
            return self.helm_repo(repo, dep.name, dep.version or None).path
        raise ChartSourceError(
            f"dependency {dep.name} of {chart_folder} names the repository {repo or '(none)'!r}, "
            "which cannot be resolved without Helm's local repository configuration",
            source=str(chart_folder),
            hint="use the repository URL in Chart.yaml, or vendor the dependency into charts/",
        )

    # --- schemas ---------------------------------------------------------------------------------

    def schemas(self, artifact: ChartArtifact) -> ChartSchemas:
        """The chart's schemas and every document they refer to (fetched once, then from the cache)."""
        try:
            archive = artifact.path.read_bytes()
        except OSError as exc:
            raise ChartSourceError(
                f"cannot read the chart {artifact.path}: {exc}", source=artifact.source
            ) from exc
        extra = self._schemas.source_json(artifact.digest)
        return self._schemas.schemas(archive, artifact.digest, source=artifact.source, extra=extra)

    def without_schemas(self, artifact: ChartArtifact) -> ChartArtifact:
        """The chart as Helm should render it once homeops validated the values: no ``values.schema.json``
        anywhere (so Helm loads no reference), stored beside the original; itself when it has none."""
        key = (artifact.digest,)
        with self._lock_for("no-schemas", key):
            record = self._store.get("no-schemas", key)
            derived = str(record.get("blob", "")) if record is not None else ""
            if record is None or (derived and not self._store.has_blob(derived)):
                stripped = strip_schemas(artifact.path.read_bytes())
                derived = self._store.put_blob(stripped) if stripped is not None else ""
                self._store.put("no-schemas", key, {"blob": derived})
        if not derived:
            return artifact
        return ChartArtifact(self._store.blob_path(derived), artifact.digest, artifact.name, artifact.version,
                             artifact.source)  # fmt: skip

    # --- shared --------------------------------------------------------------------------------

    @property
    def _max_age(self) -> float | None:
        return None if self.offline else self.ttl

    def _lock_for(self, kind: str, key: tuple[str, ...]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((kind, *key), threading.Lock())

    def _require_network(self, what: str) -> None:
        if self.offline:
            raise self._not_cached(what)

    def _not_cached(self, what: str) -> ChartNotCached:
        return ChartNotCached(
            f"{what} is not in the chart cache ({self.root}) and offline mode forbids fetching it",
            source=what,
            hint="run once without offline mode while the source is reachable to fill the cache, "
            "or point HOMEOPS_CACHE_DIR at a cache that holds it",
        )

    def _artifact(self, record: Mapping[str, Any] | None, source: str) -> ChartArtifact | None:
        if record is None:
            return None
        digest = str(record.get("blob", ""))
        if not digest or not self._store.has_blob(digest):
            return None
        name, version = record.get("name"), record.get("version")
        path = self._store.blob_path(digest)
        if not isinstance(name, str) or not isinstance(version, str):
            meta = chart_yaml(path.read_bytes(), source=source)
            name, version = str(meta["name"]), str(meta["version"])
        return ChartArtifact(path, digest, name, version, source)

    def _record(self, kind: str, key: tuple[str, ...], digest: str, source: str) -> ChartArtifact:
        path = self._store.blob_path(digest)
        meta = chart_yaml(path.read_bytes(), source=source)
        name, version = str(meta["name"]), str(meta["version"])
        self._store.put(kind, key, {"blob": digest, "name": name, "version": version})
        return ChartArtifact(path, digest, name, version, source)


def _clean_relpath(path: str, url: str) -> str:
    parts = [p for p in PurePosixPath(path.strip()).parts if p not in (".", "/")]
    if not parts or ".." in parts:
        raise ChartSourceError(
            f"invalid chart path {path!r} in {url}", source=url, hint="use a path inside the repository"
        )
    return "/".join(parts)


def _fingerprint(folder: Path, root: Path | None) -> str | None:
    """A hash of every file's path and content; None when the chart pulls in files from elsewhere."""
    try:
        meta = parse_chart_yaml((folder / "Chart.yaml").read_bytes(), source=str(folder / "Chart.yaml"))
    except (OSError, ChartSourceError):
        return None
    if dependencies(meta):
        return None  # dependencies may live outside the folder: package every time
    digest = hashlib.sha256()
    skip = leaving(root)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(set(dirnames) - skip(dirpath, dirnames))
        for name in sorted(set(filenames) - skip(dirpath, filenames)):
            full = os.path.join(dirpath, name)
            try:
                with open(full, "rb") as handle:
                    content = handle.read()
            except OSError:
                return None
            rel = os.path.relpath(full, folder)
            digest.update(f"{rel}\0{len(content)}\0".encode())
            digest.update(content)
    return digest.hexdigest()
