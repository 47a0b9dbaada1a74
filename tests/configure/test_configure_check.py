"""check reads configure's ledger: findings in generated files name the template line, and a generated
file edited by hand is reported (seed rule: templates are source, generated files are output)."""

from __future__ import annotations

from pathlib import Path

import pytest
from configure_testlib import make_mini_repo

from homeops.configure import configure
from homeops.rules.engine import run_checks
from homeops.workspace import open_workspace

LATEST = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: #{ app_name }#
spec:
  replicas: #{ replicas }#
  template:
    spec:
      containers:
        - name: app
          image: nginx:latest
"""


def findings(repo: Path) -> list[tuple[str, str, int, str]]:
    workspace = open_workspace(repo, use_cache=False)
    return [(f.rule, f.path, f.line, f.message) for f in run_checks(workspace.flux, workspace.config)]


def test_finding_in_a_generated_file_points_at_the_template_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_mini_repo(tmp_path / "repo", secret_value="s3cr3t-value")
    template = repo / "templates/kubernetes/apps/demo/app.yaml.j2"
    template.write_text(LATEST)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(repo / "age.key"))
    configure(repo)
    latest = [f for f in findings(repo) if f[0] == "IMG002"]
    assert len(latest) == 1
    _, path, line, message = latest[0]
    assert path == "kubernetes/apps/demo/app.yaml"
    assert (repo / path).read_text().splitlines()[line - 1].strip() == "image: nginx:latest"
    # ...which comes from line 12 of the template (LATEST above).
    assert message.endswith("(generated from templates/kubernetes/apps/demo/app.yaml.j2:12)")


def test_hand_edit_of_a_generated_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_mini_repo(tmp_path / "repo", secret_value="s3cr3t-value")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(repo / "age.key"))
    configure(repo)
    assert not [f for f in findings(repo) if f[0] == "GEN001"]
    output = repo / "kubernetes/apps/demo/app.yaml"
    output.write_text(output.read_text().replace("replicas: 2", "replicas: 3"))
    edited = [f for f in findings(repo) if f[0] == "GEN001"]
    assert [(f[1], f[2]) for f in edited] == [("kubernetes/apps/demo/app.yaml", 1)]
    assert "templates/kubernetes/apps/demo/app.yaml.j2" in edited[0][3]


def test_damaged_ledger_is_a_finding_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_mini_repo(tmp_path / "repo", secret_value="s3cr3t-value")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(repo / "age.key"))
    configure(repo)
    (repo / ".homeops/ledger.json").write_text("{not json")
    damaged = [f for f in findings(repo) if f[0] == "GEN001"]
    assert [(f[1], f[2]) for f in damaged] == [(".homeops/ledger.json", 1)]
    assert "damaged" in damaged[0][3]
