"""The shape of a state machine as data, and the one interpreter that recognises states in live objects.

A :class:`Machine` lists its states, the transitions between them (trigger, guard, timer, the
condition reason the controller sets, the domain events it emits), the timers with their defaults,
and an ordered list of :class:`Recognise` rules: the first rule whose matches all hold on a live
object names its state. Matches are small values (a condition with a status and reasons, a pod
phase, a container waiting reason, a spec field, a fact the caller knows beside the object), so the
same rules serve :func:`classify`, the live-cluster commands, the generated documentation and the
tests: there is no other place that tells states apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import NamedTuple
from .defaults import backoff
from .durations import format_duration, parse_duration

# -- matches: one fact about a live object ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cond:
    """``status.conditions[type]`` has ``status`` (any when None) and one of ``reasons`` (any when empty)."""

    type: str
    status: str | None = None
    reasons: tuple[str, ...] = ()
    message: str = ""
    """A fragment the condition message must contain (the action helm-controller is running)."""
    exclude: tuple[str, ...] = ()
    """Reasons that do not match (``Ready=False`` but not ``DependencyNotReady``)."""

    def text(self) -> str:
        out = self.type if self.status is None else f"{self.type}={self.status}"
        if self.reasons:
            out += f", reason {' | '.join(self.reasons)}"
        if self.exclude:
            out += f", reason not {' | '.join(self.exclude)}"
        if self.message:
            out += f", message contains {self.message!r}"
        return out


@dataclass(frozen=True, slots=True)
class Field:
    """A spec or status field (dotted path) equals ``value``."""

    path: str
    value: Any

    def text(self) -> str:
        return f"`{self.path}: {_yaml_scalar(self.value)}`"


@dataclass(frozen=True, slots=True)
class Has:
    """A status field (dotted path) is present and not empty (``status.refreshTime``: a sync happened)."""

    path: str

    def text(self) -> str:
        return f"`{self.path}` set"


@dataclass(frozen=True, slots=True)
class Phase:
    """``status.phase`` is one of ``phases``."""

    phases: tuple[str, ...]

    def text(self) -> str:
        return f"phase {' | '.join(self.phases)}"


@dataclass(frozen=True, slots=True)
class Container:
    """A container (init or app) is ``waiting`` or ``terminated`` with one of ``reasons`` (any when empty)."""

    state: str
    reasons: tuple[str, ...] = ()

    def text(self) -> str:
        reasons = " | ".join(self.reasons) if self.reasons else "any reason"
        return f"a container {self.state}: {reasons}"


@dataclass(frozen=True, slots=True)
class ParentCond:
    """Some entry of ``status.parents[]`` (Gateway API) has this condition."""

    cond: Cond

    def text(self) -> str:
        return f"a parent's {self.cond.text()}"


@dataclass(frozen=True, slots=True)
class NoParents:
    """``status.parents`` is empty or absent: no controller attached the route."""

    def text(self) -> str:
        return "no `status.parents` entry"


@dataclass(frozen=True, slots=True)
class Stale:
    """``metadata.generation`` is newer than ``status.observedGeneration`` (a new spec not yet handled)."""

    def text(self) -> str:
        return "`metadata.generation` > `status.observedGeneration`"


@dataclass(frozen=True, slots=True)
class NoStatus:
    """The object has no conditions (nor phase): no controller has reported on it yet."""

    def text(self) -> str:
        return "no status reported yet"


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact about the object that is not in it, given by the caller (``facts[name] == value``).

    An object alone cannot say everything: whether an ExternalSecret's target Secret exists is read
    from the cluster beside it. A rule with a fact holds only when the caller supplied that fact.
    """

    name: str
    value: Any

    def text(self) -> str:
        return f"{FACTS.get(self.name, self.name)}: {_yaml_scalar(self.value)}"


FACTS = {"target-exists": "its target Secret exists"}
"""The facts rules may ask for, and what each means (the generated docs print this text)."""

Match = Cond | Field | Has | Phase | Container | ParentCond | NoParents | Stale | NoStatus | Fact


