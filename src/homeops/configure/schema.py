"""The input values cluster-template's templates consume, as a typed schema.

Derived from cluster-template's own documentation of its inputs (``cluster.sample.yaml``,
``nodes.sample.yaml``, the CUE schemas under ``.taskfiles/template/resources``) and from the keys its
templates use, across the generations seen in real repos: flat ``cluster.yaml`` + ``nodes.yaml``
(``cluster_gateway_addr``/``cloudflare_gateway_addr``, or the earlier ``cluster_ingress_addr``/
``cloudflare_ingress_addr``), the older ``config.yaml`` (``bootstrap_*`` keys) and the newer nested
``cluster.toml``. A key marked required is only
demanded when the repository's templates actually use it, so each generation checks what it needs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(Enum):
    CIDR = "cidr"
    IPV4 = "ipv4"
    FQDN = "fqdn"
    HOSTNAME = "hostname"
    NODE_NAME = "node name"
    EMAIL = "email"
    BOOL = "bool"
    STRING = "string"
    ASN = "asn"
    VLAN = "vlan"
    MAC = "mac"
    SCHEMATIC = "schematic"
    REPO = "repo"
    GIT_URL = "git url"
    CHOICE = "choice"
    MTU = "mtu"
    NODES = "nodes"


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind
    required: bool = False
    """Must be set, when the repository's templates use it."""
    many: bool = False
    """A list of values of ``kind``."""
    choices: tuple[str, ...] = ()


_F = Field
_CLUSTER_FLAT: dict[str, Field] = {
    "node_cidr": _F(Kind.CIDR, required=True),
    "node_dns_servers": _F(Kind.IPV4, many=True),
    "node_ntp_servers": _F(Kind.IPV4, many=True),
    "node_default_gateway": _F(Kind.IPV4),
    "node_vlan_tag": _F(Kind.VLAN),
    "cluster_api_addr": _F(Kind.IPV4, required=True),
    "cluster_api_tls_sans": _F(Kind.FQDN, many=True),
    "cluster_pod_cidr": _F(Kind.CIDR),
    "cluster_svc_cidr": _F(Kind.CIDR),
    "cluster_dns_gateway_addr": _F(Kind.IPV4, required=True),
    "cluster_gateway_addr": _F(Kind.IPV4, required=True),
    "cluster_ingress_addr": _F(Kind.IPV4, required=True),
    "repository_name": _F(Kind.REPO, required=True),
    "repository_branch": _F(Kind.STRING),
    "repository_visibility": _F(Kind.CHOICE, choices=("public", "private")),
    "cloudflare_domain": _F(Kind.FQDN, required=True),
    "cloudflare_token": _F(Kind.STRING, required=True),
    "cloudflare_gateway_addr": _F(Kind.IPV4, required=True),
    "cloudflare_ingress_addr": _F(Kind.IPV4, required=True),
    "cilium_bgp_router_addr": _F(Kind.IPV4),
    "cilium_bgp_router_asn": _F(Kind.ASN),
    "cilium_bgp_node_asn": _F(Kind.ASN),
    "cilium_loadbalancer_mode": _F(Kind.CHOICE, choices=("dsr", "snat")),
    "nodes": _F(Kind.NODES, required=True),
}

