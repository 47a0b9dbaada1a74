"""``homeops mode``: one value line changes, the diff shows it, ``--commit`` commits only that file."""

from __future__ import annotations

from pathlib import Path

import pytest
from scaffold_testlib import cli, doc, git, git_init, serious

from homeops.scaffold.create import NewOptions, create_repo

SETTINGS = "kubernetes/components/common/cluster-settings.yaml"
APP_ENTRY = "clusters/home/app-example.yaml"


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    repo = tmp_path / "flat"
    create_repo(repo, NewOptions("flat"))
    git_init(repo)
    return repo


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    repo = tmp_path / "layered"
    create_repo(repo, NewOptions("layered"))
    git_init(repo)
    return repo


def test_cert_issuer_changes_only_the_value(flat: Path) -> None:
    before = (flat / SETTINGS).read_text()
    run = cli("mode", "cert-issuer", "letsencrypt-prod", flat)
    assert run.code == 0, run.err
    after = (flat / SETTINGS).read_text()
    [(old, new)] = _changed_lines(before, after)
    assert old.replace("letsencrypt-staging", "letsencrypt-prod", 1) == new, "comment and indentation kept"
    assert f"--- a/{SETTINGS}" in run.out and f"+++ b/{SETTINGS}" in run.out
    assert f"-{old}" in run.out and f"+{new}" in run.out
    assert doc(flat / SETTINGS)["data"]["CERT_ISSUER"] == "letsencrypt-prod"
    assert git(flat, "status", "--porcelain").strip() == f"M {SETTINGS}"
    assert serious(flat) == []


def test_cert_issuer_commit_touches_only_that_file(flat: Path) -> None:
    (flat / "README.md").write_text("work in progress\n")  # an unrelated change stays uncommitted
    run = cli("mode", "cert-issuer", "letsencrypt-prod", flat, "--commit")
    assert run.code == 0, run.err
    assert git(flat, "show", "--name-only", "--format=", "HEAD").split() == [SETTINGS]
    assert "letsencrypt-prod" in git(flat, "log", "-1", "--format=%s")
    assert git(flat, "status", "--porcelain").strip() == "M README.md"


def test_commit_refuses_a_file_with_other_changes(flat: Path) -> None:
    path = flat / SETTINGS
    path.write_text(path.read_text().replace("Etc/UTC", "Europe/Berlin"))
    head = git(flat, "rev-parse", "HEAD")
    run = cli("mode", "cert-issuer", "letsencrypt-prod", flat, "--commit")
    assert run.code == 2 and "uncommitted changes" in run.err
    assert git(flat, "rev-parse", "HEAD") == head
    assert "letsencrypt-staging" in path.read_text()


def test_already_unknown_and_dry_run(flat: Path) -> None:
    before = (flat / SETTINGS).read_text()
    for extra in ((), ("--commit",)):
        run = cli("mode", "cert-issuer", "letsencrypt-staging", flat, *extra)
        assert run.code == 0, run.err
        assert f"CERT_ISSUER is already letsencrypt-staging ({SETTINGS}:" in run.err
        assert run.out == "" and (flat / SETTINGS).read_text() == before
        assert git(flat, "status", "--porcelain").strip() == ""
    run = cli("mode", "cert-issuer", "letsencrypt-nope", flat)
    assert run.code == 2 and "invalid choice" in run.err
    before = (flat / SETTINGS).read_text()
    run = cli("mode", "cert-issuer", "letsencrypt-prod", flat, "--dry-run")
    assert run.code == 0 and "+  CERT_ISSUER: letsencrypt-prod" in run.out
    assert (flat / SETTINGS).read_text() == before


def test_not_found(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\n"
    )
    run = cli("mode", "cert-issuer", "letsencrypt-prod", tmp_path)
    assert run.code == 2 and "no CERT_ISSUER is defined" in run.err


def test_two_clusters_are_ambiguous_until_one_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "clusters"
    create_repo(repo, NewOptions("clusters"))
    run = cli("mode", "cert-issuer", "letsencrypt-prod", repo)
    assert run.code == 2 and "defined in 2 places" in run.err and "kubernetes/staging" in run.err
    run = cli("mode", "cert-issuer", "letsencrypt-prod", repo / "kubernetes/main")
    assert run.code == 0, run.err
    settings = "components/common/cluster-settings.yaml"
    assert doc(repo / "kubernetes/main" / settings)["data"]["CERT_ISSUER"] == "letsencrypt-prod"
    assert doc(repo / "kubernetes/staging" / settings)["data"]["CERT_ISSUER"] == "letsencrypt-staging"


def test_cert_issuer_in_the_layered_platform_settings(layered: Path) -> None:
    run = cli("mode", "cert-issuer", "letsencrypt-prod", layered, "--commit")
    assert run.code == 0, run.err
    committed = git(layered, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == ["clusters/home/platform-settings.yaml"]


def test_app_env_changes_the_path_and_commits(layered: Path) -> None:
    before = (layered / APP_ENTRY).read_text()
    run = cli("mode", "app-env", "example", "prod", layered, "--commit")
    assert run.code == 0, run.err
    after = (layered / APP_ENTRY).read_text()
    assert _changed_lines(before, after) == [
        ("  path: ./tenants/apps/example/overlays/staging", "  path: ./tenants/apps/example/overlays/prod")
    ]
    assert git(layered, "show", "--name-only", "--format=", "HEAD").split() == [APP_ENTRY]
    assert git(layered, "log", "-1", "--format=%s").strip() == "mode: app-env example prod (was staging)"
    assert serious(layered) == []
    head = git(layered, "rev-parse", "HEAD")
    run = cli("mode", "app-env", "example", "prod", layered, "--commit")
    assert run.code == 0 and f"app-env example is already in prod ({APP_ENTRY}:" in run.err
    assert git(layered, "rev-parse", "HEAD") == head and (layered / APP_ENTRY).read_text() == after


def test_app_env_errors(layered: Path) -> None:
    run = cli("mode", "app-env", "nothing", "prod", layered)
    assert run.code == 2 and "no Flux Kustomization deploys an overlay of app 'nothing'" in run.err
    (layered / "tenants/apps/example/overlays/prod/kustomization.yaml").unlink()
    (layered / "tenants/apps/example/overlays/prod").rmdir()
    run = cli("mode", "app-env", "example", "prod", layered)
    assert run.code == 2 and "has no prod overlay" in run.err


def test_commit_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    repo = tmp_path / "nogit"
    create_repo(repo, NewOptions("flat"))
    run = cli("mode", "cert-issuer", "letsencrypt-prod", repo, "--commit")
    assert run.code == 3 and "git rev-parse" in run.err and "git init" in run.err
    assert doc(repo / SETTINGS)["data"]["CERT_ISSUER"] == "letsencrypt-staging"
