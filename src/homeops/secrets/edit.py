"""Edit an encrypted file in the user's editor without leaving plaintext behind.

The plaintext goes to a private temporary folder (0700, RAM-backed when possible, file mode 0600)
that is removed whatever happens: editor failure, Ctrl-C, SIGTERM, SIGHUP, encryption failure. An
edit that does not parse is shown again in the editor with the error on top, instead of being thrown
away. The file is re-encrypted with its own recipients and settings (as ``sops edit`` does) and
replaced atomically; when the content did not change the file is left untouched, ciphertext included.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, MissingTool, ToolError, UsageError, Where
from ..fsutil import private_tempdir
from ..interrupts import left_to_the_terminal
from ..journal import locked, write_file
from ..proc import run_interactive
from . import keys
from . import sops as sops_
from .config import SopsConfig, load_sops_config
from .paths import find_repo_root, read, repo_relative


def editor_command(env: dict[str, str] | None = None) -> list[str]:
    """The editor to run: ``$EDITOR``, else ``$VISUAL``, else ``vi`` (split like a shell would)."""
    env = dict(os.environ) if env is None else env
    text = env.get("EDITOR") or env.get("VISUAL") or "vi"
    try:
        command = shlex.split(text)
    except ValueError:
        raise UsageError(f"cannot parse the editor command {text!r}", hint="fix $EDITOR") from None
    return command or ["vi"]


def edit(
    path: str | Path,
    *,
    age_key_file: str | Path | None = None,
    editor: Sequence[str] | None = None,
) -> bool:
    """Decrypt ``path``, open it in the editor, re-encrypt it. Returns whether the file changed.

    The repository's write lock is held until the editor closes: no other homeops write (a rotate)
    can change the file or its keys underneath the edit.
    """
    root = find_repo_root(path)
    rel = repo_relative(root, path)
    with locked(root, "secrets edit"):
        return _edit(root, rel, age_key_file, editor)


def _edit(root: Path, rel: str, age_key_file: str | Path | None, editor: Sequence[str] | None) -> bool:
    ciphertext = read(root, rel)
    if not sops_.is_encrypted(ciphertext, rel):
        raise UsageError(
            "not a SOPS-encrypted file",
            where=Where(rel),
            hint="edit it directly, then run 'homeops secrets encrypt'",
        )
    rule = sops_.rule_of(ciphertext, rel)  # before the editor opens: refuse what cannot be re-encrypted
    key = keys.find_age_key(age_key_file)
    plaintext = sops_.decrypt_with(ciphertext, filename=rel, repo_root=root, key=key)
    command = list(editor) if editor else editor_command()
    with private_tempdir(prefix="homeops-edit-") as folder:
        work = folder / Path(rel).name  # same name, so the editor picks the right syntax
        edited = _edit_until_valid(command, work, plaintext, rel, cwd=root)
    if edited == plaintext:
        return False
    try:
        stores = (load_sops_config(root) or SopsConfig("", ())).stores
    except ConfigError:
        stores = {}
    try:
        new_ciphertext = sops_.encrypt(
            edited, filename=rel, repo_root=root, config=SopsConfig.build([rule], stores)
        )
    except ToolError as exc:
        exc.hint = "your changes were discarded and the file is unchanged; fix the content and edit again"
        raise
    write_file(root, rel, new_ciphertext, what="secrets edit")
    return True


#: Starts the lines homeops puts above the text when it reopens the editor (removed again after).
BANNER = "# homeops:"


def _edit_until_valid(command: list[str], work: Path, plaintext: bytes, rel: str, *, cwd: Path) -> bytes:
    """The edited text, reopened in the editor with the error on top as long as it does not parse
    (as ``kubectl edit`` and ``sops edit`` do); saving the reopened text unchanged gives up."""
    shown = plaintext
    while True:
        fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(shown)
        run_editor([*command, str(work)], cwd=cwd)
        saved = work.read_bytes()
        edited = _without_banner(saved)
        problem = syntax_error(edited, rel)
        if problem is None:
            return edited
        line, reason = problem
        if saved == shown and shown is not plaintext:
            raise UsageError(
                f"the edit still does not parse (line {line}: {reason}); nothing was changed",
                where=Where(rel),
                hint="run 'homeops secrets edit' again and fix the error, or quit without saving",
            )
        banner = [
            f"{BANNER} your edit was not saved: line {line + 3}: {reason}",
            f"{BANNER} fix it and save to encrypt it; save without changes to give up.",
            f"{BANNER} these lines are removed before encrypting.",
        ]
        shown = ("\n".join(banner) + "\n").encode("utf-8") + edited


def syntax_error(text: bytes, rel: str) -> tuple[int, str] | None:
    """(line, why) when a YAML or JSON file's text does not parse (never quoting it); None when it
    parses or is another format."""
    from ..load import yamlio

    fmt = sops_.sops_format(rel)
    if fmt == "json":
        import json

        try:
            json.loads(text)
        except ValueError as exc:
            return getattr(exc, "lineno", 0), f"JSON error: {getattr(exc, 'msg', 'not valid JSON')}"
        return None
    failure = yamlio.parse(text).failure if fmt == "yaml" else None
    return None if failure is None else (failure.line, f"YAML error: {failure.reason}")


def _without_banner(text: bytes) -> bytes:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(BANNER.encode()):
        lines.pop(0)
    return b"".join(lines)


def run_editor(argv: list[str], *, cwd: Path) -> None:
    """Run the editor attached to the terminal.

    Not :func:`homeops.proc.run`: that captures output, and an editor needs the terminal. Ctrl-C
    and Ctrl-\\ are the editor's while it runs; SIGTERM, SIGHUP and the like end the edit (the editor
    is stopped and the decrypted copy removed).
    """
    try:
        with left_to_the_terminal():
            returncode = run_interactive(argv, cwd=cwd)
    except MissingTool:
        raise UsageError(f"editor {argv[0]!r} not found", hint="set $EDITOR to an installed editor") from None
    if returncode != 0:
        raise ToolError(
            f"the editor exited with code {returncode}; nothing was changed",
            argv=[argv[0], "<decrypted copy>"],
            cwd=str(cwd),
            returncode=returncode,
            output="",
        )
