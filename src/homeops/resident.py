"""A resident interpreter for ``homeops check`` (and the pre-commit hook's ``hook run``): its
modules already imported, a fork per request.

Most of a cold check on a small repository is Python importing homeops and its libraries (about 80
ms of 100 on a 40-file repository), not reading the repository. So, like Gradle's daemon or Rails'
Spring, the first cold check that finds no resident process starts one in the background when it
is done: ``python -m homeops.resident SOCKET MODULE...`` imports the modules that check needed and
waits on a Unix socket. The next check that the result cache cannot answer connects, passes its
standard input, output and error (the descriptors themselves, so a terminal stays a terminal),
its arguments, folder, environment and umask; a child the resident process forked ahead (see
:class:`_Server`) takes the request and runs the command exactly as the caller would have, writing
straight to the caller's terminal or pipe, and the caller exits with the child's exit status.
Signals the caller receives (Ctrl-C) are passed on to the child.

Trust: the socket lives in a folder only the user can open (:func:`socket_path`, mode 0700, owned
by the user, refused otherwise), and the resident process serves only connections from its own
user (``SO_PEERCRED``). It serves requests from the same Python and the same homeops installation
only (the socket's name is keyed on both) and stops when any file of a module it loaded changed
(an upgrade, an edit), after 10 minutes without a request, or when its socket is removed. A child
starts from the state the imports left: nothing of an earlier request is in it.

``HOMEOPS_SERVER=0`` turns it off (the test suite does); so do ``CI`` being set (a one-off run
has no next check to serve) and ``HOMEOPS_NO_FORK=1`` (one process does everything). Anything
unexpected on the way only means the caller checks by itself.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the caller runs this at start-up
if TYPE_CHECKING:
    import _socket
    import socket
    from collections.abc import Sequence

IDLE_SECONDS = 600
"""A resident process stops after this long without a request."""

_MAX_REQUEST = 1 << 24
_INT = 8  # bytes of a length, a pid or an exit status on the socket (little-endian, signed)
_STDIO = (0, 1, 2)

_serving = False
"""True in a child of the resident process: its check runs here, it does not delegate again."""

SOMETIMES = (
    "homeops.kustomize.remote", "homeops.render.charts.oci", "homeops.render.charts.helmrepo",
    "homeops.render.charts.git", "homeops.render.charts.schemas", "homeops.render.charts.archive",
    "homeops.git", "homeops.proc", "homeops.localnet", "homeops.fsutil", "homeops.secrets.sops",
    "subprocess", "tempfile", "hashlib", "shutil", "tarfile", "gzip", "ssl", "urllib.request",
    "http.client", "dataclasses", "mmap", "signal", "email.message", "email.parser", "unicodedata",
    "encodings.idna",
)  # fmt: skip
"""Modules a check imports only for some repositories (remote bases, chart sources, SOPS): the
resident process imports them too, whatever the check that started it needed."""

_wanted: list[str] = []
"""The socket a check found no resident process at: :func:`spawn_if_wanted` starts one there."""


def enabled() -> bool:
    """Whether a check may use (and start) a resident process."""
    if (
        _serving
        or os.environ.get("HOMEOPS_SERVER", "1") in ("0", "off", "false", "no")
        or os.environ.get("CI")
        or os.environ.get("HOMEOPS_NO_FORK") == "1"  # one process does everything (measurements)
    ):
        return False
    return hasattr(os, "fork") and hasattr(os, "posix_spawn") and sys.platform.startswith("linux")


def socket_path() -> str | None:
    """Where the resident process of this Python and this homeops installation listens; None when
    its folder cannot be made private.

    ``$XDG_RUNTIME_DIR/homeops`` (the user's folder for sockets), else ``homeops-UID`` in the
    temporary folder (as tmux does; one another user made first is refused, below); when
    ``HOMEOPS_CACHE_DIR`` is set, as everything else of homeops, in that cache (``server/``)."""
    from .load.cache import cache_root

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.environ.get("HOMEOPS_CACHE_DIR"):
        folder = os.path.join(cache_root(), "server")
    elif runtime:
        folder = os.path.join(runtime, "homeops")
    else:
        folder = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"homeops-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not _private_folder(info):
        return None
    return os.path.join(folder, socket_name())


def socket_name() -> str:
    """The socket's file name: one per Python and homeops installation (the native launcher,
    :mod:`homeops.launcher`, has it written in)."""
    from .digest import blake2b

    installation = "\0".join((sys.executable, sys.version, os.path.dirname(__file__)))
    return blake2b(installation.encode(), digest_size=8).hexdigest() + ".sock"


def _address(path: str) -> tuple[str, int | None]:
    """What to bind or connect to for ``path``: itself, or when it is too long for a Unix socket
    address (108 bytes), the same file through a descriptor of its folder (close it after)."""
    if len(path.encode()) < 100:
        return path, None
    folder = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{folder}/{os.path.basename(path)}", folder


def _private_folder(info: os.stat_result) -> bool:
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077 == 0


# -- the caller ------------------------------------------------------------------------------------


def delegate(argv: Sequence[str] | None, *, debug: bool = False, handed: object = None) -> int | None:
    """Run ``homeops argv`` in the resident process; its exit status, or None when this process must
    run it itself (switched off, no command line, no resident process, a stale one, anything
    unexpected before the command started). ``debug``: say on stderr which process runs it.
    ``handed``: what this process computed already that the command would compute again (plain data:
    ``check`` hands over its walk of the repository), given to it as ``args.handed``."""
    if argv is None or not enabled():
        return None
    import _socket

    path = socket_path()
    if path is None:
        return None
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    folder = None
    try:
        try:
            address, folder = _address(path)
            conn.connect(address)
        except OSError:
            _wanted[:] = [path]
            return None
        return _exchange(conn, argv, path, debug, handed)
    finally:
        conn.close()
        if folder is not None:
            os.close(folder)


def _exchange(
    conn: _socket.socket, argv: Sequence[str], path: str, debug: bool, handed: object
) -> int | None:
    import _signal  # type: ignore[import-not-found, unused-ignore]  # signal without enum
    import _socket

    request = {
        "argv": list(argv),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": _current_umask(),
        "streams": [
            (s.encoding, s.errors) if s is not None else None for s in (sys.stdin, sys.stdout, sys.stderr)
        ],
        "handed": handed,
    }
    try:
        payload = marshal.dumps(request)
    except ValueError:  # not plain data after all: the command computes it again
        request["handed"] = None
        payload = marshal.dumps(request)
    if len(payload) > _MAX_REQUEST:
        request["handed"] = None  # a huge repository's walk: cheaper to walk again than to send
        payload = marshal.dumps(request)
    data = len(payload).to_bytes(_INT, "little") + payload
    # Ctrl-C and the like go to the child; one that comes before its pid is kept for it (or for this
    # process, when it checks by itself after all).
    child: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not child:
            pending.append(signum)
            return
        try:
            os.kill(child[0], signum)
        except OSError:
            pass

    previous = {
        signum: _signal.signal(signum, forward)
        for signum in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
        if _signal.getsignal(signum) != _signal.SIG_IGN  # an ignored signal stays ignored
    }
    try:
        sent = conn.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, _fd_bytes(list(_STDIO)))])
        if sent < len(data):  # (sendall of nothing still sends: EPIPE once the other side answered)
            conn.sendall(data[sent:])
        started = _receive(conn, 1 + _INT)
    except OSError:
        started = None
    if started is None or started[:1] != b"P":
        _wanted[:] = [path]  # stale ("S"), gone or failing: the next one is started when this is done
        for signum, handler in previous.items():
            _signal.signal(signum, handler)
        for signum in pending:
            os.kill(os.getpid(), signum)  # as if it came now: this process runs the command
        return None
    child.append(int.from_bytes(started[1:], "little", signed=True))
    if debug:
        print(f"homeops: debug: checked by the resident process (pid {child[0]}; {path})", file=sys.stderr)
    for signum in pending:
        forward(signum, None)
    try:
        ended = _receive(conn, 1 + _INT)
    except OSError:
        ended = None
    if ended is None or ended[:1] != b"X":
        print("homeops: error: the resident homeops process stopped while checking", file=sys.stderr)
        return 1
    return int.from_bytes(ended[1:], "little", signed=True)


def _receive(conn: _socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None when the other side closed first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def spawn_if_wanted() -> None:
    """Start a resident process where :func:`delegate` found none, importing what this process
    imported for its check. Called once the output is written; never fails the command."""
    if not _wanted:
        return
    path = _wanted.pop()
    used = {name for name in sys.modules if name.startswith("homeops.") or name in ("yaml", "jsonschema_rs")}
    modules = sorted(name for name in used.union(SOMETIMES) if "helm" not in name)  # Go cannot fork
    # -P: not the caller's folder first on the module path (a repository's own yaml.py, say).
    argv = [sys.executable, "-P", "-m", "homeops.resident", path, *modules]
    null = os.devnull
    actions = [(os.POSIX_SPAWN_OPEN, fd, null, os.O_RDWR, 0) for fd in _STDIO]
    try:
        os.posix_spawn(sys.executable, argv, _import_environment(), file_actions=actions, setsid=True)
    except OSError:
        pass


def _import_environment() -> dict[str, str]:
    """What the resident process itself needs of the environment: how Python finds and decodes
    modules. Nothing else stays in it for its lifetime (an age key in ``SOPS_AGE_KEY``, tokens): each
    child gets its caller's whole environment with the request, as the caller's own process had it."""
    kept = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV", "TMPDIR", "HOME", "XDG_CACHE_HOME")
    return {
        name: value
        for name, value in os.environ.items()
        if name in kept or name.startswith("PYTHON") or name == "HOMEOPS_CACHE_DIR"
    }


# -- the resident process --------------------------------------------------------------------------


class _Server:
    """One child is forked ahead (the spare), blocked in ``accept``: a request it takes runs at once,
    with no fork to wait for. It hands the connection over (:meth:`_take`); this process forks the
    next spare when that child has ended (or at once, when another caller is waiting), and sends the
    exit status again when the child ends (:meth:`_reap`): the child tells its caller first
    (:func:`_report`); this is what the caller reads when the child died before it could."""

    def __init__(self, path: str) -> None:
        import socket

        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        staged = f"{path}.{os.getpid()}"
        address, folder = _address(staged)
        try:
            self.listener.bind(address)
        finally:
            if folder is not None:
                os.close(folder)
        self.listener.listen(16)
        os.replace(staged, path)  # atomic: a caller connects to a listening socket or to none
        self.inode = os.stat(path).st_ino
        # The spares' reports (they write on control, this process reads reports): "T" and the pid,
        # with the connection taken; or "S": the code changed, the spare answered and ends.
        self.control, self.reports = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.reports.setblocking(False)
        self.children: dict[int, socket.socket] = {}
        self.spare: int | None = None
        self.failures = 0
        self.sources = _loaded_sources()
        self.stopping = False

    def serve(self) -> None:
        import select
        import signal
        import time

        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        self.wake = (wake_read, wake_write)
        last = time.monotonic()
        self._fork_spare()
        while True:
            watched = [self.reports.fileno(), wake_read]
            if self.spare is None and not self.stopping:
                watched.append(self.listener.fileno())  # a caller waiting while a child runs
            ready, _, _ = select.select(watched, [], [], 5.0)
            if wake_read in ready:
                while True:
                    try:
                        if not os.read(wake_read, 512):
                            break
                    except BlockingIOError:
                        break
            while self._take():  # a child reports before it can end: read them all, then reap
                last = time.monotonic()
            self._reap()
            if not self.stopping and (time.monotonic() - last > IDLE_SECONDS or not self._still_listening()):
                self._stop()
            # The next spare is forked once the running children are done (a fork copies this whole
            # process: not while a check works on both cores), or at once for a waiting caller.
            waiting = self.listener.fileno() in ready
            if self.spare is None and not self.stopping and (waiting or not self.children):
                self._fork_spare()
            if self.stopping and not self.children and self.spare is None:
                break
        self._remove_socket()

    def _stop(self) -> None:
        import signal

        self.stopping = True
        if self.spare is not None:
            try:
                os.kill(self.spare, signal.SIGKILL)  # blocked in accept: it has taken nothing
            except OSError:
                pass

    def _fork_spare(self) -> None:
        if self.failures >= 5:  # spares keep dying before taking anything: something is wrong
            self._stop()
            return
        pid = os.fork()
        if pid == 0:
            self._spare()  # never returns
        self.spare = pid

    def _take(self) -> bool:
        """Read one report of a spare; whether it took a request."""
        import socket

        try:
            data, ancillary, _flags, _addr = self.reports.recvmsg(64, socket.CMSG_SPACE(4))
        except OSError:  # nothing more to read
            return False
        fds = _passed_fds(ancillary)
        if data[:1] == b"S":
            self._stop()  # the spare answered the caller and ends; no new one
            return True
        if data[:1] != b"T" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return False
        pid = int.from_bytes(data[1 : 1 + _INT], "little", signed=True)
        self.children[pid] = socket.socket(fileno=fds[0])
        if pid == self.spare:
            self.spare = None  # the next one is forked at once (serve)
        self.failures = 0
        return True

    def _still_listening(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def _remove_socket(self) -> None:
        self.listener.close()
        if self._still_listening():
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.spare:  # it ended without taking a request (its report was read first)
                self.spare = None
                self.failures += 0 if self.stopping else 1
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code  # killed by a signal: what a shell reports
            try:
                conn.sendall(b"X" + code.to_bytes(_INT, "little", signed=True))
            except OSError:
                pass
            conn.close()

    def _spare(self) -> None:
        """A spare's life: take one request, report it, become the caller's command; never returns."""
        import signal
        import socket
        import struct

        global _serving
        _serving = True
        code = 70
        try:
            # What does not depend on the request is done before it comes (pages copied after the
            # fork are then copied already): a command's signal handling, an empty environment.
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                signal.signal(signum, signal.SIG_DFL)
            os.environ.clear()
            for fd in self.wake:
                os.close(fd)
            for other in self.children.values():
                other.close()
            self.reports.close()
            _prefault(self.listener)
            while True:
                conn, _ = self.listener.accept()
                conn.settimeout(5.0)
                peer = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
                request, fds = (
                    (None, []) if struct.unpack("3i", peer)[1] != os.getuid() else _read_request(conn)
                )
                if request is not None and len(fds) == len(_STDIO):
                    break
                for fd in fds:
                    os.close(fd)
                conn.close()  # not one of ours, or malformed: wait for the next
            if _changed(self.sources):
                conn.sendall(b"S" + bytes(_INT))  # an upgrade or an edit: the caller runs the new code
                self.control.send(b"S")
                code = 0
                return
            self.listener.close()
            message = b"T" + os.getpid().to_bytes(_INT, "little", signed=True)
            self.control.sendmsg(
                [message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, _fd_bytes([conn.fileno()]))]
            )
            self.control.close()
            conn.settimeout(None)
            code = self._become(conn, fds, request)
        except KeyboardInterrupt:  # Ctrl-C passed on before the command's own handling started
            print("homeops: error: interrupted", file=sys.stderr)
            code = 130
        except BaseException:
            code = 70
        finally:
            os._exit(code)

    @staticmethod
    def _become(conn: socket.socket, fds: list[int], request: dict[str, object]) -> int:
        """The caller's command, run on its descriptors, in its folder and environment. The caller
        has the exit status as soon as the output is out (:func:`_report`); what nobody waits for
        (storing the result) comes after."""
        for target, fd in zip(_STDIO, fds, strict=True):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(str(request["cwd"]))
        os.environ.update(request["env"])  # type: ignore[call-overload]
        os.umask(int(request["umask"]))  # type: ignore[call-overload]
        _open_streams(request["streams"])  # type: ignore[arg-type]
        argv = list(request["argv"])  # type: ignore[call-overload]
        sys.argv = ["homeops", *argv]
        conn.sendall(b"P" + os.getpid().to_bytes(_INT, "little", signed=True))
        from .cli.main import run_command

        return run_command(argv, handed=request.get("handed"), report=lambda code: _report(conn, code))


_MADV_POPULATE_WRITE = 23  # Linux 5.14 and later
_PREFAULT_CHUNK = 1 << 22
_PREFAULT_MAPPING_MAX = 1 << 26
_PREFAULT_TOTAL_MAX = 1 << 28


def _prefault(listener: socket.socket) -> None:
    """Make the spare's memory its own while it waits for a request (Linux), chunk by chunk, until a
    request comes.

    A forked child shares its parent's pages until it writes to one; each first write then costs a
    page fault and a copy, and a first touch of the heap's free space a fault and a zeroed page. A
    check takes thousands of them, each several microseconds on a virtual machine: a fifth of a
    small repository's check. ``madvise(MADV_POPULATE_WRITE)`` does the same work in the kernel
    ahead, over every private writable mapping (the heap, the allocator's arenas, the libraries'
    data; mappings up to 64 MiB, 256 MiB in all); only the time between requests pays for it. Where
    the kernel or the platform does not have it, nothing changes.
    """
    try:
        _populate(listener)
    except Exception:  # only ever a speed-up: a spare that cannot prefault still serves
        return


def _populate(listener: socket.socket) -> None:
    """:func:`_prefault`'s work; raises where the platform lacks what it needs (no ``/proc``)."""
    import ctypes
    import select

    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        ranges = [_writable_range(line) for line in maps]
    done = 0
    for start, end in (found for found in ranges if found is not None):
        for chunk in range(start, end, _PREFAULT_CHUNK):
            size = min(_PREFAULT_CHUNK, end - chunk)
            done += size
            if done > _PREFAULT_TOTAL_MAX or select.select([listener], [], [], 0)[0]:
                return  # enough, or a caller is waiting: it comes first
            if madvise(chunk, size, _MADV_POPULATE_WRITE) != 0:
                return  # not supported here (or the memory changed): leave the rest to the faults


