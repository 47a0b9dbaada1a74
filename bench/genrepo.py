"""Generate synthetic homelab repositories for the benchmarks, in the shapes real repositories have.

:func:`generate` makes the flat layout with N apps (for scaling): per app a ks.yaml (a Flux
Kustomization with postBuild and dependsOn), app/kustomization.yaml, a HelmRelease of app-template
through a per-app OCIRepository, and an ExternalSecret; namespaces of 50 apps each.

:func:`generate_shape` makes one of :data:`SHAPES`, each stressing another part of homeops:

* ``many-small``: hundreds of tiny apps (a Deployment and a Service each, no chart);
* ``few-large``: a handful of apps with app-template HelmReleases of big values, many plain
  manifests and a vendored CRD bundle each;
* ``many-clusters``: a dozen clusters bootstrapped by ``flux bootstrap`` (``gotk-sync.yaml``), each
  with its own overlays of shared bases (the flux2-kustomize-helm-example layout, scaled);
* ``deep-components``: apps built through overlays of overlays and chains of kustomize components,
  plus Flux ``spec.components``;
* ``mixed``: what the corpus repositories have together: app-template HelmReleases with big values
  and substitution, ExternalSecrets, SOPS-encrypted Secrets with a ``.sops.yaml``, shared components,
  and remote kustomize bases (pinned, already in homeops' cache: :func:`seed_cache`).

    python bench/genrepo.py OUT_DIR N            # the flat layout with N apps
    python bench/genrepo.py OUT_DIR SHAPE [CACHE] # one shape (CACHE: a HOMEOPS_CACHE_DIR to seed)
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


# -- shapes --------------------------------------------------------------------------------------


def _flux_ks(name: str, path: str, *, namespace: str = "", extra: str = "") -> str:
    """A Flux Kustomization of the cluster's own GitRepository."""
    meta = f"  namespace: {namespace}\n" if namespace else ""
    return (
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        f"  name: {name}\n{meta}spec:\n  interval: 1h\n  path: {path}\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        + ("    namespace: flux-system\n" if not namespace else "")
        + extra
    )


def _deployment(app: str, i: int, *, replicas: int = 1, env: int = 3) -> str:
    variables = "".join(
        f'            - name: VAR_{n}\n              value: "{app}-{n}"\n' for n in range(env)
    )
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app.kubernetes.io/name: {app}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/{app}:1.{i}.0@sha256:{i:064x}
          ports:
            - name: http
              containerPort: 8080
          env:
{variables}          resources:
            requests:
              cpu: 10m
              memory: 64Mi
            limits:
              memory: 256Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
    - name: http
      port: 80
      targetPort: http
"""


def _big_values(app: str, i: int, controllers: int) -> str:
    """app-template values as large apps have them: several controllers, env, probes, routes."""
    out = ["  values:\n    controllers:\n"]
    for c in range(controllers):
        env = "".join(f'              {app.upper()}_SETTING_{n}: "{n * 7 + c}"\n' for n in range(12))
        out.append(f"""      {app}-c{c}:
        annotations:
          reloader.stakater.com/auto: "true"
        pod:
          securityContext:
            runAsUser: ${{APP_UID:=1000}}
            runAsGroup: 1000
            fsGroup: 1000
            fsGroupChangePolicy: OnRootMismatch
        containers:
          app:
            image:
              repository: ghcr.io/example/{app}-{c}
              tag: 2.{i}.{c}@sha256:{i * 100 + c:064x}
            env:
              TZ: Europe/Berlin
{env}              SECRET_TOKEN:
                valueFrom:
                  secretKeyRef:
                    name: {app}-secret
                    key: TOKEN
            envFrom:
              - secretRef:
                  name: {app}-secret
            probes:
              liveness: &probes
                enabled: true
                custom: true
                spec:
                  httpGet:
                    path: /healthz
                    port: &port{c} {8080 + c}
                  initialDelaySeconds: 0
                  periodSeconds: 10
                  timeoutSeconds: 1
                  failureThreshold: 3
              readiness: *probes
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
              capabilities: {{drop: ["ALL"]}}
            resources:
              requests:
                cpu: 10m
              limits:
                memory: 1Gi
