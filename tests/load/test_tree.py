"""The source tree: what is walked, what is skipped, and symlinks that never leave the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeops.errors import UsageError
from homeops.load.cache import ParseCache
from homeops.load.tree import SourceTree


def _write(root: Path, rel: str, text: str = "kind: ConfigMap\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_walk_skips_git_and_gitignored_files(tmp_path: Path) -> None:
    _write(tmp_path, ".git/config", "x")
    _write(tmp_path, ".gitignore", "cluster.yaml\nout/\n")
    _write(tmp_path, "cluster.yaml")
    _write(tmp_path, "out/a.yaml")
    _write(tmp_path, "kubernetes/apps/a.yaml")
    _write(tmp_path, "kubernetes/.gitignore", "*.tmp\n")
    _write(tmp_path, "kubernetes/x.tmp")
    tree = SourceTree(tmp_path)
    assert tree.files() == [".gitignore", "kubernetes/.gitignore", "kubernetes/apps/a.yaml"]


def test_symlink_inside_is_followed_outside_is_recorded(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    _write(outside, "secret.yaml")
    _write(repo, "real/a.yaml")
    os.symlink(repo / "real", repo / "linked")
    os.symlink(outside, repo / "escape")
    os.symlink(outside / "secret.yaml", repo / "escape.yaml")
    tree = SourceTree(repo)
    assert tree.files() == ["linked/a.yaml", "real/a.yaml"]
    assert sorted(tree.escapes) == ["escape", "escape.yaml"]
    assert not tree.exists("escape.yaml")
    with pytest.raises(FileNotFoundError):
        tree.read_bytes("escape/secret.yaml")


def test_symlink_loop_terminates(tmp_path: Path) -> None:
    _write(tmp_path, "a/x.yaml")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    assert "a/x.yaml" in SourceTree(tmp_path).files()


def test_paths_that_climb_out_do_not_exist(tmp_path: Path) -> None:
    _write(tmp_path / "repo", "a.yaml")
    _write(tmp_path, "b.yaml")
    tree = SourceTree(tmp_path / "repo")
    assert tree.exists("a.yaml")
    assert not tree.exists("../b.yaml")
    assert not tree.exists("/etc/passwd")


def test_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        SourceTree(tmp_path / "nope")


def test_parse_cache_is_reused_and_invalidated(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(repo, "a.yaml", "kind: A\n")
    cache_dir = tmp_path / "cache"
    tree = SourceTree(repo, cache=ParseCache(repo.resolve(), cache_dir))
    assert tree.documents("a.yaml")[0].data == {"kind": "A"}
    tree.save_cache()
    cached = ParseCache(repo.resolve(), cache_dir)
    st = (repo / "a.yaml").stat()
    assert cached.get("a.yaml", st.st_size, st.st_mtime_ns) is not None
    (repo / "a.yaml").write_text("kind: Bigger\n")
    st = (repo / "a.yaml").stat()
    assert cached.get("a.yaml", st.st_size, st.st_mtime_ns) is None
    fresh = SourceTree(repo, cache=cached)
    assert fresh.documents("a.yaml")[0].data == {"kind": "Bigger"}


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(repo, "a.yaml", "kind: A\n")
    cache = ParseCache(repo.resolve(), tmp_path / "cache")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(b"not marshal data")
    tree = SourceTree(repo, cache=ParseCache(repo.resolve(), tmp_path / "cache"))
    assert tree.documents("a.yaml")[0].data == {"kind": "A"}


def test_cache_leaves_out_what_it_cannot_store_and_keeps_the_rest(tmp_path: Path) -> None:
    from homeops.load.yamlio import ParsedFile

    cache = ParseCache(tmp_path / "repo", tmp_path / "cache")
    cache.put("good.yaml", 8, 1, ParsedFile(({"kind": "A"},), (1,), None))
    cache.put("odd.yaml", 9, 2, ParsedFile(({"kind": object()},), (1,), None))
    cache.save()
    again = ParseCache(tmp_path / "repo", tmp_path / "cache")
    stored = again.get("good.yaml", 8, 1)
    assert stored is not None and stored.documents == ({"kind": "A"},)
    assert again.get("odd.yaml", 9, 2) is None


@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 18) - 1, 1 << 18, (1 << 19) + 7])
def test_files_are_read_whole_whatever_their_size(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "f.yaml").write_bytes(data)
    assert SourceTree(tmp_path).read_bytes("f.yaml") == data


def test_reading_a_folder_fails_as_open_does_naming_it(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        SourceTree(tmp_path).read_bytes("folder.yaml")
    assert caught.value.filename == str(tmp_path / "folder.yaml")


def test_folders_exist_whether_or_not_the_walk_kept_their_files(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "out/\n")
    _write(tmp_path, "apps/a/x.yaml")
    _write(tmp_path, "out/b.yaml")  # on disk, left out of the walk
    (tmp_path / "empty").mkdir()
    tree = SourceTree(tmp_path)
    tree.files()
    assert [tree.exists(p) for p in ("apps", "apps/a", "./apps/a/", "apps/a/x.yaml", "out", "empty", "")] == [
        True, True, True, True, True, True, True,
    ]  # fmt: skip
    assert [tree.exists(p) for p in ("app", "apps/a/x", "apps/b", "nope/x.yaml", "../apps")] == [False] * 5


def test_a_walk_handed_over_as_plain_data_reads_the_tree_as_a_walk_of_its_own(tmp_path: Path) -> None:
    """What a caller of the resident process hands over (``Walk.plain``, through ``marshal``) gives the
    tree what the walk would have given it: files, what .gitignore leaves out, folders, escapes."""
    import marshal

    from homeops.load.walk import Walk, walk

    repo = tmp_path / "repo"
    _write(repo, ".gitignore", "out/\n*.tmp\n")
    _write(repo, "apps/a/x.yaml")
    _write(repo, "apps/.gitignore", "local.yaml\n")
    _write(repo, "apps/local.yaml")
    _write(repo, "out/b.yaml")
    _write(tmp_path, "outside.yaml")
    os.symlink(tmp_path / "outside.yaml", repo / "escape.yaml")
    root = os.path.realpath(repo)
    handed = Walk.from_plain(marshal.loads(marshal.dumps(walk(root).plain())))
    assert handed is not None
    own, taken = SourceTree(root), SourceTree(root, walked=handed)
    assert taken.files() == own.files() == [".gitignore", "apps/.gitignore", "apps/a/x.yaml"]
    assert taken.escapes == own.escapes == ["escape.yaml"]
    for rel in ("out", "out/b.yaml", "apps/local.yaml", "apps/a", "apps/a/x.yaml", "nope", "escape.yaml"):
        assert (taken.exists(rel), taken.is_dir(rel)) == (own.exists(rel), own.is_dir(rel)), rel
    assert Walk.from_plain({"files": ["a.yaml"]}) is None  # not a whole walk: walk again
    assert Walk.from_plain(["not", "a", "walk"]) is None


@pytest.mark.parametrize("files", [1, 160], ids=["one file", "enough for a helper process"])
def test_the_bytes_of_a_parsed_file_are_what_it_was_parsed_from_and_read_once(
    tmp_path: Path, files: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A check reads a file for its documents and again for lines (suppressions, a feature gate): it
    # reads it once, and a line it reports is a line of the text its rules judged.
    for i in range(files):
        _write(tmp_path, f"apps/cm{i:03}.yaml", f"kind: ConfigMap\nmetadata: {{name: cm{i}}}\n")
    tree = SourceTree(tmp_path)
    tree.preload(tree.files())  # in a forked helper when there are enough files and forking is safe
    _write(tmp_path, "apps/cm000.yaml", "kind: Secret\n")  # changed after the parse
    from homeops.load import tree as tree_module

    def no_reading(path: str) -> bytes:
        raise AssertionError(f"read again: {path}")

    monkeypatch.setattr(tree_module, "read_file", no_reading)
    assert tree.parsed("apps/cm000.yaml").documents[0]["kind"] == "ConfigMap"
    assert tree.read_bytes("apps/cm000.yaml") == b"kind: ConfigMap\nmetadata: {name: cm0}\n"
    assert tree.read_text(f"apps/cm{files - 1:03}.yaml").startswith("kind: ConfigMap")
    # A file the tree did not parse is read when asked.
    _write(tmp_path, "notes.txt", "hello\n")
    monkeypatch.undo()
    assert SourceTree(tmp_path).read_text("notes.txt") == "hello\n"
