"""The versions homeops writes into new repositories: real pins, each with where it comes from.

Chart versions are the ones of the bundled example (``examples/home-ops``), except external-secrets:
the example's 0.12.1 does not serve the ``external-secrets.io/v1`` API nor the 1Password SDK provider
that the generated store uses; 0.17.0 is the first release that serves v1 and has both.

Image digests are only written when homeops knows the real digest of that tag. The one image it knows
is the example app's, copied with its digest from a Renovate-maintained repository (cited below); an
image given without a digest is written with the :data:`PIN_MARKER` comment for the user to pin.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.values import PIN_MARKER, ImageRef

__all__ = ["PIN_MARKER"]


@dataclass(frozen=True, slots=True)
class HelmRepo:
    """A chart repository (Flux ``HelmRepository``)."""

    name: str
    url: str

    @property
    def oci(self) -> bool:
        return self.url.startswith("oci://")


@dataclass(frozen=True, slots=True)
class Chart:
    """A vendor chart pinned to one version."""

    name: str
    version: str
    repo: HelmRepo


CILIUM = HelmRepo("cilium", "https://helm.cilium.io")
COREDNS = HelmRepo("coredns", "https://coredns.github.io/helm")
SPEGEL = HelmRepo("spegel", "oci://ghcr.io/spegel-org/helm-charts")
JETSTACK = HelmRepo("jetstack", "https://charts.jetstack.io")
EXTERNAL_SECRETS = HelmRepo("external-secrets", "https://charts.external-secrets.io")
CLOUDNATIVE_PG = HelmRepo("cloudnative-pg", "https://cloudnative-pg.github.io/charts")
ENVOY_GATEWAY = HelmRepo("envoy-gateway", "oci://docker.io/envoyproxy")

CHARTS: dict[str, Chart] = {
    "cilium": Chart("cilium", "1.16.5", CILIUM),
    "coredns": Chart("coredns", "1.37.0", COREDNS),
    "spegel": Chart("spegel", "0.0.28", SPEGEL),
    "cert-manager": Chart("cert-manager", "v1.16.2", JETSTACK),
    "external-secrets": Chart("external-secrets", "0.17.0", EXTERNAL_SECRETS),
    "cloudnative-pg": Chart("cloudnative-pg", "0.23.0", CLOUDNATIVE_PG),
    "envoy-gateway": Chart("gateway-helm", "v1.2.4", ENVOY_GATEWAY),
}

APP_TEMPLATE_URL = "oci://ghcr.io/bjw-s-labs/helm/app-template"
APP_TEMPLATE_VERSION = "5.1.0"

#: The example app's image: it-tools, a stateless web app listening on 8080, as pinned by Renovate in
#: bjw-s-labs/home-ops @ e183e642 (kubernetes/apps/selfhosted/it-tools/app/helmrelease.yaml).
EXAMPLE_IMAGE = ImageRef(
    "ghcr.io/sharevb/it-tools",
    "2026.7.11",
    "sha256:5d79e8c7fbf39d6473c282b9c4f86ff85c4900ec22ef766ae3c6f0f9ca8dbb37",
)
EXAMPLE_PORT = 8080
