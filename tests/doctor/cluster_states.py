# ruff: noqa: E501  (long status messages are quoted as the controllers write them)
"""Snapshots of the test repository (tests/testdata/live/repo) running in a cluster, healthy or broken.

No cluster was recorded for these (there is none on these machines): every object is built here, in
the shapes the controllers' own maintainers use in their test data (``../shared/runtime/``, Apache-2.0):

* Flux status blocks (Ready/Reconciling/Stalled conditions, ``lastAppliedRevision``, ``history``,
  ``installFailures``): fluxcd/flux2 ``cmd/flux/testdata/{get,trace,debug_helmrelease}`` and the
  helm-controller / kustomize-controller specs (reasons DependencyNotReady, HealthCheckFailed,
  InstallFailed, RetriesExceeded, ProgressingWithRetry);
* workload and pod status: kubernetes-sigs/cli-utils ``kstatus/status_compute_test.go`` and the Pod API
  (waiting reasons CrashLoopBackOff, CreateContainerConfigError);
* ExternalSecret and store conditions: external-secrets ``apis/externalsecrets/v1`` (SecretSynced,
  SecretSyncedError, ValidationFailed);
* HTTPRoute parent conditions: gateway-api conformance ``httproute-invalid-*`` (Accepted,
  ResolvedRefs/BackendNotFound).

Each scenario function takes the healthy cluster and changes what the scenario changes, nothing else.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEAD = "6b0c4d5e2f3a1b2c3d4e5f60718293a4b5c6d7e8"
_head = [HEAD]
"""The commit the healthy cluster applied (the test repository's HEAD when a test sets it)."""
NOW = "2026-03-01T12:00:00Z"
EARLIER = "2026-03-01T11:50:00Z"
UID = iter(range(1000, 100000))

Obj = dict[str, Any]


def _meta(
    name: str, namespace: str | None, labels: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"uid-{next(UID)}", "generation": 1, **extra}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _ks_labels(ks: str) -> dict[str, str]:
    return {"kustomize.toolkit.fluxcd.io/name": ks, "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


def _hr_labels(hr: str, namespace: str = "default") -> dict[str, str]:
    return {"helm.toolkit.fluxcd.io/name": hr, "helm.toolkit.fluxcd.io/namespace": namespace}


def ready(reason: str, message: str, when: str = EARLIER) -> list[dict[str, Any]]:
    return [
        {"type": "Ready", "status": "True", "reason": reason, "message": message, "lastTransitionTime": when}
    ]


def kustomization(
    name: str, path: str, depends: tuple[str, ...] = (), parent: str | None = "cluster-apps"
) -> Obj:
    revision = f"main@sha1:{_head[0]}"
    spec: dict[str, Any] = {
        "interval": "1h",
        "retryInterval": "2m",
        "path": path,
        "prune": True,
        "wait": parent is not None,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    if depends:
        spec["dependsOn"] = [{"name": d} for d in depends]
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": _meta(name, "flux-system", _ks_labels(parent) if parent else None),
        "spec": spec,
        "status": {
            "observedGeneration": 1,
            "lastAppliedRevision": revision,
            "lastAttemptedRevision": revision,
            "conditions": ready("ReconciliationSucceeded", f"Applied revision: {revision}"),
        },
    }


def helmrelease(name: str, ks: str, image: str) -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": _meta(name, "default", _ks_labels(ks)),
        "spec": {
            "interval": "1h",
            "chartRef": {"kind": "OCIRepository", "name": "app-template"},
            "install": {"remediation": {"retries": 3}},
            "upgrade": {"remediation": {"retries": 3}},
            "values": {"controllers": {name: {"containers": {"app": {"image": _image_values(image)}}}}},
        },
        "status": {
            "observedGeneration": 1,
            "lastAttemptedRevision": "4.2.0",
            "history": [
                {
                    "name": name,
                    "namespace": "default",
                    "version": 1,
                    "chartName": "app-template",
                    "chartVersion": "4.2.0",
                    "status": "deployed",
                }
            ],
            "conditions": ready(
                "InstallSucceeded",
                "Helm install succeeded for release default/{name}.v1 with chart app-template@4.2.0",
            ),
        },
    }


def _image_values(image: str) -> dict[str, str]:
    repository, tag = image.rsplit(":", 1)
    return {"repository": repository, "tag": tag}


def deployment(name: str, image: str, secret: str | None = None, claim: str | None = None) -> Obj:
    container: dict[str, Any] = {"name": "app", "image": image}
    if secret:
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    pod_spec: dict[str, Any] = {"containers": [container]}
    if claim:
        pod_spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, "default", {**_hr_labels(name), "app.kubernetes.io/instance": name}),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/instance": name}}, "spec": pod_spec},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "conditions": [
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                {"type": "Available", "status": "True"},
            ],
        },
    }


