"""``patches``, ``patchesStrategicMerge`` and ``patchesJson6902``: loading a patch and applying it.

A patch whose text is a mapping (one or more documents) is a strategic merge patch; a list is a
JSON 6902 patch. Without a target, a strategic merge patch applies to the one object with its own
id (apiVersion, kind, name, namespace); with a target, to every object the target selects.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from ..errors import KustomizeError, Where
from ..load.yamlio import ParsedFile, parse
from ..model.base import deep_copy
from ..records import NamedTuple
from .jsonpatch import JsonPatchError
from .jsonpatch import apply as apply_json
from .kfile import PatchSpec, Selector
from .resid import Res, format_id, split_gv, text
from .selector import ByName, SelectorError, select
from .strategic import MergeError, merge


class LoadedPatch(NamedTuple):
    """A patch read and classified: strategic merge documents, or JSON 6902 operations."""

    where: Where
    strategic: tuple[dict[str, Any], ...] = ()
    json_ops: tuple[Any, ...] | None = None
    target: Selector | None = None
    allow_name_change: bool = False
    allow_kind_change: bool = False


@functools.lru_cache(maxsize=1024)
def _parse_patch_text(text: str) -> ParsedFile:
    """Parsed patch text, memoised: a parent's patches reach every child with the same text.

    Callers copy the documents before use, so the cached ones are never mutated.
    """
    return parse(text)


def classify(
    content: str, where: Where, *, require_kind: bool = True
) -> tuple[tuple[dict[str, Any], ...], Any]:
    """(strategic merge documents, JSON operations): exactly one of the two is non-empty."""
    stripped = content.strip()
    if not stripped:
        raise KustomizeError("the patch is empty", where=where, hint="write the patch, or remove the entry")
    parsed = _parse_patch_text(stripped)
    if parsed.failure is not None:
        raise KustomizeError(
            f"the patch is not valid YAML: {parsed.failure.reason}",
            where=where,
            hint="fix the YAML of the patch",
        )
    docs = [deep_copy(d) for d in parsed.documents if d is not None and d != {}]
    if len(docs) == 1 and isinstance(docs[0], list):
        return (), docs[0]
    if docs and all(isinstance(d, dict) for d in docs):
        for doc in docs:
            _check_patch_object(doc, where, require_kind)
        return tuple(docs), None
    raise KustomizeError(
        "the patch is neither a strategic merge patch (a mapping) nor a JSON 6902 patch (a list)",
        where=where,
        hint="a strategic merge patch is a partial object; a JSON patch is a list of {op, path, value}",
    )


def _check_patch_object(doc: dict[str, Any], where: Where, require_kind: bool) -> None:
    kind = doc.get("kind")
    if require_kind and (not isinstance(kind, str) or not kind):
        raise KustomizeError(
            "a strategic merge patch has no kind", where=where, hint="add apiVersion and kind"
        )
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(kind, str) and not kind.endswith("List") and (name is None or name == ""):
        raise KustomizeError(
            "a strategic merge patch has no metadata.name",
            where=where,
            hint="give the patch the name of the object it patches (any name when 'target' selects)",
        )


def from_spec(spec: PatchSpec, content: str, where: Where) -> LoadedPatch:
    strategic, ops = classify(content, where)
    return LoadedPatch(
        where=where,
        strategic=strategic,
        json_ops=tuple(ops) if ops is not None else None,
        target=spec.target,
        allow_name_change=spec.option("allowNameChange"),
        allow_kind_change=spec.option("allowKindChange"),
    )


def _patch_id(doc: dict[str, Any]) -> tuple[str, str, str, str, str]:
    from .resid import effective_namespace

    api_version, kind = text(doc.get("apiVersion")), text(doc.get("kind"))
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    group, version = split_gv(api_version)
    return (
        group,
        version,
        kind,
        text(meta.get("name")),
        effective_namespace(api_version, kind, text(meta.get("namespace"))),
    )


def apply(
    resources: list[Res],
    patch: LoadedPatch,
    *,
    json_requires_target: bool = True,
    unique: bool = False,
    by_name: ByName | None = None,
) -> list[Res]:
    """Apply one loaded patch; returns the new resource list (a ``$patch: delete`` drops objects).

    ``unique``: the caller knows that no two of ``resources`` share an id (the list a strategic merge
    patch returned, untouched since). Such a patch keeps every object's id unless it allows a name or
    kind change, so its check that no two objects became the same is then known to pass and is skipped.
    ``by_name``: an index of ``resources`` for the target (see :func:`keeps_names` for how long it holds).
    """
    try:
        if patch.json_ops is not None:
            if patch.target is None:
                raise KustomizeError(
                    "a JSON 6902 patch needs a target",
                    where=patch.where,
                    hint="add 'target:' with at least the kind and name to patch",
                )
            for res in select(resources, patch.target, by_name):
                _apply_json(res, patch)
            return resources
        for doc in patch.strategic:
            if patch.target is None:
                targets = _by_id(resources, doc, patch.where)
            else:
                targets = select(resources, patch.target, by_name)
            before = len(resources)
            resources = _apply_strategic(resources, targets, doc, patch, unique=unique)
            unique = True  # _apply_strategic checked the whole list
            if not keeps_names(patch, before, resources):
                by_name = None  # for the patch's next document
        return resources
    except SelectorError as exc:
        raise KustomizeError(f"invalid patch target: {exc}", where=patch.where) from None


def keeps_names(patch: LoadedPatch, before: int, after: list[Res]) -> bool:
    """Whether a :class:`ByName` index of the ``before`` objects still holds for the ``after`` ones
    ``patch`` left: a strategic merge patch that allows no name or kind change keeps every object's
    names (and ``prev``), unless it deleted some; a JSON patch may rename."""
    return (
        patch.json_ops is None
        and not (patch.allow_name_change or patch.allow_kind_change)
        and len(after) == before
    )


def _by_id(resources: Sequence[Res], doc: dict[str, Any], where: Where) -> list[Res]:
    wanted = _patch_id(doc)
    found = [res for res in resources if wanted in res.all_ids()]
    if len(found) != 1:
        what = "no object" if not found else f"{len(found)} objects"
        raise KustomizeError(
            f"{what} matches the strategic merge patch for {format_id(wanted)}",
            where=where,
            hint="the patch's apiVersion, kind, name and namespace must name exactly one object; "
            "or add a 'target:'",
        )
    return found


def _apply_strategic(
    resources: list[Res], targets: Sequence[Res], doc: dict[str, Any], patch: LoadedPatch, *, unique: bool
) -> list[Res]:
    # ``targets`` are some of ``resources``, in their order, each once (as both selections make them):
    # only they are visited, and the list is rebuilt only when the patch deleted some.
    deleted: set[int] = set()
    for res in targets:
        patch_copy = deep_copy(doc)
        patch_copy["apiVersion"] = res.obj.get("apiVersion")
        patch_copy["kind"] = doc.get("kind")
        name, namespace, kind = res.name, res.namespace, res.kind
        if patch.allow_name_change or patch.allow_kind_change:
            res.store_previous_id()
        try:
            merged = merge(res.obj, patch_copy)
        except MergeError as exc:
            raise KustomizeError(
                f"cannot apply the patch to {res.kind} {res.name!r}: {exc}",
                where=patch.where,
                hint="a patch field must have the same shape (map, list, value) as in the object",
            ) from None
        if merged is None:
            deleted.add(id(res))
            continue
        res.take(merged)
        if not patch.allow_kind_change:
            merged["kind"] = kind
        meta = merged.get("metadata")
        # the merge copies only what it changes: a mapping it left alone may be shared
        meta = merged["metadata"] = dict(meta) if isinstance(meta, dict) else {}
        if not patch.allow_name_change:
            meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
    kept = [res for res in resources if id(res) not in deleted] if deleted else list(resources)
    if not unique or patch.allow_name_change or patch.allow_kind_change:
        _check_unique(kept, patch.where)
    return kept


def _apply_json(res: Res, patch: LoadedPatch) -> None:
    assert patch.json_ops is not None
    res.store_previous_id()
    obj = res.writable()
    # kustomize's own bookkeeping annotations are present while patches run, so a patch may add
    # to metadata.annotations even when the object has none (empty maps are dropped at the end).
    meta = obj.get("metadata")
    if isinstance(meta, dict) and not isinstance(meta.get("annotations"), dict):
        res.writable(("metadata",))["annotations"] = {}
    try:
        # copy-on-write: only the containers on the paths the operations write are copied
        result = apply_json(obj, list(deep_copy(list(patch.json_ops))), res.own)
    except JsonPatchError as exc:
        raise KustomizeError(
            f"cannot apply the JSON patch to {res.kind} {res.name!r}: {exc}",
            where=patch.where,
            hint="check the paths of the operations against the object",
        ) from None
    if not isinstance(result, dict):
        raise KustomizeError(
            f"the JSON patch turns {res.kind} {res.name!r} into a non-object", where=patch.where
        )
    if result is not obj:
        res.replace(result)  # the whole document replaced: a copy of the patch's value


def _check_unique(resources: Sequence[Res], where: Where) -> None:
    # Equal ids have equal kinds and names: only objects sharing both with another need their whole
    # id, which costs several times more to work out (this runs after every patch, over every object).
    shorts: list[tuple[str, str]] = []
    counts: dict[tuple[str, str], int] = {}
    for res in resources:
        obj = res.obj
        meta = obj.get("metadata")
        short = (text(obj.get("kind")), text(meta.get("name")) if isinstance(meta, dict) else "")
        shorts.append(short)
        counts[short] = counts.get(short, 0) + 1
    seen: set[tuple[str, str, str, str, str]] = set()
    for res, short in zip(resources, shorts, strict=True):
        if counts[short] < 2:
            continue
        key = res.cur_id()
        if key in seen:
            raise KustomizeError(
                f"the patch makes two objects the same: {format_id(key)}",
                where=where,
                hint="patches may not rename an object onto another one",
            )
        seen.add(key)
