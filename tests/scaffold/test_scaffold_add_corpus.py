"""``homeops add app`` in copies of real repositories follows their conventions and adds no finding."""

from __future__ import annotations

import difflib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scaffold_testlib import cli, doc, docs, findings, keys_of

# repo folder, existing namespace, store Kustomization, gateway Kustomization
REPOS = [
    ("onedr0p__home-ops", "default", "onepassword-connect", "envoy-gateway"),
    ("bjw-s-labs__home-ops", "selfhosted", "onepassword-connect", "envoy-gateway-gateway"),
]


def _first_comment(path: Path) -> str:
    return next(line for line in path.read_text().splitlines() if line.startswith("#"))


def _most_common(values: list[Any]) -> Any:
    return Counter(values).most_common(1)[0][0]


def _sibling_values(apps: Path, name: str, *path: str) -> list[Any]:
    out = []
    for file in sorted(apps.glob(f"*/*/app/{name}")):
        for data in docs(file):
            for part in path:
                data = data.get(part) if isinstance(data, dict) else None
            if data is not None:
                out.append(data)
    return out


def _storage_classes(value: Any) -> list[str]:
    """Every storageClass / storageClassName value anywhere in the data."""
    if isinstance(value, dict):
        found = [str(v) for k, v in value.items() if k in ("storageClass", "storageClassName") and v]
        return found + [c for v in value.values() for c in _storage_classes(v)]
    if isinstance(value, list):
        return [c for v in value for c in _storage_classes(v)]
    return []


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize(("folder", "namespace", "store", "gateway"), REPOS)
def test_add_app_follows_the_repository(
    corpus: Path, tmp_path: Path, folder: str, namespace: str, store: str, gateway: str
) -> None:
    repo = tmp_path / folder
    shutil.copytree(corpus / folder, repo, symlinks=True)
    apps = repo / "kubernetes/apps"
    parent = apps / namespace / "kustomization.yaml"
    parent_before = parent.read_text()
    before = findings(repo)

    for argv in (
        [
            "homeops-full",
            "-n",
            namespace,
            "--route",
            "internal",
            "--storage",
            "pvc",
            "--secret",
            "homeops-item",
        ],
        ["homeops-plain", "-n", namespace, "--route", "none", "--no-secret"],
        ["homeops-new-ns", "-n", "homeops-space", "--route", "external", "--storage", "nfs", "--no-secret"],
    ):
        run = cli("add", "app", *argv, repo)
        assert run.code == 0, run.err

    # No finding appears (aggregated messages may count more objects; the place and rule must not change).
    assert keys_of(findings(repo)) - keys_of(before) == set()

    # The triad in the repository's own shape: ks.yaml + app/ with a per-app OCIRepository.
    app_dir = apps / namespace / "homeops-full"
    assert sorted(p.name for p in app_dir.iterdir()) == ["app", "ks.yaml"]
    assert sorted(p.name for p in (app_dir / "app").iterdir()) == [
        "externalsecret.yaml",
        "helmrelease.yaml",
        "kustomization.yaml",
        "ocirepository.yaml",
        "pvc.yaml",
    ]
    sibling = next(p for p in sorted((apps / namespace).glob("*/ks.yaml")) if "homeops" not in str(p))
    assert _first_comment(app_dir / "ks.yaml") == _first_comment(sibling)

    ks = doc(app_dir / "ks.yaml")
    spec = ks["spec"]
    assert ks["metadata"] == {"name": "homeops-full"}, "its namespace comes from the parent kustomization"
    assert list(spec) == sorted(spec), "spec keys sorted, as in the repository"
    assert spec["postBuild"]["substitute"]["APP"] == "homeops-full"
    assert spec["targetNamespace"] == namespace
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}
    waits = {(d["name"], d["namespace"]) for d in spec["dependsOn"]}
    assert waits == {(store, "external-secrets"), (gateway, "network")}
    assert "&app" not in (app_dir / "ks.yaml").read_text()

    oci = doc(app_dir / "app/ocirepository.yaml")
    assert oci["metadata"]["name"] == "homeops-full"
    assert oci["spec"]["url"] == "oci://ghcr.io/bjw-s-labs/helm/app-template"
    tags = _sibling_values(apps, "ocirepository.yaml", "spec", "ref", "tag")
    assert oci["spec"]["ref"]["tag"] == _most_common(tags)
    release = doc(app_dir / "app/helmrelease.yaml")
    assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "homeops-full"}
    intervals = _sibling_values(apps, "helmrelease.yaml", "spec", "interval")
    assert release["spec"]["interval"] == _most_common(intervals)
    route = release["spec"]["values"]["route"]["app"]
    assert route["parentRefs"] == [{"name": "envoy-internal", "namespace": "network"}]
    sibling_hosts = [
        h
        for hosts in _sibling_values(apps, "helmrelease.yaml", "spec", "values", "route")
        for r in hosts.values()
        if isinstance(r, dict)
        for h in r.get("hostnames", [])
    ]
    domains = {h.split(".", 1)[1] for h in sibling_hosts if "." in h and not h.startswith("{{")}
    domains |= {h.split("}}.", 1)[1] for h in sibling_hosts if h.startswith("{{ .Release.Name }}.")}
    assert route["hostnames"][0].split(".", 1)[1].split("}}.")[-1] in domains
    secret = doc(app_dir / "app/externalsecret.yaml")
    assert secret["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store}
    assert secret["spec"]["dataFrom"] == [{"extract": {"key": "homeops-item"}}]
    claim = doc(app_dir / "app/pvc.yaml")
    used = [
        c
        for p in repo.rglob("*.yaml")
        if "homeops" not in str(p.relative_to(repo))
        for c in _storage_classes(docs(p))
        if "$" not in c
    ]
    assert claim["spec"]["storageClassName"] == _most_common(used)

    new_release = doc(apps / "homeops-space/homeops-new-ns/app/helmrelease.yaml")
    nfs = new_release["spec"]["values"]["persistence"]["media"]
    persistence = _sibling_values(apps, "helmrelease.yaml", "spec", "values", "persistence")
    sibling_nfs = [
        (i["server"], i["path"])
        for items in persistence
        for i in items.values()
        if isinstance(i, dict) and i.get("type") == "nfs"
    ]
    assert (nfs["server"], nfs["path"]) == _most_common(sibling_nfs)

    # The parent kustomization.yaml: two lines added, everything else byte for byte.
    parent_after = parent.read_text()
    changed = [
        line
        for line in difflib.ndiff(parent_before.splitlines(), parent_after.splitlines())
        if line[:1] in "+-"
    ]
    assert sorted(changed) == ["+   - ./homeops-full/ks.yaml", "+   - ./homeops-plain/ks.yaml"]
    listed = [
        line.strip()[2:]
        for line in parent_after.splitlines()
        if line.strip().startswith("- ./") and line.strip().endswith("/ks.yaml")
    ]
    old = [e for e in listed if "homeops" not in e]
    if old == sorted(old):
        assert listed == sorted(listed), "a sorted list stays sorted"
    else:
        assert listed[-2:] == ["./homeops-full/ks.yaml", "./homeops-plain/ks.yaml"], "else appended"

    # A new namespace folder looks like its siblings.
    new_ns = doc(apps / "homeops-space/kustomization.yaml")
    old_ns = doc(parent)
    assert new_ns["namespace"] == "homeops-space"
    assert set(new_ns.get("components", [])) <= set(old_ns.get("components", []))
    assert ("./namespace.yaml" in new_ns["resources"]) == (apps / namespace / "namespace.yaml").exists()
