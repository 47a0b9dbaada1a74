"""What a workload takes from a Secret, and what happens to its pods when that Secret changes.

A pod that names a key (``secretKeyRef``) cannot start while the Secret lacks it; one that takes the
whole Secret (``envFrom``, a volume) starts with whatever is there. Pods do not see a changed Secret
in their environment until they restart: Stakater Reloader restarts them when their workload carries
``reloader.stakater.com/auto: "true"`` (every Secret it uses), ``secret.reloader.stakater.com/auto``
or ``secret.reloader.stakater.com/reload: a,b`` (those Secrets). Read from a HelmRelease (its values
put the annotations on the workloads) or from a workload itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from ..records import NamedTuple

RELOAD_ALL = frozenset({"reloader.stakater.com/auto", "secret.reloader.stakater.com/auto"})
RELOAD_NAMED = "secret.reloader.stakater.com/reload"


def external_secret_keys(obj: Mapping[str, Any]) -> frozenset[str] | None:
    """The keys of the Secret an ExternalSecret writes; None when the provider decides (``dataFrom``,
    ``templateFrom``)."""
    spec = _map(obj.get("spec"))
    template = _map(_map(spec.get("target")).get("template"))
    data_keys = frozenset(
        str(item["secretKey"])
        for item in _list(spec.get("data"))
        if isinstance(item, Mapping) and isinstance(item.get("secretKey"), str)
    )
    if template.get("templateFrom"):
        return None
    if template.get("data") is not None:
        # the template decides the Secret's keys; with mergePolicy Merge the fetched data stays beside them
        keys = frozenset(str(k) for k in _map(template.get("data")))
        if template.get("mergePolicy") != "Merge":
            return keys
        return None if spec.get("dataFrom") else keys | data_keys
    return None if spec.get("dataFrom") else data_keys


def secret_keys(obj: Mapping[str, Any]) -> frozenset[str]:
    """The keys of a Secret object (sops keeps key names in clear text)."""
    return frozenset(str(k) for field in ("data", "stringData") for k in _map(obj.get(field)))


class Uses(NamedTuple):
    """What a workload's object says about the Secrets its pods use."""

    keys: dict[str, frozenset[str]]
    """Secret name → the keys named with ``{name: S, key: K}`` (a ``secretKeyRef``)."""
    reload_all: bool
    """Reloader restarts the pods when any Secret they use changes."""
    reload_names: frozenset[str]
    """Secrets whose change makes Reloader restart the pods."""


def uses(obj: Mapping[str, Any], secrets: Collection[str]) -> Uses:
    """Keys of ``secrets`` that ``obj`` names, and Reloader's annotations, in one walk over the object."""
    keys: dict[str, set[str]] = {}
    every = False
    names: set[str] = set()
    for found in _mappings(obj):
        name = found.get("name")
        if name in secrets and isinstance(found.get("key"), str):
            keys.setdefault(str(name), set()).add(found["key"])
        for key in RELOAD_ALL:
            if str(found.get(key, "")).lower() == "true":
                every = True
        value = found.get(RELOAD_NAMED)
        if isinstance(value, str):
            names.update(n.strip() for n in value.split(",") if n.strip())
    return Uses({k: frozenset(v) for k, v in keys.items()}, every, frozenset(names))


def _mappings(value: Any) -> Iterator[Mapping[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
