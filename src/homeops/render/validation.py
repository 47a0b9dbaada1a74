"""Values checked against the charts' ``values.schema.json``, as Helm 4 checks them before rendering.

Helm validates the coalesced values (chart defaults with the release's values on top, once conditions
and tags dropped the disabled subcharts) against the chart's schema, then each enabled subchart's
values (``values[<name>]``: skipped when absent or null, an error when not a mapping) against that
subchart's schema, and so on down. Each schema is read in its own ``$schema`` dialect (2020-12 when it
names none), and ``format`` is asserted in draft-07 and older documents only (Helm 4.2's
santhosh-tekuri/jsonschema does both). The same is done here with the jsonschema library, every
reference resolved from :mod:`.charts.schemas`; validators are compiled once per chart and kept, so a
hundred releases of one chart compile its schemas once.

A value that stands in for a decrypted secret (or for one that could not be decrypted) is not the
value Flux validates: a violation there is reported as not validated, never as an error.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model.base import strings
from .charts.archive import ChartFiles
from .charts.schemas import DATA_KEYWORDS as _DATA_KEYWORDS
from .charts.schemas import ROOT_URI, ChartSchemas, SchemaRoot, document_base
from .secrets import STAND_IN_PREFIX

Path = tuple[str | int, ...]
_PLACEHOLDER = "<sops-encrypted #"
_MAX_REASON = 300
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Violation:
    """One value that breaks a chart's schema."""

    path: Path
    """Where in the release's values (a subchart's values sit under its name)."""
    reason: str
    chart: str
    """Whose schema: ``common 4.1.1``."""


@dataclass(slots=True)
class Checked:
    violations: list[Violation] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    """Values that could not be checked (stand-ins for secrets), as warnings."""


def check_values(
    schemas: ChartSchemas, values: Mapping[str, Any], enabled: Collection[str] | None = None
) -> Checked:
    """Validate Helm's coalesced ``values`` against every schema of the chart. ``enabled``: the
    subcharts Helm kept (their names as in the values); None keeps every one."""
    out = Checked()
    if schemas.tree is not None and schemas.roots:
        _check(schemas, schemas.tree, values, (), enabled, out)
    return out


def display_path(path: Path) -> str:
    """``values.controllers.main.containers.app.env[0]``."""
    text = "values"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _check(
    schemas: ChartSchemas,
    chart: ChartFiles,
    values: Mapping[str, Any],
    prefix: Path,
    enabled: Collection[str] | None,
    out: Checked,
) -> None:
    root = schemas.root_of(chart)
    if root is not None:
        label = f"{chart.name} {chart.version}"
        for error in _validator(schemas, root).iter_errors(values):
            error = _deepest(error)
            path = (*prefix, *error.absolute_path)
            if _concealed(error):
                kind = "stand-in" if _has(error.instance, STAND_IN_PREFIX) else "placeholder"
                why = (
                    "--show-secrets validates it"
                    if kind == "stand-in"
                    else "it could not be decrypted (no age key)"
                )
                out.unchecked.append(
                    f"{display_path(path)} holds a {kind} for a SOPS-encrypted value and was not validated "
                    f"against the {label} schema ({why})"
                )
            else:
                out.violations.append(Violation(path, _reason(error.message), label))
    for sub in chart.subcharts:
        for name in _names(chart, sub):
            if enabled is not None and name not in enabled:
                continue
            raw = values.get(name)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                reason = f"invalid type for values: expected object (map), got {type(raw).__name__}"
                out.violations.append(Violation((*prefix, name), reason, f"{sub.name} {sub.version}"))
                continue
            _check(schemas, sub, raw, (*prefix, name), None, out)


def _names(parent: ChartFiles, sub: ChartFiles) -> list[str]:
    """The names a subchart's values go by: each alias its parent gives it, else its own name."""
    deps = parent.meta.get("dependencies")
    aliases = [
        str(d["alias"])
        for d in (deps if isinstance(deps, list) else [])
        if isinstance(d, dict) and d.get("name") == sub.name and d.get("alias")
    ]
    return aliases or [sub.name]


