"""Rules about reading the repository at all: YAML that does not parse, builds that fail, symlinks."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ..errors import HomeopsError, KustomizeError, Where
from .base import Hit, Severity, rule
from .context import Context


@rule(
    id="LOAD001",
    name="invalid-yaml",
    family="loading",
    severity=Severity.ERROR,
    seed="GitOps is the authority: Flux must be able to read every manifest",
    summary="A YAML file does not parse",
    why="Flux stops reconciling the whole Kustomization that includes a file it cannot parse, so one "
    "typo blocks every object next to it.",
    bad="apiVersion: v1\nkind: ConfigMap\ndata:\n  key: [unclosed\n",
    good='apiVersion: v1\nkind: ConfigMap\ndata:\n  key: "[unclosed"\n',
    fix="Fix the syntax at the reported line (quote values that start with [, {, *, & or contain ': ').",
)
def invalid_yaml(ctx: Context) -> Iterator[Hit]:
    # Only files a build reads or would read: a file that does not parse elsewhere (CI, Talos, docs,
    # archives, a file no kustomization lists) is no concern of Flux's.
    read = ctx.applied_files | _read_by_failed_builds(ctx)
    for problem in ctx.flux.problems:
        if problem.path in read:
            yield Hit(problem.path, problem.line, f"YAML does not parse: {problem.reason}")


def _read_by_failed_builds(ctx: Context) -> set[str]:
    """What the builds that failed would have read: the failing file itself, the files their
    kustomization lists, or (no kustomization.yaml) every YAML file Flux's generated one takes."""
    from ..kustomize.kfile import KUSTOMIZATION_FILES

    out: set[str] = set()
    files = ctx.tree.files()
    for producer in ctx.producers():
        if producer.error is None or producer.path is None:
            continue
        if producer.error.where is not None:
            out.add(producer.error.where.path)
        folder = producer.path
        kfiles = [f"{folder}/{n}" if folder else n for n in KUSTOMIZATION_FILES]
        listed = next((k for k in kfiles if ctx.tree.is_file(k)), None)
        if listed is None:
            out.update(_generated_takes(files, folder, KUSTOMIZATION_FILES))
            continue
        data = ctx.tree.parsed(listed).documents
        resources = data[0].get("resources") if data and isinstance(data[0], dict) else None
        for entry in resources if isinstance(resources, list) else []:
            if isinstance(entry, str):
                out.add(posixpath.normpath(posixpath.join(folder, entry)))
    return out


def _generated_takes(files: list[str], folder: str, names: tuple[str, ...]) -> set[str]:
    prefix = f"{folder}/" if folder else ""
    below = [f[len(prefix) :] for f in files if f.startswith(prefix)]
    stops = {posixpath.dirname(f) for f in below if posixpath.basename(f) in names}
    return {
        prefix + f
        for f in below
        if f.endswith((".yaml", ".yml")) and not any(f.startswith(s + "/") for s in stops if s)
    }


