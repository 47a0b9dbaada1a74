"""The repository's ``.homeops.yaml``: which rules run, at which severity, what is ignored, and the
settings the layers below the rules read (Kubernetes version, isolated clusters, extra producers).

```yaml
rules:                 # per rule id or name: error | warning | info | off
  IMG001: off
  not-app-template: warning
ignore:                # gitignore-style patterns; findings in these paths are dropped
  - archive/
fail-on: error         # default for --fail-on
isolated-clusters: auto   # auto | true | false (see rule CLU001)
kubernetes-version: "1.33.0"
contexts:              # homeops cluster name → kube context (status, why, doctor on a live cluster)
  main: admin@main
unapplied-files: info  # info | off: one note per file or folder that no Flux Kustomization applies
producers:             # objects of your own operators that create Secrets, ConfigMaps or claims
  - kind: Database
    group: example.com
    creates: Secret
    name: "{name}-credentials"
```

Inline suppression: ``# homeops:ignore`` on the offending line silences every rule there;
``# homeops:ignore IMG001,SEC004`` only those rules.

This module sits below everything that reads it (the Flux tree, the rules, the diff), so it knows
nothing of the rule catalog: whoever loads the file with rule names to check passes ``rule_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, Where
from .load.ignore import IgnoreRules
from .records import NamedTuple

CONFIG_FILE = ".homeops.yaml"
_KEYS = (
    "rules",
    "ignore",
    "fail-on",
    "isolated-clusters",
    "kubernetes-version",
    "contexts",
    "simulate",
    "unapplied-files",
    "producers",
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    def __str__(self) -> str:
        return self.value


class ProducerEntry(NamedTuple):
    """A ``producers:`` entry: objects of ``kind`` (and ``group``) create a ``creates`` object named
    by ``name``, where ``{name}`` and ``{namespace}`` stand for the producing object's own."""

    kind: str
    group: str | None
    creates: str
    name: str


class Config(NamedTuple):
    """Options shared by the CLI flags, the config file and library calls."""

    severities: Mapping[str, Severity | None] = MappingProxyType({})  # read-only: the default is shared
    """Rule id or name → new severity, or None to disable."""
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.ERROR
    isolated_clusters: bool | None = None
    """None: decide from the layout (``kubernetes/<cluster>/`` trees are isolated)."""
    kubernetes_version: str | None = None
    contexts: Mapping[str, str] = MappingProxyType({})
    """homeops cluster name → kube context."""
    simulate: Mapping[str, Any] = MappingProxyType({})
    """``simulate:`` overrides of assumed durations, checked by :mod:`homeops.simulate.settings`."""
    simulate_lines: Mapping[str, int] = MappingProxyType({})
    """Line of each ``simulate:`` key, for error messages."""
    unapplied_files: bool = True
    """Whether files that no Flux Kustomization applies get one info note each."""
    producers: tuple[ProducerEntry, ...] = ()

    @property
    def ignore_rules(self) -> IgnoreRules:
        return IgnoreRules(self.ignore)


RuleId = Callable[[str], "str | None"]
"""Resolves a rule id or name to its id (None: no such rule)."""


