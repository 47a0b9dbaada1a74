"""A Flux tree reduced to what rendering needs, that can be stored, and rebuilt for a few changed files.

A :class:`Snapshot` holds every Kustomization as its cluster applies it (the applied object, the files
its build read, the objects it produced) in the order the tree expanded them. It is built from a
:class:`~homeops.flux.tree.FluxTree`, kept in the cache for a Git revision (keyed by the revision's
tree id and homeops' own code), and :func:`rebuild` derives the snapshot of a working tree from the
snapshot of its base and the files that differ, re-expanding only the Kustomizations those files
reach: the ones that read them, children whose applied object their parent now writes differently,
and the ones that substitute variables from a ConfigMap or Secret that changed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..flux.tree import CLUSTER, PRODUCER, FluxTree, Producer, expand_one
from ..load.cache import cache_dir
from ..load.tree import SourceTree
from ..model.base import NamedResource, Origin, Resource
from ..model.flux import FLUX_KUSTOMIZE_GROUP, Kustomization

FORMAT = 1
IGNORE_FILES = frozenset({".gitignore", ".sourceignore", ".homeopsignore"})
"""Files whose change alters which files the tree sees: a rebuild cannot be partial."""


Key = tuple[str, NamedResource]
"""(cluster, Kustomization id)."""


@dataclass(slots=True)
class Entry:
    """One Kustomization as its cluster applies it, and what it produces."""

    cluster: str
    id: NamedResource
    parent: NamedResource | None
    ks: Resource
    """The applied Kustomization (parent patches and substitution done, namespace defaulted)."""
    path: str | None = None
    external: bool = False
    missing_path: bool = False
    files: frozenset[str] = frozenset()
    objects: list[Resource] = field(default_factory=list)
    error: str | None = None

    @property
    def key(self) -> Key:
        return (self.cluster, self.id)

    @classmethod
    def of(cls, producer: Producer) -> Entry:
        return cls(
            producer.cluster, producer.id, producer.parent, producer.ks.res, producer.path, producer.external,
            producer.missing_path, producer.files, list(producer.objects),
            str(producer.error) if producer.error is not None else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    name: str
    root_files: tuple[str, ...]
    own_sources: frozenset[tuple[str, str]]
    """(kind, name) of the sources that are this repository."""
    bootstrap: tuple[Resource, ...] = ()
    """ConfigMaps and Secrets that exist before Flux runs (variables for substitution)."""


@dataclass(slots=True)
class Snapshot:
    clusters: dict[str, ClusterInfo] = field(default_factory=dict)
    entries: dict[Key, Entry] = field(default_factory=dict)
    """In expansion order."""
    bootstrap_files: frozenset[str] = frozenset()
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Indexes derived from the entries, computed once (see :func:`homeops.render.flux.clusters_of`)."""

    @classmethod
    def of(cls, flux: FluxTree) -> Snapshot:
        snap = cls()
        for name, cluster in flux.clusters.items():
            own = {("GitRepository", "flux-system")}
            for root in cluster.roots:
                producer = flux.producers.get((name, root))
                ref = producer.ks.source_ref if producer is not None else None
                if ref is not None:
                    own.add((ref.kind, ref.name))
            bootstrap = tuple(r for r in flux.bootstrap_objects(name) if _is_config(r))
            snap.clusters[name] = ClusterInfo(name, cluster.root_files, frozenset(own), bootstrap)
        for key, producer in flux.producers.items():
            snap.entries[key] = Entry.of(producer)
        snap.bootstrap_files = frozenset(r.origin.path for r in flux.bootstrap.objects) | frozenset(
            flux.bootstrap.applied_files
        )
        return snap

    def objects(self, cluster: str) -> Iterator[Resource]:
        for entry in self.entries.values():
            if entry.cluster == cluster:
                yield from entry.objects

    # -- storage ---------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The snapshot as marshal data (raises ValueError when an object holds something marshal cannot)."""
        clusters = [
            (c.name, c.root_files, sorted(c.own_sources), [_res_out(r) for r in c.bootstrap])
            for c in self.clusters.values()
        ]
        entries = [
            (e.cluster, _id_out(e.id), _id_out(e.parent) if e.parent else None, _res_out(e.ks), e.path,
             e.external, e.missing_path, sorted(e.files), [_res_out(r) for r in e.objects], e.error)
            for e in self.entries.values()
        ]  # fmt: skip
        return marshal.dumps((FORMAT, clusters, entries, sorted(self.bootstrap_files)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot | None:
        try:
            fmt, clusters, entries, bootstrap_files = marshal.loads(data)
            if fmt != FORMAT:
                return None
            snap = cls(bootstrap_files=frozenset(bootstrap_files))
            for name, roots, own, boot in clusters:
                snap.clusters[name] = ClusterInfo(
                    name, tuple(roots), frozenset(tuple(o) for o in own), tuple(_res_in(r, {}) for r in boot)
                )
            for cluster, ident, parent, ks, path, external, missing, files, objects, error in entries:
                rid = NamedResource(*ident)
                notes = {PRODUCER: rid, CLUSTER: cluster}
                snap.entries[(cluster, rid)] = Entry(
                    cluster, rid, NamedResource(*parent) if parent else None, _res_in(ks, {}), path, external,
                    missing, frozenset(files), [_res_in(r, notes) for r in objects], error,
                )  # fmt: skip
            return snap
        except (ValueError, TypeError, EOFError):
            return None


def _id_out(rid: NamedResource) -> tuple[str, str, str]:
    return (rid.kind, rid.namespace, rid.name)


def _res_out(res: Resource) -> tuple[Any, ...]:
    return (res.obj, res.origin.path, res.origin.line, res.origin.index)


def _res_in(data: Any, notes: dict[str, Any]) -> Resource:
    obj, path, line, index = data
    return Resource(obj, Origin(path, line, index), dict(notes))


def _is_config(res: Resource) -> bool:
    return res.group == "" and res.kind in ("ConfigMap", "Secret")


def _is_flux_ks(res: Resource) -> bool:
    return res.kind == "Kustomization" and res.group == FLUX_KUSTOMIZE_GROUP


# -- the cache of snapshots ------------------------------------------------------------------------


_MAKERS = ("flux", "kustomize", "load", "model", "render/snapshot.py", "errors.py")
"""The code a snapshot's content depends on (relative to the package)."""
KEEP = 24
"""Stored snapshots kept (the most recently used)."""


def code_fingerprint() -> str:
    """Changes whenever the code that builds a Flux tree does: a stored snapshot is only as good as it."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(str(FORMAT).encode())
    for maker in _MAKERS:
        top = package / maker
        walked = [(str(top.parent), [], [top.name])] if top.is_file() else os.walk(top)
        for dirpath, dirnames, filenames in walked:
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    st = os.stat(os.path.join(dirpath, name))
                    digest.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _cache_path(key: str) -> Path:
    return cache_dir() / "snapshots" / f"{key}.marshal"


def load_cached(key: str) -> Snapshot | None:
    path = _cache_path(key)
    try:
        data = path.read_bytes()
        os.utime(path)  # most recently used: kept by pruning
    except OSError:
        return None
    return Snapshot.from_bytes(data)


def store(key: str, snapshot: Snapshot) -> None:
    from ..errors import WriteError
    from ..fsutil import atomic_write

    try:
        data = snapshot.to_bytes()
    except ValueError:
        return  # an object marshal cannot hold: load the tree again next time
    path = _cache_path(key)
    try:
        atomic_write(path, data, mode=0o600)
        stored = sorted(path.parent.glob("*.marshal"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in stored[KEEP:]:
            old.unlink(missing_ok=True)
    except (WriteError, OSError):
        pass


# -- rebuilding for changed files -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changes:
    """Repo-relative files that differ between two revisions."""

    modified: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()

    @property
    def all(self) -> frozenset[str]:
        return self.modified | self.added | self.deleted

    def __bool__(self) -> bool:
        return bool(self.modified or self.added or self.deleted)


def reached(snapshot: Snapshot, changes: Changes) -> set[Key]:
    """The Kustomizations whose build reads a changed file, or would pick up an added one; and, when
    anything changed, every one that could not be built (what it reads is unknown)."""
    touched = changes.modified | changes.deleted
    out: set[Key] = set()
    for key, entry in snapshot.entries.items():
        if changes and unbuilt(entry):
            out.add(key)
        elif entry.files & touched or entry.files & changes.added:
            out.add(key)
        elif changes.added and _picks_up(entry, changes.added):
            out.add(key)
    return out


def unbuilt(entry: Entry) -> bool:
    """Whether the Kustomization's build failed or its path is missing: the files it would read are
    unknown, so no change can be ruled out as reaching it."""
    return entry.error is not None or entry.missing_path


def _picks_up(entry: Entry, added: Iterable[str]) -> bool:
    folders = {posixpath.dirname(f) for f in entry.files}
    own_files = {posixpath.join(entry.path or "", n) for n in ("kustomization.yaml", "kustomization.yml")}
    generated = entry.path is not None and not own_files & entry.files
    for path in added:
        if posixpath.dirname(path) in folders:
            return True
        if generated and entry.path is not None and (entry.path == "" or path.startswith(entry.path + "/")):
            return True
    return False


def needs_full_load(snapshot: Snapshot, tree: SourceTree, changes: Changes) -> str | None:
    """Why the changed files could change the clusters themselves (entry points, ignores, bootstrap),
    so that only a full load is right; None when a partial rebuild is."""
    roots = {f for c in snapshot.clusters.values() for f in c.root_files}
    owned: set[str] = set()
    for entry in snapshot.entries.values():
        owned |= entry.files
    for path in sorted(changes.all):
        if path in roots:
            return f"{path} defines a cluster entry point"
        if posixpath.basename(path) in IGNORE_FILES:
            return f"{path} changes which files Flux sees"
        boot = snapshot.bootstrap_files
        if path in boot or any(path.startswith(f + "/") for f in boot):
            return f"{path} is part of the bootstrap"
        if path in owned or path in changes.deleted or not path.endswith((".yaml", ".yml")):
            continue
        # A new or changed file that no build reads: a new entry point if it holds a Flux Kustomization.
        try:
            parsed = tree.parsed(path)
        except OSError:
            continue
        for doc in parsed.documents:
            if (
                isinstance(doc, dict)
                and doc.get("kind") == "Kustomization"
                and str(doc.get("apiVersion", "")).startswith(FLUX_KUSTOMIZE_GROUP + "/")
            ):
                return f"{path} holds a Flux Kustomization that no other one applies"
    return None


def rebuild(
    base: Snapshot, tree: SourceTree, changes: Changes, *, offline: bool = False
) -> tuple[Snapshot, set[Key]]:
    """The snapshot of ``tree`` from its base's and the changed files; and the Kustomizations re-expanded
    (every other one is identical to the base's). Call :func:`needs_full_load` first. ``offline``:
    remote kustomize bases only from homeops' cache."""
    entries = dict(base.entries)
    order = {key: i for i, key in enumerate(entries)}
    dirty: dict[Key, tuple[Resource, NamedResource | None]] = {
        key: (entries[key].ks, entries[key].parent) for key in reached(base, changes)
    }
    rebuilt: set[Key] = set()
    budget = 4 * len(entries) + 64  # a guard against a substitution ping-pong between Kustomizations
    while dirty and budget > 0:
        budget -= 1
        key = min(dirty, key=lambda k: order.get(k, len(order)))
        ks_res, parent = dirty.pop(key)
        cluster = key[0]
        old = entries.get(key)
        info = base.clusters[cluster]
        known = [*info.bootstrap, *(r for k, e in entries.items() if k[0] == cluster and k != key
                                     for r in e.objects if _is_config(r))]  # fmt: skip
        new = Entry.of(
            expand_one(
                tree, cluster, ks_res, parent, known=known, own_sources=info.own_sources, offline=offline
            )
        )
        entries[key] = new
        rebuilt.add(key)
        old_objects = old.objects if old is not None else []
        _follow_children(entries, order, dirty, new, old_objects)
        _follow_variables(entries, dirty, new, old_objects)
    snap = Snapshot(dict(base.clusters), entries, base.bootstrap_files)
    return snap, rebuilt


def _children(objects: Iterable[Resource]) -> dict[NamedResource, Resource]:
    from ..flux.tree import with_default_ns

    out: dict[NamedResource, Resource] = {}
    for res in objects:
        if _is_flux_ks(res):
            child = with_default_ns(res)
            out.setdefault(child.id, child)
    return out


def _follow_children(
    entries: dict[Key, Entry],
    order: dict[Key, int],
    dirty: dict[Key, tuple[Resource, NamedResource | None]],
    new: Entry,
    old_objects: list[Resource],
) -> None:
    before = _children(old_objects)
    after = _children(new.objects)
    for cid, child in after.items():
        ckey = (new.cluster, cid)
        have = entries.get(ckey)
        if have is None:
            order.setdefault(ckey, len(order))
            dirty[ckey] = (child, new.id)
        elif have.parent == new.id and have.ks.obj != child.obj:
            dirty[ckey] = (child, new.id)
    gone = [(cid, new.id) for cid in before if cid not in after]
    while gone:
        cid, parent = gone.pop()
        ckey = (new.cluster, cid)
        have = entries.get(ckey)
        if have is None or have.parent != parent:
            continue  # applied by another Kustomization: still there
        del entries[ckey]
        dirty.pop(ckey, None)
        gone.extend((k[1], cid) for k, e in entries.items() if k[0] == new.cluster and e.parent == cid)


def _follow_variables(
    entries: dict[Key, Entry],
    dirty: dict[Key, tuple[Resource, NamedResource | None]],
    new: Entry,
    old_objects: list[Resource],
) -> None:
    def configs(objects: Iterable[Resource]) -> dict[tuple[str, str, str], Any]:
        return {(r.kind, r.namespace, r.name): r.obj for r in objects if _is_config(r)}

    before, after = configs(old_objects), configs(new.objects)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    if not changed:
        return
    for key, entry in entries.items():
        if key[0] != new.cluster or key == new.key or key in dirty:
            continue
        ks = Kustomization(entry.ks)
        if any((ref.kind, ks.namespace, ref.name) in changed for ref in ks.substitute_from):
            dirty[key] = (entry.ks, entry.parent)
