"""The seeds' mode switches (seed 004) as minimal, Git-tracked edits.

* cert-issuer: the ``CERT_ISSUER`` value wherever the repository defines it (found by content: a
  ConfigMap's data, a plaintext Secret's stringData, a Flux Kustomization's postBuild.substitute);
* app-env: the ``spec.path`` of the Flux Kustomization that deploys an app's overlay
  (``…/example/overlays/staging`` → ``…/overlays/prod``).

Only the one value changes (see :mod:`homeops.scaffold.kedit`); the change can be shown as a unified
diff and committed alone with the real git.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, Where, WriteError
from ..load.tree import SourceTree
from ..model.base import get_path
from ..model.flux import FLUX_KUSTOMIZE_GROUP
from ..model.kinds import is_sops_encrypted
from .kedit import scalar_span, set_scalar

CERT_ISSUERS = ("letsencrypt-staging", "letsencrypt-prod")
ENVIRONMENTS = ("staging", "prod")
VARIABLE = "CERT_ISSUER"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a mode value is written."""

    path: str
    """Relative to the folder searched."""
    document: int
    field: tuple[str | int, ...]
    value: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class ModeChange:
    """One edit, computed but not yet written."""

    root: Path
    """The folder searched; ``path`` is relative to it."""
    path: str
    before: str
    after: str
    old: str
    """The mode before (``letsencrypt-staging``, ``staging``)."""
    new: str
    what: str
    """``CERT_ISSUER`` or ``app-env example``, for messages."""
    line: int = 0
    """The line of the value in ``path``."""

    @property
    def unchanged(self) -> bool:
        """The mode is already the one asked for: nothing to write or commit."""
        return self.old == self.new

    @property
    def shown_path(self) -> str:
        """The file's path from the top of its Git work tree (from ``root`` outside one)."""
        target = (self.root / self.path).resolve()
        for folder in target.parents:
            if (folder / ".git").exists():
                return target.relative_to(folder).as_posix()
        return self.path

    def diff(self) -> str:
        shown = self.shown_path
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{shown}",
                tofile=f"b/{shown}",
            )
        )

    @property
    def message(self) -> str:
        """The commit message."""
        return f"mode: {self.what} {self.new} (was {self.old})\n\nWritten by `homeops mode`."


def _line(text: str, document: int, field: tuple[str | int, ...]) -> int:
    start, _, _ = scalar_span(text, document, field)
    return text.count("\n", 0, start) + 1


def _documents(tree: SourceTree) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for rel in tree.yaml_files():
        try:
            parsed = tree.parsed(rel)
        except OSError:
            continue
        for index, data in enumerate(parsed.documents):
            if isinstance(data, dict):
                yield rel, index, data


# -- cert-issuer ----------------------------------------------------------------------------------


def cert_issuer_places(tree: SourceTree) -> list[Place]:
    places = []
    for rel, index, data in _documents(tree):
        kind = data.get("kind")
        group = str(data.get("apiVersion", "")).rpartition("/")[0]
        fields: list[tuple[str | int, ...]] = []
        if kind == "ConfigMap" and group == "":
            fields.append(("data", VARIABLE))
        elif kind == "Secret" and group == "" and not is_sops_encrypted(data):
            fields.append(("stringData", VARIABLE))
        elif kind == "Kustomization" and group == FLUX_KUSTOMIZE_GROUP:
            fields.append(("spec", "postBuild", "substitute", VARIABLE))
        for field in fields:
            value = get_path(data, *field)
            if isinstance(value, str):
                text = tree.read_text(rel)
                places.append(Place(rel, index, field, value, _line(text, index, field)))
    return places


def _issuers(tree: SourceTree) -> set[str]:
    return {
        str(get_path(data, "metadata", "name"))
        for _, _, data in _documents(tree)
        if data.get("kind") == "ClusterIssuer"
    }


def cert_issuer_change(path: str | Path, value: str) -> ModeChange:
    """The edit that sets ``CERT_ISSUER`` to ``value`` in the repository (or folder) at ``path``."""
    if value not in CERT_ISSUERS:
        raise UsageError(
            f"unknown certificate issuer {value!r}", hint=f"use one of: {', '.join(CERT_ISSUERS)}"
        )
    tree = SourceTree(path)
    places = cert_issuer_places(tree)
    if not places:
        raise UsageError(
            f"no {VARIABLE} is defined under {path}",
            hint=f"define it in the settings ConfigMap ({VARIABLE}: letsencrypt-staging) "
            "that your Kustomizations substitute from",
        )
    if len(places) > 1:
        listed = ", ".join(str(p) for p in places)
        raise UsageError(
            f"{VARIABLE} is defined in {len(places)} places: {listed}",
            hint="pass the folder of one cluster as PATH (e.g. kubernetes/staging)",
        )
    place = places[0]
    issuers = _issuers(tree)
    if issuers and value not in issuers:
        raise UsageError(
            f"no ClusterIssuer named {value!r} in this repository",
            where=Where(place.path, place.line),
            hint=f"issuers: {', '.join(sorted(issuers))}",
        )
    return _change(tree, place, value, VARIABLE, place.value, value)


