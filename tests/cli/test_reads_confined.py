"""Nothing outside the repository is read, by any command, whatever the repository says.

One hostile repository tries every way out it can: its special files (``.gitignore``,
``.sourceignore``, ``.homeops.yaml``, ``.sops.yaml``, the ledger) are symlinks to a file outside,
resources and chart templates are symlinks out, a kustomization names absolute and ``..`` paths, a
Flux Kustomization's ``spec.path`` and a HelmRelease's chart and values files climb out. Each command
runs as a real process under ``strace``: no file it opens may resolve outside the repository (and,
without strace, at least the canary written there must appear in no output).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"
CANARY = "CANARY-5a0f-read-from-outside"
STRACE = shutil.which("strace")

SETTINGS = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - tier.yaml
  - linked.yaml
  - linkdir
  - ../../../outside/dir
configMapGenerator:
  - name: gen
    files:
      - {outside}/values.yaml
      - k=../../../outside/values.yaml
"""

RELEASES = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: outchart
  namespace: gateway
spec:
  interval: 1h
  chart:
    spec:
      chart: ../outside/chart
      valuesFiles: [../outside/values.yaml]
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: linkedchart
  namespace: gateway
spec:
  interval: 1h
  chart:
    spec:
      chart: ./charts/linked
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
"""

ESCAPES = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: climbs
  namespace: flux-system
spec:
  interval: 1h
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ../outside/dir
  prune: true
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: linked
  namespace: flux-system
spec:
  interval: 1h
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./platform/settings/linkdir
  prune: true
"""

GIT = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("confined")
    outside, repo = top / "outside", top / "repo"
    shutil.copytree(FLUX / "artifact-generator" / "charts" / "greeter", outside / "chart")
    (outside / "chart" / "templates" / "canary.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\ndata:\n  k: {CANARY}\n"
    )
    (outside / "dir").mkdir()
    config = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: out\ndata:\n  a: {CANARY}\n"
    (outside / "dir" / "cm.yaml").write_text(config)
    (outside / "dir" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(config)
    (outside / "values.yaml").write_text(f"rules: {{}}\nclientKey: {CANARY}\n")
    shutil.copytree(FLUX / "artifact-generator", repo)
    for name in (".gitignore", ".sourceignore", ".sops.yaml"):
        (repo / name).unlink(missing_ok=True)
        os.symlink("../outside/values.yaml", repo / name)
    (repo / ".homeops").mkdir()
    os.symlink("../../outside/values.yaml", repo / ".homeops" / "ledger.json")
    os.symlink("../../../outside/cm.yaml", repo / "platform" / "settings" / "linked.yaml")
    os.symlink("../../../outside/dir", repo / "platform" / "settings" / "linkdir")
    os.symlink("../../../../outside/cm.yaml", repo / "charts" / "greeter" / "templates" / "leak.yaml")
    os.symlink("../outside/chart", repo / "charts" / "linked")
    (repo / "platform" / "settings" / "kustomization.yaml").write_text(SETTINGS.format(outside=outside))
    with (repo / "platform" / "controllers" / "gateway.yaml").open("a") as handle:
        handle.write(RELEASES)
    with (repo / "clusters" / "production" / "platform.yaml").open("a") as handle:
        handle.write(ESCAPES)
    env = {**os.environ, **GIT}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "hostile"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


COMMANDS = [  # each with the exit codes it may end with here: the run went through, not stopped early
    (["check", "."], {1}),
    (["build", "all", "."], {3}),  # some producers fail (what leads outside), the rest is output
    (["get", "images", ".", "--rendered"], {0}),
    (["validate", ".", "--charts"], {0}),
    (["report", ".", "-o", "{tmp}/report.html"], {0}),
    (["simulate", "."], {0, 1}),
    (["explain", "platform/settings"], {0}),
    (["kustomize", "build", "platform/settings", "--flux"], {3}),
    (["diff", ".", "--base", "HEAD", "--all", "-o", "markdown"], {0, 3}),
    (["secrets", "status", "."], {1}),
]


def _opened_outside(log: Path, outside: Path) -> list[str]:
    """Successful opens whose file (strace -y shows where the descriptor leads) is outside."""
    found = []
    prefix = str(outside.resolve())
    for line in log.read_text(errors="replace").splitlines():
        match = re.search(r"= \d+<([^>]*)>\s*$", line)
        if match and match.group(1).startswith(prefix):
            found.append(line)
    return found


@pytest.mark.parametrize(("argv", "codes"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_no_command_reads_outside_the_repository(
    hostile: Path, tmp_path: Path, argv: list[str], codes: set[int]
) -> None:
    args = [a.format(tmp=tmp_path) for a in argv]
    command = [sys.executable, "-m", "homeops", *args]
    log = tmp_path / "strace.log"
    if STRACE is not None:
        command = [STRACE, "-f", "-y", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), *command]
    done = subprocess.run(
        command,
        cwd=hostile,
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(tmp_path / "cache"), **GIT},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode in codes, done.stderr
    if STRACE is not None and "PTRACE" not in done.stderr and log.exists():
        assert _opened_outside(log, hostile.parent / "outside") == []
    written = [p.read_text(errors="replace") for p in tmp_path.glob("*.html")]
    assert CANARY not in done.stdout + done.stderr + "".join(written)


def test_a_symlinked_settings_file_is_not_read(hostile: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(hostile, repo, symlinks=True)
    (tmp_path / "settings.yaml").write_text("rules:\n  REF003: off\n")
    os.symlink("../settings.yaml", repo / ".homeops.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "homeops", "check", str(repo)],
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert ".homeops.yaml: .homeops.yaml is a symlink that leads outside the repository" in done.stderr


def test_a_snapshot_folder_does_not_follow_symlinks_out_of_it(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    listed = '{"apiVersion": "v1", "kind": "List", "items": [%s]}'
    item = (
        '{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", '
        '"metadata": {"name": "%s", "namespace": "flux-system"}}'
    )
    (folder / "cluster.json").write_text(listed % (item % "apps"))
    (tmp_path / "elsewhere.json").write_text(listed % (item % "from-elsewhere"))
    os.symlink("../elsewhere.json", folder / "linked.json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "homeops",
            "status",
            str(FLUX / "gotk-sync"),
            "--from",
            str(folder),
            "-o",
            "json",
        ],
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "from-elsewhere" not in done.stdout and "elsewhere.json" not in done.stdout + done.stderr