def pod_of(deploy: Obj, suffix: str = "7d9f8c6b5-x2x4q") -> Obj:
    name = deploy["metadata"]["name"]
    spec = copy.deepcopy(deploy["spec"]["template"]["spec"])
    image = spec["containers"][0]["image"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            f"{name}-{suffix}",
            "default",
            {"app.kubernetes.io/instance": name},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": name,
                    "uid": deploy["metadata"]["uid"],
                    "controller": True,
                }
            ],
        ),
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": image,
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": EARLIER}},
                }
            ],
        },
    }


def healthy() -> list[Obj]:
    """The test repository, converged."""
    revision = f"main@sha1:{_head[0]}"
    echo = deployment("echo", "ghcr.io/mendhak/http-https-echo:37", secret="echo-secret", claim="echo-data")
    web = deployment("web", "ghcr.io/nginx/nginx-unprivileged:1.29.1")
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": _meta("flux-system", "flux-system", _ks_labels("flux-system")),
            "spec": {
                "interval": "1h",
                "url": "ssh://git@github.com/example/home-ops",
                "ref": {"branch": "main"},
            },
            "status": {
                "observedGeneration": 1,
                "artifact": {"revision": revision},
                "conditions": ready("Succeeded", f"stored artifact for revision '{revision}'"),
            },
        },
        kustomization("flux-system", "./kubernetes/flux/cluster", parent=None),
        kustomization("cluster-apps", "./kubernetes/apps", parent="flux-system"),
        kustomization("external-secrets-stores", "./kubernetes/apps/external-secrets/stores/app"),
        kustomization("gateway", "./kubernetes/apps/network/gateway/app"),
        kustomization("echo", "./kubernetes/apps/default/echo/app", ("external-secrets-stores", "gateway")),
        kustomization("web", "./kubernetes/apps/default/web/app", ("echo",)),
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": _meta("app-template", "default", _ks_labels("echo")),
            "spec": {
                "interval": "1h",
                "url": "oci://ghcr.io/bjw-s-labs/helm/app-template",
                "ref": {"tag": "4.2.0"},
            },
            "status": {
                "observedGeneration": 1,
                "artifact": {"revision": "4.2.0@sha256:abc"},
                "conditions": ready("Succeeded", "stored artifact for digest '4.2.0@sha256:abc'"),
            },
        },
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": _meta("onepassword", None, _ks_labels("external-secrets-stores")),
            "spec": {
                "provider": {
                    "onepassword": {
                        "connectHost": "http://onepassword-connect.external-secrets.svc.cluster.local"
                    }
                }
            },
            "status": {"conditions": ready("Valid", "store validated")},
        },
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": _meta("echo", "default", _ks_labels("echo")),
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"},
                "target": {"name": "echo-secret"},
                "dataFrom": [{"extract": {"key": "echo"}}],
            },
            "status": {
                "refreshTime": "2026-03-01T11:30:00Z",
                "conditions": ready("SecretSynced", "secret synced"),
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": _meta("echo-secret", "default"),
            "data": {"TOKEN": "c2VjcmV0LXZhbHVl"},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": _meta("internal", "network", _ks_labels("gateway")),
            "spec": {
                "gatewayClassName": "envoy",
                "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}],
            },
            "status": {
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted"},
                    {"type": "Programmed", "status": "True", "reason": "Programmed"},
                ]
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": _meta("echo", "default", _hr_labels("echo")),
            "spec": {
                "hostnames": ["echo.home.example"],
                "parentRefs": [{"name": "internal", "namespace": "network", "sectionName": "https"}],
                "rules": [{"backendRefs": [{"name": "echo", "port": 8080}]}],
            },
            "status": {
                "parents": [
                    {
                        "parentRef": {"name": "internal", "namespace": "network", "sectionName": "https"},
                        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                        "conditions": [
                            {"type": "Accepted", "status": "True", "reason": "Accepted"},
                            {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
                        ],
                    }
                ]
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("echo", "default", _hr_labels("echo")),
            "spec": {"ports": [{"port": 8080}], "selector": {"app.kubernetes.io/instance": "echo"}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("echo-data", "default", _ks_labels("echo")),
            "spec": {"storageClassName": "ceph-block", "accessModes": ["ReadWriteOnce"]},
            "status": {"phase": "Bound"},
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta("ceph-block", None),
            "provisioner": "rook-ceph.rbd.csi.ceph.com",
        },
        helmrelease("echo", "echo", "ghcr.io/mendhak/http-https-echo:37"),
        helmrelease("web", "web", "ghcr.io/nginx/nginx-unprivileged:1.29.1"),
        echo,
        pod_of(echo),
        web,
        pod_of(web, "5c7b9d8f4-k8m2p"),
    ]


# -- edits ------------------------------------------------------------------------------------------


def find(items: list[Obj], kind: str, name: str) -> Obj:
    return next(o for o in items if o["kind"] == kind and o["metadata"]["name"] == name)


def event(kind: str, namespace: str, name: str, reason: str, message: str, count: int = 1) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "type": "Warning",
        "reason": reason,
        "message": message,
        "count": count,
        "lastTimestamp": "2026-03-01T11:59:00Z",
        "metadata": {"name": f"{name}.{next(UID)}", "namespace": namespace or "default"},
        "involvedObject": {"kind": kind, "namespace": namespace, "name": name},
    }


def not_ready(
    obj: Obj, reason: str, message: str, *, stalled: str | None = None, retrying: bool = False
) -> None:
    conditions: list[Obj] = [
        {
            "type": "Ready",
            "status": "False",
            "reason": reason,
            "message": message,
            "lastTransitionTime": "2026-03-01T11:40:00Z",
        }
    ]
    if stalled:
        conditions.append({"type": "Stalled", "status": "True", "reason": stalled, "message": message})
    if retrying:
        conditions.append(
            {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry", "message": message}
        )
    obj["status"]["conditions"] = conditions


def _wait_dependents(items: list[Obj], blocked: str = "echo") -> None:
    """What kustomize-controller reports once ``blocked`` fails its health check: its dependents wait."""
    not_ready(
        find(items, "Kustomization", blocked),
        "HealthCheckFailed",
        "health check failed after 5m0s: failed early due to stalled resources: [HelmRelease/default/echo status: 'Failed']",
    )
    not_ready(
        find(items, "Kustomization", "web"),
        "DependencyNotReady",
        f"dependency 'flux-system/{blocked}' is not ready",
    )


def vault_chain(items: list[Obj]) -> list[Obj]:
    """The store cannot reach its vault → the ExternalSecret cannot sync → the pod cannot start → the
    HelmRelease install fails until it stalls → its Kustomization's health check fails → ``web`` waits."""
    store = find(items, "ClusterSecretStore", "onepassword")
    not_ready(
        store,
        "ValidationFailed",
        'unable to validate store: Get "http://onepassword-connect.external-secrets.svc.cluster.local/v1/vaults": dial tcp 10.43.12.7:8080: connect: connection refused',
    )
    es = find(items, "ExternalSecret", "echo")
    not_ready(es, "SecretSyncedError", "could not get secret data from provider")
    items = [o for o in items if not (o["kind"] == "Secret" and o["metadata"]["name"] == "echo-secret")]
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"]["name"].startswith("echo-"))
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]
    pod["status"]["phase"] = "Pending"
    pod["status"]["containerStatuses"][0].update(
        ready=False,
        state={
            "waiting": {"reason": "CreateContainerConfigError", "message": 'secret "echo-secret" not found'}
        },
    )
    deploy = find(items, "Deployment", "echo")
    deploy["status"].update(readyReplicas=0, availableReplicas=0)
    hr = find(items, "HelmRelease", "echo")
    hr["status"].pop("history")
    hr["status"]["installFailures"] = 4
    not_ready(hr, "RetriesExceeded", "Failed to install after 4 attempt(s)", stalled="RetriesExceeded")
    _wait_dependents(items)
    items.append(
        event("ExternalSecret", "default", "echo", "UpdateFailed", "could not get secret data from provider")
    )
    items.append(
        event(
            "Pod", "default", pod["metadata"]["name"], "Failed", 'Error: secret "echo-secret" not found', 12
        )
    )
    return items


def crash_loop(items: list[Obj]) -> list[Obj]:
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"]["name"].startswith("web-"))
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]
    pod["status"]["containerStatuses"][0].update(
        ready=False,
        restartCount=6,
        state={
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off 5m0s restarting failed container=app",
            }
        },
        lastState={
            "terminated": {
                "reason": "Error",
                "exitCode": 1,
                "finishedAt": "2026-03-01T11:58:30Z",
                "message": 'nginx: [emerg] unknown directive "proxy_passs"',
            }
        },
    )
    find(items, "Deployment", "web")["status"].update(readyReplicas=0, availableReplicas=0)
    items.append(
        event(
            "Pod",
            "default",
            pod["metadata"]["name"],
            "BackOff",
            "Back-off restarting failed container app",
            40,
        )
    )
    return items