@rule(
    id="LOAD002",
    name="build-failed",
    family="loading",
    severity=Severity.ERROR,
    seed="Flux reconciliation: Building → Applying; a failed build never applies",
    summary="A Flux Kustomization's kustomize build fails",
    why="kustomize-controller builds spec.path before applying anything; when the build fails nothing in "
    "it is applied and the Kustomization, and everything that depends on it, stays not Ready.",
    bad="resources:\n  - ./deployment.yaml   # file was renamed\n",
    good="resources:\n  - ./app-deployment.yaml\n",
    fix="Fix the kustomization file named in the message; run 'homeops kustomize build DIR --flux' to see "
    "the full error.",
)
def build_failed(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        error = producer.error
        if error is None or offline_limit(error):
            continue
        where = error.where or Where(producer.ks.origin.path, producer.ks.origin.line)
        yield Hit(
            where.path,
            where.line,
            f"Kustomization {producer.ks.id.short} does not build: {error.message}",
            error.hint,
        )


@rule(
    id="LOAD003",
    name="symlink-outside-repo",
    family="loading",
    severity=Severity.WARNING,
    seed="Clusters are independent islands; GitOps is the authority",
    summary="A symlink points outside the repository",
    why="Flux only sees what is in the Git repository; a link that leaves it points at nothing in the "
    "cluster's source, and homeops never follows it.",
    bad="kubernetes/staging/apps/media -> ../../../../other-repo/media\n",
    good="kubernetes/staging/apps/media/  (a real folder, copied and adapted)\n",
    fix="Replace the link with the files themselves.",
)
def symlink_outside(ctx: Context) -> Iterator[Hit]:
    for path in ctx.tree.escapes:
        yield Hit(
            path, 0, "symlink points outside the repository; Flux cannot follow it and homeops does not"
        )


@rule(
    id="LOAD004",
    name="entry-points-guessed",
    family="loading",
    severity=Severity.INFO,
    seed="GitOps is the authority: a cluster applies what it was bootstrapped with",
    summary="No cluster entry point was found; the roots are guessed",
    why="A cluster applies what it was bootstrapped with (flux bootstrap's gotk-sync.yaml, a FluxInstance's "
    "sync, the flux-instance chart's values) and nothing else. Without one, homeops takes every Flux "
    "Kustomization that no other one applies as a root: an archived ks.yaml then counts as live.",
    bad="# no clusters/<name>/flux-system/, no FluxInstance, no flux-instance values\n",
    good="# clusters/home/flux-system/gotk-sync.yaml (flux bootstrap --path=clusters/home)\n",
    fix="Commit the bootstrap (gotk-sync.yaml, or the FluxInstance / flux-instance values with sync.path).",
)
def entry_points_guessed(ctx: Context) -> Iterator[Hit]:
    if not ctx.flux.guessed or not ctx.flux.clusters:
        return
    roots = sorted(f for c in ctx.flux.clusters.values() for f in c.root_files)
    unusable = f" ({'; '.join(ctx.flux.entry_notes)})" if ctx.flux.entry_notes else ""
    yield Hit(
        roots[0],
        1,
        f"no cluster entry point found (gotk-sync.yaml, FluxInstance sync, flux-instance values){unusable}: "
        f"{len(roots)} Kustomization file(s) that nothing else applies are taken as roots",
        "commit what the cluster is bootstrapped with; 'homeops explain FILE' says how a file is reached",
    )


_OFFLINE = re.compile(
    r"remote|could not be fetched|no such host|dial tcp|could not resolve|unable to access|"
    r"exit status 128|network is unreachable|connection refused|timed out",
    re.IGNORECASE,
)


def offline_limit(error: HomeopsError) -> bool:
    """Whether a build failed because something outside the repository could not be fetched (a remote
    kustomize resource without network), not because the repository is wrong."""
    if getattr(error, "offline", False):
        return True
    return isinstance(error, KustomizeError) and bool(_OFFLINE.search(f"{error.message} {error.hint or ''}"))


@rule(
    id="LOAD005",
    name="not-verifiable-offline",
    family="loading",
    severity=Severity.WARNING,
    seed="GitOps is the authority: homeops reads the repository, the cluster reads the network too",
    summary="A Kustomization needs something homeops cannot fetch offline (a remote resource)",
    why="A kustomization that lists a remote resource (https://…, github.com/…?ref=…) is built by "
    "kustomize-controller with network access. homeops checks without it: the build, and everything the "
    "Kustomization would apply, cannot be verified here. The repository may well be fine.",
    bad="resources:\n  - https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml\n",
    good="# vendor the file into the repository (or pin it with ?ref= and let homeops fetch it once)\n",
    fix="Nothing to fix when the reference is right; to have it checked, vendor the remote file into the "
    "repository.",
)
def not_verifiable_offline(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        error = producer.error
        if error is None or not offline_limit(error):
            continue
        where = _remote_entry(ctx, producer.path) or error.where or Where(producer.ks.origin.path, 0)
        yield Hit(
            where.path,
            where.line or producer.ks.origin.line,
            f"Kustomization {producer.id.short} could not be verified offline (it needs the network, which "
            f"the cluster has and homeops does not): {error.message}",
            "this depends on the cluster's network, not on the repository; vendor the remote file to check",
        )


def _remote_entry(ctx: Context, folder: str | None) -> Where | None:
    """The line of the first remote entry of the kustomization in ``folder``."""
    from ..kustomize.kfile import KUSTOMIZATION_FILES
    from ..kustomize.loader import looks_remote

    if folder is None:
        return None
    for name in KUSTOMIZATION_FILES:
        path = f"{folder}/{name}" if folder else name
        lines = ctx.lines(path) if ctx.tree.is_file(path) else None
        for number, line in enumerate(lines or [], 1):
            entry = line.strip().removeprefix("-").strip().strip("'\"")
            if entry and not entry.startswith("#") and looks_remote(entry):
                return Where(path, number)
    return None
