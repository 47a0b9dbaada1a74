"""``.sops.yaml`` parsing and rule matching, checked against the real sops where it matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from secrets_testlib import Key

from homeops.errors import ConfigError
from homeops.load.tree import SourceTree
from homeops.secrets import sops
from homeops.secrets.config import compile_go_regex, load_sops_config, parse_sops_config

AGE_A = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
AGE_B = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

CONFIG = f"""\
creation_rules:
  - path_regex: ^talos/.*\\.sops\\.ya?ml$
    age: {AGE_A}
  - path_regex: (bootstrap|kubernetes)/.*\\.sops\\.ya?ml
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    age: "{AGE_A}, {AGE_B}"
  - path_regex: \\.sops\\.env$
    key_groups:
      - age:
          - {AGE_B}
  - age: {AGE_B}
stores:
  yaml:
    indent: 2
"""


def test_rules_are_parsed_with_their_lines_and_key_forms() -> None:
    cfg = parse_sops_config(CONFIG.encode())
    assert [r.line for r in cfg.rules] == [2, 4, 8, 12]
    assert cfg.rules[0].age == (AGE_A,)
    assert cfg.rules[1].age == (AGE_A, AGE_B)  # comma-separated string, spaces trimmed
    assert cfg.rules[1].encrypted_regex == "^(data|stringData)$"
    assert cfg.rules[1].mac_only_encrypted is True
    assert cfg.rules[2].recipients == (AGE_B,)  # from key_groups
    assert cfg.rules[3].path_regex == ""
    assert cfg.stores == {"yaml": {"indent": 2}}
    assert cfg.problems() == []


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("talos/talsecret.sops.yaml", 1),
        ("talos/sub/x.sops.yml", 1),
        ("kubernetes/apps/a/secret.sops.yaml", 2),
        ("bootstrap/sops-age.sops.yaml", 2),
        # unanchored: sops searches, it does not match the whole path
        ("other/kubernetes/x.sops.yaml", 2),
        # anchored ^talos: a nested talos folder is not rule 1; kubernetes/ comes next
        ("kubernetes/talos/x.sops.yaml", 2),
        ("kubernetes/apps/a/app.sops.env", 3),
        ("README.md", 4),  # a rule without path_regex matches everything
    ],
)
def test_first_matching_rule_wins(path: str, rule: int) -> None:
    cfg = parse_sops_config(CONFIG.encode())
    found = cfg.rule_for(path)
    assert found is not None and found.index + 1 == rule


def test_no_rule_matches() -> None:
    cfg = parse_sops_config(b"creation_rules:\n  - path_regex: ^kubernetes/\n    age: " + AGE_A.encode())
    assert cfg.rule_for("talos/x.sops.yaml") is None


def test_config_without_creation_rules_matches_nothing() -> None:
    cfg = parse_sops_config(b"stores:\n  yaml:\n    indent: 2\n")
    assert cfg.rules == ()
    assert cfg.rule_for("a.sops.yaml") is None


def test_load_from_tree_and_absent(tmp_path: Path) -> None:
    assert load_sops_config(tmp_path) is None
    (tmp_path / ".sops.yaml").write_text(CONFIG)
    cfg = load_sops_config(SourceTree(tmp_path))
    assert cfg is not None and len(cfg.rules) == 4


def test_invalid_yaml_is_a_config_error_with_line(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules:\n  - path_regex: [oops\n")
    with pytest.raises(ConfigError) as caught:
        load_sops_config(tmp_path)
    assert caught.value.where is not None and caught.value.where.path == ".sops.yaml"


def test_problems_sops_would_reject() -> None:
    cfg = parse_sops_config(
        b"creation_rules:\n"
        b"  - path_regex: a(?=b)\n"
        b"    encrypted_regex: x\n"
        b"    unencrypted_regex: y\n"
        b"    age: not-a-key\n"
    )
    messages = " | ".join(m for _, m in cfg.problems())
    assert "lookaround" in messages
    assert "only one of them" in messages
    assert "not-a-key" in messages
    with pytest.raises(ConfigError) as caught:
        cfg.rule_for("ab")
    assert caught.value.where is not None and caught.value.where.line == 2


def test_go_regex_spellings() -> None:
    assert compile_go_regex(r"\.sops\.yaml\z").search("a.sops.yaml")
    assert not compile_go_regex(r"\.sops\.yaml\z").search("a.sops.yaml\n")
    assert compile_go_regex(r"^[[:alpha:]]+/x$").search("talos/x")
    assert compile_go_regex(r"\Qa.b\E$").search("xa.b")
    assert not compile_go_regex(r"\Qa.b\E$").search("xaxb")
    assert compile_go_regex(r"(?<dir>kubernetes)/").search("kubernetes/a")
    with pytest.raises(ConfigError):
        compile_go_regex(r"(a)\1")


def test_rule_for_agrees_with_sops(tmp_path: Path, age_key: Key) -> None:
    """Encrypt through the real sops with a config whose rules leave distinct marks; the rule sops
    applied must be the rule rule_for names."""
    config = (
        b"creation_rules:\n"
        b"  - path_regex: ^talos/\n    encrypted_suffix: _one\n    age: " + AGE_A.encode() + b"\n"
        b"  - path_regex: kubernetes/.*\\.sops\\.ya?ml$\n    encrypted_suffix: _two\n    age: "
        + AGE_A.encode()
        + b"\n"
        b"  - path_regex: \\.ya?ml$\n    encrypted_suffix: _three\n    age: " + AGE_A.encode() + b"\n"
    )
    (tmp_path / ".sops.yaml").write_bytes(config)
    cfg = load_sops_config(tmp_path)
    assert cfg is not None
    marks = {1: "_one", 2: "_two", 3: "_three"}
    for path in (
        "talos/a.sops.yaml",
        "kubernetes/apps/b.sops.yaml",
        "x/kubernetes/c.sops.yml",
        "kubernetes/d.yaml",
        "nested/talos/e.sops.yaml",
    ):
        rule = cfg.rule_for(path)
        assert rule is not None
        ciphertext = sops.encrypt(b"k: v\n", filename=path, repo_root=tmp_path)
        meta = sops.metadata_of(ciphertext, path)
        assert meta is not None
        assert meta["encrypted_suffix"] == marks[rule.index + 1], path
