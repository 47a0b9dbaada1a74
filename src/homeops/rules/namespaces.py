"""Rules about namespaces: what a cluster applies into a namespace needs something to create it first.

kustomize-controller never creates a namespace (kustomize-controller docs, "Target namespace"): it
applies the Namespaces of one Kustomization before the rest of it, and an object whose namespace does
not exist fails that Kustomization's whole apply (``namespaces "x" not found``). Helm creates a
release's namespace only with ``install.createNamespace``. Across Kustomizations nothing orders the
apply but ``dependsOn`` and the parent that applies a Kustomization.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..flux.tree import Producer
from ..graph.model import Node, closure
from ..model.base import NamedResource, Resource, get_path
from ..model.flux import FLUX_HELM_GROUP, HelmRelease
from ..model.kinds import known_namespaced
from ..model.producers import is_sealed
from ..records import NamedTuple, Record
from .base import Hit, Severity, rule
from .context import Context

#: Namespaces every cluster has: Kubernetes' own, and Flux's (its controllers run there, made by
#: ``flux bootstrap`` or the flux-operator install before anything is synced).
FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io"

ALWAYS = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "flux-system"})


class ClusterNamespaces(Record):
    """Who creates each namespace of one cluster."""

    __slots__ = ("exists", "made_by", "templated", "unseen")

    exists: set[str]
    """Namespaces there before any Kustomization needs them (Kubernetes', Flux's, bootstrap's), or made
    by Helm (``install.createNamespace``)."""
    made_by: dict[str, set[NamedResource]]
    """Namespace → the Kustomizations that apply a Namespace of that name."""
    unseen: dict[NamedResource, tuple[str | None, str]]
    """Kustomizations homeops cannot build (another repository's, a remote base offline, a failing
    build) → the one namespace they can create (their targetNamespace, or None: any), and why."""
    templated: bool
    """A flux-operator ResourceSet makes Namespaces whose names come from its inputs: any may exist."""

    def __init__(self) -> None:
        self.exists = set(ALWAYS)
        self.made_by = defaultdict(set)
        self.unseen = {}
        self.templated = False

    def created(self, namespace: str) -> bool:
        return namespace in self.exists or bool(self.made_by.get(namespace))


def cluster_namespaces(ctx: Context, cluster: str) -> ClusterNamespaces:
    """Who creates each namespace of ``cluster``, as far as the repository says (computed once)."""
    return ctx.memo(f"namespaces:{cluster}", lambda: _cluster_namespaces(ctx, cluster))


def _cluster_namespaces(ctx: Context, cluster: str) -> ClusterNamespaces:
    out = ClusterNamespaces()
    for producer in ctx.cluster_producers(cluster):
        out.exists.add(producer.ks.namespace)  # a Kustomization exists in its namespace, so does that
        if producer.external or producer.error is not None:
            why = "is built from another repository" if producer.external else "could not be built here"
            out.unseen[producer.id] = (producer.ks.target_namespace, why)
        for namespace in _namespaces_made(ctx, producer):
            out.made_by[namespace].add(producer.id)
        for res in ctx.of_kinds(
            producer.objects, (FLUX_HELM_GROUP, "HelmRelease"), (FLUX_OPERATOR_GROUP, "ResourceSet")
        ):
            if res.kind == "HelmRelease" and _creates_namespace(res):
                out.exists.add(HelmRelease(res).release_namespace)
            elif res.kind == "ResourceSet":
                _resource_set_namespaces(res, out)
    for res in ctx.flux.bootstrap_objects(cluster):
        if res.kind == "Namespace" and res.group == "":
            out.exists.add(res.name)
    # helmfile creates a release's namespace unless told not to (createNamespace defaults to true).
    out.exists.update(release.namespace for release in ctx.bootstrap.releases)
    entries = ctx.flux.clusters[cluster].entries if cluster in ctx.flux.clusters else ()
    out.exists.update(entry.ks.namespace for entry in entries if entry.ks.namespace)
    return out


def _namespaces_made(ctx: Context, producer: Producer) -> Iterator[str]:
    """The Namespaces a Kustomization creates (as written, when its build fails here)."""
    made = [res.name for res in ctx.of_kinds(ctx.documents_of(producer), ("", "Namespace"))]
    target = producer.ks.target_namespace
    if producer.error is not None and target:
        made = [target] if made else []  # kustomize renames every Namespace of a build to the target
    yield from made


def _resource_set_namespaces(res: Resource, out: ClusterNamespaces) -> None:
    """The Namespaces a ResourceSet renders (``<< inputs.x >>`` names are known only to flux-operator)."""
    items = get_path(res.obj, "spec", "resources")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("kind") == "Namespace":
            name = get_path(item, "metadata", "name")
            if isinstance(name, str) and "<<" not in name:
                out.exists.add(name)
            else:
                out.templated = True
    template = get_path(res.obj, "spec", "resourcesTemplate")
    if isinstance(template, str) and "kind: Namespace" in template:
        out.templated = True


def _creates_namespace(res: Resource) -> bool:
    return get_path(res.obj, "spec", "install", "createNamespace") is True


def _plain(name: str | None) -> bool:
    return bool(name) and "${" not in str(name)


class Need(NamedTuple):
    """A namespace one Kustomization needs: where the need is written and how to say it."""

    namespace: str
    res: Resource
    path: tuple[str | int, ...]
    what: str
    """The object and how it needs the namespace (``Secret 'x' goes into namespace``)."""
    helm: bool = False
    """Helm needs it (a HelmRelease's targetNamespace), not kustomize-controller's apply."""


def needs(ctx: Context, producer: Producer) -> list[Need]:
    """The namespaces a Kustomization's apply needs, each once, at the first place that names it
    (worked out once: two rules ask)."""
    return ctx.memo(f"needs:{producer.cluster}:{producer.id}", lambda: list(_needs(ctx, producer)))


def _needs(ctx: Context, producer: Producer) -> Iterator[Need]:
    ks = producer.ks
    seen: set[str] = set()
    target = ks.target_namespace
    if _plain(target):
        seen.add(str(target))
        yield Need(
            str(target),
            ks.res,
            ("spec", "targetNamespace"),
            f"Kustomization {producer.id.short} sets targetNamespace",
        )
    for (group, kind), res in zip(ctx.kind_keys(producer.objects), producer.objects, strict=True):
        namespace = res.namespace
        if namespace in seen or not _plain(namespace):
            continue
        if not known_namespaced(group, kind) or is_sealed(res):
            continue  # a custom kind may be cluster-scoped; a document encrypted whole is unreadable
        seen.add(namespace)
        yield Need(namespace, res, ("metadata", "namespace"), f"{res.kind} {res.name!r} goes into namespace")
    for res in ctx.of_kinds(producer.objects, (FLUX_HELM_GROUP, "HelmRelease")):
        if _creates_namespace(res):
            continue
        release_target = HelmRelease(res).target_namespace
        remote = get_path(res.obj, "spec", "kubeConfig")
        if _plain(release_target) and release_target not in seen and not remote:
            seen.add(str(release_target))
            yield Need(
                str(release_target),
                res,
                ("spec", "targetNamespace"),
                f"HelmRelease {res.name!r} installs into targetNamespace",
                helm=True,
            )


def awaited(ctx: Context, producer: Producer) -> set[NamedResource]:
    """The Kustomizations whose apply comes before this one's: its dependsOn and its parents, theirs,
    transitively."""
    node = Node(producer.cluster, "Kustomization", producer.id.namespace, producer.id.name)
    return {n.id for n in closure(ctx.graph, node, ("dependsOn", "applies")) if n.kind == "Kustomization"}


def _failure(need: Need, producer: Producer) -> str:
    if need.helm:
        return f"helm-controller cannot install HelmRelease {need.res.name!r}"
    return f"the apply of Kustomization {producer.id.short} fails"


def _shown(need: Need) -> str:
    return f"{need.what} {need.namespace!r}"


@rule(
    id="REF009",
    name="namespace-missing",
    family="references",
    severity=Severity.WARNING,
    seed="Flux Kustomization defines what to apply: every object needs its namespace to exist",
    summary="Objects are applied into a namespace that nothing in the cluster creates",
    why="kustomize-controller does not create namespaces: it applies a Kustomization's Namespaces first, "
    'and an object whose namespace exists nowhere fails the whole apply (\'namespaces "media" not '
    "found'), so nothing else of that Kustomization is applied either. A Kustomization's or a "
    "HelmRelease's targetNamespace must exist too (Helm creates it only with install.createNamespace). "
    "Common after renaming a namespace, or when namespace.yaml was left out of kustomization.yaml. "
    "kube-system, default, kube-public, kube-node-lease and flux-system always exist; namespaces made "
    "by hand, by a bootstrap script or by an operator are not visible offline.",
    bad="# kubernetes/apps/media/jellyfin/app/kustomization.yaml\nnamespace: media\nresources:\n"
    "  - ./helmrelease.yaml\n# nothing defines kind: Namespace, name: media\n",
    good="# kubernetes/apps/media/kustomization.yaml\nnamespace: media\nresources:\n"
    "  - ./namespace.yaml\n  - ./jellyfin/ks.yaml\n",
    fix="Add a Namespace manifest to the Kustomization (or to one it depends on), correct the namespace, "
    "or set install.createNamespace: true on the HelmRelease.",
)
def namespace_missing(ctx: Context) -> Iterator[Hit]:
    if ctx.flux.guessed:
        return  # no entry point: which Kustomizations a cluster runs is itself a guess
    for cluster in sorted(ctx.flux.clusters):
        known = cluster_namespaces(ctx, cluster)
        if known.templated:
            continue  # its namespaces are named by a ResourceSet's inputs
        mentioned = ctx.vendor_strings(cluster)
        for producer in ctx.cluster_producers(cluster):
            missing = [
                need
                for need in needs(ctx, producer)
                if not known.created(need.namespace)
                and need.namespace not in mentioned  # a chart may make it
            ]
            if not missing:
                continue
            before = awaited(ctx, producer)
            for need in missing:
                maybe = sorted(
                    (ident, why)
                    for ident, (target, why) in known.unseen.items()
                    if target in (None, need.namespace) and ident != producer.id
                )
                if any(ident in before for ident, _why in maybe):
                    continue  # it waits for a Kustomization homeops cannot read, which may create it
                written = _written_elsewhere(ctx, need.namespace)
                if written is None:
                    continue  # a Namespace of that name outside Flux's paths: perhaps applied by a script
                unseen = "".join(
                    f"; Kustomization {ident.short} {why}: if it creates the namespace, add it to dependsOn"
                    for ident, why in maybe
                )
                yield ctx.hit(
                    need.res,
                    need.path,
                    f"{_shown(need)}, which nothing in cluster {cluster!r} creates: "
                    f"{_failure(need, producer)} ('namespaces \"{need.namespace}\" not found')"
                    f"{written}{unseen}",
                    f"add a Namespace {need.namespace} (in this Kustomization or one it depends on), "
                    "correct the namespace, or set install.createNamespace on a HelmRelease; if something "
                    "outside the repository creates it, ignore this line",
                )


def _written_elsewhere(ctx: Context, namespace: str) -> str | None:
    """What the repository says of a Namespace of that name that no Kustomization of the cluster
    applies: a note for the message (``""`` when none is written), or None when one is written outside
    every path Flux reaches (a setup folder a script applies, an archive: it may exist after all)."""
    from ..flux.reasons import EXCLUDED, OTHER, UNLISTED, UNREACHED, UNTRACKED

    notes = []
    for res in ctx.of_kinds(ctx.flux.documents, ("", "Namespace")):
        if res.name != namespace:
            continue
        reasons = ctx.file_reasons.get(res.origin.path) or []
        status = reasons[0].status if reasons else UNTRACKED
        if status == UNLISTED:
            notes.append(f"; {res.origin.path} defines it but is not applied: {reasons[0].message}")
        elif status in (UNREACHED, EXCLUDED, UNTRACKED, OTHER):
            return None
    return notes[0] if notes else ""


@rule(
    id="DEP005",
    name="namespace-not-awaited",
    family="dependencies",
    severity=Severity.WARNING,
    seed="Dependencies declared: a Kustomization dependsOn what it needs",
    summary="Objects go into a namespace that another Kustomization creates, without a dependsOn on it",
    why="Flux applies Namespaces first only within one Kustomization. When another Kustomization creates "
    "the namespace and nothing orders the two (no dependsOn, not its parent), a fresh cluster or a "
    "disaster recovery races: this apply fails ('namespaces \"x\" not found') and waits a whole "
    "retryInterval (the interval, unless set) before it tries again.",
    bad="# apps.yaml (its objects go into namespace media)\nspec:\n  path: ./apps\n"
    "# namespaces.yaml creates namespace media\n",
    good="# apps.yaml\nspec:\n  path: ./apps\n  dependsOn:\n    - name: namespaces\n",
    fix="Add the Kustomization that creates the namespace to spec.dependsOn, or move the Namespace into "
    "this Kustomization.",
)
def namespace_not_awaited(ctx: Context) -> Iterator[Hit]:
    if ctx.flux.guessed:
        return
    for cluster in sorted(ctx.flux.clusters):
        known = cluster_namespaces(ctx, cluster)
        for producer in ctx.cluster_producers(cluster):
            racing = [
                need
                for need in needs(ctx, producer)
                if need.namespace not in known.exists
                and known.made_by.get(need.namespace)
                and producer.id not in known.made_by[need.namespace]
            ]
            if not racing:
                continue
            before = awaited(ctx, producer)
            for need in racing:
                makers = known.made_by[need.namespace]
                if makers & before:
                    continue
                names = ", ".join(sorted(ident.short for ident in makers))
                yield ctx.hit(
                    producer.ks.res,
                    ("spec",),
                    f"{_shown(need)}, which is created only by {names}; Kustomization "
                    f"{producer.id.short} neither dependsOn it nor is applied by it: on a fresh cluster its "
                    "apply fails ('namespaces "
                    f'"{need.namespace}" not found\') until {names} has run',
                    f"add to spec.dependsOn: {names}",
                )
