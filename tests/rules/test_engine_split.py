"""On two cores the rules are handed out a family at a time: the rules of a family share what they
compute (the schema validation above all), which two processes would each compute again.

The check runs in a fresh process: the test process may have threads running, and then never forks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from homeops.rules import engine

FLUX = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
    "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./apps\n  prune: true\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)

# Counts the processes that validate (each appends its pid), over a few runs: which side takes which
# rule is decided as they go.
_RUN = """
import os, sys
from homeops import parallel
from homeops.rules import engine, schema
from homeops.workspace import open_workspace

repo, log = sys.argv[1], sys.argv[2]
real = schema._compute

def counted(ctx):
    with open(log, "a") as handle:
        handle.write(f"{os.getpid()}\\n")
    return real(ctx)

schema._compute = counted
workspace = open_workspace(repo, use_cache=False)
assert len(workspace.flux.documents) >= engine._PARALLEL_MIN_DOCUMENTS
assert parallel.fork_safe()
for _ in range(5):
    open(log, "w").close()
    findings = engine.run_checks(workspace.flux, workspace.config)
    print(len(open(log).read().split()), sum(1 for f in findings if f.rule == "SCH001"))
"""


def test_the_schema_rules_validate_once(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "flux.yaml").write_text(FLUX)
    count = engine._PARALLEL_MIN_DOCUMENTS + 10  # enough for the rules to run on two cores
    (repo / "apps" / "config.yaml").write_text(
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: default\n"
            f"data:\n  port: {8000 + i}\n"  # a number where the API wants a string: SCH001
            for i in range(count)
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(repo), str(tmp_path / "validated")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    runs = [tuple(int(n) for n in line.split()) for line in done.stdout.splitlines()]
    assert runs == [(1, count)] * 5
