"""One live explanation session: the snapshot (live or from files), its view, and the repository side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..cluster.reader import LiveCluster, SnapshotFiles, context_for
from .repo import RepoSide, open_repo
from .scenarios import Context
from .view import View
from .why import Explainer


def open_session(
    path: str | Path,
    *,
    sources: Sequence[str] | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: str | None = None,
) -> Context:
    """Read the cluster (``sources`` = snapshot files, else live) and join it with the repository at
    ``path`` (when it has a Flux tree)."""
    from ..rules.config import load_config

    root = Path(path)
    if sources:
        view = View(SnapshotFiles(sources).read())
        repo = _repo(root, view, cluster)
    else:
        repo = _repo(root, None, cluster)
        contexts = load_config(root).contexts if root.is_dir() else {}
        name = context_for(repo.cluster if repo else cluster or "default", context, contexts)
        view = View(LiveCluster(name, kubeconfig).read())
    explainer = Explainer(view, repo.origin if repo else None)
    return Context(view, explainer, repo, repo.cluster if repo else cluster or "default")


def _repo(root: Path, view: View | None, cluster: str | None) -> RepoSide | None:
    from ..errors import UsageError

    if not root.exists():
        raise UsageError(f"{root}: no such folder", hint="give the repository folder, or '.'")
    return open_repo(root, view, cluster)
