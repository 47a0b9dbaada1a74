"""init, encrypt, decrypt, show, rotate, status on a repository copy, with the real sops."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from secrets_testlib import LAYOUT_SECRETS, Key, copy_layout

from homeops import journal
from homeops.cli.main import main
from homeops.errors import UsageError, WriteError
from homeops.secrets import keys, ops, sops
from homeops.secrets.config import load_sops_config
from homeops.secrets.naming import is_sops_file

SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"
ENV_FILE = "kubernetes/apps/default/app/echo.sops.env"
TALOS = "talos/talsecret.sops.yaml"
Snapshot = Callable[[Path], dict[str, bytes]]


def _leftover_temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".homeops-tmp")]


# -- init ---------------------------------------------------------------------------------------


def test_init_fits_rules_to_layout(tmp_path: Path) -> None:
    root = copy_layout(tmp_path / "repo")
    result = ops.init(root)
    key_file = Path(tmp_path / "home" / ".config" / "sops" / "age" / "keys.txt")
    assert result.key_file == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys.parse_identities(key_file.read_text())
    assert not any(p.name == "keys.txt" for p in root.rglob("*"))
    # kubernetes/ holds Kubernetes Secrets: partial encryption; talos/ does not: whole file
    assert result.rules == (r"^kubernetes/.+\.sops\.ya?ml$", r"\.sops\.(ya?ml|json|env|ini)$")
    cfg = load_sops_config(root)
    assert cfg is not None
    kube = cfg.rule_for(SECRET_YAML)
    assert kube is not None and kube.encrypted_regex == "^(data|stringData)$" and kube.mac_only_encrypted
    talos = cfg.rule_for(TALOS)
    assert talos is not None and talos.encrypted_regex == ""
    assert all(rule.age == (result.public_key,) for rule in cfg.rules)
    # and the repository encrypts with it (the key is where sops looks by default)
    ops.encrypt(root)
    secret = yaml.safe_load((root / SECRET_YAML).read_bytes())
    assert secret["metadata"]["name"] == "echo-secret"
    assert secret["stringData"]["API_TOKEN"].startswith("ENC[")
    assert yaml.safe_load((root / TALOS).read_bytes())["cluster"]["id"].startswith("ENC[")
    assert ops.show(root / SECRET_YAML).count(b"fixture-token-4f1b2c") == 1


def test_init_refuses_overwrite_and_keys_inside_the_repo(tmp_path: Path) -> None:
    root = copy_layout(tmp_path / "repo")
    with pytest.raises(UsageError, match="Git would commit it"):
        ops.init(root, key_file=root / "age.key")
    assert not (root / "age.key").exists() and not (root / ".sops.yaml").exists()
    first = ops.init(root)
    before = (root / ".sops.yaml").read_bytes()
    with pytest.raises(WriteError, match="already exists"):
        ops.init(root)
    assert (root / ".sops.yaml").read_bytes() == before
    second = ops.init(root, force=True)
    assert second.appended  # the first key is kept in the same file
    identities = keys.parse_identities(first.key_file.read_text())
    assert [keys.public_key_of(i) for i in identities] == [first.public_key, second.public_key]


@pytest.mark.parametrize("git_repo_too", [True, False], ids=["git", "no-git"])
def test_init_accepts_a_key_in_the_repo_that_git_ignores(
    tmp_path: Path, git: Callable[..., str], git_repo_too: bool
) -> None:
    """cluster-template keeps ./age.key in the repository, listed in .gitignore."""
    root = copy_layout(tmp_path / "repo")
    (root / ".gitignore").write_text("age.key\n")
    if git_repo_too:
        git(root, "init", "-q")
    result = ops.init(root, key_file=root / "age.key")
    assert result.key_file == root / "age.key" and (root / "age.key").is_file()
    assert result.warnings == ()
    ops.encrypt(root)
    assert b"fixture-token-4f1b2c" in ops.show(root / SECRET_YAML, age_key_file=root / "age.key")
    rotated = ops.rotate(root, age_key_file=root / "age.key")  # the new key goes beside the old one
    assert rotated.key_file == root / "age.key"
    assert len(keys.parse_identities((root / "age.key").read_text())) == 2


def test_init_refuses_a_key_git_tracks_even_if_ignored(tmp_path: Path, git: Callable[..., str]) -> None:
    root = copy_layout(tmp_path / "repo")
    git(root, "init", "-q")
    (root / "age.key").write_text("# placeholder\n")
    git(root, "add", "age.key")
    (root / ".gitignore").write_text("age.key\n")  # too late: tracked files stay tracked
    with pytest.raises(UsageError, match="Git would commit it"):
        ops.init(root, key_file=root / "age.key")
    assert (root / "age.key").read_text() == "# placeholder\n"


def test_init_warns_when_git_would_not_commit_the_sops_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_layout(tmp_path / "repo")
    (root / ".gitignore").write_text("*.yaml\n!kubernetes/**\n")
    assert main(["secrets", "init", str(root)]) == 0
    err = capsys.readouterr().err
    assert "warning: .sops.yaml is ignored by Git (.gitignore): it will not be committed" in err
    assert (root / ".sops.yaml").is_file()


# -- encrypt ------------------------------------------------------------------------------------


def test_encrypt_all_in_place_skipping_templates(repo: Path, snapshot: Snapshot) -> None:
    template = repo / "templates" / "config" / "secret.sops.yaml.j2"
    template_before = template.read_bytes()
    result = ops.encrypt(repo)
    assert result.encrypted == (ENV_FILE, SECRET_YAML, TALOS)
    for rel in result.encrypted:
        data = (repo / rel).read_bytes()
        assert sops.is_encrypted(data, rel)
        assert not any(s.encode() in data for s in LAYOUT_SECRETS)
    assert template.read_bytes() == template_before
    # a second run changes nothing
    before = snapshot(repo)
    again = ops.encrypt(repo)
    assert again.encrypted == () and set(again.skipped) == {ENV_FILE, SECRET_YAML, TALOS}
    assert snapshot(repo) == before


def test_encrypt_is_all_or_nothing_when_sops_fails(
    repo: Path, snapshot: Snapshot, shm_leftovers: Callable[[], set[str]]
) -> None:
    (repo / SECRET_YAML).write_text("apiVersion: v1\nkind: Secret\nstringData: [broken\n")  # 2nd of 3
    before, temp_before = snapshot(repo), shm_leftovers()
    with pytest.raises(WriteError) as caught:
        ops.encrypt(repo)
    assert snapshot(repo) == before
    assert not _leftover_temp_files(repo)
    assert shm_leftovers() <= temp_before
    message = str(caught.value)
    assert "1 of 3" in message and SECRET_YAML in message and "no file was changed" in message


def test_encrypt_is_all_or_nothing_when_a_write_fails(
    repo: Path, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(repo)
    real_stage = journal._write_synced
    calls = []

    def failing_stage(path: Path, payload: bytes, mode: int) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "disk full", str(path))
        real_stage(path, payload, mode)

    monkeypatch.setattr(journal, "_write_synced", failing_stage)
    with pytest.raises(WriteError, match="disk full"):
        ops.encrypt(repo)
    assert len(calls) == 2
    assert snapshot(repo) == before
    assert not _leftover_temp_files(repo)


def test_encrypt_refuses_a_file_it_would_leave_in_plaintext(repo: Path, snapshot: Snapshot) -> None:
    # a non-Secret under kubernetes/: the rule encrypts only data/stringData, i.e. nothing here
    (repo / "kubernetes/apps/default/app/values.sops.yaml").write_text(
        "apiVersion: v1\nkind: X\nvalues:\n  a: b\n"
    )
    before = snapshot(repo)
    with pytest.raises(WriteError, match="plaintext"):
        ops.encrypt(repo)
    assert snapshot(repo) == before


def test_encrypt_selected_paths_with_a_given_config(repo: Path, age_key: Key) -> None:
    """What the configure pipeline does: encrypt rendered files of a staging tree with the real
    repository's configuration."""
    staging = repo.parent / "staging"
    (staging / "kubernetes/apps/x").mkdir(parents=True)
    (staging / "kubernetes/apps/x/secret.sops.yaml").write_bytes((repo / SECRET_YAML).read_bytes())
    cfg = load_sops_config(repo)
    result = ops.encrypt(staging, paths=["kubernetes/apps/x/secret.sops.yaml"], config=cfg)
    assert result.encrypted == ("kubernetes/apps/x/secret.sops.yaml",)
    assert not (staging / ".sops.yaml").exists()
    data = (staging / "kubernetes/apps/x/secret.sops.yaml").read_bytes()
    assert sops.recipients_of(data) == [age_key.public]


