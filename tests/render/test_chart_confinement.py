"""A chart built from the repository reads nothing outside it, as source-controller builds a chart
inside its artifact (which holds no symlink at all): not a template or values file through a symlink,
not the chart folder when a symlink leads it out, not a ``file://`` dependency elsewhere on the disk.

Each case puts a canary outside the repository, runs the real ``homeops build hr`` and looks for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from render_testlib import FLUX, platform_repo

CANARY = "CANARY-4d1e-outside-the-repository"

DUMP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: dump
data:
  values: {{ toYaml .Values | quote }}
"""


def _repo(tmp: Path) -> Path:
    """One cluster whose HelmRelease 'gateway' renders ./charts/greeter of this repository."""
    repo = platform_repo(tmp)
    (repo / "charts" / "greeter" / "templates" / "dump.yaml").write_text(DUMP)
    return repo


def _outside(tmp: Path) -> Path:
    outside = tmp / "outside"
    chart = outside / "chart"
    shutil.copytree(FLUX / "artifact-generator" / "charts" / "greeter", chart)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: elsewhere\nversion: 0.1.0\n")
    (chart / "templates" / "canary.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\ndata:\n  k: {CANARY}\n"
    )
    (outside / "values.yaml").write_text(f"clientKey: {CANARY}\n")
    (outside / "template.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\ndata:\n  k: {CANARY}\n"
    )
    return outside


def _build(repo: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeops", "build", "hr", "gateway", str(repo)],
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _release(repo: Path, old: str, new: str) -> None:
    path = repo / "platform" / "controllers" / "gateway.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_chart_files_through_symlinks_leaving_the_repository_are_not_read(tmp_path: Path) -> None:
    repo, outside = _repo(tmp_path), _outside(tmp_path)
    chart = repo / "charts" / "greeter"
    os.symlink(outside / "template.yaml", chart / "templates" / "leak.yaml")
    os.symlink(outside / "values.yaml", chart / "values-extra.yaml")
    os.symlink(outside / "chart" / "templates", chart / "more")
    done = _build(repo, tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert "name: dump" in done.stdout  # the chart rendered, without what lies outside
    assert CANARY not in done.stdout + done.stderr


def test_a_values_file_through_a_symlink_leaving_the_repository_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo(tmp_path), _outside(tmp_path)
    os.symlink(outside / "values.yaml", repo / "platform" / "values.yaml")
    _release(
        repo,
        "      reconcileStrategy: Revision\n",
        "      reconcileStrategy: Revision\n      valuesFiles:\n        - platform/values.yaml\n",
    )
    done = _build(repo, tmp_path / "cache")
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3
    assert "'platform/values.yaml' is a symlink that leads outside the repository" in done.stderr


def test_a_chart_folder_leading_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo(tmp_path), _outside(tmp_path)
    os.symlink(outside / "chart", repo / "charts" / "elsewhere")
    _release(repo, "chart: ./charts/greeter", "chart: ./charts/elsewhere")
    done = _build(repo, tmp_path / "cache")
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3
    assert "leads outside the repository" in done.stderr


def test_a_file_dependency_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo(tmp_path), _outside(tmp_path)
    meta = repo / "charts" / "greeter" / "Chart.yaml"
    relative = os.path.relpath(outside / "chart", meta.parent)
    meta.write_text(
        meta.read_text()
        + f"dependencies:\n  - name: elsewhere\n    version: '*'\n    repository: file://{relative}\n"
    )
    done = _build(repo, tmp_path / "cache")
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3
    assert "outside the chart's source" in done.stderr
