"""Every state machine, by kind, and ``classify``: the state of a live object in the machines' words.

This is the small, pure API the live-cluster commands and the simulation share::

    from homeops.runtime.machines import MACHINES, classify
    classify("HelmRelease", obj)        # → ("Stalled", "RetriesExceeded")
    MACHINES["Kustomization"].states   # states, transitions, timers, recognition rules

``obj`` is a Kubernetes object as a plain mapping (``kubectl get -o json`` or a snapshot item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .external_secrets import EXTERNAL_SECRET, SECRET_STORE
from .flux import HELM_RELEASE, KUSTOMIZATION
from .machine import Machine
from .pipelines import NODE, TEMPLATE_GENERATION
from .routes import GATEWAY, HTTP_ROUTE
from .sources import KINDS as SOURCE_KINDS
from .sources import SOURCE
from .workloads import PERSISTENT_VOLUME_CLAIM, POD

ALL: tuple[Machine, ...] = (
    KUSTOMIZATION,
    HELM_RELEASE,
    SOURCE,
    EXTERNAL_SECRET,
    SECRET_STORE,
    POD,
    HTTP_ROUTE,
    GATEWAY,
    PERSISTENT_VOLUME_CLAIM,
    TEMPLATE_GENERATION,
    NODE,
)
"""One entry per machine (and per documentation page), in reading order."""

MACHINES: dict[str, Machine] = {machine.kind: machine for machine in ALL}
MACHINES["ClusterSecretStore"] = SECRET_STORE
MACHINES.update({kind: SOURCE for kind in SOURCE_KINDS})


def classify(kind: str, obj: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(state, reason) of a live object of ``kind``; raises KeyError for a kind without a machine.

    ``facts``: what the caller knows beside the object (:data:`homeops.runtime.machine.FACTS`), e.g.
    ``{"target-exists": True}`` for an ExternalSecret whose Secret is in the cluster.
    """
    return MACHINES[kind].classify(obj, facts)
