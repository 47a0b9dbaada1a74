"""The failure scenarios of the domain as detection rules over a cluster snapshot (``homeops doctor``).

One rule per scenario of the seeds (and per capsule that can fail): each finds the objects it affects,
asks ``why`` for the root cause, and says what to do. The docs page of each rule
(``docs/doctor/<id>.md``) is generated from the fields below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ..records import NamedTuple
from .repo import RepoSide
from .states import BLOCKED, HEALTHY, MISSING, RECONCILING, RETRYING, STALLED, SUSPENDED, target_secret
from .view import FLUX_KS_LABEL, FLUX_KS_NS_LABEL, Ref, View, get, labels
from .why import Explainer, Hop


class Problem(NamedTuple):
    scenario: str
    cluster: str
    ref: Ref
    root: Hop
    evidence: tuple[str, ...]
    fix: str


class Context(NamedTuple):
    view: View
    explainer: Explainer
    repo: RepoSide | None
    cluster: str


class Scenario(NamedTuple):
    id: str
    title: str
    summary: str
    why: str
    fix: str
    example: str
    detect: Callable[[Context], Iterator[Problem]]


def _problem(ctx: Context, scenario: str, ref: Ref, fix: str, extra: tuple[str, ...] = ()) -> Problem:
    explained = ctx.explainer.why(ref)
    evidence: list[str] = []
    for hop in explained.chain:
        where = "" if hop.ref == ref else f"{hop.ref}: "
        evidence.extend(f"{where}{line}" for line in hop.evidence)
        if not hop.evidence and hop.state.message:
            evidence.append(f"{where}{hop.state.state} {hop.state.reason}: {hop.state.message}")
    if explained.next is not None:
        evidence.append(f"next: {explained.next.action}")
    return Problem(scenario, ctx.cluster, ref, explained.root, (*extra, *evidence), fix)


def _root_fix(ctx: Context, ref: Ref) -> str:
    """The fix for the root cause of ``ref``, in the words of the kind that fails."""
    root = ctx.explainer.why(ref).root
    name = f"{root.ref}"
    reason = root.state.reason
    if root.state.state == MISSING:
        origin = ctx.repo.origin(root.ref) if ctx.repo else None
        where = (
            f" (it is defined in Git at {origin}: check the Kustomization that applies it)" if origin else ""
        )
        return f"create {name}{where}"
    if root.ref.kind.endswith("SecretStore"):
        return (
            f"make {name} reach its vault again ({reason}): check the provider's address, credentials "
            "and the connect service"
        )
    if root.ref.kind == "ExternalSecret":
        return f"fix {name}: the vault item it reads must exist with the keys it extracts ({reason})"
    if root.ref.kind == "Pod":
        return (
            f"read the logs of {name} (`kubectl logs -n {root.ref.namespace} {root.ref.name} "
            f"--previous`) and fix its configuration ({reason})"
        )
    if root.ref.kind == "HelmRelease":
        return (
            f"fix the values or chart of {name} ({reason}); then `flux reconcile helmrelease "
            f"{root.ref.name} -n {root.ref.namespace} --reset`"
        )
    if root.ref.kind == "Kustomization":
        return (
            f"fix {name} ({reason}); `flux reconcile kustomization {root.ref.name} -n "
            f"{root.ref.namespace}` to retry now"
        )
    if root.ref.kind == "PersistentVolumeClaim":
        return f"give {name} a StorageClass that exists and can provision, or an existing volume ({reason})"
    if root.ref.kind in ("HTTPRoute", "Gateway", "Service"):
        return (
            f"fix {name} ({reason}): parentRefs must name a Gateway listener that exists, backendRefs a "
            "Service that exists"
        )
    return f"fix {name} ({reason})"


# -- rules ------------------------------------------------------------------------------------------


def _crash_loop(ctx: Context) -> Iterator[Problem]:
    for ref, _pod in ctx.view.of_kind("Pod"):
        if ctx.explainer.state(ref).phase == "CrashLoopBackOff":
            yield _problem(ctx, "crash-loop", ref, _root_fix(ctx, ref))


def _helmrelease_stuck(ctx: Context) -> Iterator[Problem]:
    for ref, _obj in ctx.view.of_kind("HelmRelease"):
        state = ctx.explainer.state(ref)
        if state.state in (STALLED, RETRYING) or (
            state.state == BLOCKED and state.reason != "DependencyNotReady"
        ):
            yield _problem(ctx, "helmrelease-stuck", ref, _root_fix(ctx, ref))


def _externalsecret_sync(ctx: Context) -> Iterator[Problem]:
    """The machine's Failed (and Deleted): the sync failed and the target Secret does not exist."""
    for ref, obj in ctx.view.of_kind("ExternalSecret"):
        if ctx.explainer.state(ref).phase in ("Failed", "Deleted"):
            target = target_secret(ref, obj)
            yield _problem(
                ctx,
                "externalsecret-sync",
                ref,
                _root_fix(ctx, ref),
                (f"target Secret {ref.namespace}/{target} does not exist: pods that use it cannot start",),
            )


