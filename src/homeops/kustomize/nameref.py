"""Name references: after names changed (prefix, suffix, hash, namespace), fix the fields that name them.

For each object that may refer to another (a Deployment to a ConfigMap, a RoleBinding to a
ServiceAccount…), every reference field of the configuration is visited; a referenced object is one
whose *earlier* name equals the field's value, of the target kind, reachable from the referrer
(same namespace, or cluster-scoped). Only objects whose id changed during the build are candidates,
exactly as in kustomize.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .fieldspec import FieldSpecError, Path, TransformerConfig, walk
from .resid import NOT_NAMESPACED, Res, text


class NameRefError(Exception):
    """A reference is ambiguous or malformed (the caller adds file and line)."""


def fix_references(resources: Sequence[Res], config: TransformerConfig) -> None:
    if not any(res.prev for res in resources):
        return
    reachable = _Reachable(resources)
    for referrer in resources:
        org = referrer.org_id()
        specs = config.referrers(org[2])
        candidates: list[Res] | None = None
        for backref, spec in specs:
            if not spec.selects(org[0], org[1], org[2]):
                continue
            if candidates is None:
                candidates = reachable(referrer)
            setter = _Setter(referrer, (backref.group, backref.version, backref.kind), spec.path, candidates)
            try:
                walk(referrer, spec, setter, None)
            except FieldSpecError as exc:
                raise NameRefError(
                    f"{referrer.kind} {referrer.name!r}: {exc} (name reference field {spec.path})"
                ) from None


class _Reachable:
    """kustomize's SubsetThatCouldBeReferencedByResource, for every referrer of one pass.

    Fixing references writes reference fields, never an object's own name or namespace, so the
    objects' namespaces are read once per pass and each subset is worked out once per namespace.
    """

    def __init__(self, resources: Sequence[Res]) -> None:
        self.resources = resources
        self._scopes: list[tuple[Res, bool, str, str]] | None = None
        self._subsets: dict[tuple[str, frozenset[str]], list[Res]] = {}
        self._positions: dict[str, list[int]] = {}
        """Where the objects of each effective namespace are, cluster-scoped ones under ``""``."""

    def __call__(self, referrer: Res) -> list[Res]:
        if referrer.cluster_scoped():
            return list(self.resources)
        namespace = referrer.effective_namespace()
        subject_namespaces: set[str] = set()
        if referrer.kind == "RoleBinding":
            subjects = referrer.obj.get("subjects")
            if isinstance(subjects, list):
                for subject in subjects:
                    if (
                        isinstance(subject, dict)
                        and subject.get("kind") == "ServiceAccount"
                        and "namespace" in subject
                    ):
                        subject_namespaces.add(text(subject.get("namespace")))
        key = (namespace, frozenset(subject_namespaces))
        found = self._subsets.get(key)
        if found is None:
            if self._scopes is None:
                self._scopes = [
                    (res, res.cluster_scoped(), res.effective_namespace(), res.namespace)
                    for res in self.resources
                ]
                for i, (_res, cluster_scoped, effective, _own) in enumerate(self._scopes):
                    self._positions.setdefault("" if cluster_scoped else effective, []).append(i)
            if subject_namespaces:
                found = [
                    res
                    for res, cluster_scoped, effective, own in self._scopes
                    if cluster_scoped or effective == namespace or own in subject_namespaces
                ]
            else:
                # the namespace's objects and the cluster-scoped ones, in list order (an overlay of
                # many bases asks once per namespace: a scan of every object each time added up)
                chosen = sorted([*self._positions.get("", ()), *self._positions.get(namespace, ())])
                found = [self._scopes[i][0] for i in chosen]
            self._subsets[key] = found
        return list(found)


def _selected(target: tuple[str, str, str], group: str, version: str, kind: str) -> bool:
    tg, tv, tk = target
    return (not tg or tg == group) and (not tv or tv == version) and (not tk or tk == kind)


def _suffix_match(a: list[str], b: list[str]) -> bool:
    """kustomize's SameEndingSubSlice."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return not long_
    return long_[len(long_) - len(short) :] == short