""")
    out.append("    service:\n")
    for c in range(controllers):
        out.append(
            f"      {app}-c{c}:\n        controller: {app}-c{c}\n        ports:\n"
            f"          http:\n            port: {8080 + c}\n"
        )
    out.append(f"""    route:
      app:
        hostnames: ["{app}.${{SECRET_DOMAIN}}"]
        parentRefs:
          - name: envoy-internal
            namespace: network
    persistence:
      config:
        existingClaim: {app}
      tmp:
        type: emptyDir
      media:
        type: nfs
        server: nas.internal
        path: /volume1/media
        globalMounts:
          - path: /media
            readOnly: true
""")
    return "".join(out)


def _helmrelease(app: str, i: int, *, controllers: int = 1) -> str:
    return f"""---
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
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
{_big_values(app, i, controllers)}"""


def _crd(app: str, properties: int) -> str:
    """A vendored CRD bundle with a large schema (real repos keep such files, some over 1 MB)."""
    fields = "".join(
        f"""                field{n}:
                  description: Field {n} of the {app} resource; a long description as CRDs have them,
                    folded over two lines.
                  type: object
                  properties:
                    name: {{type: string}}
                    value: {{type: integer, format: int64, minimum: 0}}
                    enabled: {{type: boolean}}
                    items:
                      type: array
                      items: {{type: string}}
"""
        for n in range(properties)
    )
    return f"""---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets{app}.example.com
spec:
  group: example.com
  names:
    kind: Widget{app.capitalize()}
    plural: widgets{app}
    singular: widget{app}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
{fields}"""


def _configmap(name: str, keys: int) -> str:
    data = "".join(f'  key{n}.conf: |\n    setting = {n}\n    other = "{name}"\n' for n in range(keys))
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{data}"


def _sops_secret(name: str, i: int, *keys: str) -> str:
    """A SOPS-encrypted Secret as sops writes it (the values are opaque: check never decrypts)."""
    blob = "".join(f"{(i * 31 + n) % 256:02x}" for n in range(48))
    enc = f"ENC[AES256_GCM,data:{blob},iv:{blob[:32]}=,tag:{blob[:24]}==,type:str]"
    more = "".join(f"  {key}: {enc}\n" for key in keys)
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: {name}
stringData:
  TOKEN: {enc}
  PASSWORD: {enc}
{more}sops:
  age:
    - recipient: age1am64psa3hmwqnc924p9vuphyp4txekclpsysx6fkqtktgzppgusqfah833
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB6M3k4NXNlMHMxRExnT05B
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2026-01-01T00:00:00Z"
  mac: {enc}
  encrypted_regex: ^(data|stringData)$
  version: 3.10.2
"""


SOPS_RULES = """---
creation_rules:
  - path_regex: .+\\.sops\\.yaml
    encrypted_regex: ^(data|stringData)$
    age: age1am64psa3hmwqnc924p9vuphyp4txekclpsysx6fkqtktgzppgusqfah833
"""


def _pvc(app: str) -> str:
    return f"""---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {app}
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 2Gi
  storageClassName: ceph-block
"""


def _claims_and_secret(folder: Path, app: str, i: int) -> list[str]:
    """What an app-template release of :func:`_helmrelease` refers to: its Secret (SOPS) and claim."""
    write(folder / "secret.sops.yaml", _sops_secret(f"{app}-secret", i))
    write(folder / "pvc.yaml", _pvc(app))
    return ["./secret.sops.yaml", "./pvc.yaml"]


def many_small(out: Path, apps: int = 400) -> None:
    """Hundreds of tiny apps: per-object costs dominate, files are small."""
    write(out / "kubernetes/flux/cluster/ks.yaml", ENTRY)
    for i in range(apps):
        ns, app = f"ns{i // 40:03d}", f"tiny{i:04d}"
        base = out / "kubernetes/apps" / ns / app
        write(
            base / "ks.yaml",
            _flux_ks(app, f"./kubernetes/apps/{ns}/{app}/app", extra=f"  targetNamespace: {ns}\n"),
        )
        write(base / "app/kustomization.yaml", kustomization(["./deployment.yaml"]))
        write(base / "app/deployment.yaml", _deployment(app, i))
    _namespace_lists(out, apps, 40, "tiny")


