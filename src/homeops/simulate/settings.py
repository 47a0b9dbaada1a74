"""The durations a simulation cannot read from the repository, and how ``.homeops.yaml`` overrides them.

```yaml
simulate:
  image-pull: 2m               # any assumption below, as a Go duration or seconds
  helm-controller-concurrent: 10
  requeue-dependency: 30s      # a controller flag, when the cluster runs with another value
  push-notice: 5m              # --change without a webhook: the GitRepository's poll
```

Every value is reported with the result ("assumptions"), with where it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, Where
from ..records import NamedTuple
from ..runtime import defaults as d
from ..runtime.durations import format_duration, parse_duration

DEFAULT_HORIZON = 86400.0
"""Without ``--for``: until nothing changes, or 24 h."""


class Assumption(NamedTuple):
    name: str
    value: float
    """Seconds, or a count for ``*-concurrent``."""
    text: str
    source: str
    """``default`` (with what it rests on), ``controller default`` or ``.homeops.yaml``."""

    def shown(self) -> str:
        value = str(int(self.value)) if self.name.endswith("-concurrent") else format_duration(self.value)
        return f"{self.name} = {value}: {self.text} ({self.source})"


_DEFAULTS: tuple[tuple[str, float, str, str], ...] = (
    ("source-fetch", 5, "source-controller fetching a Git, OCI or Bucket artifact", "assumed"),
    ("chart-pull", 5, "source-controller indexing a HelmRepository and pulling a chart", "assumed"),
    (
        "kustomization-apply",
        5,
        "kustomize build, server-side apply and prune of one Kustomization",
        "assumed",
    ),
    ("helm-action", 10, "helm-controller rendering and applying a chart, before waiting", "assumed"),
    ("image-pull", 30, "pulling a workload's images on a cold node (seed 002: 10s-2m)", "assumed"),
    ("pod-start", 15, "containers starting and passing readiness (seed 002: 10s-1m)", "assumed"),
    ("helm-remediation", 10, "an uninstall or rollback remediation", "assumed"),
    (
        "secret-sync",
        3,
        "an ExternalSecret reading its provider and writing the Secret (seed 002: 2-10s)",
        "assumed",
    ),
    ("store-validate", 2, "external-secrets validating a store once its provider runs", "assumed"),
    (
        "push-notice",
        0,
        "--change: until the GitRepository fetches the pushed commit (0: at once, with a webhook "
        "Receiver or `flux reconcile source git`; without one, up to its interval)",
        "assumed",
    ),
    ("volume-bind", 10, "a claim bound by its provisioner", "assumed"),
    ("database-init", 120, "a CloudNativePG cluster initialising its first instance", "assumed"),
    ("certificate-issue", 60, "cert-manager obtaining a certificate (ACME)", "assumed"),
    ("gateway-programme", 5, "a Gateway programmed by its controller, routes attached", "assumed"),
    (
        "requeue-dependency",
        d.REQUEUE_DEPENDENCY,
        "re-check of a dependency that is not Ready",
        d.REQUEUE_DEPENDENCY_SOURCE,
    ),
    (
        "kustomize-controller-concurrent",
        d.CONCURRENCY["kustomize-controller"],
        "Kustomizations reconciled at once",
        "controller default --concurrent",
    ),
    (
        "helm-controller-concurrent",
        d.CONCURRENCY["helm-controller"],
        "HelmReleases reconciled at once",
        "controller default --concurrent",
    ),
    (
        "source-controller-concurrent",
        d.CONCURRENCY["source-controller"],
        "sources fetched at once",
        "controller default --concurrent",
    ),
)

NAMES = tuple(name for name, *_ in _DEFAULTS)


@dataclass(frozen=True, slots=True)
class Settings:
    values: Mapping[str, Assumption]

    def __getitem__(self, name: str) -> float:
        return self.values[name].value

    def assumptions(self) -> list[str]:
        return [a.shown() for a in self.values.values()]


def settings(overrides: Mapping[str, Any] | None = None, lines: Mapping[str, int] | None = None) -> Settings:
    """Defaults with ``.homeops.yaml``'s ``simulate:`` values applied (``lines``: where each key is)."""
    values = {name: Assumption(name, float(value), text, source) for name, value, text, source in _DEFAULTS}
    for key, raw in (overrides or {}).items():
        where = Where(".homeops.yaml", (lines or {}).get(str(key), 0))
        if key not in values:
            raise ConfigError(
                f"unknown simulate setting {key!r}", where=where, hint=f"known settings: {', '.join(NAMES)}"
            )
        if str(key).endswith("-concurrent"):
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
                raise ConfigError(f"'{key}' must be a whole number of at least 1", where=where)
            seconds = float(raw)
        else:
            parsed = parse_duration(raw)
            if parsed is None:
                raise ConfigError(
                    f"'{key}' must be a duration, not {raw!r}", where=where, hint="for example 90s, 2m, 1h30m"
                )
            seconds = parsed
        old = values[str(key)]
        values[str(key)] = Assumption(old.name, seconds, old.text, ".homeops.yaml")
    return Settings(values)
