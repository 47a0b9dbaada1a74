"""A native kustomize engine: ``kubectl kustomize``'s objects for a folder, without running it.

Implements what homelab repositories use (resources, components, generators, patches, namespace,
labels, annotations, images, replicas, name prefixes and suffixes, name references, Flux's generated
kustomizations and overrides). Other features fall back to ``kubectl kustomize``.
"""

from __future__ import annotations

from .api import BuildResult, Overrides, build
from .order import legacy_sort

__all__ = ["BuildResult", "Overrides", "build", "legacy_sort"]
