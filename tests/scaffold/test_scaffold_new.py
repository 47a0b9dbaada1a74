"""``homeops new``: each layout, with and without an age key, checks clean and says what it wrote."""

from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from scaffold_testlib import cli, doc, docs, files_under, serious

from homeops.errors import WriteError
from homeops.load import yamlio
from homeops.model.kinds import is_sops_encrypted
from homeops.scaffold.create import NewOptions, create_repo
from homeops.scaffold.layouts import LAYOUT_BUILDERS, Settings
from homeops.scaffold.reader import read_conventions
from homeops.secrets import sops
from homeops.workspace import open_workspace

LAYOUTS = ("flat", "clusters", "layered")
DOMAIN = "sekrit-domain.test"
BOOTSTRAP = [
    "cilium",
    "coredns",
    "spegel",
    "cert-manager",
    "external-secrets",
    "onepassword",
    "cloudnative-pg-operator",
    "envoy-gateway",
]


def _flux_kustomizations(repo: Path) -> dict[str, dict[str, Any]]:
    """Every Flux Kustomization of the repository by name (first one wins), as written."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(repo.rglob("*.yaml")):
        for data in docs(path):
            if (
                isinstance(data, dict)
                and data.get("kind") == "Kustomization"
                and str(data.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
            ):
                out.setdefault(data["metadata"]["name"], data)
    return out


def _settings_files(repo: Path) -> list[Path]:
    return sorted(p for p in repo.rglob("*settings.yaml"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_new_repository_checks_clean_without_a_key(layout: str, tmp_path: Path) -> None:
    repo = tmp_path / "home-ops"
    run = cli("new", repo, "--layout", layout, "--domain", DOMAIN)
    assert run.code == 0, run.err
    assert "nothing encrypted" in run.err
    assert serious(repo) == []
    # Nothing secret is written: no .sops file, no Secret; the domain sits in the settings, marked.
    assert not [p for p in files_under(repo) if ".sops." in p]
    for settings in _settings_files(repo):
        text = settings.read_text()
        assert f"SECRET_DOMAIN: {DOMAIN}  # plaintext: no age key" in text
    for ks in _flux_kustomizations(repo).values():
        for source in ks["spec"].get("postBuild", {}).get("substituteFrom", []):
            if source["kind"] == "Secret":
                assert source.get("optional") is True


@pytest.mark.parametrize("layout", LAYOUTS)
def test_new_repository_encrypts_its_secrets_with_the_key(
    layout: str, tmp_path: Path, key_file: Path, keypair: tuple[str, str]
) -> None:
    repo = tmp_path / "home-ops"
    run = cli("new", repo, "--layout", layout, "--domain", DOMAIN)
    assert run.code == 0, run.err
    assert keypair[0] in run.err
    assert serious(repo) == []
    encrypted = sorted(p for p in files_under(repo) if p.endswith(".sops.yaml") and p != ".sops.yaml")
    assert encrypted, "the cluster secrets file is written"
    for rel in encrypted:
        raw = (repo / rel).read_bytes()
        assert DOMAIN.encode() not in raw
        data = yamlio.parse(raw).documents[0]
        assert is_sops_encrypted(data)
        plain = sops.decrypt(raw, filename=rel, repo_root=repo, age_key=keypair[1])
        assert yamlio.parse(plain).documents[0]["stringData"]["SECRET_DOMAIN"] == DOMAIN
    for rel in files_under(repo) - set(encrypted):
        assert DOMAIN.encode() not in (repo / rel).read_bytes(), rel


def test_several_keys_are_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from homeops.secrets import keys

    path = tmp_path / "keys.txt"
    for _ in range(2):
        public, private = keys.generate_age_key()
        keys.write_key(path, public, private)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(path))
    run = cli("new", tmp_path / "repo", "--layout", "flat")
    assert run.code == 2
    assert "holds 2 age keys" in run.err and "--age-recipient" in run.err
    assert not (tmp_path / "repo").exists()


def test_flat_layout_shape(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    create_repo(repo, NewOptions("flat"))
    entry = doc(repo / "kubernetes/flux/cluster/ks.yaml")
    assert entry["spec"]["path"] == "./kubernetes/apps"
    app = repo / "kubernetes/apps/default/example"
    assert {p.name for p in app.iterdir()} == {"ks.yaml", "app"}
    assert {p.name for p in (app / "app").iterdir()} == {
        "helmrelease.yaml",
        "kustomization.yaml",
        "ocirepository.yaml",
    }
    release = doc(app / "app/helmrelease.yaml")
    image = release["spec"]["values"]["controllers"]["example"]["containers"]["app"]["image"]
    assert "@sha256:" in image["tag"]


def test_clusters_layout_has_two_clusters_that_share_no_file(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    create_repo(repo, NewOptions("clusters"))
    workspace = open_workspace(repo, use_cache=False)
    assert sorted(workspace.flux.clusters) == ["main", "staging"]
    applied = workspace.flux.files_applied()
    assert applied and all(len(clusters) == 1 for clusters in applied.values())
    main = {p.removeprefix("kubernetes/main/") for p in files_under(repo) if p.startswith("kubernetes/main/")}
    staging = {
        p.removeprefix("kubernetes/staging/")
        for p in files_under(repo)
        if p.startswith("kubernetes/staging/")
    }
    assert main == staging, "staging is a full copy of main"
    assert "apps/default/example/install.yaml" in main
    assert {
        "apps/default/example/app/helmrelease.yaml",
        "apps/default/example/app/kustomization.yaml",
        "components/common/cluster-settings.yaml",
    } <= main


def test_layered_layout_has_the_seed_004_layers(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    create_repo(repo, NewOptions("layered"))
    top = {p.split("/", 1)[0] for p in files_under(repo)}
    assert {"clusters", "infrastructure", "platform-services", "tenants"} <= top
    settings = doc(repo / "clusters/home/platform-settings.yaml")
    assert settings["kind"] == "ConfigMap" and settings["metadata"]["name"] == "platform-settings"
    assert settings["data"]["CERT_ISSUER"] == "letsencrypt-staging"
    entry = doc(repo / "clusters/home/app-example.yaml")
    assert entry["spec"]["path"] == "./tenants/apps/example/overlays/staging"
    for env, namespace in (("staging", "apps-staging"), ("prod", "apps-prod")):
        overlay = doc(repo / f"tenants/apps/example/overlays/{env}/kustomization.yaml")
        assert overlay["namespace"] == namespace
    certificate = doc(repo / "platform-services/certificate.yaml")
    assert certificate["spec"]["issuerRef"]["name"] == "${CERT_ISSUER}"
    platform = _flux_kustomizations(repo)["platform-services"]
    sources = platform["spec"]["postBuild"]["substituteFrom"]
    assert {"kind": "ConfigMap", "name": "platform-settings"} in sources


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bootstrap_order_is_a_dependsOn_chain(layout: str, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    create_repo(repo, NewOptions(layout))
    ks = _flux_kustomizations(repo)

    def waits_for(name: str) -> set[str]:
        return {d["name"] for d in ks[name]["spec"].get("dependsOn", [])}

    for before, after in itertools.pairwise(BOOTSTRAP):
        assert before in waits_for(after), f"{after} waits for {before}"
    gateways = "platform-services" if layout == "layered" else "envoy-gateway-config"
    assert {"envoy-gateway", "cert-manager-issuers"} <= waits_for(gateways)
    app = "app-example" if layout == "layered" else "example"
    assert gateways in waits_for(app)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("encrypted", [False, True])
def test_reading_a_new_repository_gives_back_its_conventions(
    layout: str, encrypted: bool, tmp_path: Path, keypair: tuple[str, str]
) -> None:
    repo = tmp_path / "r"
    create_repo(repo, NewOptions(layout, age_recipient=keypair[0] if encrypted else None))
    settings = Settings(
        "example.com", "admin@example.com", "Etc/UTC", "https://github.com/example/home-ops", encrypted
    )
    expected = LAYOUT_BUILDERS[layout](settings).conventions
    flux = open_workspace(repo, use_cache=False).flux
    for conventions in expected:
        got = read_conventions(flux, cluster=conventions.cluster)
        for field in dataclasses.fields(conventions):
            assert getattr(got, field.name) == getattr(conventions, field.name), field.name


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "notes.txt").write_text("mine\n")
    run = cli("new", repo, "--layout", "flat")
    assert run.code == 2 and "is not empty" in run.err and "--force" in run.err
    assert files_under(repo) == {"notes.txt"}
    run = cli("new", repo, "--layout", "flat", "--force")
    assert run.code == 0
    assert (repo / "notes.txt").read_text() == "mine\n"
    assert serious(repo) == []


def test_unknown_layout_is_a_usage_error(tmp_path: Path) -> None:
    run = cli("new", tmp_path / "r", "--layout", "spaghetti")
    assert run.code == 2 and "invalid choice" in run.err
    with pytest.raises(Exception, match="unknown layout"):
        create_repo(tmp_path / "r", NewOptions("spaghetti"))


def test_an_interrupted_new_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        create_repo(work / "r", NewOptions("layered"))
    assert list(work.iterdir()) == []


def test_a_failed_write_over_existing_files_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "README.md").write_text("old\n")
    real = os.replace
    calls = {"n": 0}

    def failing(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(WriteError):
        create_repo(repo, NewOptions("flat", force=True))
    assert files_under(repo) == {"README.md"}
    assert (repo / "README.md").read_text() == "old\n"
    assert [p for p in repo.iterdir()] == [repo / "README.md"]
