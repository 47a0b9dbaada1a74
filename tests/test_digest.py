"""``homeops.digest`` gives hashlib's digests (cache keys stay what they were) without loading it."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from homeops import digest


@pytest.mark.parametrize(
    "data", [b"", b"abc", "/home/user/repo\udcff".encode("utf-8", "surrogateescape"), bytes(range(256)) * 40]
)
def test_same_digests_as_hashlib(data: bytes) -> None:
    assert digest.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert (
        digest.blake2b(data, digest_size=32).hexdigest() == hashlib.blake2b(data, digest_size=32).hexdigest()
    )


def test_hashlib_is_not_loaded() -> None:
    code = "import sys, homeops.digest; print('hashlib' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )
