"""The sops gateway: detection by content, round trips through the real binary, no leaks in errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from secrets_testlib import Key

from homeops.errors import ToolError, UsageError
from homeops.secrets import sops
from homeops.secrets.config import SopsConfig

SECRET = b"""\
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: default
stringData:
  password: correct-horse-battery-staple
"""


def _config(tmp_path: Path, public: str) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: kubernetes/.*\\.sops\\.ya?ml$\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        "    mac_only_encrypted: true\n"
        f"    age: {public}\n"
        f"  - age: {public}\n"
        "stores:\n  yaml:\n    indent: 2\n"
    )


@pytest.mark.parametrize(
    ("name", "plaintext", "secret"),
    [
        ("kubernetes/a/secret.sops.yaml", SECRET, b"correct-horse-battery-staple"),
        ("talos/t.sops.yaml", b"a: 1\n---\nb: multi-doc-secret\n", b"multi-doc-secret"),
        ("x/conf.sops.json", b'{"token": "json-secret-value"}', b"json-secret-value"),
        ("x/app.sops.env", b"TOKEN=dotenv-secret-value\n", b"dotenv-secret-value"),
        ("x/app.sops.ini", b"[db]\npassword = ini-secret-value\n", b"ini-secret-value"),
    ],
)
def test_round_trip(tmp_path: Path, age_key: Key, name: str, plaintext: bytes, secret: bytes) -> None:
    public = age_key.public
    _config(tmp_path, public)
    assert not sops.is_encrypted(plaintext, name)
    ciphertext = sops.encrypt(plaintext, filename=name, repo_root=tmp_path)
    assert secret not in ciphertext
    assert sops.is_encrypted(ciphertext, name)
    assert sops.has_encrypted_values(ciphertext, name)
    assert sops.recipients_of(ciphertext, name) == [public]
    decrypted = sops.decrypt(ciphertext, filename=name, repo_root=tmp_path)
    if name.endswith(".json"):
        assert json.loads(decrypted) == json.loads(plaintext)  # sops re-indents JSON with tabs
    else:
        assert decrypted == plaintext


def test_encrypted_regex_keeps_metadata_readable(tmp_path: Path, age_key: Key) -> None:
    _config(tmp_path, age_key.public)
    ciphertext = sops.encrypt(SECRET, filename="kubernetes/a/secret.sops.yaml", repo_root=tmp_path)
    doc = yaml.safe_load(ciphertext)
    assert doc["metadata"]["name"] == "db-credentials"
    assert doc["kind"] == "Secret"
    assert doc["stringData"]["password"].startswith("ENC[")
    # a file outside kubernetes/ falls to the catch-all rule: encrypted whole
    whole = yaml.safe_load(sops.encrypt(SECRET, filename="talos/s.sops.yaml", repo_root=tmp_path))
    assert whole["metadata"]["name"].startswith("ENC[")


def test_detection_is_by_content_not_name() -> None:
    fake = b"sops:\n  note: this mentions mac but has no mac key\nmacaddress: x\n"
    assert not sops.is_encrypted(fake, "a.sops.yaml")
    yaml_meta = b"a: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[AES256_GCM,data:y]\n  version: 3.11.0\n"
    assert sops.is_encrypted(yaml_meta, "whatever.txt")  # name says nothing; content does
    assert sops.is_encrypted(b"A=ENC[x]\nsops_mac=ENC[y]\nsops_version=3.11.0\n", "a.env")
    assert sops.is_encrypted(b"[s]\na = ENC[x]\n\n[sops]\nmac = ENC[y]\n", "a.ini")
    # one plaintext document next to an encrypted one: not encrypted
    assert not sops.is_encrypted(yaml_meta + b"---\nplain: value\n", "a.yaml")
    assert not sops.is_encrypted(SECRET, "kubernetes/a/secret.sops.yaml")


def test_recipients_of_key_groups_and_flat_formats() -> None:
    grouped = b"""\
a: ENC[x]
sops:
  key_groups:
    - age:
        - recipient: age1one
          enc: x
    - pgp:
        - fp: ABCDEF
  mac: ENC[y]
"""
    assert sops.recipients_of(grouped, "a.yaml") == ["age1one", "ABCDEF"]
    flat = (
        b"A=ENC[x]\nsops_age__list_0__map_recipient=age1two\nsops_age__list_0__map_enc=x\nsops_mac=ENC[y]\n"
    )
    assert sops.recipients_of(flat, "a.env") == ["age1two"]
    assert sops.rule_of(flat, "a.env") == {"age": ["age1two"]}


def test_plaintext_never_in_error_message(tmp_path: Path, age_key: Key) -> None:
    _config(tmp_path, age_key.public)
    # sops echoes a dotenv line it cannot parse: the line is the secret
    plaintext = b"FOO=bar\nthis-line-is-a-secret-hunter2\n"
    with pytest.raises(ToolError) as caught:
        sops.encrypt(plaintext, filename="x/app.sops.env", repo_root=tmp_path)
    message = str(caught.value)
    assert "this-line-is-a-secret-hunter2" not in message
    assert "<redacted>" in message  # sops did try to show it
    assert "hunter2" not in message


def test_key_material_never_in_argv_or_error(
    tmp_path: Path, age_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, age_key.public)
    ciphertext = sops.encrypt(SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    from homeops.secrets import keys

    _, other = keys.generate_age_key()  # not a recipient: decryption fails
    with pytest.raises(sops.NoMatchingKey) as caught:
        sops.decrypt(ciphertext, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path, age_key=other)
    assert other not in str(caught.value)
    ran = caught.value.__cause__
    assert isinstance(ran, ToolError) and all(other not in arg for arg in ran.argv) and other not in str(ran)
    assert "hint" in str(caught.value)
    # the right key passed as material (not a file) works
    plain = sops.decrypt(
        ciphertext,
        filename="kubernetes/a/s.sops.yaml",
        repo_root=tmp_path,
        age_key=age_key.private,
    )
    assert plain == SECRET


def test_stray_recipient_environment_is_ignored(
    tmp_path: Path, age_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, age_key.public)
    monkeypatch.setenv(
        "SOPS_AGE_RECIPIENTS", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
    )
    ciphertext = sops.encrypt(SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path)
    assert sops.recipients_of(ciphertext) == [age_key.public]


def test_explicit_recipients_and_config(tmp_path: Path, age_key: Key) -> None:
    public = age_key.public
    # no .sops.yaml at all: explicit recipients encrypt the whole file
    ciphertext = sops.encrypt(
        SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path, recipients=[public]
    )
    assert yaml.safe_load(ciphertext)["metadata"]["name"].startswith("ENC[")
    # a config given in memory (a staging tree has no .sops.yaml of its own)
    cfg = SopsConfig.build([{"path_regex": "^kubernetes/", "encrypted_regex": "^stringData$", "age": public}])
    doc = yaml.safe_load(
        sops.encrypt(SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path, config=cfg)
    )
    assert doc["metadata"]["name"] == "db-credentials"
    assert doc["stringData"]["password"].startswith("ENC[")


def test_missing_config_or_rule_is_a_usage_error(tmp_path: Path, age_key: Key) -> None:
    with pytest.raises(UsageError, match=r"no \.sops\.yaml"):
        sops.encrypt(SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path)
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: ^talos/\n    age: {age_key.public}\n"
    )
    with pytest.raises(UsageError, match="no creation rule") as caught:
        sops.encrypt(SECRET, filename="kubernetes/a/s.sops.yaml", repo_root=tmp_path)
    assert caught.value.where is not None and caught.value.where.path == "kubernetes/a/s.sops.yaml"


def test_nothing_encrypted_is_detected(tmp_path: Path, age_key: Key) -> None:
    _config(tmp_path, age_key.public)
    values = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nvalues:\n  password: oops\n"
    ciphertext = sops.encrypt(values, filename="kubernetes/a/values.sops.yaml", repo_root=tmp_path)
    assert sops.is_encrypted(ciphertext)
    assert not sops.has_encrypted_values(ciphertext, "kubernetes/a/values.sops.yaml")
