"""Reading a kustomization file into a typed, validated :class:`Kustomization`.

kustomize decodes the file strictly: an unknown field, or a number where a string belongs, is an
error, and so it is here. Features this engine does not implement raise
:class:`~homeops.errors.UnsupportedFeature`, which the build turns into a fallback to
``kubectl kustomize``. Lines are looked up only when an error is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ..errors import KustomizeError, UnsupportedFeature, Where
from ..load.tree import SourceTree, join
from ..load.yamlio import compose, decode, locate
from ..records import NamedTuple
from .fieldspec import FieldSpec, spec_from_data

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

KUSTOMIZATION_KINDS = ("Kustomization", "Component")
KUSTOMIZATION_API_VERSION = "kustomize.config.k8s.io/v1beta1"
COMPONENT_API_VERSION = "kustomize.config.k8s.io/v1alpha1"


class Selector(NamedTuple):
    """A patch target: every field optional; name and namespace are anchored regular expressions."""

    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    label_selector: str = ""
    annotation_selector: str = ""


class PatchSpec(NamedTuple):
    """One entry of ``patches`` or ``patchesJson6902`` (inline text or a file path)."""

    section: str
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    path: str = ""
    patch: str = ""
    target: Selector | None = None
    options: tuple[tuple[str, bool], ...] = ()

    def option(self, name: str) -> bool:
        return dict(self.options).get(name, False)


class GeneratorOptions(NamedTuple):
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    disable_name_suffix_hash: bool = False
    immutable: bool = False


class GeneratorArgs(NamedTuple):
    """One ``configMapGenerator`` or ``secretGenerator`` entry."""

    section: str
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    name: str = ""
    namespace: str = ""
    behavior: str = ""
    literals: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()
    options: GeneratorOptions | None = None
    type: str = ""


class ImageSpec(NamedTuple):
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    name: str = ""
    new_name: str = ""
    new_tag: str = ""
    digest: str = ""


class ReplicaSpec(NamedTuple):
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    name: str
    count: int  # type: ignore[assignment]  # shadows tuple.count, which no caller needs here


class LabelSpec(NamedTuple):
    pairs: tuple[tuple[str, str], ...]
    include_selectors: bool = False
    include_templates: bool = False
    fields: tuple[FieldSpec, ...] = ()


class Kustomization(NamedTuple):
    """The directives of one kustomization file (or of one Flux generates for a folder)."""

    path: str
    """Repo-relative path of the file; for a generated kustomization, the folder itself."""
    directory: str
    kind: str = "Kustomization"
    generated: bool = False
    """True when Flux would generate this kustomization (the folder has no file)."""
    namespace: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    common_labels: tuple[tuple[str, str], ...] = ()
    labels: tuple[LabelSpec, ...] = ()
    common_annotations: tuple[tuple[str, str], ...] = ()
    resources: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    patches: tuple[PatchSpec, ...] = ()
    patches_strategic_merge: tuple[str, ...] = ()
    patches_json6902: tuple[PatchSpec, ...] = ()
    images: tuple[ImageSpec, ...] = ()
    replicas: tuple[ReplicaSpec, ...] = ()
    config_map_generator: tuple[GeneratorArgs, ...] = ()
    secret_generator: tuple[GeneratorArgs, ...] = ()
    generator_options: GeneratorOptions | None = None
    configurations: tuple[str, ...] = ()
    extra_lines: Mapping[tuple[str | int, ...], int] = MappingProxyType({})
    """Lines of entries added by overrides (which are not in the file); read-only, the default is shared."""


# -- locating lines --------------------------------------------------------------------------------


def line_of(tree: SourceTree, path: str, field_path: Sequence[str | int]) -> int:
    """1-based line of ``field_path`` in the kustomization file ``path`` (0 when unknown)."""
    try:
        nodes = compose(decode(tree.read_bytes(path)), tags=False)
    except (OSError, UnicodeDecodeError):
        return 0
    if not nodes:
        return 0
    return locate(nodes[0], list(field_path))


def where(tree: SourceTree, kust: Kustomization, field_path: Sequence[str | int]) -> Where:
    if kust.generated:
        return Where(kust.path)
    extra = kust.extra_lines.get(tuple(field_path))
    if extra is not None:
        return Where(kust.path, extra)
    return Where(kust.path, line_of(tree, kust.path, field_path))


# -- finding and parsing ---------------------------------------------------------------------------


def find(tree: SourceTree, directory: str) -> str | None:
    """The kustomization file of a folder, None when it has none; several is an error."""
    from .loader import path_kind

    found = [join(directory, n) for n in KUSTOMIZATION_FILES if path_kind(tree, join(directory, n)) == "file"]
    if len(found) > 1:
        raise KustomizeError(
            f"found several kustomization files in {directory or '.'}: {', '.join(found)}",
            where=Where(found[0]),
            hint="keep exactly one of kustomization.yaml, kustomization.yml, Kustomization",
        )
    return found[0] if found else None


class _Reader:
    """Strict decoding of the file's mapping, with the line of an offending field on error."""

    def __init__(self, tree: SourceTree, path: str) -> None:
        self.tree = tree
        self.path = path

    def fail(self, message: str, field_path: Sequence[str | int], hint: str | None = None) -> KustomizeError:
        return KustomizeError(
            f"invalid kustomization: {message}",
            where=Where(self.path, line_of(self.tree, self.path, field_path)),
            hint=hint or "see https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/",
        )

    def unsupported(self, feature: str, field_path: Sequence[str | int]) -> UnsupportedFeature:
        return UnsupportedFeature(feature, where=Where(self.path, line_of(self.tree, self.path, field_path)))

    def mapping(self, value: Any, at: Sequence[str | int], allowed: Sequence[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{_show(at)} must be a mapping", at)
        for key in value:
            if key not in allowed:
                raise self.fail(f"unknown field {key!r} in {_show(at)}", [*at, key])
        return value

    def string(self, value: Any, at: Sequence[str | int]) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{_show(at)} must be a string, found {_kind(value)}", at)
        return value

    def boolean(self, value: Any, at: Sequence[str | int]) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"{_show(at)} must be true or false, found {_kind(value)}", at)
        return value

    def strings(self, value: Any, at: Sequence[str | int]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"{_show(at)} must be a list of strings", at)
        return tuple(self.string(item, [*at, i]) for i, item in enumerate(value))

    def string_map(self, value: Any, at: Sequence[str | int]) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise self.fail(f"{_show(at)} must be a mapping of strings", at)
        return tuple((str(k), self.string(v, [*at, k])) for k, v in value.items())

    def entries(self, value: Any, at: Sequence[str | int]) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{_show(at)} must be a list", at)
        return value


_TOP_FIELDS = (
    "apiVersion", "kind", "metadata", "openapi", "namePrefix", "nameSuffix", "namespace",
    "commonLabels", "labels", "commonAnnotations", "patchesStrategicMerge", "patchesJson6902",
    "patches", "images", "imageTags", "replacements", "replicas", "vars", "sortOptions", "resources",
    "components", "crds", "bases", "configMapGenerator", "secretGenerator", "helmGlobals",
    "helmCharts", "helmChartInflationGenerator", "generatorOptions", "configurations", "generators",
    "transformers", "validators", "buildMetadata",
)  # fmt: skip

#: Fields this engine does not implement (a build falls back to kubectl kustomize).
_UNSUPPORTED = {
    "openapi": "openapi",
    "replacements": "replacements",
    "vars": "vars",
    "crds": "crds",
    "helmGlobals": "helmCharts",
    "helmCharts": "helmCharts",
    "helmChartInflationGenerator": "helmChartInflationGenerator",
    "generators": "generators (plugins)",
    "transformers": "transformers (plugins)",
    "validators": "validators (plugins)",
    "buildMetadata": "buildMetadata",
}

_SELECTOR_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")
_OPTION_FIELDS = ("labels", "annotations", "disableNameSuffixHash", "immutable")


def load(tree: SourceTree, path: str, directory: str) -> Kustomization:
    """Parse and validate the kustomization file at ``path`` (repo-relative), once per tree.

    Errors are raised afresh each time: callers complete their location.
    """
    from .loader import file_cache

    known = file_cache(tree).kustomizations
    found: Kustomization | None = known.get((path, directory))
    if found is None:
        found = known[(path, directory)] = _load(tree, path, directory)
    return found


def _load(tree: SourceTree, path: str, directory: str) -> Kustomization:
    parsed = tree.parsed(path)
    if parsed.failure is not None:
        raise KustomizeError(
            f"invalid kustomization: {parsed.failure.reason}",
            where=Where(path, parsed.failure.line),
            hint="fix the YAML syntax of the kustomization file",
        )
    data = parsed.documents[0] if parsed.documents else None
    reader = _Reader(tree, path)
    if data is None:
        raise KustomizeError(
            "kustomization file is empty",
            where=Where(path, 1),
            hint="list the resources of this folder under 'resources:'",
        )
    if not isinstance(data, dict):
        raise reader.fail("the file must hold a mapping", [])
    return from_mapping(reader, data, path, directory)


def from_mapping(reader: _Reader, data: dict[str, Any], path: str, directory: str) -> Kustomization:
    reader.mapping(data, [], _TOP_FIELDS)
    for key, feature in _UNSUPPORTED.items():
        if data.get(key):
            raise reader.unsupported(feature, [key])
    kind = reader.string(data.get("kind"), ["kind"]) or "Kustomization"
    if kind not in KUSTOMIZATION_KINDS:
        raise reader.fail(f"kind {kind!r} is not Kustomization or Component", ["kind"])
    api_version = reader.string(data.get("apiVersion"), ["apiVersion"])
    required = COMPONENT_API_VERSION if kind == "Component" else KUSTOMIZATION_API_VERSION
    if api_version and api_version != required:
        raise reader.fail(f"apiVersion for {kind} should be {required}", ["apiVersion"])
    if not any(data.get(key) not in (None, "") for key in data if key not in ("apiVersion", "kind")):
        raise KustomizeError(
            "the kustomization is empty",
            where=Where(path, 1),
            hint="list the folder's resources under 'resources:' (kustomize refuses an empty kustomization)",
        )
    reader.mapping(data.get("metadata"), ["metadata"], ("name", "namespace", "labels", "annotations"))
    sort = reader.mapping(data.get("sortOptions"), ["sortOptions"], ("order", "legacySortOptions"))
    if sort.get("legacySortOptions"):
        raise reader.unsupported("sortOptions.legacySortOptions", ["sortOptions"])

    resources = reader.strings(data.get("resources"), ["resources"])
    resources += reader.strings(data.get("bases"), ["bases"])
    images = [
        _image(reader, e, ["images", i], i)
        for i, e in enumerate(reader.entries(data.get("images"), ["images"]))
    ]
    images += [
        _image(reader, e, ["imageTags", i], i)
        for i, e in enumerate(reader.entries(data.get("imageTags"), ["imageTags"]))
    ]
    options = data.get("generatorOptions")
    return Kustomization(
        path=path,
        directory=directory,
        kind=kind,
        namespace=reader.string(data.get("namespace"), ["namespace"]),
        name_prefix=reader.string(data.get("namePrefix"), ["namePrefix"]),
        name_suffix=reader.string(data.get("nameSuffix"), ["nameSuffix"]),
        common_labels=reader.string_map(data.get("commonLabels"), ["commonLabels"]),
        labels=tuple(
            _label(reader, e, ["labels", i])
            for i, e in enumerate(reader.entries(data.get("labels"), ["labels"]))
        ),
        common_annotations=reader.string_map(data.get("commonAnnotations"), ["commonAnnotations"]),
        resources=resources,
        components=reader.strings(data.get("components"), ["components"]),
        patches=tuple(
            _patch(reader, e, "patches", i)
            for i, e in enumerate(reader.entries(data.get("patches"), ["patches"]))
        ),
        patches_strategic_merge=reader.strings(data.get("patchesStrategicMerge"), ["patchesStrategicMerge"]),
        patches_json6902=tuple(
            _patch(reader, e, "patchesJson6902", i)
            for i, e in enumerate(reader.entries(data.get("patchesJson6902"), ["patchesJson6902"]))
        ),
        images=tuple(images),
        replicas=tuple(
            _replica(reader, e, ["replicas", i], i)
            for i, e in enumerate(reader.entries(data.get("replicas"), ["replicas"]))
        ),
        config_map_generator=tuple(
            _generator(reader, e, "configMapGenerator", i)
            for i, e in enumerate(reader.entries(data.get("configMapGenerator"), ["configMapGenerator"]))
        ),
        secret_generator=tuple(
            _generator(reader, e, "secretGenerator", i)
            for i, e in enumerate(reader.entries(data.get("secretGenerator"), ["secretGenerator"]))
        ),
        generator_options=_options(reader, options, ["generatorOptions"]) if options is not None else None,
        configurations=reader.strings(data.get("configurations"), ["configurations"]),
    )


def _image(reader: _Reader, data: Any, at: list[str | int], index: int) -> ImageSpec:
    entry = reader.mapping(data, at, ("name", "newName", "newTag", "digest", "tagSuffix"))
    if entry.get("tagSuffix"):
        raise reader.unsupported("images.tagSuffix", [*at, "tagSuffix"])
    return ImageSpec(
        index=index,
        name=reader.string(entry.get("name"), [*at, "name"]),
        new_name=reader.string(entry.get("newName"), [*at, "newName"]),
        new_tag=reader.string(entry.get("newTag"), [*at, "newTag"]),
        digest=reader.string(entry.get("digest"), [*at, "digest"]),
    )


def _replica(reader: _Reader, data: Any, at: list[str | int], index: int) -> ReplicaSpec:
    entry = reader.mapping(data, at, ("name", "count"))
    count = entry.get("count", 0)
    if count is None:
        count = 0
    if isinstance(count, bool) or not isinstance(count, int):
        raise reader.fail(f"{_show([*at, 'count'])} must be an integer", [*at, "count"])
    return ReplicaSpec(index, reader.string(entry.get("name"), [*at, "name"]), count)


def _label(reader: _Reader, data: Any, at: list[str | int]) -> LabelSpec:
    entry = reader.mapping(data, at, ("pairs", "includeSelectors", "includeTemplates", "fields"))
    fields: list[FieldSpec] = []
    for i, spec in enumerate(reader.entries(entry.get("fields"), [*at, "fields"])):
        try:
            fields.append(spec_from_data(spec))
        except ValueError as exc:
            raise reader.fail(str(exc), [*at, "fields", i]) from None
    return LabelSpec(
        pairs=reader.string_map(entry.get("pairs"), [*at, "pairs"]),
        include_selectors=reader.boolean(entry.get("includeSelectors"), [*at, "includeSelectors"]),
        include_templates=reader.boolean(entry.get("includeTemplates"), [*at, "includeTemplates"]),
        fields=tuple(fields),
    )


def selector(reader: _Reader, data: Any, at: list[str | int]) -> Selector | None:
    if data is None:
        return None
    entry = reader.mapping(data, at, _SELECTOR_FIELDS)
    values = [reader.string(entry.get(key), [*at, key]) for key in _SELECTOR_FIELDS]
    return Selector(*values)


def _patch(reader: _Reader, data: Any, section: str, index: int) -> PatchSpec:
    at: list[str | int] = [section, index]
    entry = reader.mapping(data, at, ("path", "patch", "target", "options"))
    options = entry.get("options")
    flags: list[tuple[str, bool]] = []
    if options is not None:
        if not isinstance(options, dict):
            raise reader.fail(f"{_show([*at, 'options'])} must be a mapping", [*at, "options"])
        for key, value in options.items():
            flags.append((str(key), reader.boolean(value, [*at, "options", key])))
    return PatchSpec(
        section=section,
        index=index,
        path=reader.string(entry.get("path"), [*at, "path"]),
        patch=reader.string(entry.get("patch"), [*at, "patch"]),
        target=selector(reader, entry.get("target"), [*at, "target"]),
        options=tuple(flags),
    )


def _options(reader: _Reader, data: Any, at: list[str | int]) -> GeneratorOptions:
    entry = reader.mapping(data, at, _OPTION_FIELDS)
    return GeneratorOptions(
        labels=reader.string_map(entry.get("labels"), [*at, "labels"]),
        annotations=reader.string_map(entry.get("annotations"), [*at, "annotations"]),
        disable_name_suffix_hash=reader.boolean(
            entry.get("disableNameSuffixHash"), [*at, "disableNameSuffixHash"]
        ),
        immutable=reader.boolean(entry.get("immutable"), [*at, "immutable"]),
    )


def _generator(reader: _Reader, data: Any, section: str, index: int) -> GeneratorArgs:
    at: list[str | int] = [section, index]
    allowed = ["name", "namespace", "behavior", "literals", "files", "envs", "env", "options"]
    if section == "secretGenerator":
        allowed.append("type")
    entry = reader.mapping(data, at, allowed)
    envs = reader.strings(entry.get("envs"), [*at, "envs"])
    env = reader.string(entry.get("env"), [*at, "env"])
    if env:
        envs = (*envs, env)
    options = entry.get("options")
    return GeneratorArgs(
        section=section,
        index=index,
        name=reader.string(entry.get("name"), [*at, "name"]),
        namespace=reader.string(entry.get("namespace"), [*at, "namespace"]),
        behavior=reader.string(entry.get("behavior"), [*at, "behavior"]),
        literals=reader.strings(entry.get("literals"), [*at, "literals"]),
        files=reader.strings(entry.get("files"), [*at, "files"]),
        envs=envs,
        options=_options(reader, options, [*at, "options"]) if options is not None else None,
        type=reader.string(entry.get("type"), [*at, "type"]),
    )


def _show(at: Sequence[str | int]) -> str:
    text = ""
    for part in at:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the kustomization"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
