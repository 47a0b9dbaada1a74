"""Registry credentials from the files Docker and Helm keep them in.

Looked up per host in ``$DOCKER_CONFIG/config.json`` (or ``~/.docker/config.json``), then Helm's
``registry/config.json``. An ``auths`` entry gives ``auth`` (base64 ``user:password``) or
``username``/``password``; ``credHelpers``/``credsStore`` run ``docker-credential-<helper> get``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from ... import proc
from ...errors import HomeopsError
from .transport import BasicAuth

_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def config_files() -> list[Path]:
    """Where credentials are looked for, in order."""
    home = Path(os.path.expanduser("~"))
    docker_dir = os.environ.get("DOCKER_CONFIG")
    files = [Path(docker_dir) / "config.json" if docker_dir else home / ".docker" / "config.json"]
    helm_file = os.environ.get("HELM_REGISTRY_CONFIG")
    if helm_file:
        files.append(Path(helm_file))
    else:
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        files.append(Path(config_home) / "helm" / "registry" / "config.json")
    return files


def registry_credentials(host: str) -> BasicAuth | None:
    """Credentials for ``host`` (``name[:port]``), or None when no file has any."""
    for path in config_files():
        config = _read(path)
        if config is None:
            continue
        found = _from_config(config, host)
        if found is not None:
            return found
    return None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _normalise(key: str) -> str:
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return "docker.io" if host in _DOCKER_HUB_ALIASES else host


def _from_config(config: dict[str, Any], host: str) -> BasicAuth | None:
    wanted = _normalise(host)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key, helper in helpers.items():
            if _normalise(str(key)) == wanted and isinstance(helper, str):
                return _from_helper(helper, str(key))
    auths = config.get("auths")
    if isinstance(auths, dict):
        for key, entry in auths.items():
            if _normalise(str(key)) == wanted and isinstance(entry, dict):
                found = _from_entry(entry)
                if found is not None:
                    return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(store, host)
    return None


def _from_entry(entry: dict[str, Any]) -> BasicAuth | None:
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=False).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if sep:
            return BasicAuth(user, password)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return BasicAuth(name, secret)
    return None


def _from_helper(helper: str, server: str) -> BasicAuth | None:
    try:
        result = proc.run(
            [f"docker-credential-{helper}", "get"], input=server.encode(), timeout=30, check=False
        )
    except HomeopsError:
        return None  # helper not installed: behave as if it had nothing for this host
    if result.returncode != 0:
        return None
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return None
    user, secret = data.get("Username"), data.get("Secret")
    if isinstance(user, str) and isinstance(secret, str) and secret:
        return BasicAuth(user, secret)
    return None