def few_large(out: Path, apps: int = 8) -> None:
    """A handful of large apps: big documents, big values, a CRD bundle each."""
    write(out / "kubernetes/flux/cluster/ks.yaml", ENTRY)
    write(out / ".sops.yaml", SOPS_RULES)
    for i in range(apps):
        ns, app = "large", f"big{i:02d}"
        base = out / "kubernetes/apps" / ns / app
        write(
            base / "ks.yaml",
            _flux_ks(app, f"./kubernetes/apps/{ns}/{app}/app", extra=f"  targetNamespace: {ns}\n"),
        )
        parts = ["./helmrelease.yaml", "./ocirepository.yaml", "./crds.yaml"]
        parts += _claims_and_secret(base / "app", app, i)
        write(base / "app/helmrelease.yaml", _helmrelease(app, i, controllers=12))
        write(base / "app/ocirepository.yaml", OCI.format(app=app))
        write(base / "app/crds.yaml", _crd(app, 400))
        for n in range(25):
            name = f"config{n:02d}.yaml"
            write(base / "app" / name, _configmap(f"{app}-config{n:02d}", 30))
            parts.append(f"./{name}")
        write(base / "app/kustomization.yaml", kustomization(parts))
    write(
        out / "kubernetes/apps/large/kustomization.yaml",
        kustomization([f"./big{i:02d}/ks.yaml" for i in range(apps)], "large"),
    )


