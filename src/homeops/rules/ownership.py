"""Rules about who owns an applied object: one Kustomization each, or they fight over it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..flux.tree import Producer
from ..model.base import Resource
from ..model.kinds import identity_namespace
from .base import Hit, Severity, rule
from .context import Context


@rule(
    id="OWN001",
    name="applied-twice",
    family="ownership",
    severity=Severity.WARNING,
    seed="Keep ownership singular: Flux manages all cluster resources in scope",
    summary="The same object is applied by two Kustomizations of one cluster",
    why="Each Kustomization records what it applied and prunes what it no longer applies: when one of two "
    "owners stops applying the object (an app removed, a folder moved), it deletes the object the other "
    "still needs; meanwhile both apply their own version, and the last one wins on every reconcile.",
    bad="# kubernetes/flux/vars/namespaces.yaml (cluster-vars)\nkind: Namespace\nmetadata:\n  name: media\n"
    "# kubernetes/apps/media/namespace.yaml (cluster-apps) defines it again\n",
    good="# only kubernetes/apps/media/namespace.yaml defines the Namespace media\n",
    fix="Keep the object in one Kustomization's path and delete the other copy (a component included by "
    "two Kustomizations counts twice).",
)
def applied_twice(ctx: Context) -> Iterator[Hit]:
    # In expansion order: the first Kustomization to apply an object is taken as its owner.
    owners: dict[tuple[str, str, str, str, str], list[tuple[Producer, Resource]]] = defaultdict(list)
    for producer in ctx.producers():
        for (group, kind), res in zip(ctx.kind_keys(producer.objects), producer.objects, strict=True):
            key = (producer.cluster, group, kind, identity_namespace(kind, res.namespace), res.name)
            found = owners[key]
            if not found or found[-1][0] is not producer:  # a producer's objects come one after another
                found.append((producer, res))
    for (cluster, _group, kind, namespace, name), found in sorted(owners.items(), key=lambda kv: kv[0]):
        if len(found) < 2:
            continue
        (first, first_res), *others = found
        same = all(res.obj == first_res.obj for _, res in others)
        shown = f"{namespace}/{name}" if namespace else name
        names = ", ".join(p.id.short for p, _ in found)
        what = "identical copies" if same else "different content: the last one applied wins"
        for _producer, res in others:
            yield Hit(
                res.origin.path,
                res.origin.line,
                f"{kind} {shown} is applied by {len(found)} Kustomizations in cluster {cluster!r} ({names}; "
                f"{what}); also in {first_res.origin.path}:{first_res.origin.line}: either one prunes it "
                "when it stops applying it",
                f"keep it in one place: {first.id.short} already applies it",
            )
