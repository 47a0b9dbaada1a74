"""``.homeops.yaml``, read with the rule catalog's names checked.

The settings live in :mod:`homeops.settings` (below every layer that reads them); this module keeps
the old import path working and checks rule names against the catalog.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import CONFIG_FILE, Config, ProducerEntry, Severity


def load_config(repo_root: Path) -> Config:
    """Read ``.homeops.yaml`` at the repository root (defaults when absent), rule names checked."""
    from .. import settings
    from .catalog import rule_id

    return settings.load_config(repo_root, rule_id=rule_id)


__all__ = ["CONFIG_FILE", "Config", "ProducerEntry", "Severity", "load_config"]
