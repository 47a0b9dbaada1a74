"""A Kubernetes API server stand-in on loopback, for the cluster reader's tests.

There is no Kubernetes API server on these machines, so the tests serve recorded objects over real HTTP
the way the API server lays them out: discovery (``/api``, ``/apis``, resource lists per group version),
lists across all namespaces or one (with ``limit``/``continue`` paging, label and field selectors),
single objects, a watch stream, and ``Status`` bodies for 404 and for any write (405: nothing may
write). Built-in kinds are listed without ``apiVersion``/``kind`` on each item, as the real server
does; custom resources carry them. Every request is recorded. Both lightkube (homeops' reader) and
the shipped ``kubectl`` talk to it.

The plural names below are written out here, apart from homeops' own catalog, so that a wrong
plural in homeops would show as a 404 here instead of agreeing with itself.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLURALS: dict[str, tuple[str, bool]] = {
    # kind: (plural, namespaced)
    "Kustomization": ("kustomizations", True),
    "HelmRelease": ("helmreleases", True),
    "GitRepository": ("gitrepositories", True),
    "OCIRepository": ("ocirepositories", True),
    "HelmRepository": ("helmrepositories", True),
    "HelmChart": ("helmcharts", True),
    "Bucket": ("buckets", True),
    "Deployment": ("deployments", True),
    "StatefulSet": ("statefulsets", True),
    "DaemonSet": ("daemonsets", True),
    "ReplicaSet": ("replicasets", True),
    "Job": ("jobs", True),
    "CronJob": ("cronjobs", True),
    "Pod": ("pods", True),
    "Event": ("events", True),
    "Service": ("services", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "Namespace": ("namespaces", False),
    "ExternalSecret": ("externalsecrets", True),
    "SecretStore": ("secretstores", True),
    "ClusterSecretStore": ("clustersecretstores", False),
    "Gateway": ("gateways", True),
    "HTTPRoute": ("httproutes", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "StorageClass": ("storageclasses", False),
}

#: Group versions every cluster serves (the rest are served when a fixture object uses them).
BUILT_IN = {
    "v1": ("Pod", "Event", "Service", "ConfigMap", "Secret", "Namespace", "PersistentVolumeClaim"),
    "apps/v1": ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"),
    "batch/v1": ("Job", "CronJob"),
    "storage.k8s.io/v1": ("StorageClass",),
}
_BUILT_IN_GROUPS = {"", "apps", "batch", "storage.k8s.io"}


def _split(api_version: str) -> tuple[str, str]:
    return tuple(api_version.rsplit("/", 1)) if "/" in api_version else ("", api_version)  # type: ignore[return-value]


@dataclass
class KubeAPI:
    """A running server: its URL, the requests it saw, and a kubeconfig pointing at it."""

    url: str
    objects: list[dict[str, Any]]
    served: dict[str, set[str]]
    """group/version → kinds served."""
    requests: list[tuple[str, str]] = field(default_factory=list)

    def kubeconfig(self, path: Path, context: str = "homelab") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "loopback", "cluster": {"server": self.url}}],
            "users": [{"name": "reader", "user": {"token": "not-a-secret"}}],
            "contexts": [{"name": context, "context": {"cluster": "loopback", "user": "reader"}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config))
        return path


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _matches_labels(obj: dict[str, Any], selector: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    return "" if current is None else str(current)


def _matches_fields(obj: dict[str, Any], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if _field(obj, key) == value:
                return False
        else:
            key, value = term.split("=", 1)
            if _field(obj, key.rstrip("=")) != value:
                return False
    return True


class _Handler(http.server.BaseHTTPRequestHandler):
    api: KubeAPI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self) -> None:
        self.api.requests.append((self.command, self.path))
        self._send(405, _status(405, "MethodNotAllowed", f"{self.command} is not allowed: read-only"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def do_GET(self) -> None:
        self.api.requests.append(("GET", self.path))
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = [p for p in url.path.split("/") if p]
        if parts == ["version"]:
            return self._send(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0"})
        if parts == ["api"]:
            return self._send(
                200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
            )
        if parts == ["apis"]:
            return self._send(200, self._group_list())
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            found = [g for g in self._group_list()["groups"] if g["name"] == parts[1]]
            if found:
                return self._send(200, {"kind": "APIGroup", "apiVersion": "v1", **found[0]})
            return self._send(
                404, _status(404, "NotFound", "the server could not find the requested resource")
            )
        else:
            return self._send(
                404, _status(404, "NotFound", "the server could not find the requested resource")
            )
        group_version = f"{group}/{version}" if group else version
        kinds = self.api.served.get(group_version)
        if kinds is None:
            return self._send(
                404, _status(404, "NotFound", "the server could not find the requested resource")
            )
        if not rest:
            return self._send(200, self._resource_list(group_version, kinds))
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        kind = next((k for k in kinds if PLURALS[k][0] == plural), None)
        if kind is None:
            return self._send(
                404, _status(404, "NotFound", "the server could not find the requested resource")
            )
        selected = [
            o
            for o in self.api.objects
            if o.get("kind") == kind
            and _split(str(o.get("apiVersion")))[0] == group
            and (namespace is None or (o.get("metadata") or {}).get("namespace") == namespace)
        ]
        if len(rest) == 2:
            name = rest[1]
            found_obj = next((o for o in selected if o["metadata"].get("name") == name), None)
            if found_obj is None:
                return self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
            return self._send(200, self._served_object(found_obj, group_version, keep_type=True))
        if "labelSelector" in query:
            selected = [o for o in selected if _matches_labels(o, query["labelSelector"])]
        if "fieldSelector" in query:
            selected = [o for o in selected if _matches_fields(o, query["fieldSelector"])]
        if query.get("watch") in ("true", "1"):
            return self._watch(selected, group_version)
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or 0) or len(selected) or 1
        page = selected[start : start + limit]
        more = start + limit < len(selected)
        body = {
            "kind": f"{kind}List",
            "apiVersion": group_version,
            "metadata": {"resourceVersion": "1000", **({"continue": str(start + limit)} if more else {})},
            "items": [
                self._served_object(o, group_version, keep_type=group not in _BUILT_IN_GROUPS) for o in page
            ],
        }
        return self._send(200, body)

    def _served_object(self, obj: dict[str, Any], group_version: str, *, keep_type: bool) -> dict[str, Any]:
        out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if keep_type:
            return {"apiVersion": group_version, "kind": obj["kind"], **out}
        return out

    def _watch(self, selected: list[dict[str, Any]], group_version: str) -> None:
        # Every current object as ADDED, then the server ends the watch (as at timeoutSeconds).
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for obj in selected:
            event = {"type": "ADDED", "object": self._served_object(obj, group_version, keep_type=True)}
            line = (json.dumps(event) + "\n").encode()
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for group_version in sorted(self.api.served):
            group, version = _split(group_version)
            if group:
                groups.setdefault(group, []).append(version)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": name,
                    "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
                    "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]},
                }
                for name, versions in groups.items()
            ],
        }

    def _resource_list(self, group_version: str, kinds: set[str]) -> dict[str, Any]:
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": [
                {
                    "name": PLURALS[k][0],
                    "singularName": k.lower(),
                    "namespaced": PLURALS[k][1],
                    "kind": k,
                    "verbs": ["get", "list", "watch"],
                }
                for k in sorted(kinds)
            ],
        }


@contextlib.contextmanager
def kube_api_server(objects: list[dict[str, Any]]) -> Iterator[KubeAPI]:
    """Serve ``objects`` on a free loopback port; the group versions they use are served, plus the
    built-in ones, and nothing else (a kind whose CRD is not installed answers 404)."""
    served: dict[str, set[str]] = {gv: set(kinds) for gv, kinds in BUILT_IN.items()}
    for obj in objects:
        served.setdefault(str(obj.get("apiVersion")), set()).add(str(obj.get("kind")))
    api = KubeAPI("", objects, served)
    handler = type("Handler", (_Handler,), {"api": api})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
