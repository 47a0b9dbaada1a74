"""Rules about reading the repository at all: YAML that does not parse, builds that fail, symlinks."""

from __future__ import annotations

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
    for problem in ctx.flux.problems:
        yield Hit(problem.path, problem.line, f"YAML does not parse: {problem.reason}")


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
