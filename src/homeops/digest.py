"""SHA-256 and BLAKE2b without ``hashlib``: importing ``hashlib`` starts OpenSSL (~3 ms, a tenth of a
small repository's cold ``check``), and what a check hashes on every run (cache keys) is short.

``sha256`` gives the digests ``hashlib.sha256`` gives (CPython's own implementation: several times
slower on megabytes, which is why bulk data goes through ``blake2b`` or ``hashlib``); ``hashlib``
stays where an outside format needs SHA-256 of bulk data (kustomize's name suffixes, Helm, OCI).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from hashlib import blake2b, sha256  # the same constructors, as type checkers know them
else:
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b

    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:  # pragma: no cover - CPython 3.12 calls it _sha2
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = ["blake2b", "sha256"]
