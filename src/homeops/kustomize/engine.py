"""The build: accumulate resources, generators and components, run the transformers, fix names.

This follows kustomize v5's ``KustTarget``: for each kustomization, (1) its resources (files, and
folders built recursively, each on its own), (2) its configurations, (3) its generators, (4) its
components, which add to and transform what has been accumulated so far, (5) its transformers in
kustomize's fixed order. At the very end: content-hash suffixes, name references, local-config
objects dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import KustomizeError, UnsupportedFeature, Where
from ..load.tree import SourceTree
from ..model.base import Origin
from ..records import NamedTuple, Record
from . import fluxgen, kfile, transformers
from .fieldspec import DEFAULT, FieldSpecError, TransformerConfig, config_from_data, default_config
from .generators import content_hash, generate
from .kfile import Kustomization, PatchSpec
from .loader import Loader, RemoteUnavailable, looks_remote
from .nameref import NameRefError, fix_references
from .patches import LoadedPatch, apply, classify, from_spec, keeps_names
from .resid import Res, ResId, format_id
from .selector import ByName
from .transformers import TransformError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .remote import RemoteSpec

LOCAL_CONFIG = "config.kubernetes.io/local-config"


class Accumulator(Record):
    """Resources gathered so far, and the field specs in force."""

    __slots__ = ("_index", "_own_config", "config", "resources")

    resources: list[Res]
    config: TransformerConfig
    _index: dict[ResId, Res] | None
    _own_config: bool

    def __init__(self) -> None:
        self.resources = []
        self.config = DEFAULT
        self._index = None
        self._own_config = False

    def merge_config(self, config: TransformerConfig) -> None:
        """Merge field specs; the built-in ones are shared until a custom configuration adds to them."""
        if config is self.config or config is DEFAULT:
            return
        if not self._own_config:
            self.config = self.config.copy()
            self._own_config = True
        self.config.merge(config)

    def invalidate(self) -> None:
        """Forget the id index (ids may have changed)."""
        self._index = None

    def append(self, res: Res, where: Where) -> None:
        if self._index is None:
            self._index = {r.cur_id(): r for r in self.resources}
        key = res.cur_id()
        other = self._index.get(key)
        if other is not None:
            raise KustomizeError(
                f"{format_id(key)} is defined twice (from {other.origin} and {res.origin})",
                where=where,
                hint="kustomize refuses two objects with the same kind, name and namespace",
            )
        self._index[key] = res
        self.resources.append(res)


class BuiltBase(NamedTuple):
    """A base folder's build, kept for every build of the same tree that includes it."""

    resources: tuple[Res, ...]
    config: TransformerConfig
    files: frozenset[str]
    """The files its build read."""
    folders: tuple[str, ...]
    """The folders its build entered: reused only where none of them makes a cycle with the chain."""


def _cycle(directory: str, chain: Sequence[str]) -> bool:
    """Whether entering ``directory`` from the folders being built (``chain``) is a cycle."""
    return any(directory in (visited, "") or visited.startswith(directory + "/") for visited in chain)


def _handle(res: Res) -> Res:
    """An object of a kept base for one build: shares the content (written copy-on-write), its own
    bookkeeping."""
    other = Res(res.obj, res.origin)
    other.prev = list(res.prev)
    other.prefixes = list(res.prefixes)
    other.suffixes = list(res.suffixes)
    other.behavior = res.behavior
    other.hash_suffix = res.hash_suffix
    return other


