"""The HTTPRoute machine (Gateway API v1): status per parent Gateway, Accepted and ResolvedRefs.

Checked against the conformance tests in ``../shared/runtime/gateway-api-conformance/``
(kubernetes-sigs/gateway-api @ 4564255): Accepted=False with NotAllowedByListeners or NoMatchingParent,
ResolvedRefs=False with BackendNotFound, RefNotPermitted or InvalidKind. A parentRef that resolves to
no Gateway of a controller gets no ``status.parents`` entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records import NamedTuple
from .machine import (
    Cond,
    Machine,
    NoParents,
    NoStatus,
    ParentCond,
    Recognise,
    State,
    Transition,
    classify_with,
)

_ACCEPTED_FALSE = (
    "NotAllowedByListeners",
    "NoMatchingParent",
    "NoMatchingListenerHostname",
    "UnsupportedValue",
)
_REFS_FALSE = ("BackendNotFound", "RefNotPermitted", "InvalidKind", "UnsupportedProtocol")

HTTP_ROUTE = Machine(
    kind="HTTPRoute",
    api="gateway.networking.k8s.io/v1",
    slug="httproute",
    title="HTTPRoute",
    summary="Each Gateway named in `parentRefs` reports on the route separately in `status.parents[]`: "
    "Accepted (the listener takes it) and ResolvedRefs (every backendRef resolves). The route works "
    "through a parent only when both are True there.",
    initial="Absent",
    states=(
        State("Absent", "not applied yet", "absent"),
        State("Pending", "no Gateway controller has reported on it (no `status.parents`)", "waiting"),
        State(
            "Rejected",
            "a parent Gateway does not accept it (listener, hostname, namespace): the controller looks "
            "again only when the route or the Gateway changes",
            "stalled",
            final=True,
        ),
        State(
            "RefsUnresolved",
            "accepted, but a backendRef does not resolve (Service missing, not permitted); it resolves as "
            "soon as the Service appears",
            "waiting",
        ),
        State("Accepted", "accepted by its parents with every backend resolved: traffic flows", "healthy"),
    ),
    transitions=(
        Transition(
            "Absent",
            "Pending",
            "applied (by a chart's route values or a Kustomization)",
            emits=("HTTPRouteCreated",),
        ),
        Transition(
            "Pending",
            "Accepted",
            "the Gateway controller attaches it",
            guard="listener allows the route, backends exist",
            reason="Accepted",
        ),
        Transition(
            "Pending",
            "Rejected",
            "listener or hostname does not match, namespace not allowed",
            reason="NotAllowedByListeners",
        ),
        Transition(
            "Pending",
            "RefsUnresolved",
            "a backend Service is missing or not permitted",
            reason="BackendNotFound",
        ),
        Transition(
            "RefsUnresolved",
            "Accepted",
            "the backend Service appears (its HelmRelease installs)",
            reason="ResolvedRefs",
        ),
        Transition("Rejected", "Accepted", "route or Gateway fixed", reason="Accepted"),
    ),
    recognise=(
        Recognise("Rejected", (ParentCond(Cond("Accepted", "False")),)),
        Recognise("RefsUnresolved", (ParentCond(Cond("ResolvedRefs", "False")),)),
        Recognise("Accepted", (ParentCond(Cond("Accepted", "True")),)),
        Recognise("Pending", (NoParents(),), reason="NoParents"),
    ),
    fallback=("Pending", "Unknown"),
    seed_differences=(
        "The seeds treat a route as created or not; the Gateway API reports per parent: a route can be "
        "Accepted by one Gateway and rejected by another, and accepted with unresolved backends (HTTP 500).",
        '"Wrong parentRefs" (seed 002 scenario) shows up as Accepted=False NoMatchingParent, or as no '
        "status entry at all when the named Gateway does not exist.",
    ),
    sources=(
        "gateway-api-conformance/httproute-invalid-*.go (kubernetes-sigs/gateway-api @ 4564255)",
        f"Accepted=False reasons: {', '.join(_ACCEPTED_FALSE)}; ResolvedRefs=False: {', '.join(_REFS_FALSE)}",
    ),
)


GATEWAY = Machine(
    kind="Gateway",
    api="gateway.networking.k8s.io/v1",
    slug="gateway",
    title="Gateway",
    summary="The Gateway controller (Cilium, Envoy Gateway, …) accepts the Gateway when its class and "
    "listeners are valid, then programs the data plane and assigns addresses. Routes attach to it only "
    "once it is Accepted; traffic flows once it is Programmed.",
    initial="Absent",
    states=(
        State("Absent", "not applied yet", "absent"),
        State("Pending", "no controller has reported on it (no conditions)", "waiting"),
        State(
            "Rejected",
            "not accepted (unsupported class, invalid listeners): needs a change to the Gateway",
            "stalled",
            final=True,
        ),
        State("Programming", "accepted; the data plane or its address is not ready yet", "progressing"),
        State("Programmed", "accepted and programmed: listeners serve traffic", "healthy"),
    ),
    transitions=(
        Transition("Absent", "Pending", "applied"),
        Transition("Pending", "Programming", "the controller accepts it", reason="Accepted"),
        Transition("Pending", "Rejected", "invalid class, parameters or listeners", reason="Invalid"),
        Transition(
            "Programming", "Programmed", "data plane configured, address assigned", reason="Programmed"
        ),
        Transition(
            "Programmed",
            "Programming",
            "address lost or the data plane is not ready",
            reason="AddressNotAssigned",
        ),
        Transition("Rejected", "Programming", "Gateway fixed", reason="Accepted"),
    ),
    recognise=(
        Recognise("Rejected", (Cond("Accepted", "False"),)),
        Recognise("Programming", (Cond("Programmed", "False"),)),
        Recognise("Programmed", (Cond("Programmed", "True"),)),
        Recognise("Programming", (Cond("Accepted"),)),
        Recognise("Pending", (NoStatus(),), reason="NoStatus"),
    ),
    fallback=("Pending", "Unknown"),
    seed_differences=(
        "The seeds name the Gateway only as a route's parent; a route attaches to it only while it is "
        "Accepted, and traffic flows only once it is Programmed.",
    ),
    sources=(
        "Gateway API v1 GatewayConditionType Accepted and Programmed (kubernetes-sigs/gateway-api apis/v1)",
    ),
)


class ParentState(NamedTuple):
    """The route's state through one parent Gateway."""

    gateway: str
    """``namespace/name`` of the parent (namespace defaults to the route's)."""
    section: str
    state: str
    reason: str


def classify_parents(obj: Mapping[str, Any]) -> list[ParentState]:
    """The route's state per ``status.parents[]`` entry (empty when no controller reported)."""
    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    namespace = str((obj.get("metadata") or {}).get("namespace") or "default")
    out = []
    parents = status.get("parents")
    for parent in parents if isinstance(parents, list) else []:
        if not isinstance(parent, Mapping):
            continue
        ref = parent.get("parentRef") if isinstance(parent.get("parentRef"), Mapping) else {}
        assert isinstance(ref, Mapping)
        one = {"status": {"parents": [parent]}}
        state, reason = classify_with(HTTP_ROUTE.recognise, one, HTTP_ROUTE.fallback)
        out.append(
            ParentState(
                f"{ref.get('namespace') or namespace}/{ref.get('name', '')}",
                str(ref.get("sectionName") or ""),
                state,
                reason,
            )
        )
    return out
