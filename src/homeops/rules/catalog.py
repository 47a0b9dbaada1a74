"""The catalog: importing this module registers every rule family, in one place."""

from __future__ import annotations

from .base import RULES, Rule


def _load() -> None:
    from . import (  # noqa: F401  (imported for their @rule registrations)
        charts,
        clusters,
        dependencies,
        images,
        loading,
        namespaces,
        operators,
        ownership,
        reconciliation,
        references,
        schema,
        secrets,
        storage,
        substitution,
        templates,
    )


def all_rules() -> list[Rule]:
    """Every rule, ordered by id."""
    if not RULES:
        _load()
    return sorted(RULES.values(), key=lambda r: r.id)


def rule_id(key: str) -> str | None:
    """The id of the rule ``key`` names (id or name), or None."""
    found = find_rule(key)
    return found.id if found is not None else None


def find_rule(key: str) -> Rule | None:
    """A rule by id (``IMG001``) or name (``image-not-pinned``), case-insensitive for ids."""
    for rule in all_rules():
        if rule.id.lower() == key.lower() or rule.name == key:
            return rule
    return None
