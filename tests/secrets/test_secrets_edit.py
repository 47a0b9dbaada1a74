"""``secrets edit`` with a fake $EDITOR: re-encrypted on change, untouched otherwise, no plaintext left."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from secrets_testlib import LAYOUT_SECRETS

from homeops.errors import ToolError, UsageError
from homeops.secrets import edit as edit_module
from homeops.secrets import ops, sops

SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"
NEW_VALUE = "edited-value-5e5e5e"


def _editor(tmp_path: Path, body: str) -> tuple[Path, Path]:
    """A fake editor script: logs the path it was given and that file's mode, then runs ``body``."""
    log = tmp_path / "editor.log"
    script = tmp_path / "fake-editor"
    script.write_text(f'#!/bin/sh\necho "$1" >> {log}\nstat -c %a "$1" >> {log}\n{body}\n')
    script.chmod(0o755)
    return script, log


def _edited_path(log: Path) -> Path:
    return Path(log.read_text().splitlines()[0])


def _assert_no_plaintext_anywhere(repo: Path, values: tuple[str, ...]) -> None:
    for path in repo.rglob("*"):
        if path.is_file() and sops.is_encrypted(path.read_bytes(), path.name):
            data = path.read_bytes()
            assert not any(v.encode() in data for v in values), path


@pytest.fixture
def encrypted_repo(repo: Path) -> Path:
    ops.encrypt(repo)
    return repo


def test_changed_content_is_re_encrypted(
    encrypted_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shm_leftovers: Callable[[], set[str]],
) -> None:
    repo = encrypted_repo
    script, log = _editor(tmp_path, f'sed -i "s/fixture-token-4f1b2c/{NEW_VALUE}/" "$1"')
    monkeypatch.setenv("EDITOR", str(script))
    before_temp = shm_leftovers()
    assert ops.edit(repo / SECRET_YAML) is True
    edited = _edited_path(log)
    assert log.read_text().splitlines()[1] == "600"
    assert not edited.exists() and not edited.parent.exists()
    assert repo not in edited.parents
    assert shm_leftovers() <= before_temp
    shown = ops.show(repo / SECRET_YAML)
    assert NEW_VALUE.encode() in shown and b"fixture-token-4f1b2c" not in shown
    # same settings as before: metadata readable, values encrypted
    doc = yaml.safe_load((repo / SECRET_YAML).read_bytes())
    assert doc["metadata"]["name"] == "echo-secret" and doc["stringData"]["API_TOKEN"].startswith("ENC[")
    _assert_no_plaintext_anywhere(repo, (*LAYOUT_SECRETS, NEW_VALUE))
    assert not any(NEW_VALUE.encode() in p.read_bytes() for p in repo.rglob("*") if p.is_file())


