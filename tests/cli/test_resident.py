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
    for _ in range(100):
        if any((cache / "results").glob("*.marshal")):
            break
        time.sleep(0.1)
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


def test_ctrl_c_reaches_the_check_the_resident_process_runs(cache: Path, tmp_path: Path) -> None:
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
        [sys.executable, "-m", "homeops", "check", str(repo), "--debug", "-o", "json"],
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


def test_the_pre_commit_hook_is_answered_by_the_resident_process_as_by_itself(
    cache: Path, tmp_path: Path
) -> None:
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
