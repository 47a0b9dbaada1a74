"""``secrets check-staged`` in real Git repositories: what is staged is what counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_testlib import Key

from homeops.cli.main import main
from homeops.errors import UsageError
from homeops.secrets import sops
from homeops.secrets.staged import check_blob, check_staged

Git = Callable[..., str]

PLAIN_SECRET = b"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
stringData:
  password: staged-plaintext-value-31337
"""


def _sops_config(root: Path, public: str) -> None:
    (root / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: \\.sops\\.ya?ml$\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {public}\n"
        f"  - age: {public}\n"
    )


def test_plaintext_secret_staged_is_refused(
    git_repo: Path, git: Git, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "kubernetes").mkdir()
    (git_repo / "kubernetes/secret.yaml").write_bytes(PLAIN_SECRET)
    git(git_repo, "add", "-A")
    assert main(["secrets", "check-staged", str(git_repo)]) == 1
    out, err = capsys.readouterr()
    assert "kubernetes/secret.yaml:1: Secret default/db holds plaintext values (stringData.password)" in out
    assert "fix:" in out and "commit refused" in err
    assert "staged-plaintext-value-31337" not in out + err


def test_encrypted_secret_staged_passes(git_repo: Path, git: Git, age_key: Key) -> None:
    _sops_config(git_repo, age_key.public)
    ciphertext = sops.encrypt(PLAIN_SECRET, filename="kubernetes/secret.sops.yaml", repo_root=git_repo)
    (git_repo / "kubernetes").mkdir()
    (git_repo / "kubernetes/secret.sops.yaml").write_bytes(ciphertext)
    git(git_repo, "add", "-A")
    assert check_staged(git_repo) == []
    assert main(["secrets", "check-staged", str(git_repo)]) == 0


def test_the_index_counts_not_the_working_tree(git_repo: Path, git: Git, age_key: Key) -> None:
    _sops_config(git_repo, age_key.public)
    path = git_repo / "db.sops.yaml"
    path.write_bytes(PLAIN_SECRET)
    git(git_repo, "add", "db.sops.yaml")
    path.write_bytes(sops.encrypt(PLAIN_SECRET, filename="db.sops.yaml", repo_root=git_repo))
    problems = check_staged(git_repo)  # encrypted on disk, plaintext in the index: refused
    assert [(p.path, p.message) for p in problems] == [
        ("db.sops.yaml", "is named *.sops.* but is not SOPS-encrypted")
    ]
    git(git_repo, "add", "db.sops.yaml")
    path.write_bytes(PLAIN_SECRET)  # and the reverse: plaintext on disk only
    assert check_staged(git_repo) == []


def test_unencrypted_sops_env_and_subfolder_invocation(git_repo: Path, git: Git) -> None:
    (git_repo / "apps" / "x").mkdir(parents=True)
    (git_repo / "apps/x/app.sops.env").write_text("TOKEN=abc\n")
    (git_repo / "apps/x/secret.sops.yaml.j2").write_text("stringData:\n  a: '{{ token }}'\n")
    git(git_repo, "add", "-A")
    problems = check_staged(git_repo / "apps" / "x")
    assert [p.path for p in problems] == ["apps/x/app.sops.env"]


def test_deleting_a_plaintext_secret_is_allowed(git_repo: Path, git: Git) -> None:
    (git_repo / "old.yaml").write_bytes(PLAIN_SECRET)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "--no-verify", "-m", "leak (history is another problem)")
    git(git_repo, "rm", "-q", "old.yaml")
    assert check_staged(git_repo) == []


def test_blob_rules() -> None:
    placeholders = PLAIN_SECRET.replace(b"staged-plaintext-value-31337", b"${DB_PASSWORD}")
    assert check_blob("a.yaml", placeholders) == []
    empty = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ntype: kubernetes.io/service-account-token\n"
    assert check_blob("a.yaml", empty) == []
    # encrypted, but the rule's regex missed a section: values still in plaintext
    partial = PLAIN_SECRET + b"sops:\n  mac: ENC[AES256_GCM,data:x]\n  encrypted_regex: ^data$\n"
    problems = check_blob("db.sops.yaml", partial)
    assert len(problems) == 1 and "encrypted_regex" in problems[0].fix
    two_docs = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n" + PLAIN_SECRET
    assert [p.line for p in check_blob("a.yaml", two_docs)] == [6]
    assert check_blob("a.json", b'{"apiVersion": "v1", "kind": "Secret", "data": {"k": "dmFsdWU="}}')
    assert check_blob("helmrelease.yaml", b"kind: HelmRelease\nspec:\n  values:\n    secret: x\n") == []


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not inside a Git work tree"):
        check_staged(tmp_path)


GENERATOR = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
  - name: app
    literals:
      - DOMAIN=${SECRET_DOMAIN}
      - TOKEN=op://vault/app/token
      - PASSWORD=staged-literal-4242
    envs:
      - ./app.env
"""


def test_a_plaintext_secret_generator_is_refused_as_staged(git_repo: Path, git: Git) -> None:
    (git_repo / "app").mkdir()
    (git_repo / "app/kustomization.yaml").write_text(GENERATOR)
    (git_repo / "app/app.env").write_text("TOKEN=staged-env-4343\n")
    git(git_repo, "add", "-A")
    (git_repo / "app/app.env").write_text("TOKEN=${FROM_FLUX}\n")  # fixed in the working tree only
    problems = check_staged(git_repo)
    assert [(p.path, p.line) for p in problems] == [
        ("app/kustomization.yaml", 8),
        ("app/kustomization.yaml", 10),
    ]
    assert "literal value of PASSWORD" in problems[0].message
    assert "plaintext env file ./app.env" in problems[1].message
    assert not any("4242" in str(p) or "4343" in str(p) for p in problems)


def test_secret_manager_references_are_not_plaintext(git_repo: Path, git: Git) -> None:
    (git_repo / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: op://vault/item/token\n"
    )
    git(git_repo, "add", "-A")
    assert check_staged(git_repo) == []
