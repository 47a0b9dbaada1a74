"""Rules for seed rule "Images are pinned by digest"."""

from __future__ import annotations

from collections.abc import Iterator

from ..inventory import FoundImage, found_images
from .base import Hit, Severity, rule
from .context import Context


def _unique(ctx: Context) -> Iterator[FoundImage]:
    seen: set[tuple[str, tuple[str | int, ...], str]] = set()
    for found in found_images(ctx.subjects()):
        key = (found.res.origin.path, found.path, str(found.image))
        if key not in seen:
            seen.add(key)
            yield found


@rule(
    id="IMG001",
    name="image-not-pinned",
    family="images",
    severity=Severity.WARNING,
    seed="Images are pinned by digest: production images must include @sha256",
    summary="An image is referenced by tag without a @sha256 digest",
    why="A tag can be moved to a different image at any time; only a digest guarantees that every node "
    "and every re-deploy runs exactly what was reviewed. Renovate keeps digests current.",
    bad="image:\n  repository: ghcr.io/immich-app/immich-server\n  tag: v2.4.1\n",
    good="image:\n  repository: ghcr.io/immich-app/immich-server\n  tag: v2.4.1@sha256:e6a6298e67ae...\n",
    fix="Append the digest of the tag (@sha256:…) and let Renovate update tag and digest together.",
)
def image_not_pinned(ctx: Context) -> Iterator[Hit]:
    for found in _unique(ctx):
        image = found.image
        if image.digest or image.tag in (None, "latest"):
            continue
        yield ctx.hit(
            found.res,
            found.path,
            f"{found.owner} runs {image} without a digest",
            f"pin it: {image.repository}:{image.tag}@sha256:<digest>",
        )


@rule(
    id="IMG002",
    name="image-latest",
    family="images",
    severity=Severity.ERROR,
    seed="Don't use :latest — it changes unpredictably; a digest pins the exact version",
    summary="An image uses :latest or no tag at all",
    why=":latest (and a missing tag, which means :latest) makes every pull a different release: "
    "deployments stop being reproducible and a restart can silently upgrade or break an app.",
    bad="image:\n  repository: ghcr.io/immich-app/immich-server\n  tag: latest\n",
    good="image:\n  repository: ghcr.io/immich-app/immich-server\n  tag: v2.4.1@sha256:e6a6298e67ae...\n",
    fix="Choose a released version and pin it with its digest.",
)
def image_latest(ctx: Context) -> Iterator[Hit]:
    for found in _unique(ctx):
        image = found.image
        if image.digest:
            continue
        if image.tag == "latest":
            what = "the :latest tag"
        elif image.tag is None and found.explicit_tag:
            what = "no tag (which means :latest)"
        else:
            continue
        yield ctx.hit(found.res, found.path, f"{found.owner} runs {image.repository} with {what}",
                      "pin a released version with its digest")
