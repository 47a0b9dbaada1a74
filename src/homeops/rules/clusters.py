"""Rule for seed rule "Clusters are independent islands"."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Hit, Severity, rule
from .context import Context


def isolated(ctx: Context) -> bool:
    """Whether this repository's clusters must not share files.

    ``.homeops.yaml`` decides when it says so; otherwise clusters are isolated when each lives in its own
    ``kubernetes/<cluster>/`` tree (the seeds' main/staging layout). Layered repositories with
    ``clusters/<name>/`` share their bases on purpose.
    """
    if ctx.config.isolated_clusters is not None:
        return ctx.config.isolated_clusters
    clusters = ctx.flux.clusters
    return len(clusters) > 1 and all(
        all(path.startswith(f"kubernetes/{name}/") for path in cluster.root_files)
        for name, cluster in clusters.items()
    )


@rule(
    id="CLU001",
    name="shared-across-clusters",
    family="clusters",
    severity=Severity.ERROR,
    seed="Clusters are independent islands: main and staging never share code, configuration, or state",
    summary="One file is applied by two clusters that must stay isolated",
    why="A change meant for staging then reaches production in the same commit, which is exactly what "
    "separate clusters exist to prevent.",
    bad="# kubernetes/staging/apps/media/kustomization.yaml\nresources:\n"
    "  - ../../../main/apps/media/immich\n",
    good="# copy and adapt explicitly\nresources:\n  - ./immich\n",
    fix="Copy the files into the other cluster's tree and adapt them there.",
)
def shared_across_clusters(ctx: Context) -> Iterator[Hit]:
    if not isolated(ctx):
        return
    for path, clusters in sorted(ctx.flux.files_applied().items()):
        if len(clusters) > 1:
            names = " and ".join(sorted(clusters))
            yield Hit(path, 1, f"applied by clusters {names}, which must stay isolated")
