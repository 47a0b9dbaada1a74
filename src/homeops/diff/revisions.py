"""Diff what Flux would apply between two revisions of a repository.

The base is a Git revision (``--base REF``; by default the merge-base of ``HEAD`` with its upstream)
read with real ``git``, or another folder (``--path-orig``); the head is the working tree. In
changed-only mode (the default) only the producers the changed files reach are rendered, on both
sides: Kustomizations whose build reads a changed file (or would pick up an added one), children whose
applied object their parent now writes differently, Kustomizations substituting from a changed
ConfigMap or Secret, and HelmReleases whose object, ``valuesFrom`` objects, chart source or local chart
files changed. The base's Flux tree is kept in the cache per Git tree id, and the head's is derived
from it by re-expanding only what the change reaches, so a one-file change renders in a fraction of a
full build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import proc
from ..errors import ToolError, UsageError
from ..flux.tree import PRODUCER, SecretValues
from ..load.tree import SourceTree
from ..model.base import NamedResource
from ..model.flux import SOURCE_KINDS
from ..render.flux import (
    FolderFiles,
    ProducerRender,
    Progress,
    ReleaseKey,
    RenderOptions,
    clusters_of,
    decryptor_for,
    local_chart_paths,
    release_inputs,
    render,
)
from ..render.secrets import REDACTED, is_secret, redact, scrub
from ..render.snapshot import (
    Changes,
    Key,
    Snapshot,
    code_fingerprint,
    load_cached,
    needs_full_load,
    rebuild,
    store,
    unbuilt,
)
from .objects import DEFAULT_IGNORES, DiffResult, Rendered, diff

_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
UPSTREAM_FALLBACKS = ("origin/main", "main", "master")


# -- Git ---------------------------------------------------------------------------------------------


def git(repo: Path, *args: str, input: bytes | None = None, what: str | None = None) -> bytes:
    result = proc.run(["git", *args], cwd=repo, env=_GIT_ENV, input=input, what=what or f"git {args[0]}",
                      timeout=300.0)  # fmt: skip
    return result.stdout


@dataclass(frozen=True, slots=True)
class Repo:
    """The Git work tree a path belongs to."""

    toplevel: Path
    prefix: str
    """The path's folder inside the work tree ("" at its top)."""

    @classmethod
    def of(cls, path: Path) -> Repo:
        try:
            top = git(path, "rev-parse", "--show-toplevel", what="git rev-parse").decode().strip()
        except ToolError:
            raise UsageError(
                f"{path} is not inside a Git repository",
                hint="diff against another folder with --path-orig DIR, or run inside a Git work tree",
            ) from None
        toplevel = Path(top).resolve()
        prefix = path.resolve().relative_to(toplevel).as_posix()
        return cls(toplevel, "" if prefix == "." else prefix)

    def resolve(self, ref: str) -> str:
        """The commit ``ref`` names."""
        try:
            out = git(self.toplevel, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except ToolError:
            raise UsageError(
                f"{ref!r} is not a commit of {self.toplevel}", hint="give a branch, tag or commit"
            ) from None
        return out.decode().strip()

    def tree_id(self, commit: str) -> str:
        spec = f"{commit}:{self.prefix}" if self.prefix else f"{commit}^{{tree}}"
        return git(self.toplevel, "rev-parse", spec).decode().strip()

    def merge_base(self) -> tuple[str, str]:
        """(commit, how it was chosen): the merge-base of HEAD with its upstream, else with the first of
        origin/main, main, master that exists."""
        candidates = ["@{upstream}", *UPSTREAM_FALLBACKS]
        for candidate in candidates:
            try:
                out = git(self.toplevel, "merge-base", "HEAD", candidate)
            except ToolError:
                continue
            commit = out.decode().strip()
            label = "the upstream branch" if candidate == "@{upstream}" else candidate
            return commit, f"merge-base of HEAD and {label} ({commit[:12]})"
        raise UsageError(
            "cannot tell what to compare with: HEAD has no upstream, and there is no origin/main, main "
            "or master",
            hint="name the base revision with --base REF (or compare folders with --path-orig DIR)",
        )

    def changes(self, commit: str, head: str | None = None) -> Changes:
        """Files that differ between ``commit`` and the work tree (staged, unstaged and untracked), or
        commit ``head`` when given."""
        scope = ["--", self.prefix] if self.prefix else []
        to = [head] if head is not None else []
        raw = git(self.toplevel, "diff", "--name-status", "--no-renames", "-z", commit, *to, *scope)
        fields = raw.decode("utf-8", "surrogateescape").split("\0")
        modified: set[str] = set()
        added: set[str] = set()
        deleted: set[str] = set()
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            rel = self._rel(path)
            if rel is None:
                continue
            {"A": added, "D": deleted}.get(status[:1], modified).add(rel)
        if head is not None:
            return Changes(frozenset(modified), frozenset(added), frozenset(deleted))
        untracked = git(self.toplevel, "ls-files", "--others", "--exclude-standard", "-z", *scope)
        for path in untracked.decode("utf-8", "surrogateescape").split("\0"):
            rel = self._rel(path) if path else None
            if rel is not None:
                added.add(rel)
        return Changes(frozenset(modified), frozenset(added), frozenset(deleted))

    def _rel(self, path: str) -> str | None:
        if not self.prefix:
            return path
        return path[len(self.prefix) + 1 :] if path.startswith(self.prefix + "/") else None


class GitRevisionFiles:
    """One commit's files: read with ``git cat-file``, put on disk (``git archive``) only when needed."""

    def __init__(self, repo: Repo, commit: str, stack: ExitStack) -> None:
        self.repo = repo
        self.commit = commit
        self._stack = stack
        self._folder: Path | None = None

    def read_bytes(self, rel: str) -> bytes:
        path = f"{self.repo.prefix}/{rel}" if self.repo.prefix else rel
        try:
            return git(self.repo.toplevel, "cat-file", "blob", f"{self.commit}:{path}")
        except ToolError as exc:
            raise FileNotFoundError(rel) from exc

    def folder(self) -> Path:
        if self._folder is None:
            from ..fsutil import private_tempdir

            tmp = self._stack.enter_context(private_tempdir("homeops-base-"))
            scope = [self.repo.prefix] if self.repo.prefix else []
            archive = git(
                self.repo.toplevel, "archive", "--format=tar", self.commit, *scope, what="git archive"
            )
            proc.run(["tar", "-x", "-f", "-", "-C", str(tmp)], input=archive, what="tar -x")
            self._folder = tmp / self.repo.prefix if self.repo.prefix else tmp
        return self._folder

    @property
    def config_root(self) -> Path:
        return self.repo.toplevel / self.repo.prefix if self.repo.prefix else self.repo.toplevel


# -- the two sides ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Side:
    label: str
    snapshot: Snapshot
    files: Any
    """:class:`~homeops.render.flux.RepoFiles` of the side."""


def load_snapshot(
    tree: SourceTree, secret_values: SecretValues | None = None, *, offline: bool = False
) -> Snapshot:
    """The snapshot of a tree (``offline``: remote kustomize bases only from homeops' cache)."""
    return _load_snapshot(tree, secret_values, offline)[0]


def _load_snapshot(
    tree: SourceTree, secret_values: SecretValues | None, offline: bool
) -> tuple[Snapshot, bool]:
    """The snapshot of a tree, and whether it may be kept (nothing in it came from the network:
    a remote base that could not be fetched, or one that follows a branch, may differ next time)."""
    import time

    from ..flux.tree import load_flux_tree

    flux = load_flux_tree(tree, secret_values=secret_values, offline=offline)
    snapshot = Snapshot.of(flux)
    tree.save_cache()
    return snapshot, flux.network_expiry(time.time()) is None


def git_side(repo: Repo, commit: str, label: str, stack: ExitStack, options: RenderOptions) -> Side:
    """The base side at a commit: its snapshot from the cache (per tree id), or loaded and stored.

    With an age key the tree is loaded with decrypted ``substituteFrom`` values and never cached.
    """
    files = GitRevisionFiles(repo, commit, stack)
    if options.age_key:
        decryptor = decryptor_for(files, options)
        tree = SourceTree(files.folder())
        return Side(label, load_snapshot(tree, decryptor.secret_values, offline=options.offline), files)
    key = f"{repo.tree_id(commit)}-{code_fingerprint()}"
    snapshot = load_cached(key)
    if snapshot is None:
        snapshot, keep = _load_snapshot(SourceTree(files.folder()), None, options.offline)
        if keep:
            store(key, snapshot)
    return Side(label, snapshot, files)


def folder_changes(base: SourceTree, head: SourceTree) -> Changes:
    """Files that differ between two folders (``.gitignore`` honoured on both)."""
    before, after = set(base.files()), set(head.files())
    modified = set()
    for rel in before & after:
        a, b = base.abspath(rel), head.abspath(rel)
        try:
            if a.stat().st_size != b.stat().st_size or a.read_bytes() != b.read_bytes():
                modified.add(rel)
        except OSError:
            modified.add(rel)
    return Changes(frozenset(modified), frozenset(after - before), frozenset(before - after))


# -- selection ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    """The producers to render on both sides."""

    kustomizations: frozenset[Key]
    releases: frozenset[ReleaseKey]
    full_load: str | None = None
    """Why the head's tree was loaded in full instead of rebuilt from the base's (None: rebuilt)."""
    unbuilt: frozenset[Key] = frozenset()
    """The Kustomizations among ``kustomizations`` that could not be built on a side: chosen whatever
    changed, since the files they read are unknown."""


def select_changed(
    base: Snapshot, head: Snapshot, changes: Changes, rebuilt: Iterable[Key] | None = None
) -> Selection:
    """The producers ``changes`` reach. ``rebuilt``: the Kustomizations :func:`rebuild` re-expanded;
    without it, every Kustomization whose applied object or output differs."""
    unbuilt_keys = set()
    if changes:
        unbuilt_keys = {k for side in (base, head) for k, e in side.entries.items() if unbuilt(e)}
    if rebuilt is not None:
        ks = set(rebuilt)
    else:
        common = head.entries.keys() & base.entries.keys()
        ks = {k for k in common if _entry_state(base, k) != _entry_state(head, k)}
    ks |= base.entries.keys() ^ head.entries.keys()
    ks |= unbuilt_keys
    base_clusters, head_clusters = clusters_of(base), clusters_of(head)
    keys = {(n, rid) for n, c in base_clusters.items() for rid in c.releases}
    keys |= {(n, rid) for n, c in head_clusters.items() for rid in c.releases}
    if rebuilt is not None:
        owned = {f for e in head.entries.values() for f in e.files}
        local = _touches_local_chart(head_clusters, changes.all - owned)
        keys = _candidates(base, head, ks, keys) | local
    releases = set()
    for key in keys:
        if release_inputs(base, base_clusters, key) != release_inputs(head, head_clusters, key):
            releases.add(key)
            continue
        res = head_clusters[key[0]].releases.get(key[1]) if key[0] in head_clusters else None
        if res is not None and _touches(local_chart_paths(res, head_clusters[key[0]].objects), changes.all):
            releases.add(key)
    return Selection(frozenset(ks), frozenset(releases), unbuilt=frozenset(unbuilt_keys))


def _touches_local_chart(clusters: dict[str, Any], changed: Iterable[str]) -> set[ReleaseKey]:
    changed = list(changed)
    if not changed:
        return set()
    return {(name, rid) for name, c in clusters.items() for rid, res in c.releases.items()
            if _touches(local_chart_paths(res, c.objects), changed)}  # fmt: skip


def _candidates(base: Snapshot, head: Snapshot, ks: set[Key], keys: set[ReleaseKey]) -> set[ReleaseKey]:
    """The HelmReleases that can differ when only the Kustomizations ``ks`` were re-expanded: the ones
    they produce, and, when one of them changed a ConfigMap, Secret, source or CRD, every release of
    that cluster (compared in full by the caller)."""
    out: set[ReleaseKey] = set()
    wide: set[str] = set()
    for key in ks:
        before = base.entries.get(key)
        after = head.entries.get(key)
        old = {(r.kind, r.namespace, r.name): r.obj for r in (before.objects if before else ())}
        new = {(r.kind, r.namespace, r.name): r.obj for r in (after.objects if after else ())}
        for ident in old.keys() | new.keys():
            if old.get(ident) == new.get(ident):
                continue
            kind, namespace, name = ident
            if kind == "HelmRelease":
                out.add((key[0], NamedResource(kind, namespace, name)))
            elif kind in (
                "ConfigMap",
                "Secret",
                "CustomResourceDefinition",
                "ArtifactGenerator",
                *SOURCE_KINDS,
            ):
                wide.add(key[0])
    return out | {k for k in keys if k[0] in wide}


def _entry_state(snapshot: Snapshot, key: Key) -> Any:
    entry = snapshot.entries[key]
    return (entry.ks.obj, entry.error, entry.external, entry.missing_path, [r.obj for r in entry.objects])


def _touches(paths: Sequence[str], changed: Iterable[str]) -> bool:
    """Whether a changed file is one of ``paths`` or below one ("." is the whole repository)."""
    return any(p == "." or c == p or c.startswith(p + "/") for p in paths for c in changed)


# -- the diff -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class RevisionDiff:
    result: DiffResult
    base_label: str
    head_label: str
    selection: Selection | None
    """None with ``all_producers``."""
    base: list[ProducerRender] = field(default_factory=list)
    head: list[ProducerRender] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


def diff_revisions(
    path: str | Path,
    *,
    base_ref: str | None = None,
    path_orig: str | Path | None = None,
    options: RenderOptions | None = None,
    all_producers: bool = False,
    ignore: Sequence[str] = (),
    show_secrets: bool = False,
    progress: Progress | None = None,
) -> RevisionDiff:
    """Render the base and the working tree at ``path`` and compare what Flux would apply."""
    options = options if options is not None else RenderOptions()
    head_root = Path(path)
    if not head_root.is_dir():
        raise UsageError(f"{path}: not a directory")
    head_root = head_root.resolve()
    with ExitStack() as stack:
        if path_orig is not None:
            base_tree = SourceTree(Path(path_orig))
            base_files = FolderFiles(base_tree.root)
            secret_values = _secret_values(base_files, options)
            snapshot = load_snapshot(base_tree, secret_values, offline=options.offline)
            base = Side(str(path_orig), snapshot, base_files)
            changes = folder_changes(base_tree, SourceTree(head_root))
        else:
            repo = Repo.of(head_root)
            if base_ref is not None:
                commit, label = repo.resolve(base_ref), base_ref
            else:
                commit, label = repo.merge_base()
            base = git_side(repo, commit, label, stack, options)
            changes = repo.changes(commit)
        head, selection = _head(base, head_root, changes, all_producers, options)
        files = FolderFiles(head_root)
        ks_keys = selection.kustomizations if selection is not None else None
        hr_keys = selection.releases if selection is not None else None
        decryptors = (decryptor_for(base.files, options), decryptor_for(files, options))
        base_renders = render(base.snapshot, base.files, kustomizations=ks_keys, releases=hr_keys,
                              options=options, progress=progress, decryptor=decryptors[0])  # fmt: skip
        head_renders = render(head.snapshot, files, kustomizations=ks_keys, releases=hr_keys,
                              options=options, progress=progress, decryptor=decryptors[1])  # fmt: skip
        base_renders = _absent_through_failure(base_renders, head.snapshot, head_renders)
        head_renders = _absent_through_failure(head_renders, base.snapshot, base_renders)
        sensitive: frozenset[str] = frozenset()
        if not show_secrets:
            sensitive = decryptors[0].sensitive() | decryptors[1].sensitive()
        many = len(base.snapshot.clusters.keys() | head.snapshot.clusters.keys()) > 1
        result = compare(
            base_renders, head_renders, ignore=ignore, show_secrets=show_secrets, sensitive=sensitive,
            name_clusters=many,
        )  # fmt: skip
        return RevisionDiff(result, base.label, str(path), selection, base_renders, head_renders, changes)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack never swallows


def _absent_through_failure(
    renders: list[ProducerRender], other: Snapshot, other_renders: Sequence[ProducerRender]
) -> list[ProducerRender]:
    """``renders`` plus, as failed, every producer the other side rendered that is missing here because a
    Kustomization that applies it (directly or further up) failed here: a failure, never a removal."""
    failed = {(r.cluster, r.producer) for r in renders if r.kind == "Kustomization" and r.failed}
    if not failed:
        return renders
    have = {(r.cluster, r.producer) for r in renders}
    releases = {(n, str(rid)): res for n, c in clusters_of(other).items() for rid, res in c.releases.items()}
    parents = {(k[0], str(k[1])): e.parent for k, e in other.entries.items()}
    extra = []
    for r in other_renders:
        if (r.cluster, r.producer) in have:
            continue
        res = releases.get((r.cluster, r.producer)) if r.kind == "HelmRelease" else None
        up = res.notes.get(PRODUCER) if res is not None else parents.get((r.cluster, r.producer))
        seen = set()
        while up is not None and (r.cluster, str(up)) not in failed and up not in seen:
            seen.add(up)
            up = parents.get((r.cluster, str(up)))
        if up is not None and (r.cluster, str(up)) in failed:
            extra.append(ProducerRender(r.producer, r.cluster, r.kind, error=f"not rendered: {up} failed"))
    return sorted([*renders, *extra], key=lambda r: (r.cluster, r.kind != "Kustomization", r.producer))


def _secret_values(files: Any, options: RenderOptions) -> SecretValues | None:
    """Decrypted Secret values for ``substituteFrom`` when an age key is given, else None."""
    return decryptor_for(files, options).secret_values if options.age_key else None


def _head(
    base: Side, root: Path, changes: Changes, all_producers: bool, options: RenderOptions
) -> tuple[Side, Selection | None]:
    from ..load.cache import ParseCache

    label = str(root)
    files = FolderFiles(root)
    # A partial rebuild parses only the changed files: loading the parse cache would cost more.
    head_tree = SourceTree(root)
    if not changes and not all_producers:
        return Side(label, base.snapshot, files), Selection(frozenset(), frozenset())
    secret_values = _secret_values(files, options)
    why = needs_full_load(base.snapshot, head_tree, changes)
    if secret_values is not None:
        why = why or "an age key is given: the tree is loaded with decrypted values"
    if why is None and not all_producers:
        snapshot, rebuilt = rebuild(base.snapshot, head_tree, changes, offline=options.offline)
        return Side(label, snapshot, files), select_changed(base.snapshot, snapshot, changes, rebuilt)
    snapshot = load_snapshot(SourceTree(root, cache=ParseCache(root)), secret_values, offline=options.offline)
    if all_producers:
        return Side(label, snapshot, files), None
    chosen = select_changed(base.snapshot, snapshot, changes)
    return Side(label, snapshot, files), dataclasses.replace(chosen, full_load=why)


def compare(
    base: Sequence[ProducerRender],
    head: Sequence[ProducerRender],
    *,
    ignore: Sequence[str] = (),
    show_secrets: bool = False,
    sensitive: frozenset[str] = frozenset(),
    name_clusters: bool | None = None,
) -> DiffResult:
    """Diff two renders cluster by cluster (objects of different clusters never match each other).
    Producers are prefixed with ``[cluster]`` when ``name_clusters`` (default: when the renders span
    more than one cluster).

    Unless ``show_secrets``, Secret values and every decrypted value are replaced by a marker that is
    equal on both sides exactly when the values are, so changes show without the values.
    """
    patterns = (*DEFAULT_IGNORES, *ignore)
    clusters = sorted({r.cluster for r in (*base, *head)})
    many = len(clusters) > 1 if name_clusters is None else name_clusters
    key = secrets.token_bytes(16)

    def marker(value: Any) -> str:
        text = value if isinstance(value, str) else repr(value)
        return f"{REDACTED[:-1]} {hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:8]}>"

    def hide(obj: Any) -> Any:
        if show_secrets:
            return obj
        out = redact(obj, lambda _f, _k, v: marker(v)) if is_secret(obj) else obj
        return scrub(out, sensitive, marker)

    def side(renders: Sequence[ProducerRender], cluster: str) -> Iterator[Rendered]:
        for r in renders:
            if r.cluster != cluster:
                continue
            name = f"[{cluster}] {r.producer}" if many else r.producer
            if r.error is not None:
                yield Rendered(name, error=r.error)
            else:
                yield Rendered(name, tuple(hide(o) for o in r.objects))

    total = DiffResult()
    for cluster in clusters:
        part = diff(side(base, cluster), side(head, cluster), ignore=patterns)
        total.changes.extend(part.changes)
        total.failures.extend(part.failures)
        total.unchanged += part.unchanged
    return total


# -- images -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImagesDiff:
    added: tuple[tuple[str, tuple[str, ...]], ...]
    """(image, the producers that run it), sorted."""
    removed: tuple[tuple[str, tuple[str, ...]], ...]


def images_diff(base: Sequence[ProducerRender], head: Sequence[ProducerRender]) -> ImagesDiff:
    """Images the head runs that the base does not, and the reverse (producers that failed on either side
    are left out, as in the object diff)."""
    failed = {(r.cluster, r.producer) for r in (*base, *head) if r.error is not None}
    before, after = _images(base, failed), _images(head, failed)
    added = tuple((i, tuple(sorted(after[i]))) for i in sorted(after.keys() - before.keys()))
    removed = tuple((i, tuple(sorted(before[i]))) for i in sorted(before.keys() - after.keys()))
    return ImagesDiff(added, removed)


def _images(renders: Sequence[ProducerRender], failed: set[tuple[str, str]]) -> dict[str, set[str]]:
    from ..inventory import found_images
    from ..model.base import Origin, Resource

    out: dict[str, set[str]] = {}
    for r in renders:
        if (r.cluster, r.producer) in failed:
            continue
        resources = [Resource(dict(obj), Origin(r.producer, 0, i)) for i, obj in enumerate(r.objects)]
        for found in found_images(resources):
            out.setdefault(str(found.image), set()).add(r.producer)
    return out
