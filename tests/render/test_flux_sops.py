"""SOPS round trip while rendering: a key generated here, the real sops binary, nothing decrypted on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from render_testlib import cli, copy_repo, documents

from homeops.secrets import keys
from homeops.secrets.sops import encrypt

PASSWORD = "S3cr3t-Pa55word-xyz"
API_KEY = "ApiKey-9f8e7d6c5b"
SECRET_FILE = "kubernetes/apps/demo/echo/app/secret.sops.yaml"


@pytest.fixture(autouse=True)
def _sops_environment(isolated_env: None) -> None:
    """No key of the person running the tests may leak in."""


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture repository with an encrypted Secret that echo's values come from; and the key file."""
    public, private = keys.generate_age_key()
    key_file = tmp_path / "keys.txt"
    keys.write_key(key_file, public, private)
    root = copy_repo(tmp_path)
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\\.sops\\.yaml\n    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {public}\n"
    )
    plaintext = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: echo-secret\nstringData:\n"
        f"  password: {PASSWORD}\n  values.yaml: |\n    auth:\n      apiKey: {API_KEY}\n"
    ).encode()
    (root / SECRET_FILE).write_bytes(encrypt(plaintext, filename=SECRET_FILE, repo_root=root))
    app = root / "kubernetes/apps/demo/echo/app"
    kustomization = app / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace(
            "  - ./secret.yaml\n", "  - ./secret.yaml\n  - ./secret.sops.yaml\n"
        )
    )
    release = app / "helmrelease.yaml"
    release.write_text(release.read_text().replace(
        "    - kind: Secret\n      name: echo-optional\n",
        "    - kind: Secret\n      name: echo-secret\n"
        "    - kind: Secret\n      name: echo-secret\n"
        "      valuesKey: password\n      targetPath: auth.password\n"
        "    - kind: Secret\n      name: echo-optional\n",
    ))  # fmt: skip
    return root, key_file


def rendered_values(out: str) -> str:
    config = next(
        d for d in documents(out) if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "echo-rendered"
    )
    return str(config["data"]["values.json"])


def test_with_a_key_the_real_values_are_rendered(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, key_file = repo
    code, out, err = cli(
        capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file), "--show-secrets"
    )
    assert code == 0, err
    values = rendered_values(out)
    assert f'"password":"{PASSWORD}"' in values and f'"apiKey":"{API_KEY}"' in values
    assert "placeholders" not in err
    code, out, _ = cli(capsys, "build", "ks", "echo", str(root), "--age-key", str(key_file), "--show-secrets")
    secret = next(d for d in documents(out) if d["metadata"]["name"] == "echo-secret")
    assert secret["stringData"]["password"] == PASSWORD and "sops" not in secret


def test_the_key_can_come_from_the_environment(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, key_file = repo
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    code, out, _ = cli(capsys, "build", "hr", "echo", str(root), "--show-secrets")
    assert code == 0 and PASSWORD in rendered_values(out)


def test_decrypted_values_are_redacted_unless_asked(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, key_file = repo
    code, out, _ = cli(capsys, "build", "all", str(root), "--age-key", str(key_file))
    assert code == 0
    assert PASSWORD not in out and API_KEY not in out
    assert '"password":"<redacted>"' in out


def test_without_a_key_placeholders_are_marked(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--show-secrets")
    assert code == 0
    values = json.loads(rendered_values(out))
    assert values["auth"]["password"].startswith("<sops-encrypted #")  # targetPath: a marked placeholder
    assert "apiKey" not in values["auth"]  # an encrypted document cannot be merged
    assert "HelmRelease/demo/echo: rendered with placeholders:" in err
    assert "Secret demo/echo-secret key 'password': SOPS-encrypted and no age key was given" in err


def test_nothing_decrypted_reaches_a_file(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root, key_file = repo
    for extra in ((), ("--show-secrets",)):
        for what in ("ks", "hr", "all"):
            assert cli(capsys, "build", what, str(root), "--age-key", str(key_file), *extra)[0] == 0
    places = [tmp_path, Path(os.environ["HOMEOPS_CACHE_DIR"])]
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert PASSWORD.encode() not in data and API_KEY.encode() not in data, path
