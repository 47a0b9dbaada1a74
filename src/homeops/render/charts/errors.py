"""Why a chart could not be fetched: unreachable, refused, missing, tampered with, or not cached."""

from __future__ import annotations

from ...errors import RenderError


class ChartSourceError(RenderError):
    """A chart could not be fetched from its source (network, credentials, not found, bad data)."""

    def __init__(self, message: str, *, source: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source
        """The URL (or folder) that was being read."""


class ChartIntegrityError(ChartSourceError):
    """Downloaded bytes do not match the digest the source promised."""


class ChartNotCached(ChartSourceError):
    """Offline mode was asked for a chart the cache does not hold."""
