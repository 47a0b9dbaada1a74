"""configure is one transaction: whatever step fails, the repository is byte-for-byte unchanged.

Each test starts from a repo configure has already written, changes an input value so every output
would change, makes one step fail, and compares a fingerprint of the whole tree (content and
permissions of every file and folder) before and after. It also checks that the new secret's
plaintext reached no file of the repo and that no private temporary directory outlived the run.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from configure_testlib import (
    files_containing,
    fingerprint,
    make_mini_repo,
    scratch_dirs,
    write_age_key,
    write_values,
)

from homeops import journal
from homeops.configure import (
    CheckFailed,
    ConfigureOptions,
    EncryptionFailed,
    Status,
    TemplateError,
    configure,
    load_ledger,
)
from homeops.errors import HomeopsError, WriteError
from homeops.secrets import sops

OLD_SECRET = "old-plaintext-3f9c1e"
NEW_SECRET = "new-plaintext-8b27d4"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_mini_repo(tmp_path / "repo", secret_value=OLD_SECRET)
    first = configure(root)
    assert {f.status for f in first.files} == {Status.CREATED}
    write_values(root, replicas=5, secret_value=NEW_SECRET)
    return root


def _fails_cleanly(
    repo: Path, run: Callable[[], Any], expected: type[BaseException], secret: str = NEW_SECRET
) -> BaseException:
    before = fingerprint(repo)
    scratch_before = scratch_dirs()
    with pytest.raises(expected) as caught:
        run()
    assert fingerprint(repo) == before
    assert files_containing(repo, secret.encode()) == ["values.yaml"]
    assert not list(repo.rglob("*.homeops-tmp"))
    assert scratch_dirs() <= scratch_before
    return caught.value


def test_success_writes_everything_and_reencrypts(repo: Path) -> None:
    result = configure(repo)
    assert {f.path: f.status for f in result.files} == {
        "kubernetes/apps/demo/app.yaml": Status.CHANGED,
        "kubernetes/apps/demo/kustomization.yaml": Status.UNCHANGED,
        "kubernetes/apps/demo/secret.sops.yaml": Status.CHANGED,
    }
    assert "replicas: 5" in (repo / "kubernetes/apps/demo/app.yaml").read_text()
    secret = (repo / "kubernetes/apps/demo/secret.sops.yaml").read_bytes()
    assert NEW_SECRET.encode() not in secret and b"ENC[AES256_GCM" in secret
    key = (repo / "age.key").read_text()
    rel = "kubernetes/apps/demo/secret.sops.yaml"
    plain = sops.decrypt(secret, filename=rel, repo_root=repo, age_key=key)
    assert f"password: {NEW_SECRET}" in plain.decode()
    ledger = load_ledger(repo)
    assert ledger is not None and ledger.edited_by_hand(repo) == []
    # Run again: the secret decrypts to the same data, so its ciphertext is kept.
    again = configure(repo)
    assert {f.status for f in again.files} == {Status.UNCHANGED}
    assert (repo / "kubernetes/apps/demo/secret.sops.yaml").read_bytes() == secret


def test_dry_run_writes_nothing(repo: Path) -> None:
    before = fingerprint(repo)
    result = configure(repo, ConfigureOptions(dry_run=True))
    assert result.dry_run and len(result.with_status(Status.CHANGED)) == 2
    assert fingerprint(repo) == before


def test_template_syntax_error(repo: Path) -> None:
    broken = repo / "templates/kubernetes/apps/demo/broken.yaml.j2"
    broken.write_text("---\nkey: value\n#% if replicas > 1 %#\nmany: true\n")
    error = _fails_cleanly(repo, lambda: configure(repo), TemplateError)
    assert str(error.where) == "templates/kubernetes/apps/demo/broken.yaml.j2:4"
    assert "template syntax error" in error.message


def test_undefined_variable(repo: Path) -> None:
    (repo / "templates/kubernetes/apps/demo/extra.yaml.j2").write_text("---\na: 1\nb: #{ no_such_value }#\n")
    error = _fails_cleanly(repo, lambda: configure(repo), TemplateError)
    assert str(error.where) == "templates/kubernetes/apps/demo/extra.yaml.j2:3"
    assert "undefined variable: 'no_such_value' is undefined" in error.message


def test_undefined_variable_printed_under_chainable(tmp_path: Path) -> None:
    """makejinja would print an empty string; configure refuses unless told to allow it."""
    root = make_mini_repo(tmp_path / "repo", secret_value=OLD_SECRET, undefined="chainable")
    (root / "templates/kubernetes/apps/demo/extra.yaml.j2").write_text(
        "---\n#% if maybe.deep.value %#\nx: 1\n#% endif %#\nname: #{ typo_name }#\n"
    )
    error = _fails_cleanly(root, lambda: configure(root), TemplateError, secret=OLD_SECRET)
    assert str(error.where) == "templates/kubernetes/apps/demo/extra.yaml.j2:5"
    result = configure(root, ConfigureOptions(allow_undefined=True))
    assert result.files and (root / "kubernetes/apps/demo/extra.yaml").read_text() == "---\nname: \n"


def test_encryption_failure(repo: Path) -> None:
    rules = (repo / ".sops.yaml").read_text().replace("path_regex: kubernetes/", "path_regex: talos/")
    (repo / ".sops.yaml").write_text(rules)
    error = _fails_cleanly(repo, lambda: configure(repo), EncryptionFailed)
    assert "kubernetes/apps/demo/secret.sops.yaml" in error.message
    assert str(error.where) == "templates/kubernetes/apps/demo/secret.sops.yaml.j2"


def test_check_failure_sees_ciphertext_only(repo: Path) -> None:
    seen: dict[str, bytes] = {}

    def check(tree: Path) -> list[str]:
        for path in tree.rglob("*"):
            if path.is_file():
                seen[path.relative_to(tree).as_posix()] = path.read_bytes()
        return ["kubernetes/apps/demo/app.yaml:7: replicas above the homelab limit"]

    error = _fails_cleanly(repo, lambda: configure(repo, check=check), CheckFailed)
    assert isinstance(error, CheckFailed) and error.errors == [
        "kubernetes/apps/demo/app.yaml:7: replicas above the homelab limit"
    ]
    assert b"replicas: 5" in seen["kubernetes/apps/demo/app.yaml"]
    assert b"ENC[AES256_GCM" in seen["kubernetes/apps/demo/secret.sops.yaml"]
    assert not [p for p, data in seen.items() if NEW_SECRET.encode() in data and p != "values.yaml"]


def test_keyboard_interrupt_inside_a_step(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(sops, "encrypt", interrupted)
    _fails_cleanly(repo, lambda: configure(repo), KeyboardInterrupt)


def test_write_failure_during_commit(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    calls = []

    def failing_replace(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(journal.os, "replace", failing_replace)
    error = _fails_cleanly(repo, lambda: configure(repo), WriteError)
    # the first output had been replaced when the second rename failed: it was put back
    assert len(calls) > 2 and calls[-1] == calls[0] and "No space left on device" in str(error)


def test_write_failure_while_staging_into_new_folders(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "templates/kubernetes/apps/other").mkdir()
    (repo / "templates/kubernetes/apps/other/app.yaml.j2").write_text("---\nname: other\n")
    real_stage = journal._write_synced
    calls = []

    def failing_stage(path: Path, payload: bytes, mode: int) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "disk full", str(path))
        real_stage(path, payload, mode)

    monkeypatch.setattr(journal, "_write_synced", failing_stage)
    _fails_cleanly(repo, lambda: configure(repo), HomeopsError)
    assert not (repo / "kubernetes/apps/other").exists()


def test_ctrl_c_during_the_renames_is_held_until_they_are_done(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    sent = []

    def replace_then_interrupt(src: Any, dst: Any) -> None:
        if not sent:
            sent.append(dst)
            os.kill(os.getpid(), signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(journal.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        configure(repo)
    ledger = load_ledger(repo)
    assert ledger is not None and ledger.edited_by_hand(repo) == []
    assert "replicas: 5" in (repo / "kubernetes/apps/demo/app.yaml").read_text()


def test_a_new_recipient_reencrypts_an_unchanged_secret(repo: Path, tmp_path: Path) -> None:
    configure(repo)
    secret = repo / "kubernetes/apps/demo/secret.sops.yaml"
    before = secret.read_bytes()
    second = write_age_key(tmp_path / "second.key")
    rules = (repo / ".sops.yaml").read_text()
    (repo / ".sops.yaml").write_text(rules.replace("    age: ", f"    age: {second},"))
    result = configure(repo)
    assert {f.path: f.status for f in result.files}["kubernetes/apps/demo/secret.sops.yaml"] is Status.CHANGED
    assert second in sops.recipients_of(secret.read_bytes(), "x.yaml")
    assert secret.read_bytes() != before


# -- symlinks that lead out of the repository ---------------------------------------------------


def _tree_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
@pytest.mark.parametrize("output", ["kubernetes/apps/demo/app.yaml", "kubernetes/apps/demo/secret.sops.yaml"])
def test_an_output_symlinked_out_of_the_repo_is_refused(
    repo: Path, tmp_path: Path, output: str, dry_run: bool
) -> None:
    victim = tmp_path / "victim.yaml"
    victim.write_text("precious\n")
    link = repo / output
    link.unlink()
    link.symlink_to(victim)
    before = fingerprint(repo)
    with pytest.raises(WriteError, match="resolves outside the repository") as caught:
        configure(repo, ConfigureOptions(dry_run=dry_run))
    assert caught.value.where is not None and caught.value.where.path == output
    assert victim.read_text() == "precious\n"  # neither plaintext nor NUL bytes reached it
    assert link.is_symlink() and fingerprint(repo) == before
    assert not (repo / ".homeops-lock").exists()


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
def test_an_output_folder_symlinked_out_of_the_repo_is_refused(
    repo: Path, tmp_path: Path, dry_run: bool
) -> None:
    outside = tmp_path / "outside"
    (repo / "kubernetes/apps/demo").rename(outside)
    (repo / "kubernetes/apps/demo").symlink_to(outside)
    outside_before, before = _tree_of(outside), fingerprint(repo)
    with pytest.raises(WriteError, match="resolves outside the repository"):
        configure(repo, ConfigureOptions(dry_run=dry_run))
    assert _tree_of(outside) == outside_before  # no new file, no changed file, no temporary file
    assert fingerprint(repo) == before


def test_an_output_folder_symlinked_into_git_is_refused(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(parents=True)
    shutil.rmtree(repo / "kubernetes/apps/demo")
    (repo / "kubernetes/apps/demo").symlink_to("../../.git/hooks")
    with pytest.raises(WriteError, match="not part of the work tree"):
        configure(repo)
    assert list(hooks.iterdir()) == []


def test_a_symlink_inside_the_repo_is_written_through(repo: Path) -> None:
    """A link to another file of the repository stays a link; the file it names gets the content."""
    real = repo / "shared" / "app.yaml"
    real.parent.mkdir()
    (repo / "kubernetes/apps/demo/app.yaml").rename(real)
    (repo / "kubernetes/apps/demo/app.yaml").symlink_to("../../../shared/app.yaml")
    configure(repo)
    assert (repo / "kubernetes/apps/demo/app.yaml").is_symlink()
    assert "replicas: 5" in real.read_text()
