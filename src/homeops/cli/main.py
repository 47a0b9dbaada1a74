"""The ``homeops`` command: parse arguments, dispatch to one command module, map errors to exit codes.

Each command lives in ``homeops.cli.commands.<name>`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Command modules are imported only when chosen, so ``homeops --help`` stays fast:
the table below carries the help line of every command without importing it.
"""

from __future__ import annotations

import os
import sys

from .quick import quick_args

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence  # (collections, importlib: ~2 ms of a cached answer)
    from types import ModuleType
    from typing import Any

#: command name → (module, one-line help). Modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "check a repository against the homelab rules"),
    "graph": ("graph", "show what depends on what: rollout order, cycles, blast radius"),
    "get": ("get", "list Flux Kustomizations, HelmReleases or images"),
    "explain": ("explain", "say why a file is or is not applied by Flux"),
    "kustomize": ("kustomize", "run the native kustomize build on a folder"),
    "build": ("build", "render what Flux would apply"),
    "diff": ("diff", "render two revisions and show what Flux would change"),
    "secrets": ("secrets", "create keys, encrypt, decrypt, edit, rotate SOPS secrets"),
    "configure": ("configure", "render templates, encrypt secrets and check, as one transaction"),
    "new": ("new", "create a new homelab repository in one of the standard layouts"),
    "add": ("add", "add an app to the repository, in its own layout and conventions"),
    "mode": ("mode", "switch a mode (certificate issuer, app environment) as a Git change"),
    "hook": ("hook", "install the git pre-commit hook, or run its check of what is staged"),
    "rules": ("rules", "list the rules of the catalog, or generate their documentation"),
    "validate": ("validate", "validate what Flux would apply against the API schemas, offline"),
    "snapshot": ("snapshot", "save a cluster's objects to a file that status, why and doctor can read"),
    "status": ("status", "the Flux tree with each object's live state, revision and drift"),
    "why": ("why", "why an object is not healthy: the chain to its root cause, and what happens next"),
    "doctor": ("doctor", "find the failure scenarios in a cluster, each with its root cause and fix"),
    "machines": ("machines", "show the runtime state machines, or generate their documentation"),
    "simulate": ("simulate", "simulate a cluster converging on the repository: when, in what order"),
    "report": ("report", "write one HTML page: graph, waves, bootstrap timeline, live state, findings"),
}


def _available() -> dict[str, tuple[str, str]]:
    here = os.path.join(os.path.dirname(__file__), "commands")
    return {
        name: spec for name, spec in COMMANDS.items() if os.path.exists(os.path.join(here, f"{spec[0]}.py"))
    }


_GLOBAL_WITH_VALUE = ("--color",)


