"""Age keys: generation, key files (0600, appended, atomic), where sops would find one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from homeops.errors import UsageError
from homeops.secrets import keys


def test_generate_and_derive_public() -> None:
    public, private = keys.generate_age_key()
    assert public.startswith("age1") and len(public) == 62
    assert private.startswith("AGE-SECRET-KEY-1")
    assert keys.public_key_of(private) == public


def test_malformed_identity_is_not_echoed() -> None:
    with pytest.raises(UsageError) as caught:
        keys.public_key_of("AGE-SECRET-KEY-1NOTAKEY")
    assert "NOTAKEY" not in str(caught.value)


def test_write_key_is_private_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "sops" / "age" / "keys.txt"
    first, second = keys.generate_age_key(), keys.generate_age_key()
    assert keys.write_key(path, *first) is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.write_key(path, *second, note="second") is True
    text = path.read_text()
    assert keys.parse_identities(text) == (first[1], second[1])
    assert f"# public key: {second[0]}" in text and "# second" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_key_file_follows_xdg(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    assert keys.default_key_file(env) == tmp_path / "xdg" / "sops" / "age" / "keys.txt"
    assert keys.key_file_for_writing({**env, "SOPS_AGE_KEY_FILE": "/k/keys.txt"}) == Path("/k/keys.txt")


def test_find_age_key_order(tmp_path: Path) -> None:
    a, b, c, d = (keys.generate_age_key() for _ in range(4))
    explicit, env_file = tmp_path / "explicit.txt", tmp_path / "env.txt"
    default = tmp_path / "xdg" / "sops" / "age" / "keys.txt"
    keys.write_key(explicit, *a)
    keys.write_key(env_file, *b)
    keys.write_key(default, *d)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "SOPS_AGE_KEY": c[1], "SOPS_AGE_KEY_FILE": str(env_file)}

    def found(explicit_file: Path | None, environment: dict[str, str]) -> str:
        key = keys.find_age_key(explicit_file, environment)
        assert key is not None
        return key.public_keys()[0]

    assert found(explicit, env) == a[0]
    assert found(None, env) == c[0]
    assert found(None, {k: v for k, v in env.items() if k != "SOPS_AGE_KEY"}) == b[0]
    assert found(None, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}) == d[0]
    assert keys.find_age_key(None, {"XDG_CONFIG_HOME": str(tmp_path / "none")}) is None
    with pytest.raises(UsageError):
        keys.find_age_key(tmp_path / "missing.txt", env)


def test_age_key_repr_hides_material(tmp_path: Path) -> None:
    public, private = keys.generate_age_key()
    keys.write_key(tmp_path / "k.txt", public, private)
    key = keys.find_age_key(tmp_path / "k.txt", {})
    assert key is not None
    assert private not in repr(key)
