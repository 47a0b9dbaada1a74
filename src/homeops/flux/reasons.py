"""Why each file of a repository is, or is not, applied by Flux.

A file is applied when a Kustomization's build produces objects from it; read when the build uses it
otherwise (a kustomization file, a patch, a component, a generator input); and otherwise left out for
a reason a person can act on: the source's ignore patterns leave it out of the artifact, the
kustomization.yaml of its folder does not list it (or lists it commented out), it is under no path
any cluster reaches, Git does not track it, it is a template that ``homeops configure`` renders, part
of a Helm chart, or part of the bootstrap. :func:`explain` answers for one file,
:func:`file_reasons` for all of them (the rules and ``homeops get --unreached`` use it).
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from ..load.tree import TEMPLATE_SUFFIXES, SourceTree, normalize
from ..records import NamedTuple
from .tree import FluxTree, Producer, chart_folders

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

#: Statuses, from "Flux applies it" to "Flux never sees it".
APPLIED = "applied"
READ = "read"
"""Used by a build without producing objects itself: kustomization file, patch, component, input."""
ENTRY = "entry"
BOOTSTRAP = "bootstrap"
EXCLUDED = "excluded"
UNLISTED = "unlisted"
UNREACHED = "unreached"
UNTRACKED = "untracked"
OTHER = "other"
"""Templates, charts, repository configuration: not Flux's."""


class Reason(NamedTuple):
    status: str
    message: str
    cluster: str | None = None
    kustomization: str | None = None
    """``namespace/name`` of the Kustomization concerned."""
    place: str | None = None
    """A file the reason points at (the kustomization.yaml that does not list it, the ignore file)."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self._asdict().items() if v is not None}


def explain(flux: FluxTree, path: str) -> list[Reason]:
    """Why ``path`` (repo-relative) is or is not applied; the first reason is the strongest."""
    return _Explainer(flux).reasons(path)


def file_reasons(flux: FluxTree) -> dict[str, list[Reason]]:
    """Every tracked file of the repository with its reasons."""
    return dict(FileReasons(flux))


class FileReasons(Mapping[str, list[Reason]]):
    """:func:`file_reasons` worked out file by file as they are looked up: a rule that asks about the
    manifests does not pay for every file of the repository."""

    def __init__(self, flux: FluxTree) -> None:
        self._explainer = _Explainer(flux)
        self._known: dict[str, list[Reason]] = {}

    def __getitem__(self, path: str) -> list[Reason]:
        found = self._known.get(path)
        if found is None:
            if path not in self._explainer.tracked:
                raise KeyError(path)
            found = self._known[path] = self._explainer.reasons(path)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._explainer.tree.files())

    def __len__(self) -> int:
        return len(self._explainer.tracked)


class _Role(NamedTuple):
    role: str
    """patch, component, generator input, configuration, kustomization file, resource."""
    listed_in: str


class _Explainer:
    def __init__(self, flux: FluxTree) -> None:
        self.flux = flux
        self.tree: SourceTree = flux.tree
        self.tracked = set(self.tree.files())
        self.applied: dict[str, list[Producer]] = defaultdict(list)
        self.read: dict[str, list[Producer]] = defaultdict(list)
        for producer in flux.producers.values():
            origins = {res.origin.path for res in producer.objects}
            for path in origins:
                self.applied[path].append(producer)
            for path in producer.files - origins:
                self.read[path].append(producer)
        self.by_folder: dict[str, list[Producer]] = defaultdict(list)
        for producer in flux.producers.values():
            if producer.path is not None and _source_is_repository(producer):
                self.by_folder[producer.path].append(producer)
        self.charts = chart_folders(self.tree)
        self.entry_files = {e.ks.origin.path: e for c in flux.clusters.values() for e in c.entries}
        self._roles: dict[str, dict[str, _Role]] = {}
        self._kfiles: dict[tuple[str, Any], list[str]] = {}
        """The kustomization files of each build, sorted (by cluster and Kustomization)."""
        self._texts: dict[str, list[str]] = {}

    def reasons(self, path: str) -> list[Reason]:
        out: list[Reason] = []
        if path not in self.tracked:
            if self.tree.is_file(path):
                return [Reason(UNTRACKED, "Git does not track it (.gitignore), so Flux never sees it")]
            return [Reason(OTHER, "no such file in the repository")]
        kustomization_file = posixpath.basename(path) in KUSTOMIZATION_FILES
        for producer in _sorted(self.applied.get(path, ())):
            what = (
                "kustomization file whose generated objects are applied" if kustomization_file else "applied"
            )
            out.append(
                Reason(
                    APPLIED,
                    f"{what} by Kustomization {producer.id.short} (cluster {producer.cluster})",
                    producer.cluster,
                    producer.id.short,
                )
            )
        for producer in _sorted(self.read.get(path, ())):
            role = self._role(producer, path)
            what = role.role if role is not None else "read"
            where = f" (listed in {role.listed_in})" if role is not None and role.listed_in else ""
            out.append(
                Reason(
                    READ,
                    f"{what} used by Kustomization {producer.id.short} (cluster {producer.cluster}){where}",
                    producer.cluster,
                    producer.id.short,
                    role.listed_in if role is not None else None,
                )
            )
        entry = self.entry_files.get(path)
        if entry is not None:
            out.append(Reason(ENTRY, f"entry point of cluster {entry.cluster}: {entry.how}", entry.cluster))
        bootstrap = self.flux.bootstrap
        if bootstrap.applies(path) or any(r.origin.path == path for r in bootstrap.objects):
            out.append(Reason(BOOTSTRAP, "applied by the bootstrap (before Flux runs), not by Flux"))
        elif path in bootstrap.helmfiles or any(path in r.values for r in bootstrap.releases):
            out.append(Reason(BOOTSTRAP, "part of the bootstrap helmfile, not applied by Flux"))
        if out:
            return out
        return [self._why_not(path)]

    # -- why not --------------------------------------------------------------------------------

    def _why_not(self, path: str) -> Reason:
        name = posixpath.basename(path)
        if path.endswith(TEMPLATE_SUFFIXES):
            return Reason(OTHER, "a template: 'homeops configure' renders it; Flux never reads it")
        chart = self._chart_of(path)
        if chart is not None:
            return Reason(
                OTHER, f"part of the Helm chart in {chart}/: helm-controller renders it, not kustomize"
            )
        if name == ".sops.yaml":
            return Reason(OTHER, "the SOPS configuration: read by sops, never applied")
        if name in (".sourceignore", ".gitignore", ".homeops.yaml"):
            return Reason(OTHER, "repository configuration, not a manifest")
        covering = self._covering(path)
        if covering:
            # Only the Kustomizations of the deepest folder speak: an outer one (cluster-apps) applies
            # the inner one, whose own build decides about the file.
            producer = covering[0]
            if producer.error is not None:
                return Reason(
                    UNLISTED,
                    f"under the path of Kustomization {producer.id.short} (cluster {producer.cluster}), "
                    f"whose build fails: {producer.error.message}",
                    producer.cluster,
                    producer.id.short,
                )
            found = self._excluded(producer, path)
            if found is not None:
                return found
            disabled = self._commented_path(path)
            if disabled is not None:
                return Reason(UNLISTED, f"its Kustomization is commented out of {disabled}", place=disabled)
            found = self._unlisted(producer, path)
            if found is not None:
                return found
            if not path.endswith((".yaml", ".yml")):
                return Reason(
                    UNLISTED,
                    f"under the path of Kustomization {producer.id.short} but not YAML: the kustomization "
                    "Flux generates only takes .yaml and .yml files",
                    producer.cluster,
                    producer.id.short,
                )
            return Reason(
                UNLISTED,
                f"under the path of Kustomization {producer.id.short} (cluster {producer.cluster}), but its "
                "build does not read it",
                producer.cluster,
                producer.id.short,
            )
        disabled = self._commented_path(path)
        if disabled is not None:
            return Reason(UNREACHED, f"its Kustomization is commented out of {disabled}", place=disabled)
        excluded = self._excluded_from_repository(path)
        if excluded is not None:
            return excluded
        owner = self._unreached_owner(path)
        if owner is not None:
            return Reason(
                UNREACHED,
                f"not under any reachable path: the Kustomization {owner[0]} ({owner[1]}) that points at "
                "it is applied by no cluster",
                place=owner[1],
            )
        if self.flux.guessed:
            return Reason(UNREACHED, "not under any path of the (guessed) entry points")
        return Reason(UNREACHED, "not under any path a cluster reaches")

    def _chart_of(self, path: str) -> str | None:
        parts = path.split("/")
        for i in range(len(parts) - 1, -1, -1):
            folder = "/".join(parts[:i])
            if folder in self.charts:
                return folder or "."
        return None

    def _covering(self, path: str) -> list[Producer]:
        """The Kustomizations whose path holds ``path``, deepest folder first."""
        parts = path.split("/")
        out: list[Producer] = []
        for i in range(len(parts) - 1, -1, -1):
            out.extend(_sorted(self.by_folder.get("/".join(parts[:i]), ())))
        return out

    def _commented_path(self, path: str) -> str | None:
        """A file near ``path`` holding a commented-out ``path:`` that names one of its folders
        (``# path: ./kubernetes/apps/media/qbittorrent/tools`` in the app's ks.yaml)."""
        parts = path.split("/")
        folders = ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]
        pattern = re.compile(r"^\s*#\s*path:\s*[\"']?\.?/?(?P<path>[^\s\"'#]+)")
        for folder in folders[:4]:
            for candidate in self._yaml_near(folder):
                for line in self._lines(candidate):
                    found = pattern.match(line)
                    if found and normalize(found.group("path").rstrip("/")) in folders:
                        return candidate
        return None

    def _yaml_near(self, folder: str) -> list[str]:
        prefix = f"{folder}/"
        return [
            f
            for f in self.tracked
            if f.startswith(prefix) and "/" not in f[len(prefix) :] and f.endswith((".yaml", ".yml"))
        ]

    def _lines(self, path: str) -> list[str]:
        found = self._texts.get(path)
        if found is None:
            try:
                found = self.tree.read_bytes(path).decode("utf-8", "replace").splitlines()
            except OSError:
                found = []
            self._texts[path] = found
        return found

    def _excluded(self, producer: Producer, path: str) -> Reason | None:
        sources = self.flux.sources.get(producer.cluster)
        ref = producer.ks.source_ref
        found = sources.resolve(ref) if sources is not None and ref is not None else None
        if found is None or found.to_repo is not None:
            return None
        pattern = found.tree.source.decisive(path)
        if pattern is None or pattern.include:
            return None
        origin = pattern.origin or "source-controller"
        if origin.endswith(".sourceignore"):
            why = f"excluded by {origin} (pattern {pattern.text!r})"
        elif origin.startswith("spec.ignore"):
            why = f"excluded by the {origin} (pattern {pattern.text!r})"
        else:
            why = f"excluded by {origin} ({pattern.text})"
        return Reason(
            EXCLUDED,
            f"{why}: not in the artifact Kustomization {producer.id.short} builds from",
            producer.cluster,
            producer.id.short,
            origin if origin.endswith(".sourceignore") else None,
        )

    def _excluded_from_repository(self, path: str) -> Reason | None:
        """Left out of this repository's own artifact (the clusters' entry source)."""
        pattern = self.tree.source.decisive(path)
        if pattern is None or pattern.include:
            return None
        origin = pattern.origin or "source-controller"
        where = (
            f"{origin} (pattern {pattern.text!r})"
            if origin.endswith(".sourceignore")
            else f"{origin} ({pattern.text})"
        )
        return Reason(
            EXCLUDED,
            f"excluded by {where}: source-controller leaves it out of the repository's artifact",
            place=origin if origin.endswith(".sourceignore") else None,
        )

    def _unlisted(self, producer: Producer, path: str) -> Reason | None:
        """The kustomization file between the Kustomization's path and the file that leaves it out."""
        assert producer.path is not None
        folder = posixpath.dirname(path)
        start = producer.path
        parts = folder.split("/") if folder else []
        base = start.split("/") if start else []
        chain = ["/".join(parts[:i]) for i in range(len(base), len(parts) + 1)]
        for current in reversed(chain):
            kfile = _kustomization_file(self.tree, current)
            if kfile is None:
                continue
            if kfile not in producer.files:
                continue  # a kustomization the build never reached: look further up
            relative = posixpath.relpath(path, current or ".")
            top = relative.split("/", 1)[0]
            if _commented_out(self.tree, kfile, top):
                return Reason(
                    UNLISTED,
                    f"commented out of {kfile}",
                    producer.cluster,
                    producer.id.short,
                    kfile,
                )
            return Reason(
                UNLISTED,
                f"not listed in {kfile} (Kustomization {producer.id.short}, cluster {producer.cluster}): "
                "kustomize builds only what it lists",
                producer.cluster,
                producer.id.short,
                kfile,
            )
        return None

    def _unreached_owner(self, path: str) -> tuple[str, str] | None:
        from .entries import ks_path

        best: tuple[int, str, str] | None = None
        for res in self.flux.unapplied_kustomizations:
            folder = ks_path(res)
            if folder and (path == folder or path.startswith(folder + "/")):
                depth = folder.count("/")
                if best is None or depth > best[0]:
                    best = (depth, f"{res.namespace or 'flux-system'}/{res.name}", res.origin.path)
        return (best[1], best[2]) if best is not None else None

    # -- roles ----------------------------------------------------------------------------------

    def _role(self, producer: Producer, path: str) -> _Role | None:
        if posixpath.basename(path) in KUSTOMIZATION_FILES:
            return _Role("kustomization file", "")
        key = (producer.cluster, producer.id)
        kfiles = self._kfiles.get(key)
        if kfiles is None:
            kfiles = self._kfiles[key] = sorted(
                f for f in producer.files if posixpath.basename(f) in KUSTOMIZATION_FILES
            )
        for kfile in kfiles:
            roles = self._roles.get(kfile)
            if roles is None:
                roles = self._roles[kfile] = dict(_listed(self.tree, kfile))
            found = roles.get(path)
            if found is not None:
                return found
            for folder, role in roles.items():
                if role.role == "component" and path.startswith(folder + "/"):
                    return role
        return None


