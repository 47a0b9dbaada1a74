"""The repository lock, confined targets, and the journal that finishes (or undoes) a killed write."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from homeops import journal
from homeops.errors import UsageError, WriteError
from homeops.journal import Transaction, confine, locked, state_dir


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "one.txt").write_text("one\n")
    (folder / "a" / "two.txt").write_text("two\n")
    return folder


# -- confine ------------------------------------------------------------------------------------


def test_confine_accepts_paths_inside_and_follows_links_that_stay_inside(root: Path) -> None:
    assert confine(root, "a/one.txt") == root / "a" / "one.txt"
    assert confine(root, root / "a" / "new.txt") == root / "a" / "new.txt"
    (root / "link").symlink_to("a")
    assert confine(root, "link/one.txt") == root / "a" / "one.txt"
    (root / "dangling").symlink_to("a/not-yet.txt")
    assert confine(root, "dangling") == root / "a" / "not-yet.txt"


@pytest.mark.parametrize("how", ["dotdot", "absolute", "file-link", "folder-link", "git"])
def test_confine_refuses_what_leaves_the_work_tree(root: Path, tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".git").mkdir()
    path = {
        "dotdot": "a/../../outside/x",
        "absolute": str(outside / "x"),
        "file-link": "a/file-link",
        "folder-link": "a/folder-link/x",
        "git": "a/git-link/hooks/pre-commit",
    }[how]
    (root / "a" / "file-link").symlink_to(outside / "x")
    (root / "a" / "folder-link").symlink_to(outside)
    (root / "a" / "git-link").symlink_to("../.git")
    with pytest.raises(WriteError, match="refusing to write"):
        confine(root, path)


# -- transactions -------------------------------------------------------------------------------


def test_a_transaction_writes_everything_keeps_modes_and_leaves_no_state(root: Path) -> None:
    os.chmod(root / "a" / "one.txt", 0o600)
    with Transaction(root, "test") as txn:
        txn.write("a/one.txt", "ONE\n")
        txn.write("b/c/new.txt", b"new\n")
        txn.delete("a/two.txt")
        assert (root / "a" / "one.txt").read_text() == "one\n"  # nothing before the block ends
    assert (root / "a" / "one.txt").read_text() == "ONE\n"
    assert os.stat(root / "a" / "one.txt").st_mode & 0o777 == 0o600
    assert (root / "b" / "c" / "new.txt").read_text() == "new\n"
    assert not (root / "a" / "two.txt").exists()
    assert not state_dir(root).exists()


def test_an_exception_in_the_block_writes_nothing(root: Path) -> None:
    with pytest.raises(RuntimeError), Transaction(root, "test") as txn:
        txn.write("a/one.txt", "ONE\n")
        txn.write("b/new.txt", "new\n")
        raise RuntimeError("stop")
    assert (root / "a" / "one.txt").read_text() == "one\n"
    assert not (root / "b").exists() and not state_dir(root).exists()


def test_state_lives_in_the_git_dir_of_a_work_tree(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    assert state_dir(root) == root / ".git" / "homeops"
    assert state_dir(root / "a") == root / ".git" / "homeops"
    with Transaction(root / "a", "test") as txn:
        txn.write("one.txt", "ONE\n")
        assert (root / ".git" / "homeops" / "lock").exists()
        assert not (root / journal.LOCK_FOLDER).exists()
    assert not (root / ".git" / "homeops").exists()


# -- the lock -----------------------------------------------------------------------------------


def test_the_lock_nests_in_one_process_and_refuses_a_missing_folder(root: Path, tmp_path: Path) -> None:
    with locked(root, "outer"), locked(root, "inner"), Transaction(root, "txn") as txn:
        txn.write("a/one.txt", "ONE\n")
    assert (root / "a" / "one.txt").read_text() == "ONE\n"
    with pytest.raises(UsageError, match="no such directory"):
        with locked(tmp_path / "missing", "x"):
            pass
    assert not (tmp_path / "missing").exists()


HOLD = textwrap.dedent(
    """
    import sys
    from homeops.journal import locked, pause_point
    with locked(sys.argv[1], "secrets rotate"):
        pause_point("held")
    """
)


def test_a_second_writer_gives_up_naming_the_first(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)],
        env={**os.environ, "HOMEOPS_PAUSE_AT": "held"},
        stderr=subprocess.PIPE,
    )
    assert holder.stderr is not None and holder.stderr.readline() == b"homeops: paused at held\n"
    monkeypatch.setenv(journal.LOCK_WAIT_ENV, "0.3")
    try:
        with pytest.raises(WriteError) as caught, locked(root, "configure"):
            pass
        assert f"'homeops secrets rotate' (pid {holder.pid}, since " in caught.value.message
    finally:
        holder.kill()
        holder.wait()
    with locked(root, "configure"):  # the lock died with its holder
        pass


# -- recovery -----------------------------------------------------------------------------------


WRITE_TWO = textwrap.dedent(
    """
    import sys
    from homeops.journal import Transaction
    with Transaction(sys.argv[1], "test") as txn:
        txn.write("a/one.txt", "ONE\\n")
        txn.write("a/two.txt", "TWO\\n")
        txn.write("a/three.txt", "THREE\\n")
    """
)


def _killed_at(root: Path, point: str, script: str = WRITE_TWO) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(root)],
        env={**os.environ, "HOMEOPS_PAUSE_AT": point},
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    assert process.stderr.readline() == f"homeops: paused at {point.split(':')[0]}\n".encode()
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_recovery_finishes_a_killed_commit(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    _killed_at(root, "rename:1")
    assert (root / "a" / "one.txt").read_text() == "ONE\n"
    assert (root / "a" / "two.txt").read_text() == "two\n"
    with caplog.at_level(logging.WARNING), locked(root, "next"):
        pass
    assert "finished the interrupted 'homeops test'" in caplog.text
    assert [(root / "a" / n).read_text() for n in ("one.txt", "two.txt", "three.txt")] == [
        "ONE\n",
        "TWO\n",
        "THREE\n",
    ]
    assert not state_dir(root).exists()


def test_recovery_keeps_a_file_changed_after_the_crash(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    _killed_at(root, "rename:1")
    (root / "a" / "two.txt").write_text("edited by hand after the crash\n")
    with caplog.at_level(logging.WARNING), locked(root, "next"):
        pass
    assert (root / "a" / "two.txt").read_text() == "edited by hand after the crash\n"
    assert "two.txt changed after the interruption: kept as it is now" in caplog.text
    assert (root / "a" / "three.txt").read_text() == "THREE\n"


FAILING = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from homeops.journal import Transaction
    root = Path(sys.argv[1])
    with Transaction(root, "test") as txn:
        txn.write("a/one.txt", "ONE\\n")
        txn.write("a/two.txt", "TWO\\n")
        txn.write("d/x", "X\\n")
        (root / "d").write_text("a file where a folder goes: the last rename fails")
    """
)


