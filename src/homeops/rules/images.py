"""Rules for seed rule "Images are pinned by digest"."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..inventory import FoundImage, found_images
from ..model.values import PIN_MARKER
from .base import Hit, Severity, rule
from .context import Context


def _unique(ctx: Context) -> list[FoundImage]:
    """Every image once per place; worked out once for the three image rules."""
    return ctx.memo("images", lambda: _first_of_each(found_images(ctx.subjects())))


def _first_of_each(images: Iterable[FoundImage]) -> list[FoundImage]:
    seen: set[tuple[str, tuple[str | int, ...], str]] = set()
    out = []
    for found in images:
        key = (found.res.origin.path, found.path, str(found.image))
        if key not in seen:
            seen.add(key)
            out.append(found)
    return out


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
        if image.digest or image.tag in (None, "latest") or _pin_pending(ctx, found) is not None:
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
        yield ctx.hit(
            found.res,
            found.path,
            f"{found.owner} runs {image.repository} with {what}",
            "pin a released version with its digest",
        )


def _pin_pending(ctx: Context, found: FoundImage) -> int | None:
    """The line of a ``# homeops: pin digest`` marker on this image's tag (or image) line, if any."""
    text = ctx.lines(found.res.origin.path)
    if text is None or not any(PIN_MARKER in line for line in text):
        return None  # most files have no marker: no need to locate the image's line
    path = (*found.path, "tag") if found.path[-1] == "image" and found.explicit_tag else found.path
    for candidate in (path, found.path):
        line = ctx.line_of(found.res, *candidate)
        if 0 < line <= len(text) and PIN_MARKER in text[line - 1]:
            return line
    return None


@rule(
    id="IMG003",
    name="image-pin-pending",
    family="images",
    severity=Severity.INFO,
    seed="Images are pinned by digest; Renovate updates automatically",
    summary="An image tag is marked for the user to pin with its digest",
    why="homeops writes a tag without a digest when it cannot know the digest (offline, a new image) and "
    "marks the line; until the digest is added the deployment is not reproducible.",
    bad="tag: 1.2.3  # homeops: pin digest\n",
    good="tag: 1.2.3@sha256:4d0ccca1d151f860b3f469c60df78bf1ab798f15e88dc1912d31d6741653eb99\n",
    fix="Look up the digest (crane digest IMAGE:TAG, or let Renovate pin it) and append @sha256:… to the "
    "tag.",
)
def image_pin_pending(ctx: Context) -> Iterator[Hit]:
    for found in _unique(ctx):
        if found.image.digest:
            continue
        line = _pin_pending(ctx, found)
        if line is not None:
            yield Hit(
                found.res.origin.path,
                line,
                f"{found.owner} runs {found.image} until its digest is pinned",
                "append @sha256:<digest> to the tag and remove the marker",
            )