def many_clusters(out: Path, clusters: int = 12, apps: int = 20) -> None:
    """Many clusters from ``flux bootstrap``, each with overlays of shared bases."""
    write(out / ".sops.yaml", SOPS_RULES)
    for i in range(apps):
        app = f"svc{i:02d}"
        base = out / "apps/base" / app
        write(
            base / "kustomization.yaml",
            kustomization(
                [
                    "./namespace.yaml",
                    "./repository.yaml",
                    "./release.yaml",
                    *_claims_and_secret(base, app, i),
                ],
                app,
            ),
        )
        write(base / "namespace.yaml", f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {app}\n")
        write(base / "repository.yaml", OCI.format(app=app))
        write(base / "release.yaml", _helmrelease(app, i))
    for c in range(clusters):
        cluster = f"site{c:02d}"
        flux = out / "clusters" / cluster / "flux-system"
        write(
            flux / "gotk-sync.yaml",
            f"""---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/{cluster}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
        )
        write(flux / "kustomization.yaml", kustomization(["gotk-sync.yaml"]))
        write(
            out / "clusters" / cluster / "apps.yaml",
            _flux_ks(
                "apps",
                f"./apps/{cluster}",
                namespace="flux-system",
                extra="  dependsOn:\n    - name: infra-configs\n",
            )
            + _flux_ks("infra-configs", f"./infrastructure/{cluster}", namespace="flux-system"),
        )
        write(out / "infrastructure" / cluster / "kustomization.yaml", kustomization(["./issuer.yaml"]))
        write(out / "infrastructure" / cluster / "issuer.yaml", _configmap(f"{cluster}-settings", 4))
        overlay = out / "apps" / cluster
        patches = "".join(
            f"  - path: {app}-values.yaml\n    target:\n      kind: HelmRelease\n      name: {app}\n"
            for app in (f"svc{i:02d}" for i in range(apps))
        )
        write(
            overlay / "kustomization.yaml",
            kustomization([f"../base/svc{i:02d}" for i in range(apps)]) + "patches:\n" + patches,
        )
        for i in range(apps):
            app = f"svc{i:02d}"
            write(
                overlay / f"{app}-values.yaml",
                f"""---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  values:
    controllers:
      {app}-c0:
        replicas: {1 + c % 3}
""",
            )


def deep_components(out: Path, apps: int = 60, depth: int = 5) -> None:
    """Overlays of overlays and chains of components, as layered repositories nest them."""
    write(out / "kubernetes/flux/cluster/ks.yaml", ENTRY)
    comps = out / "kubernetes/components"
    for level in range(depth):
        folder = comps / f"level{level}"
        head = "---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        nested = f"components:\n  - ../level{level + 1}\n" if level + 1 < depth else ""
        write(
            folder / "kustomization.yaml",
            head
            + nested
            + f"""labels:
  - pairs:
      example.com/level{level}: "true"
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /metadata/annotations/level{level}
        value: "applied"
resources:
  - ./configmap.yaml
""",
        )
        write(folder / "configmap.yaml", _configmap(f"level{level}-${{APP}}", 3))
    for i in range(apps):
        ns, app = f"team{i // 15:02d}", f"deep{i:03d}"
        root = out / "kubernetes/apps" / ns / app
        write(
            root / "ks.yaml",
            _flux_ks(
                app,
                f"./kubernetes/apps/{ns}/{app}/overlays/prod",
                extra=f"  targetNamespace: {ns}\n  components:\n    - ../../../../../components/level0\n"
                f"  postBuild:\n    substitute:\n      APP: {app}\n",
            ),
        )
        write(root / "base/kustomization.yaml", kustomization(["./deployment.yaml"]))
        write(root / "base/deployment.yaml", _deployment(app, i, env=6))
        previous = "../../base"
        for stage in ("dev", "staging", "prod"):
            write(
                root / "overlays" / stage / "kustomization.yaml",
                kustomization([previous])
                + f"""namePrefix: ""
commonLabels:
  stage: {stage}
patches:
  - target:
      kind: Deployment
      name: {app}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: {2 if stage == "prod" else 1}
""",
            )
            previous = f"../{stage}"
    _namespace_lists(out, apps, 15, "deep", prefix="team")


REMOTE_BASE = "https://github.com/example/kustomize-bases//monitoring?ref=v1.4.0"
"""The remote base the ``mixed`` shape uses: :func:`seed_cache` puts it in homeops' cache."""


def mixed(out: Path, apps: int = 150) -> None:
    """What the corpus repositories have together, in one flat repository, with the few mistakes
    real ones have (so that findings are located and printed, as on a real repository): a tag without
    a digest, a dependency on a Kustomization that was removed, a Secret in plain text."""
    write(out / "kubernetes/flux/cluster/ks.yaml", ENTRY)
    write(out / ".sops.yaml", SOPS_RULES)
    comps = out / "kubernetes/components"
    write(
        comps / "common/kustomization.yaml",
        "---\napiVersion: kustomize.config.k8s.io/v1alpha1\n"
        "kind: Component\nresources:\n  - ./cluster-secrets.sops.yaml\n",
    )
    write(comps / "common/cluster-secrets.sops.yaml", _sops_secret("cluster-secrets", 0, "SECRET_DOMAIN"))
    write(
        comps / "volsync/kustomization.yaml",
        "---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./pvc.yaml\n",
    )
    write(
        comps / "volsync/pvc.yaml",
        """---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${APP}
spec:
  accessModes: ["${VOLSYNC_ACCESSMODES:=ReadWriteOnce}"]
  resources:
    requests:
      storage: ${VOLSYNC_CAPACITY:=5Gi}
  storageClassName: ${VOLSYNC_STORAGECLASS:=ceph-block}
""",
    )
    store_dir = out / "kubernetes/apps/external-secrets"
    write(store_dir / "kustomization.yaml", kustomization(["./onepassword/ks.yaml"], "external-secrets"))
    store_ks = STORE_KS.format(app="onepassword", ns="external-secrets") + "  wait: true\n"
    write(store_dir / "onepassword/ks.yaml", store_ks)
    write(store_dir / "onepassword/app/kustomization.yaml", kustomization(["./clustersecretstore.yaml"]))
    write(store_dir / "onepassword/app/clustersecretstore.yaml", STORE)
    for i in range(apps):
        ns, app = f"ns{i // 25:02d}", f"mix{i:03d}"
        base = out / "kubernetes/apps" / ns / app
        extra = (
            "  components:\n    - ../../../../components/volsync\n"
            "  dependsOn:\n    - name: onepassword\n      namespace: external-secrets\n"
            + ("    - name: retired-database\n" if i % 15 == 14 else "")
            + f"  postBuild:\n    substitute:\n      APP: {app}\n      VOLSYNC_CAPACITY: {1 + i % 9}Gi\n"
            + "    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n"
            f"  targetNamespace: {ns}\n"
        )
        write(base / "ks.yaml", _flux_ks(app, f"./kubernetes/apps/{ns}/{app}/app", extra=extra))
        parts = ["./helmrelease.yaml", "./ocirepository.yaml", "./externalsecret.yaml"]
        release = _helmrelease(app, i, controllers=1 + i % 3)
        if i % 10 == 9:
            release = release.replace(f"@sha256:{i * 100:064x}", "", 1)
        write(base / "app/helmrelease.yaml", release)
        write(base / "app/ocirepository.yaml", OCI.format(app=app))
        write(base / "app/externalsecret.yaml", ES.format(app=app))
        if i % 5 == 0:
            write(base / "app/secret.sops.yaml", _sops_secret(f"{app}-extra", i))
            parts.append("./secret.sops.yaml")
        if i % 20 == 19:
            plain = f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-plain\n"
            write(base / "app/secret.yaml", plain + "stringData:\n  password: hunter2hunter2\n")
            parts.append("./secret.yaml")
        if i % 25 == 3:  # one per namespace: the base's objects have fixed names
            parts.append(REMOTE_BASE)
        text = kustomization(parts)
        if i % 7 == 0:
            text += "configMapGenerator:\n  - name: " + app + "-config\n    files:\n      - ./config.ini\n"
            write(base / "app/config.ini", f"[main]\nname = {app}\nport = 8080\n")
        write(base / "app/kustomization.yaml", text)
    members: dict[str, list[str]] = {}
    for i in range(apps):
        members.setdefault(f"ns{i // 25:02d}", []).append(f"./mix{i:03d}/ks.yaml")
    for ns, entries in members.items():
        text = kustomization(entries, ns) + "components:\n  - ../../components/common\n"
        write(out / "kubernetes/apps" / ns / "kustomization.yaml", text)


def seed_cache(cache: Path) -> None:
    """Put :data:`REMOTE_BASE` in homeops' remote-base cache under ``cache`` (a HOMEOPS_CACHE_DIR), as
    one online run leaves it: a pinned tag resolved to a commit, and the files of that commit."""
    import json
    import os

    from homeops.kustomize import remote

    spec = remote.parse(REMOTE_BASE)
    assert spec is not None
    commit = "7" * 40
    previous = os.environ.get("HOMEOPS_CACHE_DIR")
    os.environ["HOMEOPS_CACHE_DIR"] = str(cache)
    try:
        ref, tree = remote._ref_file(spec), remote._tree_dir(spec.url, commit)
    finally:
        if previous is None:
            del os.environ["HOMEOPS_CACHE_DIR"]
        else:
            os.environ["HOMEOPS_CACHE_DIR"] = previous
    folder = tree / spec.path
    write(folder / "kustomization.yaml", kustomization(["./servicemonitor.yaml"]))
    write(
        folder / "servicemonitor.yaml",
        """---
apiVersion: v1
kind: ConfigMap
metadata:
  name: monitoring-defaults
data:
  scrape_interval: 30s
""",
    )
    record = {"url": spec.url, "ref": spec.ref, "commit": commit, "kind": "tag", "at": 0.0}
    write(ref, json.dumps(record, sort_keys=True))


def _namespace_lists(out: Path, apps: int, per: int, stem: str, prefix: str = "ns") -> None:
    for n in range((apps + per - 1) // per):
        ns = f"{prefix}{n:03d}" if prefix == "ns" else f"{prefix}{n:02d}"
        width = 4 if stem == "tiny" else 3
        members = [f"./{stem}{i:0{width}d}/ks.yaml" for i in range(n * per, min(apps, n * per + per))]
        write(out / "kubernetes/apps" / ns / "kustomization.yaml", kustomization(members, ns))


SHAPES = {
    "many-small": many_small,
    "few-large": few_large,
    "many-clusters": many_clusters,
    "deep-components": deep_components,
    "mixed": mixed,
}
"""Shape name → the function that writes it into an empty folder."""


def generate_shape(out: Path, shape: str, cache: Path | None = None) -> None:
    """Write ``shape`` (a key of :data:`SHAPES`, or ``flat-N``) into ``out``; seed ``cache`` (a
    HOMEOPS_CACHE_DIR) with what the shape expects there."""
    if shape.startswith("flat-"):
        generate(out, int(shape.removeprefix("flat-")))
    else:
        SHAPES[shape](out)
    if cache is not None and shape == "mixed":
        seed_cache(cache)


if __name__ == "__main__":
    target, what = Path(sys.argv[1]), sys.argv[2]
    if what.isdigit():
        generate(target, int(what))
    else:
        generate_shape(target, what, Path(sys.argv[3]) if len(sys.argv) > 3 else None)
