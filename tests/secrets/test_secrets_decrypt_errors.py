"""Which key decrypts, and what a failed decryption says: ``--age-key`` wins over every other key
source; a file for someone else's key and a tampered file each get one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from secrets_testlib import Key

from homeops.cli.main import main
from homeops.secrets import keys, ops, sops

TALOS = "talos/talsecret.sops.yaml"
SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"


@pytest.fixture
def other_key(tmp_path: Path) -> Path:
    public, private = keys.generate_age_key()
    path = tmp_path / "other" / "keys.txt"
    keys.write_key(path, public, private)
    return path


@pytest.mark.parametrize("ambient", ["SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "keys.txt"])
def test_an_explicit_key_that_is_not_a_recipient_is_not_overridden(
    repo: Path, age_key: Key, other_key: Path, ambient: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.encrypt(repo)
    # The right key is where sops would find it by itself ...
    if ambient == "SOPS_AGE_KEY":
        monkeypatch.delenv("SOPS_AGE_KEY_FILE")
        monkeypatch.setenv("SOPS_AGE_KEY", age_key.private)
    elif ambient == "keys.txt":
        monkeypatch.delenv("SOPS_AGE_KEY_FILE")
        default = keys.default_key_file()
        default.parent.mkdir(parents=True)
        age_key.file.rename(default)
    # ... but the user named another one: that one, and only that one, is used.
    with pytest.raises(sops.NoMatchingKey, match="no age key of yours is a recipient"):
        ops.show(repo / TALOS, age_key_file=other_key)
    assert b"fixture-cluster-secret-0002" in ops.show(repo / TALOS)


def test_an_explicit_key_wins_over_a_wrong_ambient_one(
    repo: Path, age_key: Key, other_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.encrypt(repo)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other_key))
    assert b"fixture-cluster-secret-0002" in ops.show(repo / TALOS, age_key_file=age_key.file)
    changed = ops.decrypt(repo, [repo / TALOS], age_key_file=age_key.file)
    assert changed.decrypted == (TALOS,)


def test_show_for_someone_elses_key_prints_one_clear_line(
    repo: Path, other_key: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.encrypt(repo)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other_key))
    assert main(["secrets", "show", str(repo / TALOS)]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"homeops: error: {TALOS}: cannot decrypt: no age key of yours is a recipient")
    assert len(lines) == 2 and lines[1].startswith("  hint: ")
    assert "Group 0" not in err and "FAILED" not in err


@pytest.mark.parametrize("tamper", ["drop-a-value", "flip-a-value"])
def test_a_tampered_file_says_so(
    repo: Path, age_key: Key, tamper: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.encrypt(repo)
    path = repo / TALOS
    lines = path.read_text().splitlines(keepends=True)
    if tamper == "drop-a-value":
        lines = [line for line in lines if "bootstraptoken" not in line]
        expected = "its MAC does not match its content"
    else:
        index = next(i for i, line in enumerate(lines) if "bootstraptoken" in line)
        head, _, data = lines[index].partition("data:")
        lines[index] = f"{head}data:{'A' if data[0] != 'A' else 'B'}{data[1:]}"
        expected = "a value does not decrypt"
    path.write_text("".join(lines))
    with pytest.raises(sops.IntegrityError) as caught:
        ops.show(path)
    assert expected in caught.value.message and "changed after it was encrypted" in caught.value.message
    assert "age key" not in str(caught.value)
    assert main(["secrets", "show", str(path)]) == 3
    assert "changed after it was encrypted" in capsys.readouterr().err
    assert os.environ["SOPS_AGE_KEY_FILE"] == str(age_key.file)  # the right key was there all along