def _stale_secret(ctx: Context) -> Iterator[Problem]:
    """The machine's Stale: the refresh failed while the target Secret still holds the last data."""
    for ref, obj in ctx.view.of_kind("ExternalSecret"):
        if ctx.explainer.state(ref).phase == "Stale":
            since = get(obj, "status", "refreshTime")
            note = f" (last synced {since})" if since else ""
            yield _problem(
                ctx,
                "stale-secret",
                ref,
                _root_fix(ctx, ref),
                (
                    f"target Secret {ref.namespace}/{target_secret(ref, obj)} still holds the last synced "
                    f"data{note}: pods keep running on it",
                ),
            )


def _httproute(ctx: Context) -> Iterator[Problem]:
    for ref, _obj in ctx.view.of_kind("HTTPRoute"):
        if not ctx.explainer.state(ref).healthy:
            yield _problem(ctx, "httproute", ref, _root_fix(ctx, ref))


def _storage_claim(ctx: Context) -> Iterator[Problem]:
    reported: set[Ref] = set()
    for ref, _pod in ctx.view.of_kind("Pod"):
        chain = ctx.explainer.why(ref).chain
        if len(chain) > 1 and any(h.via in ("claim", "storageClass") for h in chain[1:]):
            reported.update(h.ref for h in chain)
            yield _problem(ctx, "storage-claim", ref, _root_fix(ctx, ref))
    for ref, _obj in ctx.view.of_kind("PersistentVolumeClaim"):
        state = ctx.explainer.state(ref)
        if ref not in reported and not state.healthy and ctx.view.events_of(ref):
            yield _problem(ctx, "storage-claim", ref, _root_fix(ctx, ref))


_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[=-][^}]*)?\}")


