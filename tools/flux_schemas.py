"""Regenerate the Flux schemas homeops ships, from the pinned ``@kubernetes-models/flux-cd`` tarball.

    .venv/bin/python tools/flux_schemas.py [TARBALL]

Writes ``src/homeops/validate/data/flux-schemas.json`` (converted by :mod:`homeops.validate.fluxmodels`)
and ``flux-schemas.LICENSE`` (the package's own). Without TARBALL the pinned version is fetched with
``npm pack`` (npm is needed for this step only, never to run or test homeops) into
``<venv>/share/homeops/``, where ``tests/validate/test_flux_schemas.py`` finds it and checks that the
shipped file is exactly what the converter makes of it. A tarball whose digest is not the pinned one is
refused. To move to a newer package: change ``VERSION`` and ``INTEGRITY`` in ``fluxmodels.py``, run
this, read the diff of the JSON file, and update ``data/README.md``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from homeops import proc
from homeops.validate import fluxmodels

DATA = Path(__file__).resolve().parent.parent / "src" / "homeops" / "validate" / "data"


def fetch() -> Path:
    """The pinned tarball, fetched with ``npm pack`` into ``<venv>/share/homeops/`` when missing."""
    found = fluxmodels.local_tarball()
    if found is not None:
        return found
    dest = Path(sys.prefix) / "share" / "homeops"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as scratch:
        spec = f"{fluxmodels.PACKAGE}@{fluxmodels.VERSION}"
        proc.run(["npm", "pack", "--silent", spec], cwd=Path(scratch), what="npm pack", timeout=300)
        shutil.move(Path(scratch) / fluxmodels.TARBALL, dest / fluxmodels.TARBALL)
    return dest / fluxmodels.TARBALL


def main(argv: list[str]) -> int:
    tarball = Path(argv[0]) if argv else fetch()
    if not fluxmodels.verified(tarball):
        print(f"{tarball} is not {fluxmodels.PACKAGE} {fluxmodels.VERSION} (digest differs)", file=sys.stderr)
        return 1
    (DATA / "flux-schemas.json").write_text(fluxmodels.shipped_text(tarball), encoding="utf-8")
    (DATA / "flux-schemas.LICENSE").write_text(fluxmodels.licence_text(tarball), encoding="utf-8")
    print(f"wrote {DATA / 'flux-schemas.json'} from {tarball}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