def _validator(schemas: ChartSchemas, root: SchemaRoot) -> Any:
    """The compiled validator of one chart's schema, built once and kept with the chart's schemas."""
    key = f"validator:{root.chart.path}"
    with _lock:
        found = schemas.cache.get(key)
    if found is None:
        found = _compile(schemas, root)
        with _lock:
            found = schemas.cache.setdefault(key, found)
    return found


def _compile(schemas: ChartSchemas, root: SchemaRoot) -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012, specification_with

    contents = root.contents
    if isinstance(contents, dict) and "$id" not in contents:
        contents = {**contents, "$id": ROOT_URI}  # Helm's base for references relative to the schema
    spec = _dialect(contents, DRAFT202012, specification_with)
    documents = {**(schemas.remote or {}), **root.local, ROOT_URI: contents}
    missing = frozenset(schemas.missing or ())
    if missing:
        # What could not be resolved accepts anything there, as Helm's fallback for unresolved URNs does.
        old_specs = _old_specs()
        documents = {
            uri: _without(doc, document_base(doc, uri), missing,
                          _dialect(doc, spec, specification_with) in old_specs)
            for uri, doc in documents.items()
        }  # fmt: skip
        contents = documents[ROOT_URI]
    resources = [
        (uri, Resource.from_contents(doc, default_specification=spec)) for uri, doc in documents.items()
    ]
    registry = Registry(retrieve=lambda _uri: spec.create_resource(True))  # type: ignore[call-arg]
    registry = registry.with_resources(resources)
    cls = jsonschema.validators.validator_for(contents, default=jsonschema.Draft202012Validator)
    old = {jsonschema.Draft3Validator, jsonschema.Draft4Validator, jsonschema.Draft6Validator,
           jsonschema.Draft7Validator}  # fmt: skip
    checker = None
    if cls in old or any(
        _dialect(doc, None, specification_with) in _old_specs() for doc in documents.values()
    ):
        checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    if cls not in old:
        cls = jsonschema.validators.extend(cls, {"format": None})  # an annotation only, from 2019-09 on
    return cls(contents, registry=registry, format_checker=checker)


def _without(doc: Any, base: str, missing: frozenset[str], old: bool) -> Any:
    """``doc`` with every ``$ref`` to a missing document gone: up to draft-07 a ``$ref`` replaces its
    whole schema, so that schema becomes the empty one (anything goes); later, only the ``$ref`` goes."""
    if isinstance(doc, list):
        return [_without(item, base, missing, old) for item in doc]
    if not isinstance(doc, dict):
        return doc
    here = document_base(doc, base)
    ref = doc.get("$ref")
    if isinstance(ref, str) and urllib.parse.urldefrag(urllib.parse.urljoin(here, ref)).url in missing:
        if old:
            return {}
        doc = {k: v for k, v in doc.items() if k != "$ref"}
    return {k: v if k in _DATA_KEYWORDS else _without(v, here, missing, old) for k, v in doc.items()}


def _dialect(doc: Any, default: Any, specification_with: Any) -> Any:
    dialect = doc.get("$schema") if isinstance(doc, dict) else None
    if not isinstance(dialect, str):
        return default
    try:
        return specification_with(dialect, default=default)
    except Exception:  # an unknown dialect: the default, as validator_for does
        return default


def _old_specs() -> set[Any]:
    from referencing.jsonschema import DRAFT3, DRAFT4, DRAFT6, DRAFT7

    return {DRAFT3, DRAFT4, DRAFT6, DRAFT7}


def _deepest(error: Any) -> Any:
    """For ``anyOf``/``oneOf``/``allOf`` failures, the sub-error that says most (jsonschema's
    ``best_match``), so the message names the value that is wrong rather than the whole object."""
    from jsonschema.exceptions import best_match

    while error.context:
        best = best_match(error.context)
        if best is None:
            break
        error = best
    return error


def _concealed(error: Any) -> bool:
    return isinstance(error.instance, str) and (
        STAND_IN_PREFIX in error.instance or _PLACEHOLDER in error.instance
    )


def _has(value: Any, marker: str) -> bool:
    return any(marker in text for text in strings(value))


def _reason(message: str) -> str:
    if len(message) <= _MAX_REASON:
        return message
    half = _MAX_REASON // 2
    return f"{message[:half]} … {message[-half:]}"
