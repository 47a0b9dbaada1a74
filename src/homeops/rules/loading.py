"""Rules about reading the repository at all: YAML that does not parse, builds that fail, symlinks."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ..errors import Where
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
    from ..kustomize.loader import OutsideSource, RemoteUnavailable

    for producer in ctx.producers():
        error = producer.error
        if error is None or isinstance(error, OutsideSource | RemoteUnavailable):
            continue  # LOAD004 and LOAD005
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
    name="reads-outside-source",
    family="loading",
    severity=Severity.ERROR,
    seed="GitOps is the authority: Flux must be able to read every manifest",
    summary="A kustomization names a file or folder outside the repository",
    why="kustomize-controller builds inside its copy of the source and refuses every path and symlink "
    "that leaves it, so the Kustomization fails; a pull request that points a generator at a file "
    "elsewhere on the machine (an age key, /etc) would otherwise leak it into build output. homeops "
    "never reads such a file.",
    bad="configMapGenerator:\n  - name: leak\n    files:\n      - key=../../../../.config/sops/keys.txt\n",
    good="configMapGenerator:\n  - name: settings\n    files:\n      - ./settings.ini\n",
    fix="Refer only to files inside the repository (relative to the kustomization's folder), and replace "
    "symlinks that point out of it with the files themselves.",
)
def reads_outside_source(ctx: Context) -> Iterator[Hit]:
    from ..kustomize.loader import OutsideSource

    for producer in ctx.producers():
        error = producer.error
        if isinstance(error, OutsideSource):
            where = error.where or Where(producer.ks.origin.path, producer.ks.origin.line)
            yield Hit(
                where.path,
                where.line,
                f"Kustomization {producer.ks.id.short} does not build: {error.message}",
                error.hint,
            )


@rule(
    id="LOAD005",
    name="remote-base-not-verified",
    family="loading",
    severity=Severity.WARNING,
    seed="Flux reconciliation: Building → Applying; a failed build never applies",
    summary="A remote kustomize base could not be fetched, so the build was not verified",
    why="Flux clones remote bases when it builds. homeops fetches each one once into its cache; when that "
    "is not possible (offline, the host cannot be reached, an unknown ref) it cannot say what the "
    "Kustomization applies. This is a limit of the machine homeops runs on, not necessarily a fault.",
    bad="resources:\n  - https://github.com/example/base//deploy?ref=v1.0.0   # no network here\n",
    good="resources:\n  - ./vendored-base   # or run once with network access\n",
    fix="Run homeops once with network access (the base is cached afterwards), or vendor the base into the "
    "repository; check the URL and ref if git says they do not exist.",
)
def remote_not_verified(ctx: Context) -> Iterator[Hit]:
    from ..kustomize.loader import RemoteUnavailable

    for producer in ctx.producers():
        error = producer.error
        if isinstance(error, RemoteUnavailable):
            where = error.where or Where(producer.ks.origin.path, producer.ks.origin.line)
            yield Hit(
                where.path,
                where.line,
                f"Kustomization {producer.ks.id.short} was not verified: {error.message}",
                error.hint,
            )


@rule(
    id="LOAD006",
    name="unpinned-remote-base",
    family="loading",
    severity=Severity.WARNING,
    seed="GitOps is the authority: what is applied is what the repository says",
    summary="A remote kustomize base follows a branch instead of a tag or a commit",
    why="Flux fetches the remote base again at every reconciliation; without a pinned ref (a tag or a "
    "commit in ?ref=) what is applied changes whenever someone pushes to that branch, without any "
    "commit in this repository, and homeops can only check what the branch held when it looked.",
    bad="resources:\n  - https://github.com/example/base//deploy?ref=main\n",
    good="resources:\n  - https://github.com/example/base//deploy?ref=v1.4.2\n",
    fix="Pin the base to a release tag or a commit with ?ref=.",
)
def unpinned_remote(ctx: Context) -> Iterator[Hit]:
    from ..kustomize import kfile, remote
    from ..kustomize.loader import RemoteUnavailable

    files = set(ctx.applied_files)
    for producer in ctx.producers():
        if isinstance(producer.error, RemoteUnavailable) and producer.error.where is not None:
            files.add(producer.error.where.path)
    for path in sorted(files):
        if path.rpartition("/")[2] not in kfile.KUSTOMIZATION_FILES:
            continue
        for spec, line in remote.entries(ctx.tree, path):
            if remote.pinned(spec) is False:
                what = f"?ref={spec.ref}, a branch" if spec.ref else "no ?ref=, so the default branch"
                yield Hit(path, line, f"remote base {spec.entry!r} follows {what}: what Flux applies moves")


@rule(
    id="LOAD007",
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


@rule(
    id="LOAD008",
    name="unreadable-path",
    family="loading",
    severity=Severity.WARNING,
    seed="GitOps is the authority: Flux must be able to read every manifest",
    summary="A folder or file of the repository cannot be read on this machine",
    why="Git and Flux see every file of the repository; homeops only what it may read here. What is "
    "below a folder it cannot open (permission denied) is missing from everything it checks, builds "
    "and renders, so a Kustomization whose path is in there looks empty or missing.",
    bad="drwx------ root root  kubernetes/apps/media/   # checked by another user\n",
    good="drwxr-xr-x you  you   kubernetes/apps/media/\n",
    fix="Give yourself read access (chmod -R u+rX PATH), or add the path to .gitignore when it is not "
    "part of the repository (a container's data folder).",
)
def unreadable_path(ctx: Context) -> Iterator[Hit]:
    for path, why in ctx.tree.unreadable:
        yield Hit(
            path,
            0,
            f"cannot be read ({why}): what is below it was not checked",
            f"give yourself read access (chmod -R u+rX {path}), or add it to .gitignore",
        )