def _placeholders(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _placeholders(item, f"{path}[{i}]")
    elif isinstance(value, str) and "${" in value and _PLACEHOLDER.search(value) and "$${" not in value:
        yield path, value


def _placeholder(ctx: Context) -> Iterator[Problem]:
    """Live objects Flux applied with ``${VAR}`` left in them, and objects whose substitution in Git
    misses a variable (Flux then applies an empty string)."""
    reported: set[Ref] = set()
    for ref, obj in sorted(ctx.view.objects.items()):
        own = labels(obj)
        if FLUX_KS_LABEL not in own or ref.kind in ("Kustomization", "Secret", "ConfigMap"):
            continue
        if get(obj, "metadata", "annotations", "kustomize.toolkit.fluxcd.io/substitute") == "disabled":
            continue
        applier = Ref("Kustomization", own.get(FLUX_KS_NS_LABEL, "flux-system"), own[FLUX_KS_LABEL])
        # Under postBuild an undefined variable becomes "": a ${VAR} that survives was escaped ($${VAR})
        # in Git on purpose. Only without postBuild does Flux apply the text as written.
        if isinstance(get(ctx.view.get(applier), "spec", "postBuild"), dict):
            continue
        found = list(_placeholders(obj.get("spec")))
        if found:
            names = sorted({m.group(0) for _, value in found for m in _PLACEHOLDER.finditer(value)})
            evidence = tuple(f"spec.{path}: {value!r} was applied as written" for path, value in found[:5])
            fix = (
                f"add postBuild.substituteFrom (the cluster settings) to {applier}, "
                f"or replace {', '.join(names)} in Git"
            )
            reported.add(ref)
            yield _substitution_problem(ctx, ref, applier, "NoPostBuild", names, evidence, fix)
    yield from _missing_variables(ctx, reported)


def _missing_variables(ctx: Context, reported: set[Ref]) -> Iterator[Problem]:
    if ctx.repo is None:
        return
    from ..flux.tree import PRODUCER, SUBSTITUTION

    for ref, res in sorted(ctx.repo.objects.items()):
        outcome = res.notes.get(SUBSTITUTION)
        producer = res.notes.get(PRODUCER)
        missing = sorted(getattr(outcome, "missing", ()) or ())
        if not missing or ref in reported or ctx.view.get(ref) is None or producer is None:
            continue
        applier = Ref("Kustomization", producer.namespace, producer.name)
        names = [f"${{{name}}}" for name in missing]
        evidence = (f"{res.origin}: {', '.join(names)} is defined nowhere {applier} substitutes from",)
        fix = f"define {', '.join(names)} in the ConfigMap or Secret that {applier} substitutes from"
        yield _substitution_problem(ctx, ref, applier, "VariableNotDefined", names, evidence, fix)


def _substitution_problem(
    ctx: Context, ref: Ref, applier: Ref, reason: str, names: list[str], evidence: tuple[str, ...], fix: str
) -> Problem:
    said = "no postBuild substitution" if reason == "NoPostBuild" else "no value"
    root = Hop(
        applier,
        ctx.explainer.state(applier)._replace(reason=reason),
        "applies",
        (f"{applier} has {said} for {', '.join(names)}",),
    )
    return Problem("placeholder", ctx.cluster, ref, root, evidence + root.evidence, fix)


def _dependency_chain(ctx: Context) -> Iterator[Problem]:
    for ref, _obj in ctx.view.of_kind("Kustomization", "HelmRelease"):
        state = ctx.explainer.state(ref)
        if state.state != BLOCKED or state.reason != "DependencyNotReady":
            continue
        root = ctx.explainer.why(ref).root
        # waiting on something merely in progress (a bootstrap) is waiting, not a failure
        if root.ref == ref or root.state.state in (*HEALTHY, RECONCILING, SUSPENDED):
            continue
        yield _problem(ctx, "dependency-chain", ref, _root_fix(ctx, ref))


def _image_drift(ctx: Context) -> Iterator[Problem]:
    if ctx.repo is None:
        return
    from ..inventory import found_images

    for ref, res in sorted(ctx.repo.objects.items()):
        if ref.kind != "HelmRelease":
            continue
        wanted = {str(f.image.repository): f for f in found_images([res])}
        running: dict[str, set[str]] = {}
        for workload in ctx.view.workloads_of(ref):
            for pod in ctx.view.pods_of(workload) or [workload]:
                for image in _pod_images(ctx.view.get(pod)):
                    repository = image.partition(":")[0]
                    running.setdefault(repository, set()).add(image)
        for repository, found in sorted(wanted.items()):
            if repository not in running:
                continue
            want = str(found.image)
            if not any(_same_image(want, have) for have in running[repository]):
                yield _drift_problem(ctx, ref, want, sorted(running[repository]), f"{res.origin}")


def _pod_images(obj: dict[str, Any] | None) -> Iterator[str]:
    from ..model.base import Origin, Resource
    from ..model.kinds import containers, pod_spec

    if obj is None:
        return
    spec = pod_spec(Resource(obj, Origin("", 0)))
    for _field, _i, container in containers(spec or {}):
        if isinstance(container.get("image"), str):
            yield container["image"]


def _same_image(want: str, have: str) -> bool:
    def strip(image: str) -> str:
        return image.split("@", 1)[0]

    return want == have or strip(want) == strip(have) or ("@" in want and want.split("@", 1)[1] in have)


def _drift_problem(ctx: Context, ref: Ref, want: str, have: list[str], origin: str) -> Problem:
    evidence = (f"Git asks for {want} ({origin})", f"the cluster runs {', '.join(have)}")
    live = ctx.view.get(ref)
    applier = None
    if live is not None and FLUX_KS_LABEL in labels(live):
        own = labels(live)
        applier = Ref("Kustomization", own.get(FLUX_KS_NS_LABEL, "flux-system"), own[FLUX_KS_LABEL])
    behind = False
    if applier is not None and ctx.repo is not None and ctx.repo.head:
        applied = get(ctx.view.get(applier), "status", "lastAppliedRevision")
        behind = isinstance(applied, str) and ctx.repo.head not in applied
    state = ctx.explainer.state(ref)
    if behind and applier is not None:
        root = Hop(
            applier,
            ctx.explainer.state(applier)._replace(reason="NotAtHead"),
            "applies",
            (
                f"last applied {get(ctx.view.get(applier), 'status', 'lastAppliedRevision')}, Git HEAD is "
                f"{ctx.repo.head if ctx.repo else ''}",
            ),
        )
        fix = (
            f"push the commit and let {applier} apply it (`flux reconcile kustomization {applier.name} -n "
            f"{applier.namespace} --with-source`)"
        )
    elif not state.healthy:
        root = ctx.explainer.why(ref).root
        fix = _root_fix(ctx, ref)
    else:
        root = Hop(
            ref, state._replace(reason="ImageDrift"), "", ("Ready, but its workloads run another image",)
        )
        fix = (
            "the image was changed outside Git or the rollout did not finish: `flux reconcile "
            f"helmrelease {ref.name} -n {ref.namespace} --force`"
        )
    return Problem("image-drift", ctx.cluster, ref, root, evidence + root.evidence, fix)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "crash-loop",
        "Pod stuck in CrashLoopBackOff",
        "A container exits again and again; kubelet restarts it after a back-off that doubles up to 5 "
        "minutes.",
        "The pod stays in phase Running with a container waiting in CrashLoopBackOff; there is no maximum "
        "number of restarts (the seeds' 'Failed after max restarts' is not what kubelet does). The app is "
        "down "
        "while its HelmRelease may still be Ready: Helm finished, the pods did not.",
        "Read the previous container's logs, fix the configuration (values, ExternalSecret template, the "
        "database it needs), and let Flux roll it out.",
        "container app waiting: CrashLoopBackOff; last terminated: Error, exit code 1",
        _crash_loop,
    ),
    Scenario(
        "helmrelease-stuck",
        "HelmRelease stuck reconciling or stalled",
        "A HelmRelease that is not Ready: retrying its install or upgrade, or Stalled after its retries.",
        "helm-controller makes retries + 1 attempts (each bounded by spec.timeout) with remediation between "
        "them, then marks the release Stalled (RetriesExceeded) and stops: nothing recovers it without a "
        "change or a reset. The root cause is usually below it: a Secret that does not exist, a pod that "
        "cannot start, a chart source that is down, values the chart rejects.",
        "Fix the root cause named in the problem, then `flux reconcile helmrelease NAME -n NS --reset`.",
        "Stalled RetriesExceeded: Failed to install after 4 attempt(s)",
        _helmrelease_stuck,
    ),
    Scenario(
        "externalsecret-sync",
        "ExternalSecret failed to sync, and its Secret does not exist",
        "An ExternalSecret that cannot sync and whose target Secret was never created: pods that use it "
        "cannot start.",
        "A failed sync blocks pods only when the Secret does not exist yet (or a new key is needed): kubelet "
        'reports CreateContainerConfigError `secret "x" not found`. The cause is the vault item (missing, '
        "renamed, a field the template reads is absent) or the store that cannot reach the vault.",
        "Create the vault item or fix the key the ExternalSecret extracts; if the store is the root cause, "
        "fix the store first.",
        "Ready=False SecretSyncedError; target Secret default/app-secret does not exist",
        _externalsecret_sync,
    ),
    Scenario(
        "stale-secret",
        "Pods run on stale secret data",
        "An ExternalSecret that can no longer refresh while its Secret exists: pods keep the last synced "
        "values.",
        "On a provider error external-secrets leaves the existing Secret as it was (SecretRefreshCycle): "
        "nothing breaks at once, but a rotated password or token never arrives, and a pod restarted later "
        "starts with the old value.",
        "Fix the store or the vault item; once it syncs, restart the pods that read it (or let Reloader do "
        "it).",
        "Ready=False SecretSyncedError; the Secret still holds data synced at 11:30",
        _stale_secret,
    ),
    Scenario(
        "httproute",
        "HTTPRoute not working",
        "A route no Gateway accepted, whose backend does not resolve, or that no controller attached.",
        "Route status is per parent: Accepted=False (NoMatchingParent, NotAllowedByListeners, "
        "NoMatchingListenerHostname) means the Gateway refused it; ResolvedRefs=False (BackendNotFound, "
        "RefNotPermitted, InvalidKind) means its backend does not resolve; no parent status at all means no "
        "controller looked at it (a wrong Gateway name or namespace).",
        "Make parentRefs name an existing Gateway, namespace and listener (sectionName); make backendRefs "
        "name an existing Service and port.",
        "parent network/internal: ResolvedRefs=False BackendNotFound: service default/app not found",
        _httproute,
    ),
    Scenario(
        "storage-claim",
        "Storage claim missing or not bound",
        "A pod waits for a PersistentVolumeClaim that does not exist or stays Pending.",
        "A pod is not scheduled until every claim it mounts is bound; a claim stays Pending when its "
        "StorageClass does not exist or cannot provision (ProvisioningFailed events). The seeds' "
        "existingClaim pattern makes this common: the claim is expected to exist already.",
        "Create the claim (or fix its name in the values), or give it a StorageClass that exists.",
        'PersistentVolumeClaim default/data: NotBound; event ProvisioningFailed: storageclass "x" not found',
        _storage_claim,
    ),
    Scenario(
        "placeholder",
        "Unresolved placeholder reached the cluster",
        "An object applied by Flux still holds `${VAR}` text: substitution did not replace it.",
        "Flux replaces `${VAR}` only in Kustomizations with postBuild; without it (or with the variable "
        "missing from substituteFrom) the text is applied as written: hostnames and URLs that point nowhere.",
        "Add postBuild.substituteFrom with the cluster settings to the Kustomization, or define the "
        "variable there.",
        "spec.hostnames[0]: 'app.${SECRET_DOMAIN}' was applied as written",
        _placeholder,
    ),
    Scenario(
        "dependency-chain",
        "Waiting on a dependency that failed",
        "A Kustomization or HelmRelease waits (DependencyNotReady) on a chain whose end has failed.",
        "Flux re-checks dependencies every 30 s and waits forever (FluxDependencyChain): waiting on a "
        "dependency that is still installing is normal and not reported; waiting on one that failed, "
        "stalled or does not exist never ends by itself.",
        "Fix the root cause at the end of the chain; everything waiting on it proceeds within 30 s.",
        "Blocked DependencyNotReady → Kustomization flux-system/apps: HealthCheckFailed",
        _dependency_chain,
    ),
    Scenario(
        "image-drift",
        "The cluster runs another image than Git",
        "A HelmRelease's pods run an image other than the one its values in Git name.",
        "ImageUpdateFlow: Renovate changes the tag in Git, Flux applies it, helm-controller upgrades. When "
        "the cluster still runs the old image, the commit was not applied yet, the upgrade failed, or the "
        "image was changed by hand.",
        "Find where the flow stopped (the root cause names it): push and reconcile, fix the failed upgrade, "
        "or reconcile the HelmRelease with --force to undo a manual change.",
        "Git asks for ghcr.io/app:1.2.0; the cluster runs ghcr.io/app:1.1.0",
        _image_drift,
    ),
)

BY_ID = {s.id: s for s in SCENARIOS}


def run_scenarios(ctx: Context, select: tuple[str, ...] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    for scenario in SCENARIOS:
        if select is None or scenario.id in select:
            problems.extend(scenario.detect(ctx))
    return problems
