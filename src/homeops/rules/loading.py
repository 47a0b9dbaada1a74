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
    for producer in ctx.producers():
        error = producer.error
        if error is None:
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
