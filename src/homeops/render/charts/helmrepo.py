"""Helm HTTP chart repositories: read ``index.yaml``, pick a chart version, locate its archive.

Version selection is Helm's (``repo.IndexFile.Get``, which source-controller mirrors): an entry whose
version string equals the request wins; otherwise the highest version the constraint allows. An empty
request means ``*`` (the highest release). Entries whose version is not semver are ignored.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from ...load.yamlio import HELM, parse
from .errors import ChartSourceError
from .semver import SemverError, highest, parse_constraint, try_version
from .transport import BasicAuth, basic_authorization, display_url, get


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One chart version as the index lists it."""

    version: str
    urls: tuple[str, ...]
    digest: str
    """Hex sha256 of the archive, empty when the index gives none."""


MAX_INDEX_BYTES = 50 * 1024 * 1024
"""source-controller's default ``--helm-index-max-size``: parsed, an index takes many times its size."""


def index_url(repo_url: str) -> str:
    return repo_url.rstrip("/") + "/index.yaml"


def download_index(
    repo_url: str, *, credentials: BasicAuth | None, timeout: float
) -> dict[str, list[dict[str, Any]]]:
    """The repository's entries as plain data: chart name → ``[{version, urls, digest}]``."""
    reply = get(
        index_url(repo_url),
        what="downloading the chart repository index",
        authorization=basic_authorization(credentials) if credentials else None,
        timeout=timeout,
        max_bytes=MAX_INDEX_BYTES,
    )
    parsed = parse(reply.body, schema=HELM)
    shown = display_url(repo_url)
    if parsed.failure is not None or not parsed.documents or not isinstance(parsed.documents[0], dict):
        reason = parsed.failure.reason if parsed.failure else "not a mapping"
        raise ChartSourceError(
            f"{shown}/index.yaml is not a valid Helm repository index ({reason})",
            source=shown,
            hint="check that the URL is a Helm chart repository",
        )
    raw_entries = parsed.documents[0].get("entries") or {}
    entries: dict[str, list[dict[str, Any]]] = {}
    if isinstance(raw_entries, dict):
        for name, versions in raw_entries.items():
            if not isinstance(versions, list):
                continue
            entries[str(name)] = [
                {
                    "version": str(v.get("version", "")),
                    "urls": [str(u) for u in v.get("urls") or [] if isinstance(u, str)],
                    "digest": str(v.get("digest") or ""),
                }
                for v in versions
                if isinstance(v, dict) and v.get("version") is not None
            ]
    return entries


def select(
    entries: dict[str, list[dict[str, Any]]], *, repo_url: str, chart: str, version: str
) -> IndexEntry:
    """The entry Helm would install for ``chart`` at ``version`` (a version or a constraint)."""
    shown = display_url(repo_url)
    listed = entries.get(chart)
    if not listed:
        raise ChartSourceError(
            f"chart {chart!r} is not in the repository {shown}",
            source=shown,
            hint="check the chart name in the HelmRelease (spec.chart.spec.chart)",
        )
    wanted = version or "*"
    for entry in listed:
        if version and entry["version"] == version:
            return _entry(entry)
    try:
        constraint = parse_constraint(wanted)
    except SemverError as exc:
        raise ChartSourceError(f"{shown}: {exc}", source=shown) from exc
    candidates = [(v, str(i)) for i, e in enumerate(listed) if (v := try_version(e["version"])) is not None]
    best = highest(candidates, constraint)
    if best is None:
        newest = sorted((v for v, _ in candidates), reverse=True)[:5]
        raise ChartSourceError(
            f"no version of chart {chart!r} in {shown} matches {wanted!r}",
            source=shown,
            hint="available: " + (", ".join(str(v.original) for v in newest) or "none"),
        )
    return _entry(listed[int(best[1])])


def _entry(data: dict[str, Any]) -> IndexEntry:
    return IndexEntry(str(data["version"]), tuple(data.get("urls") or ()), str(data.get("digest") or ""))


def chart_url(repo_url: str, entry: IndexEntry, chart: str) -> str:
    """Where to download an entry's archive: its first URL, resolved against the repository URL."""
    if not entry.urls:
        raise ChartSourceError(
            f"the index of {display_url(repo_url)} lists {chart} {entry.version} without a download URL",
            source=display_url(repo_url),
        )
    return urllib.parse.urljoin(repo_url.rstrip("/") + "/", entry.urls[0])
