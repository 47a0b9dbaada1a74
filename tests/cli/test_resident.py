"""The resident process (``homeops.resident``): a cold check it runs answers exactly what the caller
would have, on the caller's own terminal or pipe, with the caller's exit status; it never outlives
its socket, never serves stale code, and never keeps the caller's pipes open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
FINDINGS = TESTDATA / "repos" / "malformed"  # errors: exit status 1
CLEAN = TESTDATA / "rules" / "IMG001" / "pass"
DELEGATED = "checked by the resident process"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HOMEOPS_SERVER", "XDG_RUNTIME_DIR")}
    return {**env, "HOMEOPS_CACHE_DIR": str(cache), **extra}


def _homeops(*args: str | Path, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "homeops", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def _socket(cache: Path) -> Path | None:
    found = sorted((cache / "server").glob("*.sock")) if (cache / "server").is_dir() else []
    return found[0] if found else None


def _wait_for_socket(cache: Path) -> Path:
    for _ in range(600):  # a busy machine without cached bytecode takes seconds to import
        found = _socket(cache)
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError("no resident process started")


def _wait_for_result(cache: Path) -> None:
    """Until the check the resident process ran has stored its result: it does so after its caller
    has its answer, so forgetting results before then may race with that write."""
    for _ in range(100):
        if any((cache / "results").glob("*.marshal")):
            return
        time.sleep(0.1)
    raise AssertionError("the resident process stored no result")


def _forget_results(cache: Path) -> None:
    import shutil

    for name in ("parse", "results"):
        shutil.rmtree(cache / name, ignore_errors=True)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cache"
    yield folder
    found = _socket(folder)
    if found is not None:
        found.unlink()  # the resident process stops when its socket goes


def _resident_pid(cache: Path) -> int:
    sock = _wait_for_socket(cache)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"homeops.resident" in cmdline and str(sock).encode() in cmdline:
                return int(proc.name)
    raise AssertionError("resident process not found")


def test_a_cold_check_is_answered_by_the_resident_process_exactly_as_by_the_caller(cache: Path) -> None:
    alone = _homeops("check", FINDINGS, "-o", "json", env=_env(cache, HOMEOPS_SERVER="0"))
    assert alone.returncode == 1 and '"findings"' in alone.stdout
    _forget_results(cache)
    first = _homeops("check", FINDINGS, "-o", "json", "--debug", env=_env(cache))  # starts one, when done
    assert DELEGATED not in first.stderr
    _wait_for_socket(cache)
    for repo, expected in ((FINDINGS, alone), (CLEAN, None)):
        _forget_results(cache)
        here = _homeops("check", repo, "-o", "json", env=_env(cache, HOMEOPS_SERVER="0"))
        _forget_results(cache)
        there = _homeops("check", repo, "-o", "json", "--debug", env=_env(cache))
        assert DELEGATED in there.stderr
        assert (there.returncode, there.stdout) == (here.returncode, here.stdout)
        _wait_for_result(cache)
        if expected is not None:
            assert (there.returncode, there.stdout) == (expected.returncode, expected.stdout)
    # The caller's folder and arguments: a relative path means the same thing there.
    _forget_results(cache)
    relative = _homeops("check", ".", "--debug", env=_env(cache), cwd=CLEAN)
    assert DELEGATED in relative.stderr and relative.returncode == 0


def test_the_resident_process_checks_what_its_caller_walked_and_stores_the_result_for_the_next_run(
    cache: Path, tmp_path: Path
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(FINDINGS, repo)
    (repo / ".gitignore").write_text("scratch/\n")
    (repo / "scratch").mkdir()
    (repo / "scratch" / "broken.yaml").write_text("kind: [\n")  # not tracked: never checked
    _homeops("check", CLEAN, env=_env(cache))
    _wait_for_socket(cache)
    _forget_results(cache)
    here = _homeops("check", repo, "-o", "json", env=_env(cache, HOMEOPS_SERVER="0"))
    assert here.returncode == 1 and '"findings"' in here.stdout and "scratch" not in here.stdout
    _forget_results(cache)
    there = _homeops("check", repo, "-o", "json", "--debug", env=_env(cache))
    assert DELEGATED in there.stderr
    assert (there.returncode, there.stdout) == (here.returncode, here.stdout)
    # The result is stored once the caller has its answer: the next check answers from it, itself.
    _wait_for_result(cache)
    again = _homeops("check", repo, "-o", "json", "--debug", env=_env(cache))
    assert DELEGATED not in again.stderr
    assert (again.returncode, again.stdout) == (here.returncode, here.stdout)


def test_the_resident_process_writes_to_the_callers_terminal(cache: Path) -> None:
    _homeops("check", CLEAN, env=_env(cache))
    _wait_for_socket(cache)
    _forget_results(cache)
    env = _env(cache)
    env.pop("NO_COLOR", None)
    main, other = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "homeops", "check", str(FINDINGS), "--debug"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=other,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        os.close(other)
        other = -1
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
        if other >= 0:
            os.close(other)
    assert DELEGATED in done.stderr.decode()
    assert done.returncode == 1
    assert b"\x1b[" in shown, "a terminal gets colour, as when the caller writes itself"


def test_a_spawned_resident_process_keeps_none_of_the_callers_pipes(cache: Path) -> None:
    caller = subprocess.Popen(
        [sys.executable, "-m", "homeops", "check", str(CLEAN)],
        env=_env(cache),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert caller.stdin is not None and caller.stdout is not None and caller.stderr is not None
    pipes = {f"pipe:[{os.fstat(f.fileno()).st_ino}]" for f in (caller.stdin, caller.stdout, caller.stderr)}
    caller.communicate(timeout=60)  # returns only once nobody holds the write ends
    assert caller.returncode == 0
    pid = _resident_pid(cache)
    held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert not held & pipes, held


def test_removing_the_socket_stops_the_resident_process(cache: Path) -> None:
    _homeops("check", CLEAN, env=_env(cache))
    pid = _resident_pid(cache)
    _wait_for_socket(cache).unlink()
    for _ in range(150):
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the resident process outlived its socket")


def test_ci_and_the_switch_start_no_resident_process(cache: Path) -> None:
    for extra in ({"CI": "true"}, {"HOMEOPS_SERVER": "0"}):
        done = _homeops("check", CLEAN, "--no-cache", env=_env(cache, **extra))
        assert done.returncode == 0
    time.sleep(1.0)
    assert _socket(cache) is None


def test_a_folder_others_may_open_is_not_used(cache: Path) -> None:
    (cache / "server").mkdir(parents=True)
    (cache / "server").chmod(0o755)
    done = _homeops("check", CLEAN, "--no-cache", env=_env(cache))
    assert done.returncode == 0
    time.sleep(1.0)
    assert _socket(cache) is None


def test_a_stale_resident_process_hands_back_and_stops(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A resident process that loaded a module which then changed (an upgrade, an edit).
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "homeops_probe.py").write_text("VALUE = 1\n")
    env = _env(cache, PYTHONPATH=os.pathsep.join([str(lib), os.environ.get("PYTHONPATH", "")]))
    from homeops import resident

    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))
    path = resident.socket_path()
    assert path is not None
    server = subprocess.Popen(
        [sys.executable, "-P", "-m", "homeops.resident", path, "homeops.cli.commands.check", "homeops_probe"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_socket(cache)
        served = _homeops("check", CLEAN, "--no-cache", "--debug", env=env)
        assert DELEGATED in served.stderr
        later = time.time() + 5
        os.utime(lib / "homeops_probe.py", (later, later))
        stale = _homeops("check", CLEAN, "--no-cache", "--debug", env=env)
        assert DELEGATED not in stale.stderr and stale.returncode == 0  # checked by the caller itself
        assert server.wait(timeout=30) == 0
        assert _resident_pid(cache) != server.pid  # the caller started a fresh one, for the next check
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _interrupted_check(cache: Path, tmp_path: Path, command: list[str]) -> None:
    """``command check BIG_REPO`` handed to the resident process, then Ctrl-C: the check stops as
    one of its own would (exit status 130, "interrupted")."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from genrepo import generate_shape
    finally:
        sys.path.pop(0)
    repo = tmp_path / "big"
    generate_shape(repo, "many-small", tmp_path / "gen-cache")
    _homeops("check", CLEAN, env=_env(cache))
    _wait_for_socket(cache)
    caller = subprocess.Popen(
        [*command, "check", str(repo), "--debug", "-o", "json"],
        env=_env(cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert caller.stderr is not None
    line = caller.stderr.readline()
    assert DELEGATED in line
    caller.send_signal(signal.SIGINT)
    rest = caller.stderr.read()
    assert caller.wait(timeout=60) == 130
    assert "interrupted" in rest


def test_ctrl_c_reaches_the_check_the_resident_process_runs(cache: Path, tmp_path: Path) -> None:
    _interrupted_check(cache, tmp_path, [sys.executable, "-m", "homeops"])


def test_the_resident_process_keeps_no_key_of_the_caller_that_started_it(cache: Path) -> None:
    secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
    done = _homeops("check", CLEAN, env=_env(cache, SOPS_AGE_KEY=secret, GITHUB_TOKEN="ghp_x"))
    assert done.returncode == 0
    pid = _resident_pid(cache)
    environment = Path(f"/proc/{pid}/environ").read_bytes()
    assert secret.encode() not in environment and b"ghp_x" not in environment
    # ... while the check it runs for a caller sees that caller's environment, as its own process would.
    _forget_results(cache)
    served = _homeops("check", CLEAN, "--debug", env=_env(cache, SOPS_AGE_KEY=secret))
    assert DELEGATED in served.stderr and served.returncode == 0


def _repo_with_a_staged_change(tmp_path: Path, cache: Path) -> tuple[Path, dict[str, str]]:
    """A committed repository with a staged change the hook refuses; and the environment for git."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(TESTDATA / "rules" / "SEC005" / "pass", repo)
    git_env = {
        **_env(cache),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "initial")):
        subprocess.run(["git", *args], cwd=repo, env=git_env, check=True, capture_output=True)
    app = repo / "kubernetes" / "apps" / "default" / "web" / "app"
    subprocess.run(["git", "rm", "-q", str(app / "helmrelease.yaml")], cwd=repo, env=git_env, check=True)
    return repo, git_env


def test_the_pre_commit_hook_is_answered_by_the_resident_process_as_by_itself(
    cache: Path, tmp_path: Path
) -> None:
    repo, git_env = _repo_with_a_staged_change(tmp_path, cache)
    alone = _homeops("--debug", "hook", "run", env={**git_env, "HOMEOPS_SERVER": "0"}, cwd=repo)
    assert alone.returncode == 1 and "LOAD002" in alone.stderr + alone.stdout
    _homeops("check", CLEAN, env=git_env)  # starts the resident process
    _wait_for_socket(cache)
    there = _homeops("--debug", "hook", "run", env=git_env, cwd=repo)
    assert DELEGATED in there.stderr
    shown = "".join(line for line in there.stderr.splitlines(keepends=True) if DELEGATED not in line)
    assert (there.returncode, there.stdout, shown) == (alone.returncode, alone.stdout, alone.stderr)


def test_the_socket_is_in_a_folder_of_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from homeops import resident

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("HOMEOPS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    path = resident.socket_path()
    assert path is not None and Path(path).parent == runtime / "homeops"
    assert (runtime / "homeops").stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(tmp_path / "cache"))
    path = resident.socket_path()
    assert path is not None and Path(path).parent == tmp_path / "cache" / "server"
    # Without either: a folder of the user's own in the temporary folder, never one another made.
    monkeypatch.delenv("HOMEOPS_CACHE_DIR")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = resident.socket_path()
    assert path is not None and Path(path).parent == tmp_path / "tmp" / f"homeops-{os.getuid()}"
    (tmp_path / "tmp" / f"homeops-{os.getuid()}").rmdir()
    (tmp_path / "tmp" / f"homeops-{os.getuid()}").symlink_to(runtime)  # planted: refused
    assert resident.socket_path() is None


# -- the native launcher (homeops.launcher): the same conversation without a Python caller ----------


_FAULTS_WRITING = """
import os, resource, socket, sys
from homeops import resident

prefault, caller_waiting, folder = sys.argv[1] == "1", sys.argv[2] == "1", sys.argv[3]
block = bytearray(b"\\x01") * (16 << 20)  # 4096 pages of the parent, written
pid = os.fork()
if pid == 0:  # the spare
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(folder, "socket"))
    listener.listen(1)
    caller = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if caller_waiting:
        caller.connect(os.path.join(folder, "socket"))
    if prefault:
        resident._prefault(listener)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for at in range(0, len(block), 4096):
        block[at] = 2
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def _faults_writing(*, prefault: bool, caller_waiting: bool, folder: Path) -> int:
    """Page faults a forked spare takes writing one byte of each of 4096 pages its parent wrote, after
    :func:`resident._prefault` when asked, with a caller waiting on its socket or not (in a fresh
    interpreter, as small as the resident process)."""
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS_WRITING, str(int(prefault)), str(int(caller_waiting)), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(done.stdout)


def test_a_spare_that_cannot_prefault_still_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes
    import socket

    from homeops import resident

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no C library here")

    monkeypatch.setattr(ctypes, "CDLL", broken)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "socket"))
    listener.listen(1)
    try:
        resident._prefault(listener)  # returns: the spare goes on to accept its request
    finally:
        listener.close()