def test_unchanged_content_leaves_the_file_untouched(
    encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = encrypted_repo
    before = (repo / SECRET_YAML).read_bytes()
    script, log = _editor(tmp_path, "true")
    monkeypatch.setenv("EDITOR", str(script))
    assert ops.edit(repo / SECRET_YAML) is False
    assert (repo / SECRET_YAML).read_bytes() == before  # same ciphertext, same lastmodified
    assert not _edited_path(log).exists()


def test_failing_editor_changes_nothing(
    encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = encrypted_repo
    before = (repo / SECRET_YAML).read_bytes()
    script, log = _editor(tmp_path, f'sed -i "s/fixture-token-4f1b2c/{NEW_VALUE}/" "$1"\nexit 3')
    monkeypatch.setenv("EDITOR", str(script))
    with pytest.raises(ToolError, match="exited with code 3"):
        ops.edit(repo / SECRET_YAML)
    assert (repo / SECRET_YAML).read_bytes() == before
    assert not _edited_path(log).exists()


def test_interrupt_removes_the_plaintext(encrypted_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = encrypted_repo
    before = (repo / SECRET_YAML).read_bytes()
    seen: list[Path] = []

    def interrupted(argv: list[str], *, cwd: Path) -> None:
        seen.append(Path(argv[-1]))
        assert Path(argv[-1]).exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(edit_module, "run_editor", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ops.edit(repo / SECRET_YAML)
    assert seen and not seen[0].exists()
    assert (repo / SECRET_YAML).read_bytes() == before


def test_encryption_failure_changes_nothing_and_shows_no_plaintext(
    encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = encrypted_repo
    env_file = repo / "kubernetes/apps/default/app/echo.sops.env"
    before = env_file.read_bytes()
    # a dotenv line without "=": sops refuses it and quotes the line
    script, log = _editor(tmp_path, 'echo "not-a-pair-but-a-secret-0f0f" >> "$1"')
    monkeypatch.setenv("EDITOR", str(script))
    with pytest.raises(ToolError) as caught:
        ops.edit(env_file)
    assert "not-a-pair-but-a-secret-0f0f" not in str(caught.value)
    assert "fixture-webhook-77aa11" not in str(caught.value)
    assert "discarded" in str(caught.value)
    assert env_file.read_bytes() == before
    assert not _edited_path(log).exists()


def test_editor_command_comes_from_the_environment() -> None:
    assert edit_module.editor_command({"EDITOR": "code --wait", "VISUAL": "nano"}) == ["code", "--wait"]
    assert edit_module.editor_command({"VISUAL": "nano"}) == ["nano"]
    assert edit_module.editor_command({}) == ["vi"]


def test_temp_file_is_private(encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, log = _editor(tmp_path, 'stat -c %a "$(dirname "$1")" >> ' + str(tmp_path / "editor.log"))
    monkeypatch.setenv("EDITOR", str(script))
    ops.edit(encrypted_repo / SECRET_YAML)
    lines = log.read_text().splitlines()
    assert lines[1] == "600" and lines[2] == "700"
    assert stat.S_ISREG((encrypted_repo / SECRET_YAML).stat().st_mode)


def _two_round_editor(tmp_path: Path, first: str, second: str) -> Path:
    """An editor that runs ``first`` the first time it is opened and ``second`` the next times; it keeps
    a copy of what it was shown each time (shown-1, shown-2…)."""
    count = tmp_path / "rounds"
    script = tmp_path / "editor-rounds"
    script.write_text(
        "#!/bin/sh\n"
        f"n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $n > {count}\n"
        f'cp "$1" {tmp_path}/shown-$n\n'
        f"if [ $n -eq 1 ]; then {first}; else {second}; fi\n"
    )
    script.chmod(0o755)
    return script


def test_a_yaml_error_reopens_the_editor_with_the_edit_and_the_error(
    encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = encrypted_repo
    broken = f'sed -i "s/fixture-token-4f1b2c/{NEW_VALUE}/; s/^stringData:/stringData: [oops/" "$1"'
    fixed = 'sed -i "s/^stringData: \\[oops/stringData:/" "$1"'
    monkeypatch.setenv("EDITOR", str(_two_round_editor(tmp_path, broken, fixed)))
    assert ops.edit(repo / SECRET_YAML) is True
    second = (tmp_path / "shown-2").read_text()
    assert second.startswith("# homeops: your edit was not saved: line ")
    assert "YAML error" in second.splitlines()[0]
    assert NEW_VALUE in second  # the user's text, not the original
    shown = ops.show(repo / SECRET_YAML)
    assert NEW_VALUE.encode() in shown and b"# homeops:" not in shown


def test_saving_the_reopened_text_unchanged_gives_up(
    encrypted_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = encrypted_repo
    before = (repo / SECRET_YAML).read_bytes()
    broken = 'sed -i "s/^stringData:/stringData: [oops/" "$1"'
    monkeypatch.setenv("EDITOR", str(_two_round_editor(tmp_path, broken, "true")))
    with pytest.raises(UsageError, match=r"still does not parse \(line 7: YAML error"):
        ops.edit(repo / SECRET_YAML)
    assert (repo / SECRET_YAML).read_bytes() == before
    assert not (tmp_path / "shown-3").exists()
