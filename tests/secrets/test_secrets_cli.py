"""``homeops secrets`` run in-process: data on stdout, diagnostics on stderr, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from secrets_testlib import Key, copy_layout

from homeops.cli.main import main
from homeops.secrets import sops

SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"


def test_init_encrypt_show_decrypt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_layout(tmp_path / "repo")
    key_file = tmp_path / "elsewhere" / "keys.txt"
    assert main(["secrets", "init", "--age-key", str(key_file), str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("age1") and str(key_file) in err
    assert main(["secrets", "encrypt", str(root)]) == 0
    out, err = capsys.readouterr()
    assert f"encrypted {SECRET_YAML}" in out and "3 file(s) encrypted" in err
    assert sops.is_encrypted((root / SECRET_YAML).read_bytes())

    # the key is not where sops looks by default: without --age-key, decryption fails readably
    assert main(["secrets", "show", str(root / SECRET_YAML)]) == 3
    out, err = capsys.readouterr()
    assert out == "" and "homeops: error:" in err and "--age-key" in err

    assert main(["secrets", "show", "--age-key", str(key_file), str(root / SECRET_YAML)]) == 0
    out, err = capsys.readouterr()
    assert "fixture-token-4f1b2c" in out and err == ""

    assert main(["secrets", "decrypt", "--age-key", str(key_file), str(root / SECRET_YAML)]) == 0
    out, err = capsys.readouterr()
    assert f"decrypted {SECRET_YAML}" in out and "warning" in err
    assert b"fixture-token-4f1b2c" in (root / SECRET_YAML).read_bytes()


def test_status_text_and_exit_code(repo: Path, age_key: Key, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "status", str(repo)]) == 1  # plaintext *.sops.* files
    assert "PLAINTEXT" in capsys.readouterr().out
    assert main(["secrets", "encrypt", str(repo)]) == 0
    capsys.readouterr()
    assert main(["secrets", "status", str(repo)]) == 0
    out = capsys.readouterr().out
    assert out.count("encrypted ") == 3 and "PLAINTEXT" not in out


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets"]) == 2
    assert main(["secrets", "encrypt", str(tmp_path / "missing")]) == 2
    (tmp_path / "a.sops.yaml").write_text("a: b\n")
    assert main(["secrets", "encrypt", str(tmp_path)]) == 2  # no .sops.yaml: nothing knows the keys
    assert "homeops secrets init" in capsys.readouterr().err