def _populate_write_supported() -> bool:
    import ctypes
    import mmap

    region = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    supported = madvise(address, 4096, 23) == 0  # MADV_POPULATE_WRITE: Linux 5.14 and later
    region.close()
    return supported


def test_a_spare_makes_its_memory_its_own_while_it_waits_and_stops_when_a_caller_comes(
    tmp_path: Path,
) -> None:
    if not _populate_write_supported():
        pytest.skip("the kernel has no MADV_POPULATE_WRITE")
    pages = 4096
    # Shared with the parent after the fork: each page written costs a fault (a copy)...
    assert _faults_writing(prefault=False, caller_waiting=False, folder=tmp_path / "a") >= pages * 0.9
    # ...unless the spare made them its own while it waited...
    assert _faults_writing(prefault=True, caller_waiting=False, folder=tmp_path / "b") < pages * 0.1
    # ...and a caller already waiting is served first: the pages are left to the faults.
    assert _faults_writing(prefault=True, caller_waiting=True, folder=tmp_path / "c") >= pages * 0.9


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    if shutil.which("cc") is None:
        pytest.skip("no C compiler: the native launcher is optional (.ci/services.sh installs gcc)")
    from homeops.launcher import install

    built = tmp_path_factory.mktemp("launcher") / "homeops"
    install(str(built))
    return built


