"""Generate a synthetic flat-layout homelab repository with N apps (for scaling benchmarks).

Each app is what real repos have: ks.yaml (a Flux Kustomization with postBuild and dependsOn),
app/kustomization.yaml, a HelmRelease of app-template through a per-app OCIRepository, and an
ExternalSecret. Apps are spread over namespaces of 50 apps each.

    python bench/genrepo.py OUT_DIR N
"""

from __future__ import annotations

import sys
from pathlib import Path

ENTRY = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app {app}
spec:
  dependsOn:
    - name: onepassword
      namespace: external-secrets
  interval: 1h
  path: ./kubernetes/apps/{ns}/{app}/app
  postBuild:
    substitute:
      APP: *app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: {ns}
"""

HELMRELEASE = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {app}
  install:
    remediation:
      retries: 3
  upgrade:
    remediation:
      retries: 3
  values:
    controllers:
      {app}:
        containers:
          app:
            image:
              repository: ghcr.io/example/{app}
              tag: 1.0.{i}@sha256:{digest}
            envFrom:
              - secretRef:
                  name: ${{APP}}-secret
    service:
      app:
        ports:
          http:
            port: 8080
    persistence:
      config:
        storageClass: ceph-block
        size: 1Gi
"""

OCI = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {app}
spec:
  interval: 1h
  ref:
    tag: 5.1.0
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
"""

ES = """---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {app}
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: onepassword
  target:
    name: {app}-secret
  dataFrom:
    - extract:
        key: {app}
"""

STORE_KS = KS.replace("  dependsOn:\n    - name: onepassword\n      namespace: external-secrets\n", "")

STORE = """---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: onepassword
spec:
  provider:
    onepassword:
      connectHost: http://onepassword-connect:8080
      vaults:
        homelab: 1
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def kustomization(resources: list[str], namespace: str | None = None) -> str:
    head = "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    if namespace:
        head += f"namespace: {namespace}\n"
    return head + "resources:\n" + "".join(f"  - {r}\n" for r in resources)


def generate(out: Path, apps: int) -> None:
    write(out / "kubernetes/flux/cluster/ks.yaml", ENTRY)
    store_dir = out / "kubernetes/apps/external-secrets"
    write(store_dir / "kustomization.yaml", kustomization(["./onepassword/ks.yaml"], "external-secrets"))
    write(store_dir / "onepassword/ks.yaml", STORE_KS.format(app="onepassword", ns="external-secrets"))
    write(store_dir / "onepassword/app/kustomization.yaml", kustomization(["./clustersecretstore.yaml"]))
    write(store_dir / "onepassword/app/clustersecretstore.yaml", STORE)
    for i in range(apps):
        ns = f"ns{i // 50:03d}"
        app = f"app{i:05d}"
        base = out / "kubernetes/apps" / ns
        write(base / app / "ks.yaml", KS.format(app=app, ns=ns))
        write(
            base / app / "app/kustomization.yaml",
            kustomization(["./helmrelease.yaml", "./ocirepository.yaml", "./externalsecret.yaml"]),
        )
        digest = f"{i:064x}"
        write(base / app / "app/helmrelease.yaml", HELMRELEASE.format(app=app, i=i, digest=digest))
        write(base / app / "app/ocirepository.yaml", OCI.format(app=app))
        write(base / app / "app/externalsecret.yaml", ES.format(app=app))
    for n in range((apps + 49) // 50):
        ns = f"ns{n:03d}"
        members = [f"./app{i:05d}/ks.yaml" for i in range(n * 50, min(apps, n * 50 + 50))]
        write(out / "kubernetes/apps" / ns / "kustomization.yaml", kustomization(members, ns))


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