_SECTIONS = {
    "patches": "patch",
    "patchesStrategicMerge": "patch",
    "patchesJson6902": "patch",
    "components": "component",
    "configMapGenerator": "generator input",
    "secretGenerator": "generator input",
    "configurations": "kustomize configuration",
    "transformers": "kustomize configuration",
    "generators": "kustomize configuration",
    "replacements": "replacement",
    "crds": "kustomize configuration",
}


def _listed(tree: SourceTree, kfile: str) -> Iterator[tuple[str, _Role]]:
    """Files (and component folders) a kustomization file names, with the role it gives them."""
    parsed = tree.parsed(kfile)
    data = parsed.documents[0] if parsed.documents else None
    if not isinstance(data, dict):
        return
    folder = posixpath.dirname(kfile)
    for section, role in _SECTIONS.items():
        for entry in _entries(data.get(section)):
            if "\n" in entry or "://" in entry:
                continue  # an inline patch, a remote reference
            target = normalize(posixpath.join(folder, entry))
            if target is not None:
                yield target, _Role(role, kfile)


def _entries(value: Any) -> Iterator[str]:
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key in ("path", "file"):
                if isinstance(item.get(key), str):
                    yield item[key]
            for key in ("files", "envs"):
                for file in item.get(key) or []:
                    if isinstance(file, str):
                        yield file.split("=", 1)[-1]
            if isinstance(item.get("env"), str):
                yield item["env"]


def _kustomization_file(tree: SourceTree, folder: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        candidate = f"{folder}/{name}" if folder else name
        if tree.is_file(candidate):
            return candidate
    return None


def _commented_out(tree: SourceTree, kfile: str, top: str) -> bool:
    """Whether the kustomization lists, commented out, an entry in ``top`` (``# - ./old-app/ks.yaml``
    for anything below ``old-app/``)."""
    try:
        text = tree.read_text(kfile)
    except (OSError, UnicodeDecodeError):
        return False
    entry = re.compile(rf"^\s*#\s*-\s*(\./)?{re.escape(top)}(/\S*)?(\s|$|#)")
    return any(entry.match(line) for line in text.splitlines())


def _source_is_repository(producer: Producer) -> bool:
    return (
        producer.source is not None
        and "(this repository)" in producer.source
        and "includes" not in producer.source
    )


def _sorted(producers: Any) -> list[Producer]:
    return sorted(producers, key=lambda p: (p.cluster, p.id))