def _selected(argv: Sequence[str]) -> str | None:
    """The command named on the command line (skipping global options and their values)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _GLOBAL_WITH_VALUE:
            skip = True
            continue
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None, *, handed: object = None, defer: bool = False) -> int:
    """Run ``homeops argv``; its exit status.

    ``handed``: what the caller of a resident process computed already (see :mod:`homeops.resident`).
    ``defer``: leave the :func:`afterwards` tasks to the caller (who runs them once the output is out).
    """
    from ..printable import PrintableStream

    out, err = sys.stdout, sys.stderr
    # Python has no sys.stdout or sys.stderr when that descriptor was closed (`>&-`, `2>&-`): what
    # would go to a closed stderr goes nowhere, as asked; with no stdout there is nowhere to answer.
    shown_err = err if err is not None else open(os.devnull, "w", encoding="utf-8")
    if out is None:
        print(
            "homeops: error: standard output is closed: there is nowhere to write the answer\n"
            "  hint: send it somewhere (> FILE, | less, or > /dev/null for the exit status only)",
            file=shown_err,
        )
        return int(_errors().ExitCode.FAILURE)
    # Names and values of the repository reach the terminal: none of their control sequences may.
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(shown_err)
    try:
        return _main(argv, handed)
    finally:
        sys.stdout, sys.stderr = out, err
        if not defer:
            run_afterwards()


_afterwards: list[Callable[[], object]] = []


def afterwards(task: Callable[[], object]) -> None:
    """Do ``task`` once the command's output is out and its exit status known: work nobody waits
    for, such as storing a check's result for the next run. A process of its own does it just before
    it exits; a child of the resident process after its caller has the exit status and is gone."""
    _afterwards.append(task)


def run_afterwards() -> None:
    """The :func:`afterwards` tasks, in order."""
    while _afterwards:
        _afterwards.pop(0)()


def _main(argv: Sequence[str] | None, handed: object) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in _before(args_list, "--")
    try:
        args: Any = quick_args(args_list)  # None: argparse reads it (help, errors, other commands)
        if args is None:
            from .parser import build_parser

            selected = _selected(args_list)
            top_help = selected is not None and any(
                a in ("-h", "--help") for a in _before(args_list, selected)
            )
            parser = build_parser(selected, list_all=top_help)
            args = parser.parse_args(args_list)
            if not args.command:
                parser.print_help()
                return int(_errors().ExitCode.USAGE)
        name = f"homeops.cli.commands.{COMMANDS[args.command][0]}"
        __import__(name)
        module = sys.modules[name]
        global _ran
        _ran = args.command
        args.argv = args_list  # what a resident process is asked to run instead (homeops.resident)
        args.handed = handed
        return int(module.run(args))
    except _errors().HomeopsError as exc:
        if debug:
            _traceback()
        _error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)  # errors.Interrupted: SIGTERM, SIGHUP, …
        _error("interrupted" if signum == 2 else f"stopped by {_signal_name(signum)}; cleaned up")
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (``homeops get | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(_errors().ExitCode.OK)
    except SystemExit as exc:  # argparse: usage errors exit with 2
        return int(exc.code) if isinstance(exc.code, int) else int(_errors().ExitCode.USAGE)
    except Exception as exc:
        if debug:
            _traceback()
        if isinstance(exc, OSError) and exc.filename:
            # A file the command needed could not be opened (permission denied, a folder where a
            # file was expected…): say which and why; it is not a bug in homeops.
            _error(
                f"cannot open {exc.filename}: {exc.strerror or exc}\n"
                f"  hint: check that it exists and that you may read it (ls -l {exc.filename})"
            )
        elif debug:
            _error(f"internal error: {type(exc).__name__}: {exc} (a bug in homeops: please report it)")
        else:
            _error(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "  This is a bug in homeops. Run again with --debug for a traceback and report it."
            )
        return int(_errors().ExitCode.FAILURE)


def _errors() -> ModuleType:
    """:mod:`homeops.errors`, loaded when first needed (an ``except`` clause evaluates it only when
    something was raised): the cached answer of ``check`` needs neither it nor the ``enum`` it loads."""
    from .. import errors

    return errors


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _traceback() -> None:
    import traceback  # only with --debug: it costs start-up time

    traceback.print_exc()


def _error(message: str) -> None:
    print(f"homeops: error: {message}", file=sys.stderr)


def _before(argv: Sequence[str], command: str) -> list[str]:
    args = list(argv)
    return args[: args.index(command)] if command in args else args


_ran: str | None = None
"""The command the last :func:`main` ran."""

_NO_TEARDOWN = frozenset({"check"})
"""Commands that leave nothing to clean up at exit: no temporary files, threads or Go runtime."""


def entry() -> None:
    code = main(defer=True)
    resident = sys.modules.get("homeops.resident")  # imported when a check asked for one
    if _ran in _NO_TEARDOWN:
        _finish()
        run_afterwards()
        if resident is not None:
            resident.spawn_if_wanted()
        os._exit(code)
    run_afterwards()
    if resident is not None:
        _flush()
        resident.spawn_if_wanted()
    sys.exit(code)


def run_command(argv: Sequence[str], *, handed: object = None, report: Callable[[int], object]) -> int:
    """``homeops argv`` in a child of the resident process (:mod:`homeops.resident`): main, then what
    a process that ends with ``os._exit`` must do first. ``report`` is told the exit status as soon
    as the output is out, before the :func:`afterwards` tasks."""
    code = main(argv, handed=handed, defer=True)
    if _ran not in _NO_TEARDOWN:
        import atexit

        atexit._run_exitfuncs()
    _finish()
    report(code)
    run_afterwards()
    return code


def _finish() -> None:
    """Before ``os._exit``: what a full cache disk made the command keep in RAM goes, output goes out.

    Freeing a whole parsed repository object by object at interpreter shutdown takes a noticeable
    part of a check; with the output flushed there is nothing left to do.
    """
    fsutil = sys.modules.get("homeops.fsutil")  # not imported: nothing was kept
    if fsutil is not None:
        fsutil.remove_process_dirs()
    _flush()


def _flush() -> None:
    """Standard output and error out now (a reader that went away is not an error of ours)."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # (a closed descriptor: see main)
                stream.flush()
    except BrokenPipeError:
        pass