#: The earlier ``config.yaml`` generation (``bootstrap_*`` keys), as its own test configs show it.
_CLUSTER_LEGACY: dict[str, Field] = {
    "bootstrap_node_network": _F(Kind.CIDR),
    "bootstrap_node_default_gateway": _F(Kind.IPV4),
    "bootstrap_node_inventory": _F(Kind.NODES),
    "bootstrap_dns_servers": _F(Kind.IPV4, many=True),
    "bootstrap_ntp_servers": _F(Kind.STRING, many=True),
    "bootstrap_pod_network": _F(Kind.CIDR),
    "bootstrap_service_network": _F(Kind.CIDR),
    "bootstrap_controller_vip": _F(Kind.IPV4),
    "bootstrap_tls_sans": _F(Kind.STRING, many=True),
    "bootstrap_sops_age_pubkey": _F(Kind.STRING),
    "bootstrap_bgp.enabled": _F(Kind.BOOL),
    "bootstrap_github_address": _F(Kind.GIT_URL),
    "bootstrap_github_branch": _F(Kind.STRING),
    "bootstrap_github_webhook_token": _F(Kind.STRING),
    "bootstrap_cloudflare.enabled": _F(Kind.BOOL),
    "bootstrap_cloudflare.domain": _F(Kind.STRING),
    "bootstrap_cloudflare.token": _F(Kind.STRING),
    "bootstrap_cloudflare.acme.email": _F(Kind.EMAIL),
    "bootstrap_cloudflare.acme.production": _F(Kind.BOOL),
    "bootstrap_cloudflare.tunnel.account_id": _F(Kind.STRING),
    "bootstrap_cloudflare.tunnel.id": _F(Kind.STRING),
    "bootstrap_cloudflare.tunnel.secret": _F(Kind.STRING),
    "bootstrap_cloudflare.tunnel.ingress_vip": _F(Kind.IPV4),
    "bootstrap_cloudflare.ingress_vip": _F(Kind.IPV4),
    "bootstrap_cloudflare.gateway_vip": _F(Kind.IPV4),
}

#: The newer nested ``cluster.toml`` (tables written as dotted paths).
_CLUSTER_NESTED: dict[str, Field] = {
    "network.node_cidr": _F(Kind.CIDR, required=True),
    "network.default_gateway": _F(Kind.IPV4),
    "network.vlan_tag": _F(Kind.VLAN),
    "network.dns_servers": _F(Kind.IPV4, many=True),
    "network.ntp_servers": _F(Kind.IPV4, many=True),
    "kubernetes.pod_cidr": _F(Kind.CIDR),
    "kubernetes.svc_cidr": _F(Kind.CIDR),
    "kubernetes.api.addr": _F(Kind.IPV4, required=True),
    "kubernetes.api.tls_sans": _F(Kind.FQDN, many=True),
    "gateways.internal": _F(Kind.IPV4),
    "gateways.dns": _F(Kind.IPV4),
    "gateways.external": _F(Kind.IPV4),
    "repository.url": _F(Kind.GIT_URL, required=True),
    "repository.branch": _F(Kind.STRING),
    "domain.name": _F(Kind.FQDN),
    "dns.token": _F(Kind.STRING),
    "cilium.loadbalancer_mode": _F(Kind.CHOICE, choices=("dsr", "snat")),
    "cilium.bgp.router_addr": _F(Kind.IPV4),
    "cilium.bgp.router_asn": _F(Kind.ASN),
    "cilium.bgp.node_asn": _F(Kind.ASN),
    "talos.schematic_id": _F(Kind.SCHEMATIC),
}

CLUSTER: dict[str, Field] = {**_CLUSTER_FLAT, **_CLUSTER_NESTED, **_CLUSTER_LEGACY}

NODE: dict[str, Field] = {
    "name": _F(Kind.NODE_NAME, required=True),
    "address": _F(Kind.IPV4, required=True),
    "controller": _F(Kind.BOOL, required=True),
    "disk": _F(Kind.STRING, required=True),
    "mac_addr": _F(Kind.MAC, required=True),
    "schematic_id": _F(Kind.SCHEMATIC, required=True),
    "mtu": _F(Kind.MTU),
    "secureboot": _F(Kind.BOOL),
    "encrypt_disk": _F(Kind.BOOL),
    "kernel_modules": _F(Kind.STRING, many=True),
}

_LEGACY_NODE: dict[str, Field] = {
    "name": _F(Kind.NODE_NAME, required=True),
    "address": _F(Kind.IPV4, required=True),
    "controller": _F(Kind.BOOL, required=True),
    "disk": _F(Kind.STRING),
    "mac_addr": _F(Kind.STRING),
}

