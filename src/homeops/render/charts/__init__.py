"""Helm chart sources (OCI, Helm repositories, Git, local folders) and their content-addressed cache."""

from __future__ import annotations

from .cache import DEFAULT_TTL, ChartArtifact, ChartCache
from .errors import ChartIntegrityError, ChartNotCached, ChartSourceError
from .transport import BasicAuth

__all__ = [
    "DEFAULT_TTL",
    "BasicAuth",
    "ChartArtifact",
    "ChartCache",
    "ChartIntegrityError",
    "ChartNotCached",
    "ChartSourceError",
]
