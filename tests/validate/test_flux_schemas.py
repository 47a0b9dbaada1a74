"""The Flux schemas homeops ships are exactly what the converter makes of the pinned npm tarball.

The tarball is not needed to run or test homeops; this test runs where it is on the machine
(``tools/flux_schemas.py`` fetches it, or ``$HOMEOPS_FLUX_MODELS`` names it) and is skipped elsewhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeops.validate import fluxmodels, sources

TARBALL = fluxmodels.local_tarball()
needs_tarball = pytest.mark.skipif(
    TARBALL is None,
    reason=f"the pinned {fluxmodels.TARBALL} is not on this machine (tools/flux_schemas.py fetches it)",
)
TOOL = Path(__file__).resolve().parents[2] / "tools" / "flux_schemas.py"


@needs_tarball
def test_the_shipped_file_is_the_converters_output() -> None:
    assert TARBALL is not None and fluxmodels.verified(TARBALL)
    assert sources.FLUX_SCHEMAS.read_text(encoding="utf-8") == fluxmodels.shipped_text(TARBALL)
    licence = sources.FLUX_SCHEMAS.parent / "flux-schemas.LICENSE"
    assert licence.read_text(encoding="utf-8") == fluxmodels.licence_text(TARBALL)


@needs_tarball
def test_the_tool_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    assert TARBALL is not None
    tampered = tmp_path / fluxmodels.TARBALL
    shutil.copy(TARBALL, tampered)
    with tampered.open("ab") as handle:
        handle.write(b"\0")
    before = sources.FLUX_SCHEMAS.read_bytes()
    done = subprocess.run([sys.executable, str(TOOL), str(tampered)], capture_output=True, text=True)
    assert done.returncode == 1 and "digest differs" in done.stderr
    assert sources.FLUX_SCHEMAS.read_bytes() == before


def test_the_shipped_file_says_where_it_came_from() -> None:
    data = json.loads(sources.FLUX_SCHEMAS.read_text(encoding="utf-8"))
    assert data["source"] == {
        "package": fluxmodels.PACKAGE,
        "version": fluxmodels.VERSION,
        "integrity": fluxmodels.INTEGRITY,
        "licence": "MIT",
    }
    # every kind's root definition is there
    assert all(name in data["defs"] for name in data["kinds"].values())
    assert "kustomize.toolkit.fluxcd.io/v1/Kustomization" in data["kinds"]
