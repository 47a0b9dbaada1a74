"""Render onedr0p/cluster-template (@ feb482b6) from a sample config, with real SOPS encryption.

Inputs: ``tests/testdata/configure/cluster-template/`` (cluster.yaml, nodes.yaml, side files) and the
plugin in ``tests/testdata/configure/plugin/``; the age key is made fresh for the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from configure_testlib import TESTDATA, copy_repo, install_inputs, write_age_key

from homeops.configure import Status, configure, load_ledger
from homeops.load import yamlio
from homeops.secrets import sops

REPO = "onedr0p__cluster-template__feb482b6"


@pytest.fixture
def template_repo(corpus: Path, tmp_path: Path) -> Path:
    repo = copy_repo(corpus / REPO, tmp_path / "repo")
    install_inputs(repo, TESTDATA / "cluster-template")
    write_age_key(repo / "age.key")
    return repo


@pytest.mark.corpus
def test_renders_a_valid_tree(template_repo: Path) -> None:
    result = configure(template_repo)
    assert result.setups == ("makejinja (makejinja.toml)",)
    assert result.warnings == ()
    created = [f.path for f in result.with_status(Status.CREATED)]
    assert len(created) == len(result.files) > 80
    ledger = load_ledger(template_repo)
    assert ledger is not None and sorted(ledger.entries) == sorted(created)

    for rel in created:
        data = (template_repo / rel).read_bytes()
        for delimiter in (b"#{", b"}#", b"#%", b"%#", b"#|", b"|#"):
            assert delimiter not in data, (rel, delimiter)
        if rel.endswith((".yaml", ".yml")):
            parsed = yamlio.parse(data)
            assert parsed.failure is None, (rel, parsed.failure)
            assert any(doc is not None for doc in parsed.documents), rel

    key = (template_repo / "age.key").read_text()
    secrets = [rel for rel in created if ".sops." in rel.rsplit("/", 1)[-1] and rel != ".sops.yaml"]
    assert len(secrets) == 7  # private repo: github-deploy-key.sops.yaml too
    for rel in secrets:
        ciphertext = (template_repo / rel).read_bytes()
        assert sops.is_encrypted(ciphertext, rel), rel
        assert ledger.entries[rel].encrypted
    cluster_secrets = "kubernetes/components/sops/cluster-secrets.sops.yaml"
    plain = sops.decrypt(
        (template_repo / cluster_secrets).read_bytes(),
        filename=cluster_secrets,
        repo_root=template_repo,
        age_key=key,
    )
    assert yaml.safe_load(plain)["stringData"] == {"SECRET_DOMAIN": "example.com"}
    # A finding on the encrypted SECRET_DOMAIN line maps back to its template line.
    line = next(
        i
        for i, text in enumerate((template_repo / cluster_secrets).read_text().splitlines(), 1)
        if text.startswith("  SECRET_DOMAIN:")
    )
    source, tline = ledger.template_line(cluster_secrets, line) or ("", 0)
    template = (template_repo / source).read_text().splitlines()
    assert template[tline - 1] == '  SECRET_DOMAIN: "#{ cloudflare_domain }#"'


@pytest.mark.corpus
def test_the_sample_config_reaches_the_outputs(template_repo: Path) -> None:
    configure(template_repo)
    talconfig = yaml.safe_load((template_repo / "talos/talconfig.yaml").read_text())
    nodes = {n["hostname"]: n for n in talconfig["nodes"]}
    assert sorted(nodes) == ["k8s-0", "k8s-1", "k8s-2"]
    assert nodes["k8s-0"]["installDisk"] == "/dev/nvme0n1"
    assert nodes["k8s-1"]["installDiskSelector"] == {"serial": "S4EVNF0M123456"}
    assert nodes["k8s-1"]["machineSpec"]["secureboot"] is True
    assert nodes["k8s-2"]["controlPlane"] is False
    vlan = nodes["k8s-2"]["networkInterfaces"][0]["vlans"][0]
    assert vlan["vlanId"] == 42 and vlan["mtu"] == 9000
    # Three nodes: spegel on; all three BGP keys set: the BGP resources are rendered.
    kube_system = (template_repo / "kubernetes/apps/kube-system/kustomization.yaml").read_text()
    assert "./spegel/ks.yaml" in kube_system
    networks = (template_repo / "kubernetes/apps/kube-system/cilium/app/networks.yaml").read_text()
    assert "kind: CiliumBGPClusterConfig" in networks and "peerASN: 64513" in networks
    # A private repository is pulled over SSH with the deploy key.
    flux = (template_repo / "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml").read_text()
    assert "ssh://git@github.com/example/home-ops" in flux


@pytest.mark.corpus
def test_second_run_changes_nothing(template_repo: Path) -> None:
    configure(template_repo)
    again = configure(template_repo)
    assert {f.status for f in again.files} == {Status.UNCHANGED}


@pytest.mark.corpus
def test_a_missing_input_file_names_the_templates_own_init(
    template_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homeops.cli.main import main

    (template_repo / "cluster.yaml").rename(template_repo / "cluster.sample.yaml")
    assert main(["configure", str(template_repo), "--no-check"]) == 2
    err = capsys.readouterr().err
    assert "cluster.yaml does not exist (listed in makejinja.toml)" in err
    assert "hint: copy cluster.sample.yaml to cluster.yaml and fill it in (what 'task init' does)" in err