def test_recovery_completes_an_undo_that_was_killed(root: Path) -> None:
    _killed_at(root, "undo:1", FAILING)  # killed after undoing the first of three
    with locked(root, "next"):
        pass
    assert (root / "a" / "one.txt").read_text() == "one\n"
    assert (root / "a" / "two.txt").read_text() == "two\n"
    assert not state_dir(root).exists()


def test_a_folder_where_a_file_goes_is_refused_before_any_change(root: Path) -> None:
    (root / "b" / "x").mkdir(parents=True)
    with pytest.raises(WriteError, match="it is a folder"), Transaction(root, "test") as txn:
        txn.write("a/one.txt", "ONE\n")
        txn.write("b/x", "X\n")
    assert (root / "a" / "one.txt").read_text() == "one\n" and not state_dir(root).exists()


def test_what_a_crash_leaves_outside_git_is_ignored_by_a_later_git(root: Path) -> None:
    _killed_at(root, "rename:1")
    assert (root / journal.LOCK_FOLDER / ".gitignore").read_text() == "*\n"
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    staged = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout
    assert journal.LOCK_FOLDER not in staged and "a/one.txt" in staged
    with locked(root, "next"):  # now a Git work tree: the change left outside Git is finished too
        pass
    assert (root / "a" / "three.txt").read_text() == "THREE\n"
    assert not (root / journal.LOCK_FOLDER).exists()
