"""Opening a repository: the source tree, its configuration and its Flux tree, built once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .load.cache import ParseCache
from .load.tree import SourceTree
from .load.walk import repository_root
from .records import Record
from .settings import Config

if TYPE_CHECKING:
    from .flux.tree import FluxTree, SecretValues


class Workspace(Record):
    """One repository as every command sees it."""

    __slots__ = ("_flux", "config", "offline", "save_parse_cache", "secret_values", "tree")
    _unshown = ("_flux",)

    tree: SourceTree
    config: Config
    secret_values: SecretValues | None
    """Set before ``flux`` is first read to let substituteFrom see decrypted SOPS values."""
    offline: bool
    """Remote kustomize bases only from homeops' cache, never the network (``--offline``)."""
    save_parse_cache: bool
    """Write the parse cache once the Flux tree is built (``check`` writes it itself, after its output)."""
    _flux: FluxTree | None

    def __init__(
        self,
        tree: SourceTree,
        config: Config,
        secret_values: SecretValues | None = None,
        offline: bool = False,
        save_parse_cache: bool = True,
    ) -> None:
        self.tree = tree
        self.config = config
        self.secret_values = secret_values
        self.offline = offline
        self.save_parse_cache = save_parse_cache
        self._flux = None

    @property
    def root(self) -> Path:
        return self.tree.root

    @property
    def flux(self) -> FluxTree:
        if self._flux is None:
            from .flux.tree import load_flux_tree

            self._flux = load_flux_tree(self.tree, secret_values=self.secret_values, offline=self.offline)
            if self.save_parse_cache:
                self.tree.save_cache()
        return self._flux


def open_workspace(
    path: str | Path = ".",
    *,
    use_cache: bool = True,
    tree: SourceTree | None = None,
    offline: bool = False,
    save_parse_cache: bool = True,
) -> Workspace:
    """Open the repository at ``path`` (a folder; its own root, not searched upwards).

    ``tree``: the repository's source tree when the caller has already made it (see ``check``);
    ``offline``: remote kustomize bases only from homeops' cache; ``save_parse_cache``: see
    :attr:`Workspace.save_parse_cache`.
    """
    if tree is None:
        resolved = Path(repository_root(str(path)))
        tree = SourceTree(resolved, cache=ParseCache(resolved) if use_cache else None)
    from .rules.config import load_config  # checks rule names against the catalog

    return Workspace(tree, load_config(tree.root), offline=offline, save_parse_cache=save_parse_cache)
