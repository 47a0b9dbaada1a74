"""Where the schemas come from, offline, and what they are (provenance and licence).

* Kubernetes: the OpenAPI definitions of each Kubernetes release, as JSON Schema, shipped by the
  ``kubernetes-validate`` package (PyPI, Apache-2.0; built from the Kubernetes OpenAPI document with
  openapi2jsonschema). One folder per minor release, ``v1.X.0-local-strict``.
* Flux: the ``@kubernetes-models/flux-cd`` package (npm, MIT; generated from the Flux controllers' API
  types). Its type declarations carry every kind, version, field, required field and enumeration;
  they were converted once, at development time, into ``data/flux-schemas.json``, which homeops ships
  (``data/README.md`` says how, ``tools/flux_schemas.py`` does it again).
* CRDs the repository applies (or its charts install) are read from the repository itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..records import NamedTuple

DEFAULT_KUBERNETES_VERSION = "1.33.0"
"""The Kubernetes version validated against when ``.homeops.yaml`` names none (as ``build`` renders)."""

FLUX_SCHEMAS = Path(__file__).parent / "data" / "flux-schemas.json"
"""Flux's kinds as JSON Schema (``{"source", "kinds", "defs"}``), shipped with homeops."""


class Provenance(NamedTuple):
    """Where one set of schemas came from, for ``homeops validate --sources``."""

    name: str
    version: str
    licence: str
    location: str


class KubernetesSchemas(NamedTuple):
    folder: Path
    """The ``v1.X.0-local-strict`` folder (its ``_definitions.json`` holds every definition)."""
    version: str
    """The release the folder is for (``1.33.0``)."""
    requested: str
    """The release asked for; differs from ``version`` when that one is not shipped."""
    provenance: Provenance


def _kubernetes_validate_root() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def _minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", version.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def kubernetes_schemas(requested: str | None) -> KubernetesSchemas | None:
    """The shipped schemas of the release closest to ``requested`` (same minor when shipped)."""
    root = _kubernetes_validate_root()
    if root is None:
        return None
    wanted = _minor(requested or DEFAULT_KUBERNETES_VERSION) or _minor(DEFAULT_KUBERNETES_VERSION)
    assert wanted is not None
    folder = root / f"v{wanted[0]}.{wanted[1]}.0-local-strict"
    best = wanted
    if not (folder / "_definitions.json").is_file():
        shipped: dict[tuple[int, int], Path] = {}
        for entry in root.iterdir() if root.is_dir() else ():
            minor = _minor(entry.name)
            if entry.name.endswith("-local-strict") and minor and (entry / "_definitions.json").is_file():
                shipped[minor] = entry
        if not shipped:
            return None
        # the nearest release shipped (ties: the older, whose fields the newer still accepts)
        best = min(shipped, key=lambda m: (abs((m[0] - wanted[0]) * 1000 + m[1] - wanted[1]), m))
        folder = shipped[best]
    return KubernetesSchemas(
        folder,
        f"{best[0]}.{best[1]}.0",
        requested or DEFAULT_KUBERNETES_VERSION,
        Provenance("kubernetes-validate (PyPI)", "", "Apache-2.0", str(folder)),
        # the package's version is read only when shown (package_version): not on check's path
    )


def package_version(name: str) -> str:
    """An installed distribution's version (for provenance; not on the hot path)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def flux_provenance(source: dict[str, object], path: Path) -> Provenance:
    """Where the shipped Flux schemas came from (their ``source`` entry)."""
    return Provenance(
        f"{source.get('package', '?')} (npm; converted, shipped with homeops)",
        str(source.get("version", "")),
        str(source.get("licence", "")),
        str(path),
    )
