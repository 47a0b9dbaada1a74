"""The artifacts homeops assembles for Flux (ArtifactGenerator outputs, GitRepository includes) are
written into the cache, and nothing a repository says can put a file anywhere else.

source-watcher refuses a ``to`` that is absolute or holds ``..``; source-controller joins an include's
``toPath`` with ``securejoin`` (``..`` stops at the artifact root). Each case runs the real ``homeops
check`` on a hostile copy of a fixture and looks for the file outside.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"

GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: fleet
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: platform
      copy:
        - from: "@repo/platform/settings/tier.yaml"
          to: "{to}"
        - from: "@repo/platform/**"
          to: "@artifact/"
    - name: workloads
      copy:
        - from: "@repo/workloads/base/**"
          to: "@artifact/base/"
        - from: "@repo/workloads/production/**"
          to: "@artifact/production/"
"""

INCLUDE = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: other
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://github.com/example/home
  include:
    - repository:
        name: flux-system
      fromPath: apps/dashboard
      toPath: {to}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: via-include
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: other
"""


def _check(repo: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOMEOPS_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "homeops", "check", str(repo), "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_an_artifact_generator_cannot_write_outside_the_artifact(tmp_path: Path, kind: str) -> None:
    repo = tmp_path / "deep" / "er" / "repo"
    shutil.copytree(FLUX / "artifact-generator", repo)
    target = tmp_path / "written-by-the-repository.yaml"
    to = "@artifact/" + ("../" * 12 + str(target).lstrip("/") if kind == "relative" else "/" + str(target))
    (repo / "clusters" / "production" / "artifacts.yaml").write_text(GENERATOR.format(to=to))
    done = _check(repo, tmp_path / "cache")
    assert not target.exists()
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    assert "the destination must stay inside the artifact" in done.stdout


def test_an_artifact_generator_copying_into_the_artifact_root_with_a_dot(tmp_path: Path) -> None:
    # '@artifact/.' is the artifact's root folder, as source-watcher reads it: the file goes into it
    repo = tmp_path / "repo"
    shutil.copytree(FLUX / "artifact-generator", repo)
    (repo / "clusters" / "production" / "artifacts.yaml").write_text(GENERATOR.format(to="@artifact/."))
    done = _check(repo, tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_include_to_path_stops_at_the_artifact_root(tmp_path: Path) -> None:
    repo = tmp_path / "deep" / "er" / "repo"
    shutil.copytree(FLUX / "sourceignore", repo)
    outside = tmp_path / "written-by-the-repository"
    climb = "../" * 12 + str(outside).lstrip("/")
    sync = repo / "clusters" / "home" / "flux-system" / "gotk-sync.yaml"
    # securejoin: the include lands at <artifact>/<outside path without its root>, which Flux builds
    inside = str(outside).lstrip("/")
    sync.write_text(sync.read_text() + INCLUDE.format(to=climb, path=inside))
    done = _check(repo, tmp_path / "cache")
    assert not outside.exists()
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "via-include" in done.stdout  # its objects were built (applied twice: OWN001), not lost
