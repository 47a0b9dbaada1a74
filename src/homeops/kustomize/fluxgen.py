"""The kustomization Flux's kustomize-controller generates for a folder that has none.

As fluxcd/pkg/kustomize does: walk the folder in lexical order; a subfolder with a kustomization
file becomes a resource and is not entered; every other ``.yaml``/``.yml`` file becomes a resource
and must decode as Kubernetes objects. Files source-controller leaves out of the artifact
(``.sourceignore``, its default ignores) are not there for Flux, so they are skipped.
"""

from __future__ import annotations

import os

from ..errors import KustomizeError, Where
from ..load.tree import SourceTree, join
from . import kfile
from .kfile import Kustomization
from .loader import Loader


def generate(tree: SourceTree, loader: Loader, directory: str) -> Kustomization:
    resources: list[str] = []
    _scan(tree, loader, directory, directory, resources)
    return Kustomization(path=directory, directory=directory, generated=True, resources=tuple(resources))


def _scan(tree: SourceTree, loader: Loader, base: str, folder: str, resources: list[str]) -> None:
    for name in tree.listdir(folder):
        rel = join(folder, name)
        full = tree.abspath(rel)
        if os.path.isdir(full) and not os.path.islink(full):
            if not tree.flux_visible(rel, is_dir=True):
                continue
            if any(
                tree.is_file(join(rel, k)) and tree.flux_visible(join(rel, k))
                for k in kfile.KUSTOMIZATION_FILES
            ):
                resources.append(_relative(base, rel))
                continue
            _scan(tree, loader, base, rel, resources)
            continue
        if not name.endswith((".yaml", ".yml")) or not tree.flux_visible(rel):
            continue
        if not tree.is_file(rel):
            continue
        try:
            loader.objects(rel)
        except KustomizeError as exc:
            raise KustomizeError(
                f"Flux cannot decode {rel} as Kubernetes YAML: {exc.message}",
                where=exc.where or Where(rel),
                hint="Flux generates a kustomization from every .yaml file of this folder: fix the file, "
                "move it out, list it in .sourceignore, or add a kustomization.yaml",
            ) from None
        resources.append(_relative(base, rel))


def _relative(base: str, rel: str) -> str:
    return rel[len(base) + 1 :] if base else rel
