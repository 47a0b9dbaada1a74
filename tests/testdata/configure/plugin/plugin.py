"""makejinja plugin for the cluster-template family of repos (test stand-in, written for homeops).

The real repositories keep their plugin in ``templates/scripts/plugin.py``, which the corpus does not
include. This one provides what their templates call, nothing more:

* filters ``basename`` (file name without its last suffix) and ``nthhost`` (n-th address of a CIDR);
* functions ``age_key``, ``cloudflare_tunnel_id``, ``cloudflare_tunnel_secret``, ``github_deploy_key``,
  ``github_push_token`` (read the side files ``task init`` creates in the repo root) and
  ``talos_patches`` (the patch templates of one group);
* data defaults for the optional keys, ``cilium_bgp_enabled`` and ``spegel_enabled``.

Paths are relative to the working directory, as makejinja runs from the repo root.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import makejinja


def basename(value: str) -> str:
    return Path(value).stem


def nthhost(value: str, query: int) -> str | bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    if 0 <= query < network.num_addresses:
        return str(network[query])
    return False


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8").strip()


def age_key(key_type: str, file_path: str = "age.key") -> str:
    text = _read(file_path)
    pattern = {"public": r"# public key: (age1\w+)", "private": r"(AGE-SECRET-KEY-\w+)"}.get(key_type)
    if pattern is None:
        raise ValueError(f"age_key: key type must be 'public' or 'private', not {key_type!r}")
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"age_key: no {key_type} key in {file_path}")
    return found.group(1)


def _tunnel(file_path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read(file_path))
    return data


def cloudflare_tunnel_id(file_path: str = "cloudflare-tunnel.json") -> str:
    return str(_tunnel(file_path)["TunnelID"])


def cloudflare_tunnel_secret(file_path: str = "cloudflare-tunnel.json") -> str:
    data = _tunnel(file_path)
    token = {"a": data["AccountTag"], "t": data["TunnelID"], "s": data["TunnelSecret"]}
    return base64.b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()


def github_deploy_key(file_path: str = "github-deploy.key") -> str:
    return _read(file_path)


def github_push_token(file_path: str = "github-push-token.txt") -> str:
    return _read(file_path)


def talos_patches(value: str) -> list[str]:
    folder = Path("templates/config/talos/patches") / value
    if not folder.is_dir():
        return []
    return [str(p) for p in sorted(folder.glob("*.yaml.j2")) if p.is_file()]


class Plugin(makejinja.plugin.Plugin):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def data(self) -> makejinja.plugin.Data:
        data = self._data
        data.setdefault("node_default_gateway", nthhost(str(data.get("node_cidr")), 1))
        data.setdefault("node_dns_servers", ["1.1.1.1", "1.0.0.1"])
        data.setdefault("node_ntp_servers", ["162.159.200.1", "162.159.200.123"])
        data.setdefault("cluster_pod_cidr", "10.42.0.0/16")
        data.setdefault("cluster_svc_cidr", "10.43.0.0/16")
        data.setdefault("repository_branch", "main")
        data.setdefault("repository_visibility", "public")
        data.setdefault("cilium_loadbalancer_mode", "dsr")
        bgp = ("cilium_bgp_router_addr", "cilium_bgp_router_asn", "cilium_bgp_node_asn")
        data.setdefault("cilium_bgp_enabled", all(data.get(key) for key in bgp))
        data.setdefault("spegel_enabled", len(data.get("nodes") or []) > 1)
        return data

    def filters(self) -> makejinja.plugin.Filters:
        return [basename, nthhost]

    def functions(self) -> makejinja.plugin.Functions:
        return [
            age_key,
            cloudflare_tunnel_id,
            cloudflare_tunnel_secret,
            github_deploy_key,
            github_push_token,
            talos_patches,
        ]
