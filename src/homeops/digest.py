"""BLAKE2b without ``hashlib``: importing ``hashlib`` starts OpenSSL (~3 ms, a tenth of a small
repository's cold ``check``), and what a check hashes on every run (cache keys) is short. ``hashlib``
stays where an outside format needs SHA-256 (kustomize's name suffixes, Helm, OCI digests)."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

__all__ = ["blake2b"]