def _launched(
    launcher: Path, *args: str | Path, env: dict[str, str], **kw: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [str(launcher), *map(str, args)], env=env, capture_output=True, timeout=120, **kw
    )


def _without_delegation_line(stderr: bytes) -> bytes:
    return b"".join(line for line in stderr.splitlines(keepends=True) if DELEGATED.encode() not in line)


def test_the_native_launcher_compiles_without_a_warning(tmp_path: Path) -> None:
    import shutil

    from homeops import launcher

    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    (tmp_path / "config.h").write_text(launcher.config())
    source = Path(launcher.__file__).with_name("launcher.c")
    done = subprocess.run(
        [
            "cc",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-I",
            str(tmp_path),
            "-o",
            str(tmp_path / "a"),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_a_check_through_the_native_launcher_is_answered_by_the_resident_process_as_by_python(
    cache: Path, tmp_path: Path, launcher: Path
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(FINDINGS, repo)
    (repo / "café ünïcode.yaml").write_text("kind: [\n")  # a finding whose path is not ASCII
    _homeops("check", CLEAN, env=_env(cache))  # starts the resident process
    _wait_for_socket(cache)
    locales = ({"LANG": "C.UTF-8"}, {"LC_ALL": "C"}, {"LANG": "C"}, {})
    for extra in locales:
        base = {k: v for k, v in _env(cache).items() if k not in ("LANG", "LC_ALL", "LC_CTYPE")}
        env = {**base, **extra}
        for args in (
            ("check", repo, "-o", "json"),
            ("check", repo),
            ("check", CLEAN),
            ("--color", "never", "check", repo),
        ):
            _forget_results(cache)
            alone = _homeops(*args, env={**env, "HOMEOPS_SERVER": "0"})
            for run in ("cold", "warm"):
                if run == "cold":
                    _forget_results(cache)
                there = _launched(launcher, "--debug", *args, env=env)
                assert DELEGATED.encode() in there.stderr, (extra, args, run, there.stderr)
                assert there.returncode == alone.returncode
                assert there.stdout.decode() == alone.stdout, (extra, args, run)
                assert _without_delegation_line(there.stderr).decode() == alone.stderr
    # The caller's folder: a relative path means the same thing there.
    _forget_results(cache)
    relative = _launched(launcher, "check", ".", "--debug", env=_env(cache), cwd=CLEAN)
    assert DELEGATED.encode() in relative.stderr and relative.returncode == 0


def test_the_native_launcher_leaves_to_python_what_python_alone_knows(
    cache: Path, tmp_path: Path, launcher: Path
) -> None:
    odd = tmp_path / os.fsdecode(b"repo-\xff")  # a path that is not UTF-8
    import shutil

    shutil.copytree(FINDINGS, odd)
    cases: list[tuple[tuple[str | Path, ...], dict[str, str]]] = [
        (("--version",), {}),
        (("rules",), {}),
        (("graph", CLEAN), {}),
        (("check", FINDINGS, "-o", "json"), {"HOMEOPS_SERVER": "0"}),
        (("check", FINDINGS, "-o", "json"), {"CI": "true"}),
        (("check", FINDINGS), {"PYTHONIOENCODING": "latin-1"}),
        (("check", odd, "-o", "json"), {}),
        (("check", FINDINGS, "-o", "json"), {"PYTHONPATH": str(tmp_path / "elsewhere")}),
    ]
    for with_resident in (False, True):
        if with_resident:
            _homeops("check", CLEAN, env=_env(cache))
            _wait_for_socket(cache)
        for args, extra in cases:
            _forget_results(cache)
            alone = _homeops(*args, env=_env(cache, **{**extra, "HOMEOPS_SERVER": "0"}))
            _forget_results(cache)
            there = _launched(launcher, *args, env=_env(cache, **extra))
            assert there.returncode == alone.returncode, args
            assert there.stdout.decode("utf-8", "surrogateescape") == alone.stdout, args
    assert _socket(cache) is not None


def test_with_no_resident_process_the_native_launcher_checks_in_python_and_starts_one(
    cache: Path, launcher: Path
) -> None:
    alone = _homeops("check", FINDINGS, "-o", "json", env=_env(cache, HOMEOPS_SERVER="0"))
    _forget_results(cache)
    first = _launched(launcher, "--debug", "check", FINDINGS, "-o", "json", env=_env(cache))
    assert DELEGATED.encode() not in first.stderr
    assert (first.returncode, first.stdout.decode()) == (alone.returncode, alone.stdout)
    _wait_for_socket(cache)
    _forget_results(cache)
    second = _launched(launcher, "--debug", "check", FINDINGS, "-o", "json", env=_env(cache))
    assert DELEGATED.encode() in second.stderr
    assert (second.returncode, second.stdout.decode()) == (alone.returncode, alone.stdout)


def test_ctrl_c_reaches_the_check_the_native_launcher_handed_over(
    cache: Path, tmp_path: Path, launcher: Path
) -> None:
    _interrupted_check(cache, tmp_path, [str(launcher)])


def test_installing_the_native_launcher_replaces_only_a_stale_one(tmp_path: Path, launcher: Path) -> None:
    from homeops.errors import MissingTool
    from homeops.launcher import install, up_to_date

    dest = tmp_path / "homeops"
    dest.write_text("#!/bin/sh\necho the script pip wrote\n")
    assert not up_to_date(str(dest))
    with pytest.raises(MissingTool):
        install(str(dest), compiler="no-such-compiler-here")
    assert dest.read_text() == "#!/bin/sh\necho the script pip wrote\n"  # untouched
    assert up_to_date(str(launcher))
    assert "up to date" in install(str(launcher))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homeops"]  # nothing half-built left


def test_the_pre_commit_hook_through_the_native_launcher_is_answered_as_by_python(
    cache: Path, tmp_path: Path, launcher: Path
) -> None:
    repo, git_env = _repo_with_a_staged_change(tmp_path, cache)
    alone = _homeops("hook", "run", env={**git_env, "HOMEOPS_SERVER": "0"}, cwd=repo)
    assert alone.returncode == 1
    _homeops("check", CLEAN, env=git_env)
    _wait_for_socket(cache)
    there = _launched(launcher, "hook", "run", "--debug", env=git_env, cwd=repo)
    assert DELEGATED.encode() in there.stderr
    assert (there.returncode, there.stdout.decode()) == (alone.returncode, alone.stdout)
    assert _without_delegation_line(there.stderr).decode() == alone.stderr


def test_a_native_launcher_whose_python_is_gone_says_so(tmp_path: Path) -> None:
    import shutil

    from homeops.launcher import install

    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    python = tmp_path / "venv" / "bin" / "python"  # a venv deleted since
    built = tmp_path / "homeops"
    install(str(built), python=str(python))
    done = subprocess.run([str(built), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 4  # ExitCode.MISSING_TOOL
    assert done.stderr.startswith(f"homeops: error: cannot run {python}: No such file or directory\n")
    assert "hint: install homeops again" in done.stderr and "Traceback" not in done.stderr