def load_config(repo_root: Path, *, rule_id: RuleId | None = None) -> Config:
    """Read ``.homeops.yaml`` at the repository root (defaults when absent).

    ``rule_id`` checks the rule names of ``rules:``; without it they are kept as written.
    """
    path = repo_root / CONFIG_FILE
    if not path.is_file():
        return Config()
    from .load import yamlio
    from .load.walk import LeadsOutside, read_inside

    try:
        raw = read_inside(repo_root, CONFIG_FILE)
    except LeadsOutside as exc:
        raise ConfigError(str(exc), where=Where(CONFIG_FILE), hint="put the file itself there") from exc

    parsed = yamlio.parse(raw)
    if parsed.failure is not None:
        raise ConfigError(
            f"invalid YAML: {parsed.failure.reason}", where=Where(CONFIG_FILE, parsed.failure.line)
        )
    data = parsed.documents[0] if parsed.documents else None
    if data is None:
        return Config()
    nodes = yamlio.compose(raw.decode("utf-8", errors="replace"))

    def where(*keys: str | int) -> Where:
        return Where(CONFIG_FILE, yamlio.locate(nodes[0], keys) if nodes else 0)

    if not isinstance(data, dict):
        raise ConfigError("the file must be a mapping", where=where())
    for key in data:
        if key not in _KEYS:
            raise ConfigError(
                f"unknown key {key!r}", where=where(key), hint=f"known keys: {', '.join(_KEYS)}"
            )
    return Config(
        severities=_severities(data.get("rules"), where, rule_id),
        ignore=_ignores(data.get("ignore"), where),
        fail_on=_severity(data.get("fail-on", "error"), where("fail-on"), allow_off=False) or Severity.ERROR,
        isolated_clusters=_isolated(data.get("isolated-clusters", "auto"), where),
        kubernetes_version=str(data["kubernetes-version"]) if data.get("kubernetes-version") else None,
        contexts=_contexts(data.get("contexts"), where),
        simulate=_simulate(data.get("simulate"), where),
        simulate_lines={str(k): where("simulate", k).line for k in _simulate(data.get("simulate"), where)},
        unapplied_files=_unapplied(data.get("unapplied-files", "info"), where),
        producers=_producers(data.get("producers"), where),
    )


def _contexts(value: Any, where: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        raise ConfigError("'contexts' must map cluster names to kube context names", where=where("contexts"))
    return {str(k): v for k, v in value.items()}


def _simulate(value: Any, where: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("'simulate' must map assumption names to durations", where=where("simulate"))
    return {str(k): v for k, v in value.items()}


def _severity(value: Any, at: Where, *, allow_off: bool = True) -> Severity | None:
    text = "off" if value is False else str(value).lower()
    if text == "off" and allow_off:
        return None
    try:
        return Severity(text)
    except ValueError:
        choices = "error, warning, info" + (", off" if allow_off else "")
        raise ConfigError(f"{value!r} is not a severity", where=at, hint=f"use one of: {choices}") from None


def _severities(value: Any, where: Any, rule_id: RuleId | None) -> dict[str, Severity | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("'rules' must map rule ids to a severity or off", where=where("rules"))
    out: dict[str, Severity | None] = {}
    for key, severity in value.items():
        found = rule_id(str(key)) if rule_id is not None else str(key)
        if found is None:
            raise ConfigError(
                f"unknown rule {key!r}", where=where("rules", key), hint="'homeops rules' lists every rule"
            )
        out[found] = _severity(severity, where("rules", key))
    return out


def _ignores(value: Any, where: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("'ignore' must be a list of path patterns", where=where("ignore"))
    return tuple(value)


def _isolated(value: Any, where: Any) -> bool | None:
    if value in ("auto", None):
        return None
    if isinstance(value, bool):
        return value
    raise ConfigError(
        f"'isolated-clusters' must be auto, true or false, not {value!r}", where=where("isolated-clusters")
    )


def _unapplied(value: Any, where: Any) -> bool:
    if value in ("info", True):
        return True
    if value in ("off", False):
        return False
    raise ConfigError(f"'unapplied-files' must be info or off, not {value!r}", where=where("unapplied-files"))


_PRODUCED_KINDS = ("Secret", "ConfigMap", "PersistentVolumeClaim")


def _producers(value: Any, where: Any) -> tuple[ProducerEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            "'producers' must be a list of {kind, creates, name} entries", where=where("producers")
        )
    out = []
    for i, item in enumerate(value):
        at = where("producers", i)
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            raise ConfigError("a producers entry needs 'kind' (the producing object's kind)", where=at)
        creates = item.get("creates")
        if creates not in _PRODUCED_KINDS:
            raise ConfigError(
                f"producers entry {item['kind']!r}: 'creates' must be one of {', '.join(_PRODUCED_KINDS)}",
                where=at,
            )
        name = item.get("name", "{name}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"producers entry {item['kind']!r}: 'name' must be a text", where=at)
        try:
            name.format(name="x", namespace="y")
        except (KeyError, IndexError, ValueError):
            raise ConfigError(
                f"producers entry {item['kind']!r}: 'name' {name!r} may only use {{name}} and {{namespace}}",
                where=at,
            ) from None
        group = item.get("group")
        out.append(ProducerEntry(item["kind"], str(group) if group is not None else None, creates, name))
    return tuple(out)