def _change(tree: SourceTree, place: Place, value: str, what: str, old: str, new: str) -> ModeChange:
    """The edit; when ``old == new`` a no-op (``unchanged``)."""
    before = tree.read_text(place.path)
    after = before if old == new else set_scalar(before, place.document, place.field, value, rel=place.path)
    return ModeChange(tree.root, place.path, before, after, old, new, what, place.line)


# -- app-env -----------------------------------------------------------------------------------


def _env_of(path: str, app: str) -> str | None:
    """The environment a Kustomization path selects for ``app`` (…/<app>/overlays/<env>), or None."""
    parts = [p for p in posixpath.normpath(path.lstrip("/")).split("/") if p not in ("", ".")]
    if len(parts) >= 3 and parts[-3] == app and parts[-2] == "overlays":
        return parts[-1]
    return None


def app_env_places(tree: SourceTree, app: str) -> list[Place]:
    places = []
    for rel, index, data in _documents(tree):
        api = str(data.get("apiVersion", ""))
        if data.get("kind") != "Kustomization" or not api.startswith(FLUX_KUSTOMIZE_GROUP + "/"):
            continue
        value = get_path(data, "spec", "path")
        if isinstance(value, str) and _env_of(value, app) is not None:
            field: tuple[str | int, ...] = ("spec", "path")
            places.append(Place(rel, index, field, value, _line(tree.read_text(rel), index, field)))
    return places


def app_env_change(path: str | Path, app: str, env: str) -> ModeChange:
    """The edit that points the Kustomization deploying ``app`` at its ``env`` overlay."""
    if env not in ENVIRONMENTS:
        raise UsageError(f"unknown environment {env!r}", hint=f"use one of: {', '.join(ENVIRONMENTS)}")
    tree = SourceTree(path)
    places = app_env_places(tree, app)
    if not places:
        raise UsageError(
            f"no Flux Kustomization deploys an overlay of app {app!r} under {path}",
            hint=f"app-env switches a spec.path of the form …/{app}/overlays/<env>",
        )
    if len(places) > 1:
        listed = ", ".join(str(p) for p in places)
        raise UsageError(
            f"app {app!r} is deployed by {len(places)} Kustomizations: {listed}",
            hint="pass a narrower PATH (the folder of one cluster)",
        )
    place = places[0]
    current = _env_of(place.value, app)
    if current == env:
        return _change(tree, place, place.value, f"app-env {app}", env, env)
    new_path = place.value[: len(place.value) - len(str(current))] + env
    target = posixpath.normpath(new_path.lstrip("/"))
    if not tree.is_dir(target) and not (tree.root / target).is_dir():
        raise UsageError(
            f"app {app!r} has no {env} overlay ({target} does not exist)",
            where=Where(place.path, place.line),
            hint=f"create {target}/kustomization.yaml first",
        )
    return _change(tree, place, new_path, f"app-env {app}", str(current), env)


# -- writing and committing -------------------------------------------------------------------


def write(change: ModeChange) -> None:
    """Write the change (under the repository's lock), refusing when the file changed since it was
    read or when it leads out of the folder through a symlink."""
    from ..journal import Transaction

    with Transaction(change.root, f"mode {change.what}") as txn:
        target = change.root / change.path
        if target.read_text(encoding="utf-8") != change.before:
            raise WriteError(
                f"{change.path} changed while homeops was editing it; nothing was written",
                where=Where(change.path),
                hint="run the command again",
            )
        txn.write(change.path, change.after)


def git_root(path: Path) -> Path:
    from .. import proc

    result = proc.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=path,
        what="git rev-parse",
        hint="--commit needs the repository to be a Git work tree (git init)",
    )
    return Path(result.text.strip())


def ensure_clean(change: ModeChange) -> Path:
    """The Git root, after checking that the file has no uncommitted change (so that the commit holds
    exactly the mode switch)."""
    from .. import proc

    top = git_root(change.root)
    rel = (change.root / change.path).resolve().relative_to(top.resolve()).as_posix()
    tracked = proc.run(["git", "ls-files", "--error-unmatch", "--", rel], cwd=top, check=False)
    if tracked.returncode == 0:
        dirty = proc.run(["git", "diff", "--quiet", "HEAD", "--", rel], cwd=top, check=False)
        if dirty.returncode != 0:
            raise UsageError(
                f"{rel} has uncommitted changes; --commit would commit them too",
                where=Where(change.path),
                hint="commit or stash them first, or run without --commit",
            )
    return top


def commit(change: ModeChange, top: Path) -> str:
    """Commit exactly the changed file; returns the new commit's id."""
    from .. import proc

    rel = (change.root / change.path).resolve().relative_to(top.resolve()).as_posix()
    proc.run(["git", "add", "--", rel], cwd=top, what="git add")
    proc.run(
        ["git", "commit", "--quiet", "-m", change.message, "--", rel],
        cwd=top,
        what="git commit",
        hint="set your identity (git config user.name / user.email) if git asks for it",
    )
    return proc.run(["git", "rev-parse", "HEAD"], cwd=top).text.strip()
