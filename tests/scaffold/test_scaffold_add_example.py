"""``homeops add app`` in a copy of the bundled example (the seeds' install.yaml + app/ + db/ triad)."""

from __future__ import annotations

import shutil
from pathlib import Path

from scaffold_testlib import cli, doc, docs, findings, keys_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "home-ops"


def test_the_triad_in_the_example_repository(tmp_path: Path) -> None:
    repo = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, repo)
    before = findings(repo)
    run = cli(
        "add",
        "app",
        "paperless",
        repo,
        "-n",
        "media",
        "--route",
        "external",
        "--storage",
        "pvc",
        "--database",
    )
    assert run.code == 0, run.err
    run = cli("add", "app", "hello", repo, "-n", "tools", "--no-secret")
    assert run.code == 0, run.err
    assert keys_of(findings(repo)) - keys_of(before) == set()

    media = repo / "kubernetes/main/apps/media"
    app = media / "paperless"
    assert sorted(p.name for p in app.iterdir()) == ["app", "db", "install.yaml"]
    assert sorted(p.name for p in (app / "app").iterdir()) == [
        "helmrelease.yaml",
        "kustomization.yaml",
        "pvc.yaml",
        "secrets.yaml",
    ]
    db, main = docs(app / "install.yaml")
    assert db["metadata"]["name"] == "paperless-db" and db["spec"]["wait"] is True
    assert db["spec"]["dependsOn"] == [{"name": "cloudnative-pg-operator", "namespace": "dbms"}]
    assert main["spec"]["dependsOn"][0] == {"name": "paperless-db", "namespace": "media"}
    assert main["spec"]["sourceRef"]["name"] == "home-ops"
    release = doc(app / "app/helmrelease.yaml")
    shared = doc(media / "immich/app/helmrelease.yaml")["spec"]["chartRef"]
    assert release["spec"]["chartRef"] == shared, "the shared app-template OCIRepository, as immich uses"
    assert doc(app / "db/cluster.yaml")["kind"] == "Cluster"
    assert "./paperless/install.yaml" in doc(media / "kustomization.yaml")["resources"]
    tools = doc(repo / "kubernetes/main/apps/tools/kustomization.yaml")
    assert tools["components"] == doc(media / "kustomization.yaml")["components"]
    assert tools["resources"] == ["./namespace.yaml", "./hello/install.yaml"]
