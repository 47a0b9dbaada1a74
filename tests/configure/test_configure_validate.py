"""Input values are checked before anything renders; messages give file, line, key path, expected form."""

from __future__ import annotations

from pathlib import Path

import pytest
from configure_testlib import TESTDATA, copy_repo, fingerprint, install_inputs, write_age_key

from homeops.configure import ValidationFailed, configure
from homeops.configure import validate as v
from homeops.errors import ExitCode

BAD_CLUSTER = """\
---
# a user's cluster.yaml with mistakes
node_cidr: "10.0.0.0/33"
cluster_dns_gateway_addr: "10.0.0.300"
cluster_gateway_addr: "192.168.42.22"
repository_name: "example"
cloudflare_domain: "example.com"
cloudflare_token: 12345
cloudflare_gateway_addr: "192.168.42.22"
cilium_loadbalancer_mode: "fast"
my_own_setting: true
"""

BAD_NODES = """\
---
nodes:
  - name: "k8s-0"
    address: "192.168.42.10"
    controller: "yes"
    disk: "/dev/sda"
    mac_addr: "AA:BB:CC:DD:EE:00"
    schematic_id: "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
  - name: "k8s-0"
    address: "192.168.42.11"
    controller: true
    disk: "/dev/sda"
    mac_addr: "aa:bb:cc:dd:ee:01"
    schematic_id: "abc"
    colour: blue
"""


@pytest.mark.corpus
def test_bad_values_name_file_line_key_and_expected_form(corpus: Path, tmp_path: Path) -> None:
    repo = copy_repo(corpus / "onedr0p__cluster-template__feb482b6", tmp_path / "repo")
    install_inputs(repo, TESTDATA / "cluster-template")
    write_age_key(repo / "age.key")
    (repo / "cluster.yaml").write_text(BAD_CLUSTER)
    (repo / "nodes.yaml").write_text(BAD_NODES)
    before = fingerprint(repo)
    with pytest.raises(ValidationFailed) as caught:
        configure(repo)
    assert fingerprint(repo) == before
    error = caught.value
    assert error.exit_code is ExitCode.USAGE
    lines = [f"{where}: {message}" for where, message in error.issues]
    assert lines == [
        'cluster.yaml:3: node_cidr: "10.0.0.0/33" is not a CIDR (expected like 10.69.0.0/16)',
        "cluster.yaml: cluster_api_addr: missing (required by the templates; expected like 192.168.1.10)",
        'cluster.yaml:4: cluster_dns_gateway_addr: "10.0.0.300" is not an IPv4 address '
        "(expected like 192.168.1.10)",
        'cluster.yaml:6: repository_name: "example" is not a GitHub repository '
        "(expected owner/name, like onedr0p/cluster-template)",
        "cluster.yaml:8: cloudflare_token: the value is not a string (expected text in quotes)",
        'cluster.yaml:10: cilium_loadbalancer_mode: "fast" is not one of the choices '
        '(expected "dsr" or "snat")',
        'nodes.yaml:5: nodes[0].controller: "yes" is not a boolean (expected true or false, unquoted)',
        'nodes.yaml:7: nodes[0].mac_addr: "AA:BB:CC:DD:EE:00" is not a MAC address '
        "(expected lowercase, like bc:24:11:db:44:3d)",
        'nodes.yaml:14: nodes[1].schematic_id: "abc" is not a Talos schematic id '
        "(expected 64 lowercase hex characters)",
        "nodes.yaml:9: nodes[1].name: 'k8s-0' is used by node 0 too (must be unique)",
        'cluster.yaml:9: cloudflare_gateway_addr: "192.168.42.22" is also cluster_gateway_addr '
        "(each address must be different)",
    ]
    assert "12345" not in str(error)
    assert "cluster.yaml:3: node_cidr:" in str(error)


def _file(rel: str, text: str) -> v.DataFile:
    import tomllib

    import yaml

    data = tomllib.loads(text) if rel.endswith(".toml") else yaml.safe_load(text)
    return v.DataFile(rel, text, data)


def test_unknown_keys_are_warnings_and_used_keys_are_not_unknown() -> None:
    files = [_file("cluster.yaml", "node_cidr: 10.1.0.0/16\nmy_setting: 1\nmy_used: 2\n")]
    issues, warnings = v.validate(files, lambda name: name == "my_used")
    assert issues == []
    assert warnings == [
        "cluster.yaml:2: my_setting: unknown key (not in cluster-template's schema nor used by the templates)"
    ]


def test_networks_hosts_and_addresses() -> None:
    files = [
        _file(
            "cluster.yaml",
            "node_cidr: 10.42.0.0/24\ncluster_svc_cidr: 10.43.0.1/16\nnodes:\n"
            "  - {name: a, address: 10.9.9.9, controller: true, disk: x, mac_addr: 'aa:bb:cc:dd:ee:ff', "
            "schematic_id: '" + "a" * 64 + "'}\n",
        )
    ]
    issues, _ = v.validate(files, lambda name: False)
    assert [f"{w}: {m}" for w, m in issues] == [
        'cluster.yaml:2: cluster_svc_cidr: "10.43.0.1/16" has host bits set (expected the network address, '
        "10.43.0.0/16)",
        'cluster.yaml:1: node_cidr: "10.42.0.0/24" overlaps the default cluster_pod_cidr 10.42.0.0/16 '
        "(set cluster_pod_cidr to another network)",
        'cluster.yaml:4: nodes[0].address: "10.9.9.9" is outside node_cidr 10.42.0.0/24',
    ]


def test_nested_toml_generation_has_lines_too() -> None:
    text = '[network]\nnode_cidr = "10.10.10.0/24"\nvlan_tag = "5000"\n\n[kubernetes.api]\naddr = "x"\n'
    # What templates of that generation use: #{ network.node_cidr }#, #{ repository.url }# …
    used = {"network", "node_cidr", "vlan_tag", "kubernetes", "api", "addr", "repository", "url"}
    issues, _ = v.validate([_file("cluster.toml", text)], used.__contains__)
    assert [f"{w}: {m}" for w, m in issues] == [
        'cluster.toml:3: network.vlan_tag: "5000" is not a VLAN id '
        '(expected a number from 1 to 4094, like "30")',
        'cluster.toml:6: kubernetes.api.addr: "x" is not an IPv4 address (expected like 192.168.1.10)',
        "cluster.toml: repository.url: missing (required by the templates; expected like "
        "https://github.com/owner/repo.git)",
    ]


def test_other_makejinja_data_is_not_judged_by_this_schema() -> None:
    assert not v.applies([_file("values.yaml", "app_name: demo\nreplicas: 2\n")])
    assert v.applies([_file("config.yaml", "bootstrap_node_network: 10.0.0.0/24\n")])
