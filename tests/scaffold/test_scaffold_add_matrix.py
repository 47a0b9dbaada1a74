"""``homeops new`` then ``homeops add app`` with every option combination checks clean, per layout.

One repository per layout receives all 36 combinations (route, storage, secret, database), then
the whole catalog runs once: no error, no warning. The files of each app are then read back to see
that each option did what it says.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from scaffold_testlib import cli, doc, docs, serious

ROUTES = ("internal", "external", "none")
STORAGES = ("pvc", "nfs", "none")
COMBINATIONS = list(itertools.product(ROUTES, STORAGES, (True, False), (True, False)))


def _name(i: int, route: str, storage: str, secret: bool, database: bool) -> str:
    return f"a{i}-{route[:3]}-{storage}-{'sec' if secret else 'nosec'}-{'db' if database else 'nodb'}"


def _add(repo: Path, layout: str, i: int, route: str, storage: str, secret: bool, database: bool) -> None:
    argv: list[str | Path] = [
        "add",
        "app",
        _name(i, route, storage, secret, database),
        repo,
        "--route",
        route,
        "--storage",
        storage,
    ]
    argv += ["--secret", f"vault-item-{i}"] if secret else ["--no-secret"]
    argv += ["--database"] if database else ["--no-database"]
    if layout == "flat":
        argv += ["--namespace", "media" if i % 2 else "default"]
    elif layout == "clusters":
        argv += ["--namespace", "media" if i % 2 else "default", "--cluster", "staging" if i % 3 else "main"]
    run = cli(*argv)
    assert run.code == 0, run.err


def _release(folder: Path) -> dict[str, Any]:
    release: dict[str, Any] = doc(folder / "helmrelease.yaml")
    return release


def _entry_docs(repo: Path, layout: str, i: int, name: str) -> tuple[Path, list[dict[str, Any]]]:
    if layout == "layered":
        return repo / "tenants/apps" / name / "base", docs(repo / f"clusters/home/app-{name}.yaml")
    namespace = "media" if i % 2 else "default"
    cluster = "" if layout == "flat" else ("staging/" if i % 3 else "main/")
    folder = repo / f"kubernetes/{cluster}apps/{namespace}/{name}"
    entry = folder / ("ks.yaml" if layout == "flat" else "install.yaml")
    return folder / "app", docs(entry)


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["flat", "clusters", "layered"])
def test_every_option_combination_checks_clean(layout: str, tmp_path: Path) -> None:
    repo = tmp_path / "home-ops"
    assert cli("new", repo, "--layout", layout).code == 0
    for i, combination in enumerate(COMBINATIONS):
        _add(repo, layout, i, *combination)
    assert serious(repo) == []

    for i, (route, storage, secret, database) in enumerate(COMBINATIONS):
        name = _name(i, route, storage, secret, database)
        folder, entries = _entry_docs(repo, layout, i, name)
        values = _release(folder)["spec"]["values"]
        container = values["controllers"][name]["containers"]["app"]
        waits = {
            d["name"]
            for e in entries
            for d in e["spec"].get("dependsOn", [])
            if e["metadata"]["name"] in (name, f"app-{name}")
        }
        assert ("route" in values) == (route != "none"), name
        if route != "none":
            assert values["route"]["app"]["parentRefs"][0]["name"] == f"envoy-{route}"
            assert waits & {"envoy-gateway-config", "platform-services"}, name
        secret_file = "secrets.yaml" if layout == "clusters" else "externalsecret.yaml"
        assert (folder / secret_file).exists() == secret
        assert ("envFrom" in container) == secret
        assert ("onepassword" in waits) == secret, name
        assert (folder / "pvc.yaml").exists() == (storage == "pvc")
        persistence = values.get("persistence", {})
        assert ("config" in persistence) == (storage == "pvc")
        assert ("media" in persistence and persistence["media"]["type"] == "nfs") == (storage == "nfs")
        assert ("env" in container) == database
        if database and layout != "layered":
            assert [e["metadata"]["name"] for e in entries] == [f"{name}-db", name]
            operator = {"name": "cloudnative-pg-operator", "namespace": "dbms"}
            assert entries[0]["spec"]["dependsOn"] == [operator]
            assert f"{name}-db" in waits
        elif database:
            assert "cloudnative-pg-operator" in waits
            assert (folder / "cluster.yaml").exists()
        else:
            assert len(entries) == 1
