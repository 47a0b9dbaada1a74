"""``homeops configure`` run in-process: summary on stdout, diagnostics on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from configure_testlib import fingerprint, make_mini_repo

from homeops.cli.main import main


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_mini_repo(tmp_path / "repo", secret_value="cli-secret-value")


def test_dry_run_prints_what_would_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = fingerprint(repo)
    assert main(["configure", str(repo), "--dry-run", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert fingerprint(repo) == before
    assert out.splitlines() == [
        f"configure {repo} (makejinja (makejinja.toml))",
        "  created    3",
        "    + kubernetes/apps/demo/app.yaml",
        "    + kubernetes/apps/demo/kustomization.yaml",
        "    + kubernetes/apps/demo/secret.sops.yaml",
        "  changed    0",
        "  unchanged  0",
        "  skipped    0",
        "  dry run: nothing was written",
    ]


def test_no_encrypt_leaves_secrets_unwritten(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["configure", str(repo), "--no-encrypt", "--no-check", "-D", "replicas:=7"]) == 0
    out = capsys.readouterr().out
    assert "  created    2" in out and "  skipped    1" in out
    assert "    - kubernetes/apps/demo/secret.sops.yaml  (not encrypted (--no-encrypt)" in out
    assert not (repo / "kubernetes/apps/demo/secret.sops.yaml").exists()
    assert "replicas: 7" in (repo / "kubernetes/apps/demo/app.yaml").read_text()
    # Then with encryption: the secret is created, the rest is unchanged.
    assert main(["configure", str(repo), "--no-check", "-D", "replicas:=7", "--output", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    statuses = {f["path"]: f["status"] for f in summary["files"]}
    assert statuses == {
        "kubernetes/apps/demo/app.yaml": "unchanged",
        "kubernetes/apps/demo/kustomization.yaml": "unchanged",
        "kubernetes/apps/demo/secret.sops.yaml": "created",
    }


def test_bad_value_is_a_usage_error_with_its_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "values.yaml").write_text('---\napp_name: demo\nnode_cidr: "10.0.0.0/33"\n')
    (repo / "templates/kubernetes/apps/demo/net.yaml.j2").write_text("cidr: #{ node_cidr }#\n")
    before = fingerprint(repo)
    assert main(["configure", str(repo), "--no-check"]) == 2
    err = capsys.readouterr().err
    assert 'values.yaml:3: node_cidr: "10.0.0.0/33" is not a CIDR (expected like 10.69.0.0/16)' in err
    assert err.startswith("homeops: error: ")
    assert fingerprint(repo) == before


def test_template_error_exit_code_and_message(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "templates/kubernetes/apps/demo/app.yaml.j2").write_text("name: #{ nope }#\n")
    assert main(["configure", str(repo), "--no-check"]) == 3
    err = capsys.readouterr().err
    assert "templates/kubernetes/apps/demo/app.yaml.j2:1: undefined variable: 'nope' is undefined" in err


def test_not_a_template_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["configure", str(tmp_path), "--no-check"]) == 2
    assert "no template setup found" in capsys.readouterr().err


def test_a_missing_plugin_names_where_it_was_looked_for(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # cluster-template's plugin lives in templates/scripts/plugin.py; a copy without it (the corpus keeps
    # no scripts) must say which file is missing, not only that the module is not importable
    toml = repo / "makejinja.toml"
    toml.write_text(
        toml.read_text().replace(
            'jinja_suffix = ".j2"',
            'jinja_suffix = ".j2"\nimport_paths = ["./scripts"]\nloaders = ["plugin:Plugin"]',
        )
    )
    assert main(["configure", str(repo), "--no-check"]) == 2
    err = capsys.readouterr().err
    assert "makejinja.toml: the makejinja plugin module 'plugin' is not in import_paths" in err
    assert f"({repo / 'scripts'}): no plugin.py there" in err
    assert "hint: restore the template's plugin" in err
