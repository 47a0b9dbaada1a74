"""``homeops configure``: render a repo's templates, encrypt its secrets, check, write all or nothing.

The library API: :func:`configure` runs the pipeline; :func:`load_ledger` reads what it recorded
(which template made which output, and from which line), for ``homeops check``.
"""

from __future__ import annotations

from .ledger import LEDGER_PATH, Ledger, LedgerEntry, load_ledger
from .model import (
    CheckFailed,
    CheckFn,
    ConfigureOptions,
    ConfigureResult,
    EncryptionFailed,
    FileReport,
    Output,
    Status,
    Step,
    TemplateError,
    ValidationFailed,
    Work,
)
from .pipeline import CheckStep, configure, default_steps

__all__ = [
    "LEDGER_PATH",
    "CheckFailed",
    "CheckFn",
    "CheckStep",
    "ConfigureOptions",
    "ConfigureResult",
    "EncryptionFailed",
    "FileReport",
    "Ledger",
    "LedgerEntry",
    "Output",
    "Status",
    "Step",
    "TemplateError",
    "ValidationFailed",
    "Work",
    "configure",
    "default_steps",
    "load_ledger",
]
