"""The native launcher: the ``homeops`` command as a small C program (``launcher.c``), for the checks
that the resident process answers (:mod:`homeops.resident`).

A check the resident process answers takes a few milliseconds of work, but a Python caller pays its
own interpreter's start-up first (11-12 ms here, a third of a small repository's whole parse): the
launcher connects to the resident process and hands it the command line without starting Python, as
Mercurial's ``chg`` does for its command server. Every other command, and any case the launcher is
not sure of (no resident process, a locale Python would decode otherwise, a closed standard stream),
runs in Python as the installed script does. The launcher is optional: without a C compiler the
``homeops`` script stays what pip installed, and everything works the same, only slower to start.

    python -m homeops.launcher DEST     # build it for this Python and installation, install as DEST

``./dev`` installs it over the venv's ``homeops`` script when ``cc`` is there.
"""

from __future__ import annotations

import os
import sys
import tempfile
from importlib import resources

from ..digest import blake2b

SCRIPT = "import sys; from homeops.cli.main import entry; sys.exit(entry())"
"""What the launcher has Python run (``python -P -c SCRIPT ARGS…``) when Python runs the command."""

_SOURCE = resources.files(__name__).joinpath("launcher.c")

_MARK = b"homeops-launcher-build:"
"""What precedes the build's digest in the binary (``launcher.c``'s ``build``)."""


def config(python: str | None = None) -> str:
    """The ``config.h`` the launcher is compiled with: this installation's interpreter, the script it
    runs and the resident process's socket name."""
    return _configured(python)[0]


def _configured(python: str | None) -> tuple[str, bytes]:
    """:func:`config`, and the mark of that build in the binary: a digest of the source and the
    configuration (:func:`up_to_date` looks for it)."""
    from ..resident import socket_name

    values = {
        "HOMEOPS_PYTHON": python or sys.executable,
        "HOMEOPS_SCRIPT": SCRIPT,
        "HOMEOPS_SOCKET_NAME": socket_name(),
    }
    lines = [f"#define {name} {_c_string(value)}" for name, value in values.items()]
    build = blake2b(_SOURCE.read_bytes() + "\n".join(lines).encode(), digest_size=12).hexdigest()
    lines.append(f'#define HOMEOPS_BUILD "{build}"')
    return "\n".join(lines) + "\n", _MARK + build.encode()


def _c_string(value: str) -> str:
    """``value`` as a C string literal (every byte but plain printable ASCII escaped)."""
    escaped = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in '"\\?' else f"\\{byte:03o}"
        for byte in os.fsencode(value)
    )
    return f'"{escaped}"'


def up_to_date(dest: str, python: str | None = None) -> bool:
    """Whether ``dest`` is the launcher this installation would build (for ``python``)."""
    return _holds(dest, _configured(python)[1])


def _holds(dest: str, mark: bytes) -> bool:
    try:
        with open(dest, "rb") as handle:
            return mark in handle.read()
    except OSError:
        return False


def install(dest: str, *, compiler: str | None = None, python: str | None = None) -> str:
    """Build the launcher for ``python`` (this one by default) and put it at ``dest`` (atomically,
    replacing what is there); what was done, in one line. Raises :class:`~homeops.errors.HomeopsError`
    (no compiler, a failed build) with ``dest`` untouched."""
    from .. import proc

    header, mark = _configured(python)
    if _holds(dest, mark):
        return f"{dest}: the native launcher is up to date"
    cc = compiler or os.environ.get("CC") or "cc"
    folder = os.path.dirname(os.path.abspath(dest))
    with (
        tempfile.TemporaryDirectory(prefix="homeops-launcher-") as work,
        resources.as_file(_SOURCE) as source,
    ):
        with open(os.path.join(work, "config.h"), "w", encoding="ascii") as handle:
            handle.write(header)
        built = os.path.join(folder, f".homeops-launcher-{os.getpid()}")
        try:
            proc.run(
                [cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-I", work, "-o", built, str(source)],
                cwd=work,
                what="building the native launcher",
                hint="homeops works without it (as a Python script), only slower to start",
            )
            os.chmod(built, 0o755)
            os.replace(built, dest)
        finally:
            if os.path.exists(built):
                os.unlink(built)
    return f"{dest}: the native launcher, for {python or sys.executable}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m homeops.launcher DEST", file=sys.stderr)
        return 2
    from ..errors import HomeopsError

    try:
        print(install(argv[0]))
    except (HomeopsError, OSError) as exc:
        print(f"homeops launcher: {exc}; {argv[0]} stays as it was", file=sys.stderr)
        return 1
    return 0