class _Setter:
    def __init__(self, referrer: Res, target: tuple[str, str, str], path: str, candidates: list[Res]) -> None:
        self.referrer = referrer
        self.target = target
        self.path = path
        self.candidates = candidates

    def __call__(self, res: Res, path: Path, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            self._mapping(path, value)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    self._mapping((*path, i), item)
                elif item is not None and not isinstance(item, list):
                    self._scalar((*path, i), item)
        else:
            self._scalar(path, value)

    def _scalar(self, path: Path, value: Any) -> None:
        old = text(value)
        referral = self._select(old, self.candidates, names_only=True)
        if referral is None or referral.name == old:
            return
        self.referrer.writable(path[:-1])[path[-1]] = referral.name

    def _mapping(self, path: Path, node: dict[str, Any]) -> None:
        if "name" not in node:
            raise FieldSpecError("a name reference mapping has no 'name' field")
        candidates = self.candidates
        if "namespace" in node:
            namespace = text(node.get("namespace"))
            by_original = [r for r in candidates if _org_ns(r) == namespace]
            candidates = by_original or [r for r in candidates if _cur_ns(r) == namespace]
        candidates = [r for r in candidates if r.prev]
        old = text(node.get("name"))
        referral = self._select(old, candidates, names_only=False)
        if referral is None:
            return
        if referral.name == old and referral.namespace == "":
            return
        target = self.referrer.writable(path)
        target["name"] = referral.name
        if referral.namespace:
            target["namespace"] = referral.namespace

    def _select(self, old: str, candidates: list[Res], *, names_only: bool) -> Res | None:
        found = [r for r in candidates if r.prev and any(name == old for _k, _ns, name in r.prev)]
        found = [
            r for r in found if any(_selected(self.target, *r.gvk()[:2], kind) for kind, _ns, _n in r.prev)
        ]
        if self.path.endswith("roleRef/name"):
            role_ref = self.referrer.obj.get("roleRef")
            if isinstance(role_ref, dict) and "apiGroup" in role_ref and "kind" in role_ref:
                wanted = (text(role_ref.get("apiGroup")), "", text(role_ref.get("kind")))
                found = [
                    r
                    for r in found
                    if any(_selected(wanted, r.gvk()[0], r.gvk()[1], k) for k, _a, _b in r.prev)
                ]
        found = self._same_namespace(found)
        if len(found) == 1:
            return found[0]
        found = [
            r
            for r in found
            if _suffix_match(r.prefixes, self.referrer.prefixes)
            and _suffix_match(r.suffixes, self.referrer.suffixes)
        ]
        if len(found) == 1:
            return found[0]
        if not found:
            return None
        first = found[0]
        if all(r.name == first.name and (names_only or r.namespace == first.namespace) for r in found):
            return first
        names = ", ".join(f"{r.kind}/{r.namespace}/{r.name}" for r in found)
        raise NameRefError(
            f"{self.referrer.kind} {self.referrer.name!r} refers to {old!r} at {self.path}, "
            f"which matches several objects: {names}"
        )

    def _same_namespace(self, found: list[Res]) -> list[Res]:
        if self.referrer.cluster_scoped():
            return found
        namespace = self.referrer.effective_namespace()
        return [
            r
            for r in found
            if r.cluster_scoped() or r.kind == "ServiceAccount" or r.effective_namespace() == namespace
        ]


def _org_ns(res: Res) -> str | None:
    """The original effective namespace (kustomize's grouping; None for cluster-scoped)."""
    ns = res.org_id()[4]
    if ns == NOT_NAMESPACED:
        return None
    return "default" if ns in ("", "default") else ns


def _cur_ns(res: Res) -> str | None:
    ns = res.effective_namespace()
    return None if ns == NOT_NAMESPACED else ns