class Builder:
    """One build of one folder (or of one kustomization with Flux's overrides applied)."""

    def __init__(
        self, tree: SourceTree, loader: Loader, *, flux: bool, offline: bool = False, remote: bool = False
    ) -> None:
        self.tree = tree
        self.loader = loader
        self.flux = flux
        self.offline = offline
        """Remote bases and files only from homeops' cache."""
        self.remote = remote
        """Building inside a remote checkout (whose own remote entries are left to kubectl)."""
        self._entered: list[str] | None = None
        """While a base is built: every folder its build enters (see :meth:`_base`)."""

    # -- entry ---------------------------------------------------------------------------------

    def build(self, root: Kustomization) -> list[Res]:
        acc = self.accumulate(root, None, [root.directory])
        for res in acc.resources:
            if res.hash_suffix:
                suffix = content_hash(res.obj)
                res.store_previous_id()
                res.set_name(f"{res.name}-{suffix}")
        try:
            fix_references(acc.resources, acc.config)
        except NameRefError as exc:
            raise KustomizeError(
                str(exc), where=Where(root.path), hint="make the reference unambiguous"
            ) from None
        result = []
        for res in acc.resources:
            if str(res.annotations.get(LOCAL_CONFIG, "")).lower() == "true":
                continue
            meta = res.meta
            if "annotations" in meta and not meta["annotations"]:
                del res.writable_map(("metadata",))["annotations"]
            result.append(res)
        return result

    # -- loading kustomizations ----------------------------------------------------------------

    def load_dir(self, directory: str, where: Where) -> Kustomization:
        path = kfile.find(self.tree, directory)
        if path is None:
            raise KustomizeError(
                f"{directory or '.'} has no kustomization.yaml",
                where=where,
                hint="add a kustomization.yaml listing the folder's resources",
            )
        self.loader.files.add(path)
        return kfile.load(self.tree, path, directory)

    def where(self, kust: Kustomization, *path: str | int) -> Where:
        return kfile.where(self.tree, kust, path)

    @contextmanager
    def _at(self, kust: Kustomization, *path: str | int) -> Iterator[Where]:
        """A placeholder location for errors about one entry; its line is looked up only on error."""
        marker = Where(kust.path)
        try:
            yield marker
        except KustomizeError as exc:
            if exc.where is marker:
                exc.where = self.where(kust, *path)
            raise

    # -- accumulation --------------------------------------------------------------------------

    def accumulate(self, kust: Kustomization, into: Accumulator | None, chain: list[str]) -> Accumulator:
        acc = into if into is not None else Accumulator()
        self._resources(kust, acc, chain)
        acc.merge_config(self._configurations(kust))
        self._generators(kust, acc)
        for index, entry in enumerate(kust.components):
            with self._at(kust, "components", index) as where:
                if looks_remote(entry):
                    self._remote_component(kust, acc, entry, index, where)
                else:
                    self._component(kust, acc, chain, entry, where)
        self._transform(kust, acc)
        return acc

    def _component(
        self, kust: Kustomization, acc: Accumulator, chain: list[str], entry: str, where: Where
    ) -> None:
        directory = self.loader.resolve(kust.directory, entry, where, "component")
        if not self.loader.is_dir(directory):
            raise KustomizeError(
                f"component {entry!r} is not a folder of the repository",
                where=where,
                hint="a component is a folder with a kustomization.yaml of kind Component",
            )
        self._check_cycle(directory, chain, entry, where)
        component = self.load_dir(directory, where)
        if component.kind != "Component":
            raise KustomizeError(
                f"{entry!r} is listed under components but its kind is {component.kind}",
                where=where,
                hint="set 'kind: Component' (apiVersion kustomize.config.k8s.io/v1alpha1) in it",
            )
        self.accumulate(component, acc, [*chain, directory])

    def _check_cycle(self, directory: str, chain: Sequence[str], entry: str, where: Where) -> None:
        for visited in chain:
            if _cycle(directory, (visited,)):
                raise KustomizeError(
                    f"{entry!r} makes a cycle: {directory or '.'} contains {visited or '.'}, "
                    "which is already being built",
                    where=where,
                    hint="a kustomization may not include itself or a folder above it",
                )
        if self._entered is not None:
            self._entered.append(directory)

    def _resources(self, kust: Kustomization, acc: Accumulator, chain: list[str]) -> None:
        for index, entry in enumerate(kust.resources):
            with self._at(kust, "resources", index) as where:
                if looks_remote(entry):
                    self._remote_resource(kust, acc, entry, index, where)
                else:
                    self._resource(kust, acc, chain, entry, where)

    def _remote_resource(
        self, kust: Kustomization, acc: Accumulator, entry: str, index: int, where: Where
    ) -> None:
        """A remote base (a Git repository's folder) or web file, from homeops' cache, built natively as
        kustomize builds it (``newLoaderAtGitClone``): a base confined to its checkout, where a folder
        may reach anywhere in the checkout but a file only inside its kustomization's folder
        (``RestrictionRootOnly``, whatever the caller's restriction). Its objects are placed at the
        entry's line: their own files are not the repository's. What the native engine cannot do
        there goes to kubectl as a whole, as before."""
        from . import remote

        spec = remote.parse(entry)
        with self._remote(entry, spec, "resource", where) as unsupported:
            if spec is None:
                if not entry.startswith(("https://", "http://")):
                    raise unsupported  # neither a repository nor a web file: the fallback says so
                cached = remote.fetch_file(entry, where, offline=self.offline)
                templates = Loader(SourceTree(cached.parent), flux=False).objects(cached.name)
                built = [Res(t.obj, t.origin) for t in templates]
                config = DEFAULT
            else:
                base, rel = self._checkout(spec, unsupported, where)
                kept = base._base(rel, [], entry, where)
                built = [_handle(res) for res in kept.resources]
                config = kept.config
        origin = Origin(kust.path, self._resource_line(kust, index), 0)
        for res in built:
            res.origin = origin
            acc.append(res, where)
        acc.merge_config(config)

    def _resource_line(self, kust: Kustomization, index: int) -> int:
        """The line of resource ``index``, which may come from the deprecated ``bases:`` (read after
        ``resources:``)."""
        parsed = self.tree.parsed(kust.path) if not kust.generated else None
        data = parsed.documents[0] if parsed is not None and parsed.documents else None
        listed = data.get("resources") if isinstance(data, dict) else None
        count = len(listed) if isinstance(listed, list) else 0
        if kust.generated or index < count:
            return self.where(kust, "resources", index).line
        return self.where(kust, "bases", index - count).line

    def _remote_component(
        self, kust: Kustomization, acc: Accumulator, entry: str, index: int, where: Where
    ) -> None:
        """A component in a remote repository (kustomize clones it as a base: ``ldr.New``), built into
        ``acc`` from homeops' cache; what it adds is placed at the entry's line."""
        from . import remote

        spec = remote.parse(entry)
        with self._remote(entry, spec, "component", where) as unsupported:
            if spec is None:
                raise unsupported  # a component is a folder: the fallback says what kubectl makes of it
            builder, rel = self._checkout(spec, unsupported, where)
            component = builder.load_dir(rel, where)
            if component.kind != "Component":
                raise unsupported  # kubectl's own words for it
            ours = {id(res.origin) for res in acc.resources}
            builder.accumulate(component, acc, [rel])
        origin = Origin(kust.path, self.where(kust, "components", index).line, 0)
        for res in acc.resources:
            if id(res.origin) not in ours:  # made by the component (transformed objects keep theirs)
                res.origin = origin

    @contextmanager
    def _remote(
        self, entry: str, spec: RemoteSpec | None, what: str, where: Where
    ) -> Iterator[UnsupportedFeature]:
        """Building a remote entry (``spec``: its repository, None for a web file): refuses a local
        address; yields the :class:`UnsupportedFeature` that leaves the whole build to kubectl (as every
        remote entry was before); places what kustomize refuses inside the remote at the entry (the
        remote's files are not the repository's)."""
        from . import remote

        unsupported = UnsupportedFeature(f"remote {what} {entry!r}", where=where)
        if self.remote:
            raise unsupported  # a remote inside a remote: kubectl (its expiry is not tracked here)
        remote.refuse_local(entry, spec, where, offline=self.offline)
        try:
            yield unsupported
        except RemoteUnavailable:
            raise
        except UnsupportedFeature:
            raise unsupported from None
        except KustomizeError as exc:
            inner = exc.where if exc.where is not where else None
            inside = f" ({inner.path}, line {inner.line}, in the remote)" if inner and inner.path else ""
            raise type(exc)(
                f"remote {what} {entry!r}: {exc.message}{inside}", where=where, hint=exc.hint
            ) from None

    def _checkout(
        self, spec: RemoteSpec, unsupported: UnsupportedFeature, where: Where
    ) -> tuple[Builder, str]:
        """A builder confined to ``spec``'s cached checkout, and the folder the entry names in it."""
        from . import remote

        tree = remote.tree_of(remote.checkout(spec, where, offline=self.offline))
        loader = Loader(tree, flux=False)  # a clone is RestrictionRootOnly, even under Flux
        rel = loader.resolve("", spec.path, where, "remote folder")
        if not loader.is_dir(rel):
            raise unsupported  # a file where kustomize expects a folder: kubectl says so
        return Builder(tree, loader, flux=False, offline=self.offline, remote=True), rel

    def _resource(
        self, kust: Kustomization, acc: Accumulator, chain: list[str], entry: str, where: Where
    ) -> None:
        rel = self.loader.resolve(kust.directory, entry, where, "resource")
        if self.loader.is_file(rel):
            self.loader.check_root_only(kust.directory, rel, entry, where, "resource")
            for template in self.loader.objects(rel):
                acc.append(Res(template.obj, template.origin), where)
        elif self.loader.is_dir(rel):
            self._check_cycle(rel, chain, entry, where)
            built = self._base(rel, chain, entry, where)
            for res in built.resources:
                acc.append(_handle(res), where)
            acc.merge_config(built.config)
        else:
            raise KustomizeError(
                f"resource {entry!r} does not exist",
                where=where,
                hint="fix the path, or remove the entry",
            )

    def _sub_kustomization(self, directory: str, where: Where) -> Kustomization:
        return self.load_dir(directory, where)

    def _base(self, rel: str, chain: list[str], entry: str, where: Where) -> BuiltBase:
        """The folder ``rel`` built on its own, as kustomize builds a base: from its own files only, so
        once per tree and mode (layered repositories overlay the same bases cluster after cluster).
        Callers take :func:`_handle` copies of its objects; the kept ones are never written."""
        bases = self.loader.bases
        found: BuiltBase | None = bases.get((rel, self.flux))
        if found is not None and not any(_cycle(d, [*chain, rel]) for d in found.folders):
            self.loader.files.update(found.files)
            if self._entered is not None:
                self._entered.extend(found.folders)
            return found
        files, self.loader.files = self.loader.files, set()
        outer, self._entered = self._entered, []
        try:
            sub = self._sub_kustomization(rel, where)
            if sub.kind == "Component":
                raise KustomizeError(
                    f"{entry!r} is a Component, which belongs under 'components:', not 'resources:'",
                    where=where,
                    hint="move the entry to 'components:'",
                )
            acc = self.accumulate(sub, None, [*chain, rel])
            read = frozenset(self.loader.files)
            built = BuiltBase(tuple(acc.resources), acc.config, read, tuple(self._entered))
        finally:
            files |= self.loader.files
            self.loader.files = files
            entered, self._entered = self._entered, outer
            if outer is not None:
                outer.extend(entered)
        bases[(rel, self.flux)] = built
        return built

    def _configurations(self, kust: Kustomization) -> TransformerConfig:
        if not kust.configurations:
            return DEFAULT
        config = default_config()
        for index, entry in enumerate(kust.configurations):
            where = self.where(kust, "configurations", index)
            rel = self.loader.resolve(kust.directory, entry, where, "configuration")
            self.loader.check_root_only(kust.directory, rel, entry, where, "configuration")
            parsed = self.loader.parsed(rel, where, "configuration")
            if parsed.failure is not None:
                raise KustomizeError(
                    f"configuration {entry!r} is not valid YAML: {parsed.failure.reason}",
                    where=Where(rel, parsed.failure.line),
                )
            data = (parsed.documents[0] if parsed.documents else None) or {}
            if not isinstance(data, dict):
                raise KustomizeError(f"configuration {entry!r} must be a mapping", where=where)
            try:
                config.merge(config_from_data(data))
            except (ValueError, FieldSpecError) as exc:
                raise KustomizeError(f"invalid configuration {entry!r}: {exc}", where=where) from None
        return config

    # -- generators ----------------------------------------------------------------------------

    def _generators(self, kust: Kustomization, acc: Accumulator) -> None:
        for args in (*kust.config_map_generator, *kust.secret_generator):
            where = self.where(kust, args.section, args.index)
            self._absorb(acc, generate(self.loader, kust, args, where), where)
            acc.invalidate()

    def _absorb(self, acc: Accumulator, res: Res, where: Where) -> None:
        """kustomize's appendReplaceOrMerge for a generated object."""
        key = res.cur_id()
        matches = [i for i, other in enumerate(acc.resources) if key in other.all_ids()]
        if not matches:
            if res.behavior in ("merge", "replace"):
                raise KustomizeError(
                    f"{format_id(key)} does not exist, so behavior {res.behavior} has nothing to change",
                    where=where,
                    hint="use behavior create (the default), or fix the name and namespace",
                )
            acc.append(res, where)
            return
        if len(matches) > 1:
            raise KustomizeError(f"several objects could take the merge of {format_id(key)}", where=where)
        index = matches[0]
        old = acc.resources[index]
        if res.behavior not in ("merge", "replace"):
            raise KustomizeError(
                f"{format_id(key)} already exists; a generator for it needs behavior merge or replace",
                where=where,
                hint="set 'behavior: merge' or 'behavior: replace', or rename it",
            )
        obj = res.obj
        meta = obj["metadata"]
        labels = {**old.labels, **(meta.get("labels") or {})}
        annotations = {**old.annotations, **(meta.get("annotations") or {})}
        meta.pop("labels", None)
        meta.pop("annotations", None)
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        meta["name"] = old.name
        if old.namespace:
            meta["namespace"] = old.namespace
        else:
            meta.pop("namespace", None)
        if res.behavior == "merge":
            for field_name in ("data", "binaryData"):
                merged = {**_mapping(old.obj.get(field_name)), **_mapping(obj.get(field_name))}
                if merged:
                    obj[field_name] = merged
        res.hash_suffix = res.hash_suffix and old.hash_suffix
        res.prev = list(old.prev)
        res.prefixes = list(old.prefixes)
        res.suffixes = list(old.suffixes)
        res.behavior = old.behavior
        acc.resources[index] = res
        acc.invalidate()

    # -- transformers --------------------------------------------------------------------------

    def _transform(self, kust: Kustomization, acc: Accumulator) -> None:
        acc.invalidate()
        config = acc.config
        # Whether no two objects share an id: true after a strategic merge patch (it checks), unknown
        # after a JSON patch (which may rename). Spares each strategic patch a check over every object.
        unique = False
        for index, entry in enumerate(kust.patches_strategic_merge):
            with self._at(kust, "patchesStrategicMerge", index) as where:
                for patch in self._strategic_merge_entry(kust, entry, where):
                    acc.resources = apply(acc.resources, patch, unique=unique)
                    unique = _checked(patch, unique)
        by_name: ByName | None = None
        for spec in kust.patches:
            with self._at(kust, spec.section, spec.index) as where:
                patch = self._load_patch(kust, spec, where)
                before = len(acc.resources)
                if by_name is None:
                    by_name = ByName(acc.resources)
                acc.resources = apply(acc.resources, patch, unique=unique, by_name=by_name)
                unique = _checked(patch, unique)
                if not keeps_names(patch, before, acc.resources):
                    by_name = None
        if kust.namespace:
            self._run(
                kust,
                ["namespace"],
                transformers.set_namespace,
                acc.resources,
                kust.namespace,
                config.namespace,
            )
        if kust.name_prefix:
            prefix = kust.name_prefix
            self._run(kust, ["namePrefix"], transformers.add_affix, acc.resources, prefix, config.name_prefix,
                      suffix=False)  # fmt: skip
        if kust.name_suffix:
            suffix = kust.name_suffix
            self._run(kust, ["nameSuffix"], transformers.add_affix, acc.resources, suffix, config.name_suffix,
                      suffix=True)  # fmt: skip
        for index, label in enumerate(kust.labels):
            specs = transformers.label_specs(label, config.common_labels, config.template_labels)
            self._run(kust, ["labels", index], transformers.set_entries, acc.resources, label.pairs, specs)
        if kust.common_labels:
            self._run(
                kust, ["commonLabels"], transformers.set_entries, acc.resources, kust.common_labels,
                config.common_labels,
            )  # fmt: skip
        if kust.common_annotations:
            self._run(
                kust, ["commonAnnotations"], transformers.set_entries, acc.resources, kust.common_annotations,
                config.common_annotations,
            )  # fmt: skip
        for spec in kust.patches_json6902:
            with self._at(kust, spec.section, spec.index) as where:
                acc.resources = apply(acc.resources, self._load_patch(kust, spec, where))
        for replica in kust.replicas:
            self._run(kust, ["replicas", replica.index], transformers.set_replicas, acc.resources, replica,
                      config.replicas)  # fmt: skip
        for image in kust.images:
            self._run(
                kust, ["images", image.index], transformers.set_images, acc.resources, image, config.images
            )

    def _run(
        self, kust: Kustomization, at: list[str | int], fn: Callable[..., None], *args: Any, **kw: Any
    ) -> None:
        try:
            fn(*args, **kw)
        except (TransformError, FieldSpecError) as exc:
            raise KustomizeError(str(exc), where=self.where(kust, *at)) from None

    def _load_patch(self, kust: Kustomization, spec: PatchSpec, where: Where) -> LoadedPatch:
        if spec.patch and spec.path:
            raise KustomizeError("a patch has both 'patch' and 'path'", where=where, hint="keep one of them")
        if not spec.patch.strip() and not spec.path:
            raise KustomizeError(
                "a patch has neither 'patch' nor 'path'", where=where, hint="add one of them"
            )
        if spec.section == "patchesJson6902" and spec.target is None:
            raise KustomizeError("a patchesJson6902 entry needs a target", where=where, hint="add 'target:'")
        content = spec.patch
        if spec.path:
            content = self._read_text(kust, spec.path, where, "patch")
        patch = from_spec(spec, content, where)
        if spec.section == "patchesJson6902" and patch.json_ops is None:
            raise KustomizeError("a patchesJson6902 entry must hold a JSON 6902 patch (a list)", where=where)
        return patch

    def _read_text(self, kust: Kustomization, entry: str, where: Where, what: str) -> str:
        rel = self.loader.resolve(kust.directory, entry, where, what)
        self.loader.check_root_only(kust.directory, rel, entry, where, what)
        raw = self.loader.read_bytes(rel, where, what)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise KustomizeError(f"{what} {entry!r} is not valid UTF-8", where=where) from None

    def _strategic_merge_entry(self, kust: Kustomization, entry: str, where: Where) -> list[LoadedPatch]:
        """An entry is an inline patch when it parses as objects, else a file path."""
        try:
            docs, ops = classify(entry, where)
            if ops is None:
                return [LoadedPatch(where=where, strategic=docs)]
        except KustomizeError:
            pass
        content = self._read_text(kust, entry, where, "patch")
        docs, ops = classify(content, where)
        if ops is not None:
            raise KustomizeError(
                f"patchesStrategicMerge entry {entry!r} holds a JSON 6902 patch",
                where=where,
                hint="move it to 'patches:' with a target",
            )
        return [LoadedPatch(where=where, strategic=docs)]


def _checked(patch: LoadedPatch, unique: bool) -> bool:
    """Whether the objects have distinct ids after ``patch`` applied to objects that had (``unique``)."""
    if patch.json_ops is not None:
        return False
    return unique or bool(patch.strategic)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def generated_kustomization(tree: SourceTree, loader: Loader, directory: str) -> Kustomization:
    """The kustomization Flux writes for a folder that has none."""
    return fluxgen.generate(tree, loader, directory)


__all__ = ["Accumulator", "Builder", "ResId", "UnsupportedFeature", "generated_kustomization"]