@dataclass(frozen=True, slots=True)
class Recognise:
    """Rule: when every match holds, the object is in ``state``.

    The reason reported is ``reason`` when set, else the reason of the first matching condition or
    container state.
    """

    state: str
    when: tuple[Match, ...]
    reason: str = ""

    def text(self) -> str:
        return " and ".join(m.text() for m in self.when)


# -- the machine --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    name: str
    description: str
    health: str
    """``healthy``, ``progressing``, ``waiting`` (on something else), ``failing`` (retrying on its own),
    ``stalled`` (will not retry without a change), ``absent`` or ``suspended``."""
    final: bool = False
    """No automatic transition leaves it (a change, a reset or a resume is needed)."""


@dataclass(frozen=True, slots=True)
class Timer:
    name: str
    default: float | None
    """Seconds; None when the timer has no default (a required field). For a back-off, the first delay."""
    source: str
    """Where the value comes from: the spec field, the controller flag, the Kubernetes constant."""
    cap: float | None = None
    """For a back-off (the delay doubles after each failure): the longest delay. None: a fixed period."""
    fields: tuple[str, ...] = ()
    """Spec fields (dotted paths) that set it, the first one present winning; else ``default``."""

    def seconds(self, obj: Mapping[str, Any] | None = None) -> float | None:
        """The period for one object: its spec fields, else the default (None when neither says)."""
        if obj is not None:
            for dotted in self.fields:
                value = parse_duration(_path(obj, dotted))
                if value is not None:
                    return value
        return self.default

    def delay(self, failures: int) -> float:
        """A back-off's delay after ``failures`` consecutive failures (1 → the first delay)."""
        start = self.default or 0.0
        return backoff(failures, start, self.cap) if self.cap is not None else start

    def shown(self) -> str:
        """``10s doubling to 5m0s`` or ``30s`` or ``-`` (no default)."""
        if self.default is None:
            return "-"
        if self.cap is not None:
            return f"{format_duration(self.default)} doubling to {format_duration(self.cap)}"
        return format_duration(self.default)


@dataclass(frozen=True, slots=True)
class Transition:
    source: str
    target: str
    trigger: str
    guard: str = ""
    timer: str = ""
    """Name of the timer that fires the transition, if a timer does."""
    reason: str = ""
    """The condition reason (or container reason) the controller sets on entering ``target``."""
    emits: tuple[str, ...] = ()
    """Domain events (the seeds' FluxReconciled, HelmReleaseReady, SecretSynced, …)."""


