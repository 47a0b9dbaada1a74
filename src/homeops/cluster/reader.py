"""Where a cluster's objects come from: a live API server (read-only) or snapshot files.

One small interface, :class:`ClusterReader` (``read() -> Snapshot``), with two implementations. The live
one uses lightkube, a maintained, typed and small Kubernetes client (see DESIGN.md for why not the
official client): it only ever lists, never writes. The kubeconfig is found the way kubectl finds it
(``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``); the context is ``--context``, else the one
``.homeops.yaml`` maps the homeops cluster name to, else the kubeconfig's current context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import HomeopsError, UsageError
from .kinds import HELM_RELEASE_SECRET_TYPE, KINDS, Kind
from .snapshot import Snapshot, clean, load_snapshot

PAGE_SIZE = 500
"""Objects per list request (kubectl's default chunk size)."""


class ClusterReader(Protocol):
    """Anything that yields a snapshot of one cluster."""

    def read(self) -> Snapshot: ...


class SnapshotFiles:
    """Snapshot files or folders, merged (``--from``)."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.paths = list(paths)

    def read(self) -> Snapshot:
        return load_snapshot(self.paths)


class ClusterUnreachable(HomeopsError):
    """The API server could not be reached or refused to answer."""


class LiveCluster:
    """A live cluster through its API server, read-only."""

    def __init__(self, context: str | None = None, kubeconfig: str | Path | None = None) -> None:
        self.context = context
        self.kubeconfig = kubeconfig

    def _client(self) -> Any:
        from lightkube import Client
        from lightkube.config.kubeconfig import KubeConfig
        from lightkube.core.exceptions import ConfigError

        path = self.kubeconfig or _default_kubeconfig()
        if path is None:
            raise UsageError(
                "no kubeconfig found",
                hint="pass --kubeconfig FILE or set KUBECONFIG, or read a snapshot with --from FILE",
            )
        try:
            config = KubeConfig.from_file(path).get(context_name=self.context)
        except ConfigError as exc:
            raise UsageError(f"{path}: {exc}", hint="'kubectl config get-contexts' lists them") from exc
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read kubeconfig {path}: {exc}") from exc
        return Client(config, lazy=False)

    def read(self, kinds: Sequence[Kind] = KINDS) -> Snapshot:
        client = self._client()
        items: list[dict[str, Any]] = []
        unavailable: list[str] = []
        try:
            for kind in kinds:
                found = self._list(client, kind)
                if found is None:
                    unavailable.append(kind.label)
                else:
                    items.extend(found)
        finally:
            client.close()
        context = self.context or "current context"
        return Snapshot(items, f"context {context}", datetime.now(UTC), tuple(unavailable))

    def _list(self, client: Any, kind: Kind) -> list[dict[str, Any]] | None:
        """Every object of one kind in every namespace; None when the cluster does not serve it."""
        from lightkube import ApiError
        from lightkube.core.resource_registry import resource_registry
        from lightkube.generic_resource import create_global_resource, create_namespaced_resource
        from lightkube.operators import not_equal

        create = create_namespaced_resource if kind.namespaced else create_global_resource
        for version in kind.versions:
            api_version = f"{kind.group}/{version}" if kind.group else version
            # lightkube's own typed class when one is registered (core kinds), else a generic one
            resource = resource_registry.get(api_version, kind.kind) or create(
                kind.group, version, kind.kind, kind.plural
            )
            options: dict[str, Any] = {"chunk_size": PAGE_SIZE}
            if kind.namespaced:
                options["namespace"] = "*"
            if kind.kind == "Secret":
                options["fields"] = {"type": not_equal(HELM_RELEASE_SECRET_TYPE)}
            try:
                return [
                    clean({"apiVersion": api_version, "kind": kind.kind, **_plain(obj)})
                    for obj in client.list(resource, **options)
                ]
            except ApiError as exc:
                code = getattr(exc.status, "code", None)
                if code == 404:
                    continue  # this version (or the whole kind) is not served: try the next one
                if code in (401, 403):
                    return None  # not allowed to list it: leave it out, say so in the snapshot
                raise ClusterUnreachable(f"listing {kind.label} failed: {exc}") from exc
            except Exception as exc:  # httpx transport errors: no import of httpx at start-up
                if type(exc).__module__.startswith(("httpx", "httpcore", "ssl")) or isinstance(exc, OSError):
                    raise ClusterUnreachable(
                        f"cannot reach the Kubernetes API ({self.context or 'current context'}): {exc}",
                        hint="check the context with 'kubectl cluster-info', or read a snapshot with --from",
                    ) from exc
                raise
        return None


def _plain(obj: Any) -> dict[str, Any]:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return {k: v for k, v in data.items() if k not in ("apiVersion", "kind")}


def _default_kubeconfig() -> str | None:
    env = os.environ.get("KUBECONFIG")
    if env:
        first = next((p for p in env.split(os.pathsep) if p and Path(p).is_file()), None)
        if first:
            return first
    home = Path.home() / ".kube" / "config"
    return str(home) if home.is_file() else None


def context_for(cluster: str, explicit: str | None, contexts: Mapping[str, str]) -> str | None:
    """The kube context of a homeops cluster: ``--context``, else the ``.homeops.yaml`` map, else None
    (the kubeconfig's current context)."""
    if explicit:
        return explicit
    return contexts.get(cluster)


def open_reader(
    sources: Sequence[str] | None, *, context: str | None = None, kubeconfig: str | None = None
) -> ClusterReader:
    """Snapshot files when ``sources`` are given, else the live cluster."""
    if sources:
        return SnapshotFiles(sources)
    return LiveCluster(context, kubeconfig)
