"""Validate objects against the catalog and say each problem as a person would read it.

A problem is one of four kinds, each its own rule in ``check``: a value of the wrong type or outside
what the schema allows (``value``), a field the schema does not declare (``unknown``), a required field
that is missing (``required``). Objects whose kind has no schema are counted, not guessed at.

A string that still holds a ``${VAR}`` after homeops' substitution is a value only known when Flux
applies the object (a variable whose value homeops cannot read, such as one from a SOPS-encrypted Secret
without the key): no type or format error is reported for it. Where Flux does not substitute (no
``postBuild``, or substitution disabled on the object) the text is applied as written, and checked so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..flux.tree import SUBSTITUTION
from ..model.base import Resource
from ..model.producers import is_sealed
from ..records import NamedTuple
from .catalog import Catalog

_PLACEHOLDER = re.compile(r"(?<!\$)\$\{[^}]*\}")

Path_ = tuple[str | int, ...]


class Problem(NamedTuple):
    res: Resource
    path: Path_
    """Where in the object the problem is (the unknown field itself, the object missing a field)."""
    kind: str
    """``value``, ``unknown`` or ``required``."""
    message: str
    """What is wrong, without the object's name: ``spec.replicas must be an integer, got string "two"``."""


class Report(NamedTuple):
    problems: list[Problem]
    unvalidated: dict[str, int]
    """Kind key (``apiVersion/kind``) with no schema → how many objects of it were not validated."""
    validated: int


SEALED = "(SOPS-encrypted whole: kind unreadable without the key)"
"""The ``unvalidated`` key of documents whose apiVersion and kind are encrypted."""


def validate(
    objects: Iterable[Resource],
    catalog: Catalog,
    *,
    substituted: Callable[[Resource], bool] = lambda r: False,
) -> Report:
    """Every schema problem of ``objects``; ``substituted`` says whether Flux substitutes an object."""
    problems: list[Problem] = []
    unvalidated: dict[str, int] = {}
    validated = 0
    for res in objects:
        api_version, kind = res.api_version, res.kind
        if is_sealed(res):  # its kind is ciphertext: one line for them all, not one per ciphertext
            unvalidated[SEALED] = unvalidated.get(SEALED, 0) + 1
            continue
        validator = catalog.validator(api_version, kind)
        if validator is None:
            key = f"{api_version}/{kind}"
            unvalidated[key] = unvalidated.get(key, 0) + 1
            continue
        validated += 1
        pending = None
        lagging = catalog.source(api_version, kind) == "flux"
        obj = res.obj
        if "sops" in obj:  # kustomize-controller decrypts, and drops the sops metadata, before applying
            obj = {k: v for k, v in obj.items() if k != "sops"}
        try:
            errors = list(validator.iter_errors(obj))
        except ValueError:  # a key or value JSON does not have (``on:`` read as true, a timestamp)
            errors = list(validator.iter_errors(as_json(obj)))
        errors.sort(key=lambda e: [(isinstance(p, str), p) for p in e.instance_path])  # a stable order
        for error in errors:
            if pending is None:
                pending = substituted(res)
            if lagging and type(error.kind).__name__ == "Enum":
                # Flux only ever adds allowed values, and the package may be older than the Flux a
                # repository runs (flux-instance 'version: 2.x'): an unknown value is not an error here
                continue
            problem = _problem(res, error, pending)
            if problem is not None:
                problems.append(problem)
    return Report(problems, unvalidated, validated)


def _problem(res: Resource, error: Any, pending: bool) -> Problem | None:
    path: Path_ = tuple(error.instance_path)
    instance = error.instance
    name = type(error.kind).__name__
    if name == "AdditionalProperties":
        unexpected = [str(k) for k in error.kind.unexpected]
        if pending and all(_PLACEHOLDER.search(k) for k in unexpected):
            return None
        field = unexpected[0]
        more = f" (and {', '.join(unexpected[1:])})" if len(unexpected) > 1 else ""
        return Problem(
            res, (*path, field), "unknown", f"{dotted((*path, field))}: field not declared in schema{more}"
        )
    if name == "Required":
        field = str(error.kind.property)
        return Problem(res, path, "required", f"{dotted((*path, field))} is required")
    if pending and isinstance(instance, str) and _PLACEHOLDER.search(instance):
        return None  # a value Flux substitutes at apply time
    if pending and instance == "" and getattr(res.notes.get(SUBSTITUTION), "missing", None):
        return None  # an undefined variable (rule SUB001): Flux fails, or applies null, not ""
    if isinstance(instance, str) and instance.startswith("ENC[") and "sops" in res.obj:
        return None  # SOPS ciphertext: its type is only known once decrypted
    if res.kind == "Secret" and res.group == "":
        instance = _Hidden(instance)  # never print a secret's value
    where = dotted(path) or "the object"
    if name == "Type":
        expected = [t for t in _types(error.kind.types) if t != "null"]
        return Problem(res, path, "value", f"{where} must be {_article(expected)}, got {_describe(instance)}")
    if name == "AnyOf":
        expected = [t for t in _expected_any_of(error) if t != "null"]
        if expected:
            return Problem(
                res, path, "value", f"{where} must be {_article(expected)}, got {_describe(instance)}"
            )
    if name == "Enum":
        options = [o for o in error.kind.options if o is not None]
        listed = ", ".join(json.dumps(o) for o in options)
        return Problem(res, path, "value", f"{where} must be one of {listed}, got {_describe(instance)}")
    if name in ("Minimum", "Maximum", "ExclusiveMinimum", "ExclusiveMaximum"):
        return Problem(res, path, "value", f"{where} is out of range: {error.message}")
    return Problem(res, path, "value", f"{where}: {error.message}")


def as_json(value: Any) -> Any:
    """YAML data as the API server receives it: converted to JSON (keys and timestamps become strings)."""
    if isinstance(value, dict):
        return {_json_key(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _types(types: Any) -> list[str]:
    if isinstance(types, str):
        return [types]
    return [str(t) for t in types]


def _expected_any_of(error: Any) -> list[str]:
    """The types an anyOf (int-or-string, quantities) allows, when each branch only failed on its type."""
    out: list[str] = []
    for branch in getattr(error.kind, "context", None) or []:
        if len(branch) != 1 or type(branch[0].kind).__name__ != "Type":
            return []
        out.extend(t for t in _types(branch[0].kind.types) if t not in out)
    return out


_ARTICLES = {"integer": "an integer", "object": "an object", "array": "a list"}


def _article(types: list[str]) -> str:
    words = [_ARTICLES.get(t, f"a {t}") for t in types]
    return " or ".join(words) if words else "something else"


class _Hidden:
    """A value whose type may be named but whose content may not (a Secret's)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _describe(value: Any) -> str:
    if isinstance(value, _Hidden):
        inner = value.value
        kind = "null" if inner is None else "a list" if isinstance(inner, list) else "an object"
        if isinstance(inner, (bool, int, float, str)):
            kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}[type(inner)]
        return f"{kind} (value not shown)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def dotted(path: Path_) -> str:
    """``spec.template.spec.containers[0].name`` from the path parts."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out
