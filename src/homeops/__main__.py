"""``python -m homeops``."""

from .cli.main import entry

entry()