@dataclass(frozen=True, slots=True)
class Machine:
    kind: str
    """The Kubernetes kind (or the seeds' process name for the two pipeline machines)."""
    api: str
    """API group/version, or "process" for machines that are not Kubernetes objects."""
    title: str
    summary: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    timers: tuple[Timer, ...] = ()
    recognise: tuple[Recognise, ...] = ()
    """Ordered: the first rule that holds names the state. Empty for machines without live objects."""
    fallback: tuple[str, str] = ("", "")
    """(state, reason) when no rule holds."""
    seed_differences: tuple[str, ...] = ()
    """Where the seed documents say otherwise, and what the controllers really do."""
    sources: tuple[str, ...] = ()
    """Provenance of the behaviour: specs and source files it was checked against."""
    slug: str = field(default="")
    """Name of its documentation page (docs/runtime/<slug>.md)."""

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"{self.kind} has no state {name!r}")

    def timer(self, name: str) -> Timer:
        for timer in self.timers:
            if timer.name == name:
                return timer
        raise KeyError(f"{self.kind} has no timer {name!r}")

    @property
    def events(self) -> tuple[str, ...]:
        """Every domain event some transition emits, in first-seen order."""
        seen: dict[str, None] = {}
        for transition in self.transitions:
            for event in transition.emits:
                seen.setdefault(event)
        return tuple(seen)

    def classify(self, obj: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> tuple[str, str]:
        """(state, reason) of a live object: the first :attr:`recognise` rule that holds."""
        found = self.recognised(obj, facts)
        return found.state, found.reason

    def recognised(self, obj: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> Recognised:
        """The state of a live object with the reason and message of what identified it."""
        return recognise_with(self.recognise, obj, self.fallback, facts)


class Recognised(NamedTuple):
    state: str
    reason: str
    message: str = ""
    """The message of the condition (or container state) that identified the state, "" when none."""


# -- the interpreter ----------------------------------------------------------------------------


def classify_with(
    rules: Sequence[Recognise],
    obj: Mapping[str, Any],
    fallback: tuple[str, str],
    facts: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    found = recognise_with(rules, obj, fallback, facts)
    return found.state, found.reason


def recognise_with(
    rules: Sequence[Recognise],
    obj: Mapping[str, Any],
    fallback: tuple[str, str],
    facts: Mapping[str, Any] | None = None,
) -> Recognised:
    for rule in rules:
        found = _holds(rule.when, obj, facts or {})
        if found is not None:
            return Recognised(rule.state, rule.reason or found[0], found[1])
    return Recognised(*fallback)


def _holds(
    matches: Sequence[Match], obj: Mapping[str, Any], facts: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(reason, message) the matches yield (from the first that carries a reason), or None when one does
    not hold."""
    reason, message = "", ""
    for match in matches:
        found = _match(match, obj, facts)
        if found is None:
            return None
        if not reason:
            reason, message = found
    return reason, message


_NOTHING = ("", "")


def _match(match: Match, obj: Mapping[str, Any], facts: Mapping[str, Any]) -> tuple[str, str] | None:
    status = _map(obj.get("status"))
    if isinstance(match, Cond):
        return _cond(match, _list(status.get("conditions")))
    if isinstance(match, ParentCond):
        for parent in _list(status.get("parents")):
            found = _cond(match.cond, _list(_map(parent).get("conditions")))
            if found is not None:
                return found
        return None
    if isinstance(match, NoParents):
        return _NOTHING if not _list(status.get("parents")) else None
    if isinstance(match, Field):
        return _NOTHING if _path(obj, match.path) == match.value else None
    if isinstance(match, Has):
        return _NOTHING if _path(obj, match.path) not in (None, "", [], {}) else None
    if isinstance(match, Phase):
        return _NOTHING if status.get("phase") in match.phases else None
    if isinstance(match, Container):
        for cs in _container_statuses(status):
            state = _map(_map(cs.get("state")).get(match.state))
            if not state and match.state not in _map(cs.get("state")):
                continue
            reason = state.get("reason")
            if not match.reasons or reason in match.reasons:
                return str(reason or match.state), str(state.get("message") or "")
        return None
    if isinstance(match, Stale):
        generation = _map(obj.get("metadata")).get("generation")
        observed = status.get("observedGeneration")
        stale = isinstance(generation, int) and isinstance(observed, int) and observed < generation
        return _NOTHING if stale else None
    if isinstance(match, NoStatus):
        return _NOTHING if not _list(status.get("conditions")) and not status.get("phase") else None
    if isinstance(match, Fact):
        return _NOTHING if match.name in facts and facts[match.name] == match.value else None
    raise TypeError(f"unknown match {match!r}")


def _cond(match: Cond, conditions: list[Any]) -> tuple[str, str] | None:
    for item in conditions:
        cond = _map(item)
        if cond.get("type") != match.type:
            continue
        if match.status is not None and str(cond.get("status")) != match.status:
            return None
        reason = str(cond.get("reason") or "")
        if match.reasons and reason not in match.reasons:
            return None
        if match.exclude and reason in match.exclude:
            return None
        message = str(cond.get("message") or "")
        if match.message and match.message not in message:
            return None
        return reason, message
    return None


def _container_statuses(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for key in ("initContainerStatuses", "containerStatuses"):
        out.extend(_map(cs) for cs in _list(status.get(key)))
    return out


def condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    """The condition of ``type_`` in ``status.conditions``, if present."""
    for item in _list(_map(obj.get("status")).get("conditions")):
        cond = _map(item)
        if cond.get("type") == type_:
            return cond
    return None


def _path(obj: Mapping[str, Any], dotted: str) -> Any:
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
