"""The platform every new repository carries, in the seeds' bootstrap order.

cilium (networking) → coredns (DNS) → spegel (image cache) → cert-manager → external-secrets →
the 1Password ClusterSecretStore ``onepassword`` → cloudnative-pg operator → envoy-gateway →
the internal and external Gateways (with a wildcard certificate) → apps. Each :class:`Unit` is one
Flux Kustomization; the layouts decide where its files go and how it names its chart source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import resources as res
from .catalog import CHARTS, Chart

STORE = "onepassword"
"""Name of the ClusterSecretStore (and of the Kustomization that provides it)."""
STORE_TOKEN_SECRET = "onepassword-secret"
"""Secret (namespace external-secrets) holding the 1Password service-account token: created at
bootstrap, never committed."""
GATEWAY_NAMESPACE = "network"
ISSUERS = {
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """One Flux Kustomization of the platform."""

    name: str
    namespace: str
    app: str
    """Folder of the app in flat and clusters layouts (``kube-system/<app>``)."""
    folder: str
    """Sub-folder of the app folder (``app``, ``issuers``, ``config``)."""
    files: Mapping[str, tuple[dict[str, Any], ...]]
    """File name → the documents in it (without the chart source)."""
    depends_on: tuple[str, ...] = ()
    chart: Chart | None = None
    wait: bool = True
    substitutes: bool = False
    """Its manifests use ``${VAR}`` placeholders."""
    labels: Mapping[str, str] = field(default_factory=dict)


def _release(
    name: str, chart: str, values: Mapping[str, Any], *, source_namespace: str | None, retries: bool
) -> dict[str, Any]:
    return res.vendor_release(name, CHARTS[chart], values, source_namespace=source_namespace, retries=retries)


def units(
    *, source_namespace: str | None, retries: bool, secret_file: str = "externalsecret.yaml"
) -> tuple[Unit, ...]:
    """The platform; HelmReleases name their HelmRepository in ``source_namespace`` (None: their own),
    ExternalSecrets go to files named ``secret_file``."""

    def hr(name: str, chart: str, values: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], ...]]:
        return {
            "helmrelease.yaml": (
                _release(name, chart, values, source_namespace=source_namespace, retries=retries),
            )
        }

    return (
        Unit(
            "cilium",
            "kube-system",
            "cilium",
            "app",
            hr(
                "cilium",
                "cilium",
                {
                    "ipam": {"mode": "kubernetes"},
                    "kubeProxyReplacement": True,
                    "k8sServiceHost": "127.0.0.1",
                    "k8sServicePort": 7445,
                },
            ),
            chart=CHARTS["cilium"],
        ),
        Unit(
            "coredns",
            "kube-system",
            "coredns",
            "app",
            hr("coredns", "coredns", {"fullnameOverride": "coredns", "service": {"clusterIP": "10.43.0.10"}}),
            depends_on=("cilium",),
            chart=CHARTS["coredns"],
        ),
        Unit(
            "spegel",
            "kube-system",
            "spegel",
            "app",
            hr("spegel", "spegel", {"spegel": {"containerdSock": "/run/containerd/containerd.sock"}}),
            depends_on=("coredns",),
            chart=CHARTS["spegel"],
        ),
        Unit(
            "cert-manager",
            "cert-manager",
            "cert-manager",
            "app",
            hr(
                "cert-manager",
                "cert-manager",
                {"crds": {"enabled": True}, "dns01RecursiveNameservers": "https://1.1.1.1:443/dns-query"},
            ),
            depends_on=("spegel",),
            chart=CHARTS["cert-manager"],
        ),
        Unit(
            "external-secrets",
            "external-secrets",
            "external-secrets",
            "app",
            hr("external-secrets", "external-secrets", {"installCRDs": True}),
            depends_on=("cert-manager",),
            chart=CHARTS["external-secrets"],
        ),
        Unit(
            STORE,
            "external-secrets",
            STORE,
            "app",
            {"clustersecretstore.yaml": (_store(),)},
            depends_on=("external-secrets",),
        ),
        Unit(
            "cert-manager-issuers",
            "cert-manager",
            "cert-manager",
            "issuers",
            {
                "clusterissuers.yaml": tuple(_issuer(n, url) for n, url in ISSUERS.items()),
                secret_file: (_cloudflare_token(),),
            },
            depends_on=("cert-manager", STORE),
            wait=False,
            substitutes=True,
        ),
        Unit(
            "cloudnative-pg-operator",
            "dbms",
            "cloudnative-pg",
            "app",
            hr(
                "cloudnative-pg",
                "cloudnative-pg",
                {"crds": {"create": True}, "monitoring": {"podMonitorEnabled": False}},
            ),
            depends_on=(STORE,),
            chart=CHARTS["cloudnative-pg"],
        ),
        Unit(
            "envoy-gateway",
            GATEWAY_NAMESPACE,
            "envoy-gateway",
            "app",
            hr(
                "envoy-gateway",
                "envoy-gateway",
                {"config": {"envoyGateway": {"provider": {"type": "Kubernetes"}}}},
            ),
            depends_on=("cloudnative-pg-operator",),
            chart=CHARTS["envoy-gateway"],
        ),
        Unit(
            "envoy-gateway-config",
            GATEWAY_NAMESPACE,
            "envoy-gateway",
            "config",
            {
                "gatewayclass.yaml": (_gateway_class(),),
                "gateways.yaml": (_gateway("internal"), _gateway("external")),
                "certificate.yaml": (_certificate(),),
            },
            depends_on=("envoy-gateway", "cert-manager-issuers"),
            wait=False,
            substitutes=True,
        ),
    )


def _store() -> dict[str, Any]:
    return {
        "apiVersion": res.ESO,
        "kind": "ClusterSecretStore",
        "metadata": {"name": STORE},
        "spec": {
            "provider": {
                "onepasswordSDK": {
                    "vault": "homelab",
                    "auth": {
                        "serviceAccountSecretRef": {
                            "name": STORE_TOKEN_SECRET,
                            "namespace": "external-secrets",
                            "key": "token",
                        }
                    },
                }
            }
        },
    }


def _cloudflare_token() -> dict[str, Any]:
    return {
        "apiVersion": res.ESO,
        "kind": "ExternalSecret",
        "metadata": {"name": "cloudflare-api-token"},
        "spec": {
            "refreshInterval": "12h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": STORE},
            "target": {"name": "cloudflare-api-token"},
            "data": [{"secretKey": "api-token", "remoteRef": {"key": "cloudflare/CLOUDFLARE_API_TOKEN"}}],
        },
    }


def _issuer(name: str, server: str) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": name},
        "spec": {
            "acme": {
                "server": server,
                "email": "${SECRET_ACME_EMAIL}",
                "privateKeySecretRef": {"name": name},
                "solvers": [
                    {
                        "dns01": {
                            "cloudflare": {
                                "apiTokenSecretRef": {"name": "cloudflare-api-token", "key": "api-token"}
                            }
                        },
                        "selector": {"dnsZones": ["${SECRET_DOMAIN}"]},
                    }
                ],
            }
        },
    }


def _gateway_class() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "envoy"},
        "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    }


def _gateway(kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {
            "name": f"envoy-{kind}",
            "namespace": GATEWAY_NAMESPACE,
            "annotations": {f"{kind}-dns.alpha.kubernetes.io/target": f"{kind}.${{SECRET_DOMAIN}}"},
        },
        "spec": {
            "gatewayClassName": "envoy",
            "addresses": [{"type": "IPAddress", "value": f"${{GATEWAY_{kind.upper()}_IP}}"}],
            "listeners": [
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "hostname": "*.${SECRET_DOMAIN}",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                    "tls": {"certificateRefs": [{"kind": "Secret", "name": "wildcard-tls"}]},
                }
            ],
        },
    }


def _certificate() -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "wildcard", "namespace": GATEWAY_NAMESPACE},
        "spec": {
            "secretName": "wildcard-tls",
            "issuerRef": {"kind": "ClusterIssuer", "name": "${CERT_ISSUER}"},
            "dnsNames": ["${SECRET_DOMAIN}", "*.${SECRET_DOMAIN}"],
        },
    }