def helmrelease_stuck(items: list[Obj]) -> list[Obj]:
    """An upgrade whose values the chart rejects: retried with remediation, attempt 2 of 4."""
    hr = find(items, "HelmRelease", "web")
    hr["metadata"]["generation"] = 2
    hr["status"]["observedGeneration"] = 2
    hr["status"]["upgradeFailures"] = 2
    not_ready(
        hr,
        "UpgradeFailed",
        "Helm upgrade failed for release default/web with chart app-template@4.2.0: values don't meet the specifications of the schema(s): controllers.web.containers.app.image.tag: Invalid type",
        retrying=True,
    )
    return items


def externalsecret_sync(items: list[Obj]) -> list[Obj]:
    """The vault has no item named ``echo``: the store is fine, the ExternalSecret cannot sync, and its
    target Secret was never created."""
    not_ready(
        find(items, "ExternalSecret", "echo"),
        "SecretSyncedError",
        'error processing spec.dataFrom[0].extract, err: secret not found: item "echo" not found in vault "homelab"',
    )
    return [o for o in items if not (o["kind"] == "Secret" and o["metadata"]["name"] == "echo-secret")]


def stale_secret(items: list[Obj]) -> list[Obj]:
    """The store lost its vault after the Secret was written: pods keep running on the last data."""
    not_ready(
        find(items, "ClusterSecretStore", "onepassword"),
        "ValidationFailed",
        "unable to validate store: 401 Unauthorized",
    )
    not_ready(
        find(items, "ExternalSecret", "echo"), "SecretSyncedError", "could not get secret data from provider"
    )
    return items


