"""Helpers for the rendering tests: the fixture repository, the CLI run in-process, golden files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.cli.main import main

RENDER = Path(__file__).resolve().parents[1] / "testdata" / "render"
REPO = RENDER / "repo"
EXPECTED = RENDER / "expected"
FLUX = Path(__file__).resolve().parents[1] / "testdata" / "flux"

PLATFORM = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: platform-controllers
  namespace: flux-system
spec:
  interval: 1h
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./platform/controllers
  prune: true
"""


def copy_repo(tmp_path: Path, name: str = "repo") -> Path:
    target = tmp_path / name
    shutil.copytree(REPO, target)
    return target


def platform_repo(tmp: Path) -> Path:
    """The artifact-generator fixture cut to one cluster ('production') whose only Kustomization applies
    ./platform/controllers: the place for a HelmRelease under test."""
    repo = tmp / "repo"
    shutil.copytree(FLUX / "artifact-generator", repo)
    shutil.rmtree(repo / "clusters" / "staging")
    shutil.rmtree(repo / "workloads")
    for name in ("artifacts.yaml", "workloads.yaml"):
        (repo / "clusters" / "production" / name).unlink()
    (repo / "clusters" / "production" / "platform.yaml").write_text(PLATFORM)
    return repo


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def golden(name: str) -> list[Any]:
    return documents((EXPECTED / name).read_text())