#: The item schema of each list-of-nodes key.
NODE_LISTS: dict[str, dict[str, Field]] = {"nodes": NODE, "bootstrap_node_inventory": _LEGACY_NODE}

#: Address keys that must all differ (each is a separate load balancer or VIP).
DISTINCT_ADDRESSES = (
    "cluster_api_addr",
    "cluster_gateway_addr",
    "cluster_ingress_addr",
    "cluster_dns_gateway_addr",
    "cloudflare_gateway_addr",
    "cloudflare_ingress_addr",
)
#: Networks that must not overlap, with the default of each optional one.
NETWORKS = {"node_cidr": None, "cluster_pod_cidr": "10.42.0.0/16", "cluster_svc_cidr": "10.43.0.0/16"}


# -- checks of single values: None when fine, else what was expected ------------------------------

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_FQDN = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@(?=.{1,253}$)(?:" + _LABEL + r"\.)+[A-Za-z]{2,}$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_SCHEMATIC = re.compile(r"^[a-z0-9]{64}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GIT_URL = re.compile(r"^(https://|ssh://|git@)\S+$")


def _cidr(value: Any) -> str | None:
    expected = "a CIDR (expected like 10.69.0.0/16)"
    if not isinstance(value, str) or "/" not in value:
        return f"is not {expected}"
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"is not {expected}"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        network = ipaddress.ip_network(value, strict=False)
        return f"has host bits set (expected the network address, {network})"
    return None


def _ipv4(value: Any) -> str | None:
    try:
        ipaddress.IPv4Address(value if isinstance(value, str) else "")
    except ValueError:
        return "is not an IPv4 address (expected like 192.168.1.10)"
    return None


def _regex(pattern: re.Pattern[str], expected: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and pattern.match(value) else f"is not {expected}"

    return check


def _number(low: int, high: int, expected: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(text, str) and text.isdigit() and low <= int(text) <= high:
            return None
        return f"is not {expected}"

    return check


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "is not a boolean (expected true or false, unquoted)"


def _string(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a string (expected text in quotes)"
    return None if value.strip() else "is empty (expected a value)"


def _node_name(value: Any) -> str | None:
    problem = _regex(_HOSTNAME, "a node name (expected lowercase letters, digits and '-', like k8s-0)")(value)
    if problem is None and value in ("global", "controller", "worker"):
        return "is reserved (global, controller and worker name patch groups; pick another node name)"
    return problem


def _mtu(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1450 <= value <= 9000
    return None if ok else "is not an MTU (expected a number from 1450 to 9000, like 1500)"


CHECKS: dict[Kind, Callable[[Any], str | None]] = {
    Kind.CIDR: _cidr,
    Kind.IPV4: _ipv4,
    Kind.FQDN: _regex(_FQDN, "a domain name (expected like example.com)"),
    Kind.HOSTNAME: _regex(_HOSTNAME, "a host name (expected like k8s-0)"),
    Kind.NODE_NAME: _node_name,
    Kind.EMAIL: _regex(_EMAIL, "an email address (expected like admin@example.com)"),
    Kind.BOOL: _bool,
    Kind.STRING: _string,
    Kind.ASN: _number(1, 4294967295, 'a BGP AS number (expected like "64513")'),
    Kind.VLAN: _number(1, 4094, 'a VLAN id (expected a number from 1 to 4094, like "30")'),
    Kind.MAC: _regex(_MAC, "a MAC address (expected lowercase, like bc:24:11:db:44:3d)"),
    Kind.SCHEMATIC: _regex(_SCHEMATIC, "a Talos schematic id (expected 64 lowercase hex characters)"),
    Kind.REPO: _regex(_REPO, "a GitHub repository (expected owner/name, like onedr0p/cluster-template)"),
    Kind.GIT_URL: _regex(_GIT_URL, "a Git URL (expected like https://github.com/owner/repo.git)"),
    Kind.MTU: _mtu,
}