def httproute_backend(items: list[Obj]) -> list[Obj]:
    route = find(items, "HTTPRoute", "echo")
    route["spec"]["rules"][0]["backendRefs"][0]["name"] = "echo-app"
    route["status"]["parents"][0]["conditions"][1] = {
        "type": "ResolvedRefs",
        "status": "False",
        "reason": "BackendNotFound",
        "message": "Failed to process route rule 0 backendRef 0: service default/echo-app not found.",
    }
    return items


def httproute_gateway(items: list[Obj]) -> list[Obj]:
    """The route names a listener the gateway does not have: no parent accepts it."""
    route = find(items, "HTTPRoute", "echo")
    route["spec"]["parentRefs"][0]["sectionName"] = "http"
    route["status"]["parents"][0]["parentRef"]["sectionName"] = "http"
    route["status"]["parents"][0]["conditions"] = [
        {
            "type": "Accepted",
            "status": "False",
            "reason": "NoMatchingParent",
            "message": "No listeners match this parent ref",
        },
        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
    ]
    return items


def storage_claim(items: list[Obj]) -> list[Obj]:
    """The claim names a StorageClass the cluster does not have: it stays Pending, and so does the pod."""
    claim = find(items, "PersistentVolumeClaim", "echo-data")
    claim["spec"]["storageClassName"] = "ceph-blockk"
    claim["status"] = {"phase": "Pending"}
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"]["name"].startswith("echo-"))
    pod["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
            }
        ],
    }
    find(items, "Deployment", "echo")["status"].update(readyReplicas=0, availableReplicas=0)
    items.append(
        event(
            "PersistentVolumeClaim",
            "default",
            "echo-data",
            "ProvisioningFailed",
            'storageclass.storage.k8s.io "ceph-blockk" not found',
            9,
        )
    )
    return items


