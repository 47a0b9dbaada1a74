"""Names homeops writes into a repository must be valid Kubernetes names (DNS-1123 labels)."""

from __future__ import annotations

import re

from ..errors import UsageError

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: Room left for the suffixes derived from an app name (``-db-superuser``, ``-secret``).
_LONGEST_SUFFIX = len("-db-replication")


def check_label(name: str, what: str, *, max_length: int = 63) -> str:
    """``name`` when it is a DNS-1123 label of at most ``max_length`` characters, else a UsageError."""
    if not _LABEL.match(name):
        raise UsageError(
            f"{what} {name!r} is not a valid Kubernetes name",
            hint="use lowercase letters, digits and '-', starting and ending with a letter or digit "
            "(a DNS-1123 label), e.g. 'home-assistant'",
        )
    if len(name) > max_length:
        raise UsageError(
            f"{what} {name!r} is longer than {max_length} characters", hint="choose a shorter name"
        )
    return name


def check_app_name(name: str) -> str:
    """An app name: a DNS-1123 label short enough for the object names derived from it."""
    return check_label(name, "app name", max_length=63 - _LONGEST_SUFFIX)
