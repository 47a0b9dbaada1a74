"""The README of a new repository: how to bootstrap it and what the user still has to fill in."""

from __future__ import annotations

from .layouts import Settings, Skeleton
from .platform import STORE, STORE_TOKEN_SECRET

_ENTRY = {
    "flat": "kubernetes/flux/cluster",
    "clusters": "kubernetes/<cluster>/flux",
    "layered": "clusters/home",
}
_SETTINGS = {
    "flat": "kubernetes/components/common/cluster-settings.yaml",
    "clusters": "kubernetes/<cluster>/components/common/cluster-settings.yaml",
    "layered": "clusters/home/platform-settings.yaml",
}
_DESCRIPTION = {
    "flat": "one cluster, apps at `kubernetes/apps/<namespace>/<app>/ks.yaml` + `app/`.",
    "clusters": "two isolated clusters, `kubernetes/main` and `kubernetes/staging`, that share no file; apps "
    "at `kubernetes/<cluster>/apps/<namespace>/<app>/install.yaml` + `app/` (+ `db/`).",
    "layered": "`clusters/home` (Flux entry, ordering, `platform-settings`), `infrastructure/`, "
    "`platform-services/` and `tenants/` with the `apps-staging` and `apps-prod` environments.",
}


def readme(layout: str, settings: Settings, skeleton: Skeleton) -> str:
    clusters = ", ".join(c.cluster for c in skeleton.conventions)
    secret_note = (
        "`SECRET_DOMAIN` and `SECRET_ACME_EMAIL` are in `cluster-secrets.sops.yaml`, encrypted with sops "
        "(`homeops secrets edit FILE` to change them)."
        if settings.encrypted
        else "No age key was known when this repository was written, so nothing was encrypted: "
        "`SECRET_DOMAIN` and `SECRET_ACME_EMAIL` sit in the settings ConfigMap, marked. Run "
        "`homeops secrets init`, move them into a `cluster-secrets.sops.yaml` Secret next to the settings, "
        "run `homeops secrets encrypt`, and add `decryption: {provider: sops, secretRef: {name: sops-age}}` "
        "to the entry Kustomization."
    )
    lines = [
        "# home-ops",
        "",
        f"A Flux homelab repository written by `homeops new --layout {layout}`: {_DESCRIPTION[layout]}",
        "",
        "Bootstrap order (as `dependsOn` chains): cilium → coredns → spegel → cert-manager → "
        f"external-secrets → 1Password store `{STORE}` → cloudnative-pg → envoy-gateway → gateways → apps.",
        "",
        "## Before the first reconcile",
        "",
        f"1. Settings ({_SETTINGS[layout]}): timezone, gateway addresses, `STORAGE_CLASS` (install that "
        "storage provider), `NFS_SERVER`/`NFS_PATH`. " + secret_note,
        "2. The Git URL of this repository"
        + ("" if layout == "flat" else f" (`{settings.git_url}` is a placeholder)")
        + ".",
        "3. Bootstrap secrets, never committed:",
        "   - `kubectl -n flux-system create secret generic sops-age --from-file=age.agekey=<your age key>`"
        + ("" if settings.encrypted else " (once you have one)"),
        f"   - `kubectl -n external-secrets create secret generic {STORE_TOKEN_SECRET} "
        "--from-literal=token=<1Password service-account token>` (vault `homelab`)",
        "   - 1Password items: `cloudflare` (field `CLOUDFLARE_API_TOKEN`, for DNS-01 certificates) and "
        "one per app that reads a secret.",
        f"4. `flux bootstrap git --url=<this repository> --path={_ENTRY[layout]}` (cluster: {clusters}).",
        "",
        "## Day to day",
        "",
        "- `homeops check`: the rule catalog; this repository starts with no finding.",
        "- `homeops add app NAME "
        + ("--env staging|prod" if layout == "layered" else "--namespace NS")
        + " [--route internal|external|none] [--storage pvc|nfs|none] [--secret ITEM|--no-secret] "
        "[--database] [--image REPO:TAG@sha256:…]`: the app triad, wired in. An image given without its "
        "digest is marked `# homeops: pin digest`: pin it.",
        "- `homeops mode cert-issuer letsencrypt-staging|letsencrypt-prod [--commit]`: switches "
        "`CERT_ISSUER`.",
    ]
    if layout == "layered":
        lines.append(
            "- `homeops mode app-env NAME staging|prod [--commit]`: points "
            "`clusters/home/app-NAME.yaml` at the other overlay."
        )
    lines += [
        "",
        "The example app (`example`) runs it-tools, pinned by digest. Chart versions are pinned; Renovate "
        "can keep them and the digests current.",
        "",
    ]
    return "\n".join(lines)
