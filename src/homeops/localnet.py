"""Whether a URL a repository names points at this machine or its local network: the one rule of
every fetch a repository can make homeops do (chart sources, schema references, remote kustomize
bases). Kept apart from the HTTP transport (:mod:`homeops.render.charts.transport`, which applies it
too) so that a build checking a remote base does not load the HTTP, TLS and e-mail modules.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse


def local_allowed() -> bool:
    """Whether a repository may make homeops fetch from this machine or its local network
    (``HOMEOPS_ALLOW_LOCAL_REMOTES=1``: local mirrors, tests). Off by default: the URLs of chart
    sources, schema references and remote bases are written in the repository, and a pull request
    could point them at a ``file://`` path, at a service that trusts this machine (a cloud's metadata
    endpoint, a router, the cluster's API) or at a chart on this disk, and bring back what it says."""
    return os.environ.get("HOMEOPS_ALLOW_LOCAL_REMOTES", "") not in ("", "0")


_ADDRESSES: dict[str, set[str]] = {}
"""Host → its addresses, looked up once per process."""


def local_reason(url: str, *, offline: bool = False) -> str | None:
    """Why ``url`` (http(s), oci, ssh, ``git@host:path`` or ``file://``) is on this machine or its local
    network: a loopback, private, link-local (metadata), unspecified or reserved address; None when it is
    public, or when local remotes are allowed."""
    if local_allowed():
        return None
    if url.startswith("file:") or url.startswith("/"):
        return "a repository on this machine, outside the source (or a file there)"
    host = urllib.parse.urlsplit(url).hostname if "://" in url else url.partition("@")[2].partition(":")[0]
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    if not literal and offline:
        return None  # no lookup offline: only caches are used, filled under this same check
    addresses = _ADDRESSES.get(host)
    if addresses is None:
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError):
            addresses = set()  # unresolvable: the fetch fails and says so
        _ADDRESSES[host] = addresses
    for address in addresses:
        found = local_address(address)
        if found is not None:
            return f"{host} is a local or private address ({found})"
    return None


def local_address(address: str) -> str | None:
    """The address when it is not a public one (loopback, private, link-local, reserved), else None."""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return None if ip.is_global else str(ip)