# -- decrypt and show ---------------------------------------------------------------------------


def test_decrypt_in_place_and_show(repo: Path) -> None:
    plaintext = (repo / SECRET_YAML).read_bytes().removeprefix(b"---\n")  # sops drops a leading ---
    ops.encrypt(repo)
    assert ops.show(repo / SECRET_YAML) == plaintext
    assert (repo / SECRET_YAML).read_bytes() != plaintext  # show writes nothing
    result = ops.decrypt(repo, [SECRET_YAML, "kubernetes/apps/default/app/helmrelease.yaml"])
    assert result.decrypted == (SECRET_YAML,)
    assert result.skipped == ("kubernetes/apps/default/app/helmrelease.yaml",)
    assert (repo / SECRET_YAML).read_bytes() == plaintext


def test_show_with_an_explicit_key_file(repo: Path, age_key: Key, monkeypatch: pytest.MonkeyPatch) -> None:
    ops.encrypt(repo)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    with pytest.raises(Exception, match="no age key of yours is a recipient"):
        ops.show(repo / TALOS)
    assert b"fixture-cluster-secret-0002" in ops.show(repo / TALOS, age_key_file=age_key.file)


# -- rotate -------------------------------------------------------------------------------------


def test_rotate_re_encrypts_everything_to_a_new_key(repo: Path, age_key: Key) -> None:
    # sops drops a leading "---"; everything else comes back byte for byte
    originals = {
        rel: (repo / rel).read_bytes().removeprefix(b"---\n") for rel in (SECRET_YAML, ENV_FILE, TALOS)
    }
    ops.encrypt(repo)
    result = ops.rotate(repo)
    assert result.old_public_key == age_key.public
    assert set(result.rotated) == set(originals)
    config_text = (repo / ".sops.yaml").read_text()
    assert age_key.public not in config_text and result.new_public_key in config_text
    for rel, plaintext in originals.items():
        data = (repo / rel).read_bytes()
        assert sops.recipients_of(data, rel) == [result.new_public_key]
        assert ops.show(repo / rel) == plaintext  # the key file holds both keys now
    # the settings of each file survive: metadata stays readable in the Kubernetes Secret
    assert yaml.safe_load((repo / SECRET_YAML).read_bytes())["metadata"]["name"] == "echo-secret"
    # the old key is kept in the key file, the new one added; decrypting needs only the new one
    identities = keys.parse_identities(age_key.file.read_text())
    assert [keys.public_key_of(i) for i in identities] == [age_key.public, result.new_public_key]
    new_only = age_key.file.parent / "new.txt"
    keys.write_key(new_only, result.new_public_key, identities[1])
    assert ops.show(repo / TALOS, age_key_file=new_only) == originals[TALOS]