def placeholder(items: list[Obj]) -> list[Obj]:
    """The ``web`` Kustomization has no postBuild: ``${SECRET_DOMAIN}`` reached the cluster as written,
    in the HelmRelease values and so in what Helm rendered from them."""
    env = [{"name": "PUBLIC_URL", "value": "https://web.${SECRET_DOMAIN}"}]
    hr = find(items, "HelmRelease", "web")
    hr["spec"]["values"]["controllers"]["web"]["containers"]["app"]["env"] = env
    find(items, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["env"] = env
    return items


def escaped_placeholder(items: list[Obj]) -> list[Obj]:
    """``$${NGINX_PORT}`` in Git under postBuild: Flux unescapes it to ``${NGINX_PORT}`` on purpose."""
    find(items, "Kustomization", "web")["spec"]["postBuild"] = {"substitute": {"APP": "web"}}
    hr = find(items, "HelmRelease", "web")
    hr["spec"]["values"]["controllers"]["web"]["containers"]["app"]["args"] = ["--listen=${NGINX_PORT}"]
    return items


def dependency_missing(items: list[Obj]) -> list[Obj]:
    """``gateway`` never reached the cluster (its parent was pruned of it): ``echo`` and ``web`` wait."""
    items = [o for o in items if not (o["kind"] == "Kustomization" and o["metadata"]["name"] == "gateway")]
    not_ready(
        find(items, "Kustomization", "echo"),
        "DependencyNotReady",
        "unable to get 'flux-system/gateway' dependency: Kustomization.kustomize.toolkit.fluxcd.io \"gateway\" not found",
    )
    not_ready(
        find(items, "Kustomization", "web"),
        "DependencyNotReady",
        "dependency 'flux-system/echo' is not ready",
    )
    return items


def image_drift(items: list[Obj]) -> list[Obj]:
    """Git moved web to 1.29.1 (ImageUpdateFlow) in the last commit; the cluster has not applied it and
    still runs 1.29.0."""
    old = "ghcr.io/nginx/nginx-unprivileged:1.29.0"
    ks = find(items, "Kustomization", "web")
    ks["status"]["lastAppliedRevision"] = "main@sha1:0123456789abcdef0123456789abcdef01234567"
    hr = find(items, "HelmRelease", "web")
    hr["spec"]["values"]["controllers"]["web"]["containers"]["app"]["image"]["tag"] = "1.29.0"
    find(items, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"] = old
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"]["name"].startswith("web-"))
    pod["spec"]["containers"][0]["image"] = old
    pod["status"]["containerStatuses"][0]["image"] = old
    return items


def bootstrapping(items: list[Obj]) -> list[Obj]:
    """A healthy cluster mid-rollout: ``echo`` is still installing, ``web`` waits for it. Not a problem."""
    hr = find(items, "HelmRelease", "echo")
    hr["status"]["conditions"] = [
        {
            "type": "Ready",
            "status": "Unknown",
            "reason": "Progressing",
            "message": "Running 'install' action with timeout of 5m0s",
        },
        {
            "type": "Reconciling",
            "status": "True",
            "reason": "Progressing",
            "message": "Running 'install' action with timeout of 5m0s",
        },
    ]
    ks = find(items, "Kustomization", "echo")
    ks["status"]["conditions"] = [
        {
            "type": "Ready",
            "status": "Unknown",
            "reason": "Progressing",
            "message": "Reconciliation in progress",
        },
        {
            "type": "Reconciling",
            "status": "True",
            "reason": "Progressing",
            "message": "Reconciliation in progress",
        },
    ]
    not_ready(
        find(items, "Kustomization", "web"),
        "DependencyNotReady",
        "dependency 'flux-system/echo' is not ready",
    )
    return items


SCENARIOS: dict[str, Callable[[list[Obj]], list[Obj]]] = {
    "vault-chain": vault_chain,
    "crash-loop": crash_loop,
    "helmrelease-stuck": helmrelease_stuck,
    "externalsecret-sync": externalsecret_sync,
    "stale-secret": stale_secret,
    "httproute-backend": httproute_backend,
    "httproute-gateway": httproute_gateway,
    "storage-claim": storage_claim,
    "placeholder": placeholder,
    "escaped-placeholder": escaped_placeholder,
    "image-drift": image_drift,
    "dependency-missing": dependency_missing,
    "bootstrapping": bootstrapping,
}


def snapshot(items: list[Obj]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "homeops": {"takenAt": NOW, "source": "tests/doctor/cluster_states.py", "unavailable": []},
    }


def write(path: Path, scenario: str | None = None, head: str = HEAD) -> Path:
    _head[0] = head
    items = healthy()
    if scenario:
        items = SCENARIOS[scenario](items)
    path.write_text(json.dumps(snapshot(items), indent=1))
    return path