def _writable_range(line: str) -> tuple[int, int] | None:
    """The address range of one ``/proc/self/maps`` line when it is private and writable memory of
    this process (anonymous, the heap, the stack or a library's data), not too large; else None."""
    fields = line.split(maxsplit=5)
    if len(fields) < 5 or fields[1][:2] != "rw" or fields[1][3:4] != "p":
        return None
    name = fields[5].strip() if len(fields) > 5 else ""
    if name.startswith("[") and name not in ("[heap]", "[stack]"):
        return None  # the kernel's own ([vvar], [vdso]...)
    low, _, high = fields[0].partition("-")
    start, end = int(low, 16), int(high, 16)
    return (start, end) if 0 < end - start <= _PREFAULT_MAPPING_MAX else None


def _report(conn: socket.socket, code: int) -> None:
    """Give the caller its exit status, and its descriptors back: this process's standard input,
    output and error become ``/dev/null``, so that a reader of the caller's output sees its end now."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _STDIO:
        os.dup2(null, fd)
    os.close(null)
    try:
        conn.sendall(b"X" + code.to_bytes(_INT, "little", signed=True))
    except OSError:
        pass  # the caller is gone (killed): nothing to tell
    conn.close()


def _fd_bytes(fds: list[int]) -> bytes:
    return b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)


def _passed_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    import socket

    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds.extend(int.from_bytes(payload[i : i + 4], sys.byteorder) for i in range(0, usable, 4))
    return fds


def _read_request(conn: socket.socket) -> tuple[dict[str, object] | None, list[int]]:
    import socket

    data, ancillary, _flags, _addr = conn.recvmsg(1 << 16, socket.CMSG_SPACE(4 * len(_STDIO)))
    fds = _passed_fds(ancillary)
    if len(data) < _INT:
        return None, fds
    size = int.from_bytes(data[:_INT], "little", signed=True)
    if not 0 < size <= _MAX_REQUEST:
        return None, fds
    body = data[_INT:]
    rest = _receive(conn, size - len(body)) if len(body) < size else b""
    if rest is None:
        return None, fds
    request = marshal.loads(body + rest)
    return (request if isinstance(request, dict) else None), fds


def _open_streams(streams: list[tuple[str, str] | None]) -> None:
    """``sys.stdin``, ``stdout`` and ``stderr`` on the caller's descriptors, encoded as the caller's
    were (line-buffered on a terminal, as Python opens them)."""
    for fd, name, spec in zip(_STDIO, ("stdin", "stdout", "stderr"), streams, strict=True):
        if spec is None:
            setattr(sys, name, None)
            continue
        encoding, errors = spec
        buffering = 1 if fd == 2 else -1  # stderr is always line-buffered; the others when a tty
        stream = open(
            fd, "r" if fd == 0 else "w", encoding=encoding, errors=errors, buffering=buffering, closefd=False
        )
        setattr(sys, name, stream)


def _loaded_sources() -> dict[str, int]:
    """File → modification time of every module this process loaded from a file, but Python's own
    (the socket's name changes with Python's version: checking them on every request would double
    its cost)."""
    stdlib = os.path.dirname(os.__file__) + os.sep
    found: dict[str, int] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and not (path.startswith(stdlib) and "-packages" + os.sep not in path):
            try:
                found[path] = os.stat(path).st_mtime_ns
            except OSError:
                continue
    return found


def _changed(sources: dict[str, int]) -> bool:
    for path, mtime in sources.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return True
        except OSError:
            return True
    return False


def main(argv: Sequence[str]) -> int:
    """``python -m homeops.resident SOCKET MODULE...``: import, listen, serve until idle."""
    import gc
    import importlib

    if not argv:
        return 2
    os.chdir("/")
    for name in argv[1:]:
        try:
            importlib.import_module(name)
        except Exception:  # a module that does not import is simply not preloaded
            continue
    catalog = sys.modules.get("homeops.validate.catalog")
    if catalog is not None:
        try:
            catalog.preload()  # the shipped schemas and their common validators, compiled once
        except Exception:  # the children load what they need themselves
            pass
    import ctypes  # noqa: F401  (for the spares' _prefault: imported once, here)

    gc.collect()
    gc.freeze()  # children would otherwise copy every page a collection touches
    try:
        server = _Server(argv[0])
    except OSError:
        return 1
    server.serve()
    return 0


if __name__ == "__main__":
    from homeops import resident  # the module itself, not this __main__ copy: children read _serving

    sys.exit(resident.main(sys.argv[1:]))
