"""Charts inside Git repositories: resolve a GitRepository ``ref`` to a commit, export that commit's tree.

Real ``git`` through :mod:`homeops.git`: ``ls-remote`` to resolve branches, tags, semver ranges and
names; a shallow fetch of the one commit into a private folder, then ``git archive``. The ``ref``
precedence is Flux's: commit, name, semver, tag, branch (default branch ``master``).
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path

from ... import git, proc
from ...errors import ToolError
from ...localnet import local_reason
from .errors import ChartSourceError
from .semver import SemverError, highest, parse_constraint, try_version

_REMOTE_ENV = {
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    # A repository's YAML names the URL: never let it pick git's "ext::" (runs a command) transport.
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
}
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REF_KEYS = ("commit", "name", "semver", "tag", "branch")


def select_ref(ref: Mapping[str, str]) -> tuple[str, str]:
    """The one ``(kind, value)`` of a GitRepository ``ref`` that Flux would use."""
    for kind in REF_KEYS:
        value = ref.get(kind)
        if value:
            return kind, str(value)
    return "branch", "master"


def is_commit(text: str) -> bool:
    return _SHA.fullmatch(text) is not None


def _public(url: str) -> None:
    """Refuse a repository on this machine or its network (a ``file://`` path, ``ssh://localhost``...):
    its URL is written in the repository homeops reads, so a pull request would choose what git reads."""
    why = local_reason(url)
    if why is not None:
        raise ChartSourceError(
            f"homeops does not fetch the Git repository {url}: {why}",
            source=url,
            hint="a repository may not make homeops read this machine or its network; set "
            "HOMEOPS_ALLOW_LOCAL_REMOTES=1 to allow local mirrors",
        )


def resolve(url: str, kind: str, value: str, *, timeout: float) -> tuple[str, str]:
    """``(commit, label)`` for a ref; the label names what was picked (``v1.2.0`` for a semver range)."""
    _public(url)
    if kind == "commit":
        return value, value
    if kind == "branch":
        refs = _ls_remote(url, ["--heads"], [f"refs/heads/{value}"], timeout)
        return _only(refs, f"refs/heads/{value}", url, f"branch {value!r}"), value
    if kind == "tag":
        refs = _ls_remote(url, ["--tags"], [f"refs/tags/{value}", f"refs/tags/{value}^{{}}"], timeout)
        return _only(refs, f"refs/tags/{value}", url, f"tag {value!r}"), value
    if kind == "name":
        refs = _ls_remote(url, [], [value], timeout)
        return _only(refs, value, url, f"ref {value!r}"), value
    if kind == "semver":
        refs = _ls_remote(url, ["--tags"], [], timeout)
        try:
            constraint = parse_constraint(value)
        except SemverError as exc:
            raise ChartSourceError(f"{url}: {exc}", source=url) from exc
        tags = {name[len("refs/tags/") :]: sha for name, sha in refs.items() if name.startswith("refs/tags/")}
        candidates = [(v, tag) for tag in sorted(tags) if (v := try_version(tag)) is not None]
        best = highest(candidates, constraint)
        if best is None:
            raise ChartSourceError(
                f"no tag of {url} matches the semver range {value!r}",
                source=url,
                hint="check the range; tags must be semantic versions",
            )
        return tags[best[1]], best[1]
    raise ChartSourceError(f"unknown Git ref kind {kind!r}", source=url)


def _ls_remote(url: str, options: list[str], patterns: list[str], timeout: float) -> dict[str, str]:
    """Ref name → commit, with annotated tags peeled to the commit they point at."""
    result = _git(["ls-remote", *options, "--", url, *patterns], url, timeout, "list the refs of")
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in result.text.splitlines():
        sha, _, name = line.partition("\t")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        elif name:
            refs[name] = sha
    refs.update(peeled)
    return refs


def _only(refs: dict[str, str], name: str, url: str, what: str) -> str:
    if name in refs:
        return refs[name]
    raise ChartSourceError(f"{url} has no {what}", source=url, hint="check the GitRepository ref")


def export(url: str, commit: str, dest: Path, *, timeout: float) -> None:
    """Write the tree of ``commit`` into ``dest`` (which must exist and be empty)."""
    _public(url)
    repo = dest.parent / f".{dest.name}.git"
    _git(["init", "--quiet", "--bare", str(repo)], url, timeout, "prepare a clone of")
    fetched = _git(
        ["-C", str(repo), "fetch", "--quiet", "--depth", "1", "--", url, commit],
        url,
        timeout,
        "fetch",
        check=False,
    )
    if fetched.returncode != 0:
        # An abbreviated commit, or a server that refuses fetching by id: fetch everything.
        _git(
            ["-C", str(repo), "fetch", "--quiet", "--", url, "+refs/*:refs/remotes/origin/*"],
            url,
            timeout,
            "fetch",
        )
    tree = _git(
        ["-C", str(repo), "archive", "--format=tar", f"{commit}^{{commit}}"],
        url,
        timeout,
        f"export commit {commit} of",
    )
    try:
        with tarfile.open(fileobj=io.BytesIO(tree.stdout), mode="r:") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ChartSourceError(f"cannot unpack commit {commit} of {url}: {exc}", source=url) from exc


def _git(args: list[str], url: str, timeout: float, action: str, *, check: bool = True) -> proc.Result:
    try:
        return git.run(None, *args, env=_REMOTE_ENV, timeout=timeout, check=check, what="git")
    except ToolError as exc:
        lines = [line.strip() for line in exc.output.strip().splitlines() if line.strip()]
        # git's own reason is its "fatal:" line; advice ("Please make sure...") may follow it
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        detail = (fatal or lines or ["no output"])[0 if fatal else -1]
        raise ChartSourceError(
            f"git could not {action} {url}: {detail}",
            source=url,
            hint="check the URL and that this machine can reach it with git (SSH keys, credential helper)",
        ) from exc
