"""On two cores the rules are handed out a family at a time: the rules of a family share what they
compute (the schema validation above all), which two processes would each compute again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeops import parallel
from homeops.rules import engine, schema
from homeops.workspace import open_workspace

FLUX = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
    "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./apps\n  prune: true\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)


def test_the_schema_rules_validate_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not parallel.fork_safe():
        pytest.skip("this process may not fork a helper (threads running)")
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "flux.yaml").write_text(FLUX)
    count = engine._PARALLEL_MIN_DOCUMENTS + 10
    (repo / "apps" / "config.yaml").write_text(
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: default\n"
            f"data:\n  port: {8000 + i}\n"  # a number where the API wants a string: SCH001
            for i in range(count)
        )
    )
    workspace = open_workspace(repo, use_cache=False)
    assert len(workspace.flux.documents) >= engine._PARALLEL_MIN_DOCUMENTS  # the rules run on two cores
    log = tmp_path / "validated"
    real = schema._compute

    def counted(ctx: object) -> object:
        with open(log, "a") as handle:  # appended by whichever process validates
            handle.write(f"{os.getpid()}\n")
        return real(ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(schema, "_compute", counted)
    for _ in range(5):  # which side takes what is decided as they go: try a few times
        log.write_text("")
        findings = engine.run_checks(workspace.flux, workspace.config)
        assert len(log.read_text().split()) == 1
        assert sum(1 for f in findings if f.rule == "SCH001") == count
