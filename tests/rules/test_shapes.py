"""Rules on repository shapes their fixtures do not show: a root applying its own provider, a
substituteFrom Secret an ExternalSecret fills."""

from __future__ import annotations

from pathlib import Path

from rules_testlib import findings

SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1h, url: "https://github.com/example/home", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1h
  path: ./cluster
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_root_is_never_told_to_depend_on_its_own_child(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "cluster/flux-system/gotk-sync.yaml": SYNC,
            "cluster/externalsecret.yaml": (
                "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\n"
                "metadata: {name: backup, namespace: default}\n"
                "spec:\n  secretStoreRef: {kind: ClusterSecretStore, name: vault}\n  target: {name: backup}\n"
            ),
            "cluster/store.yaml": (
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                "metadata: {name: store, namespace: flux-system}\n"
                "spec: {interval: 1h, path: ./store, prune: true, wait: true, "
                "sourceRef: {kind: GitRepository, name: flux-system}}\n"
            ),
            "store/clustersecretstore.yaml": (
                "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata: {name: vault}\n"
                "spec: {provider: {vault: {server: http://vault:8200}}}\n"
            ),
        },
    )
    assert [f for f in findings(repo) if f.rule == "DEP003"] == []


def test_substituting_from_a_secret_an_external_secret_fills(tmp_path: Path) -> None:
    # cluster-secrets comes from a vault: it exists, its keys cannot be read here; nothing is missing.
    repo = write(
        tmp_path / "repo",
        {
            "cluster/flux-system/gotk-sync.yaml": SYNC,
            "cluster/cluster-secrets.yaml": (
                "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\n"
                "metadata: {name: cluster-secrets, namespace: flux-system}\n"
                "spec:\n  secretStoreRef: {kind: ClusterSecretStore, name: onepassword}\n"
                "  dataFrom: [{extract: {key: cluster}}]\n"
            ),
            "cluster/apps.yaml": (
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                "metadata: {name: apps, namespace: flux-system}\n"
                "spec:\n  interval: 1h\n  path: ./apps\n  prune: true\n"
                "  sourceRef: {kind: GitRepository, name: flux-system}\n"
                "  postBuild:\n    substituteFrom: [{kind: Secret, name: cluster-secrets}]\n"
            ),
            "apps/configmap.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: default}\n"
                "data: {url: 'https://web.${SECRET_DOMAIN}'}\n"
            ),
        },
    )
    found = findings(repo)
    assert [f for f in found if f.rule.startswith("SUB")] == []