def test_rotate_is_all_or_nothing(
    repo: Path, age_key: Key, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.encrypt(repo)
    before, key_before = snapshot(repo), age_key.file.read_bytes()
    real_encrypt = sops.encrypt
    calls = []

    def failing_encrypt(plaintext: bytes, **kwargs: object) -> bytes:
        calls.append(kwargs["filename"])
        if len(calls) == 2:
            raise UsageError("simulated failure", hint="none")
        return real_encrypt(plaintext, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sops, "encrypt", failing_encrypt)
    with pytest.raises(WriteError, match="simulated failure"):
        ops.rotate(repo)
    assert len(calls) == 3  # every file was tried, so every failure is reported
    assert snapshot(repo) == before
    assert age_key.file.read_bytes() == key_before
    assert not _leftover_temp_files(repo)


def test_rotate_restores_the_key_file_when_the_commit_fails(
    repo: Path, age_key: Key, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.encrypt(repo)
    before, key_before = snapshot(repo), age_key.file.read_bytes()

    real_commit, real_replace = journal.Transaction.commit, os.replace
    renames: list[str] = []

    def replace_failing_second(src: str | Path, dst: str | Path) -> None:
        renames.append(str(dst))
        if len(renames) == 2:
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    def commit_with_full_disk(self: journal.Transaction) -> None:
        monkeypatch.setattr(os, "replace", replace_failing_second)
        try:
            real_commit(self)
        finally:
            monkeypatch.setattr(os, "replace", real_replace)

    monkeypatch.setattr(journal.Transaction, "commit", commit_with_full_disk)
    with pytest.raises(WriteError, match="No space left"):
        ops.rotate(repo)
    # the first file had been replaced when the second rename failed: it was put back
    assert len(renames) > 2 and renames[-1] == renames[0]
    assert snapshot(repo) == before
    assert age_key.file.read_bytes() == key_before


def test_rotate_updates_a_sops_age_secret_holding_the_old_key(repo: Path, age_key: Key) -> None:
    (repo / "kubernetes/flux/sops-age.sops.yaml").parent.mkdir(parents=True)
    (repo / "kubernetes/flux/sops-age.sops.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\n"
        f"stringData:\n  age.agekey: {age_key.private}\n"
    )
    ops.encrypt(repo)
    result = ops.rotate(repo)
    assert result.key_secrets == ("kubernetes/flux/sops-age.sops.yaml",)
    shown = ops.show(repo / "kubernetes/flux/sops-age.sops.yaml")
    assert age_key.private.encode() not in shown
    new_identity = keys.parse_identities(age_key.file.read_text())[1]
    assert new_identity.encode() in shown


# -- status -------------------------------------------------------------------------------------


def test_status_json(repo: Path, age_key: Key, capsys: pytest.CaptureFixture[str]) -> None:
    ops.encrypt(repo, paths=[SECRET_YAML, TALOS])
    other_public, _ = keys.generate_age_key()
    (repo / "talos/other.sops.yaml").write_bytes(
        sops.encrypt(b"a: b\n", filename="talos/other.sops.yaml", repo_root=repo, recipients=[other_public])
    )
    (repo / "misc").mkdir()
    (repo / "misc/orphan.sops.yaml").write_bytes(
        sops.encrypt(b"a: b\n", filename="misc/orphan.sops.yaml", repo_root=repo, recipients=[age_key.public])
    )
    code = main(["secrets", "status", "--output", "json", str(repo)])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1 and report["config"] == ".sops.yaml"
    files = {f["path"]: f for f in report["files"]}
    assert set(files) == {ENV_FILE, SECRET_YAML, TALOS, "talos/other.sops.yaml", "misc/orphan.sops.yaml"}
    assert files[SECRET_YAML] == {
        "path": SECRET_YAML,
        "encrypted": True,
        "recipients": [age_key.public],
        "rule": 2,
        "expected_recipients": [age_key.public],
        "problems": [],
    }
    assert files[ENV_FILE]["problems"] == ["not-encrypted"]
    assert files["talos/other.sops.yaml"]["problems"] == ["recipients-differ"]
    assert files["talos/other.sops.yaml"]["recipients"] == [other_public]
    assert files["misc/orphan.sops.yaml"]["problems"] == ["no-rule"]
    assert files["misc/orphan.sops.yaml"]["rule"] is None


def test_status_reports_an_ignored_sops_yml(repo: Path) -> None:
    (repo / ".sops.yaml").rename(repo / ".sops.yml")
    result = ops.status(repo)
    assert result.config is None
    assert any("rename" in p for p in result.config_problems)


@pytest.mark.corpus
def test_status_and_detection_on_the_corpus(corpus: Path) -> None:
    """Files encrypted by other sops versions in real repositories are recognised, and their
    recipients agree with the repository's own .sops.yaml."""
    sops_files = [p for p in corpus.rglob("*.sops.*") if is_sops_file(p.name)]
    assert sops_files
    for path in sops_files:
        assert sops.is_encrypted(path.read_bytes(), path.name), path
    repo = corpus / "Chrtol__home-cluster"
    if not repo.is_dir():
        pytest.skip("Chrtol__home-cluster not in the corpus")
    result = ops.status(repo)
    assert result.config == ".sops.yaml"
    assert result.files and result.ok, [f for f in result.files if f.problems]
    talos = next(f for f in result.files if f.path == "talos/talsecret.sops.yaml")
    assert talos.rule == 1


def test_check_counts_the_encrypted_files_status_lists(repo: Path, age_key: Key) -> None:
    """SEC003 and 'secrets status' agree on which files are encrypted, whatever their names."""
    from homeops.rules.engine import run_checks
    from homeops.workspace import open_workspace

    ops.encrypt(repo)
    for rel, new in (
        (SECRET_YAML, "kubernetes/apps/default/app/secret.yaml"),
        (TALOS, "talos/talsecret.enc.yaml"),
    ):
        (repo / rel).rename(repo / new)  # encrypted files not named *.sops.*
    (repo / ".sops.yaml").unlink()
    listed = [f.path for f in ops.status(repo).files if f.encrypted]
    assert len(listed) == 3
    workspace = open_workspace(repo, use_cache=False)
    sec003 = [f for f in run_checks(workspace.flux, workspace.config) if f.rule == "SEC003"]
    assert [f.message for f in sec003] == ["3 encrypted file(s) but no .sops.yaml in the repository"]


def test_rotate_prints_only_the_files_it_changed(
    repo: Path, age_key: Key, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ops.encrypt(repo)
    other_public, _ = keys.generate_age_key()
    foreign = repo / "kubernetes/apps/default/app/foreign.sops.yaml"
    foreign.write_bytes(
        sops.encrypt(
            b"stringData:\n  a: b\n", filename="x.sops.yaml", repo_root=repo, recipients=[other_public]
        )
    )
    capsys.readouterr()
    assert main(["secrets", "rotate", str(repo)]) == 0
    out, err = capsys.readouterr()
    assert sorted(out.splitlines()) == sorted(f"re-encrypted {rel}" for rel in (ENV_FILE, SECRET_YAML, TALOS))
    assert "foreign.sops.yaml" not in out + err
    assert "3 file(s) re-encrypted to the new key; 1 encrypted to other keys, left as they are" in err
