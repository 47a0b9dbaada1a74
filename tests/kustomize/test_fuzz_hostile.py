"""Hostile repositories, generated: ``kustomize build``, ``check`` and ``build`` never crash, stay within
a time and memory bound, and never read or print anything outside the repository.

Hypothesis (derandomized, a bounded number of examples) assembles small repositories from hostile
parts: kustomization entries that escape (absolute paths, ``..``, ``rel=`` generator names, symlinks to
files and folders outside, ``file://`` and unreachable remote bases, plugin configurations with paths
out), files that are hard to read (an alias bomb, deep nesting, duplicate keys, invalid UTF-8, a
HelmRelease whose values are an alias bomb), with or without a feature that sends the build to the
``kubectl kustomize`` fallback; special files that are symlinks out (``.gitignore``, ``.sourceignore``,
``.sops.yaml``, the ledger, ``.homeops.yaml``); an ArtifactGenerator whose ``to`` climbs out or is
absolute; a chart of the repository with a template or values file through a symlink out, values files
and ``file://`` dependencies that climb out. Outside the repository sits a canary. For each repository,
each command runs in-process while an audit hook records every file opened: the canary never appears
in the output, no opened path resolves outside the repository (kubectl itself runs on a private copy,
so its reads are covered by the canary), nothing is written outside, no traceback, a documented exit
code.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kustomize_testlib import kubectl_path

from homeops.cli.main import main

CANARY = "CANARY-fuzz-3b1d"
SECONDS = 20.0
"""Per command; a hang (an alias bomb expanded) would take far longer or exhaust memory first."""
PEAK_BYTES = 300 * 1024 * 1024

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open" and args and isinstance(args[0], str | bytes):
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if not flags & getattr(os, "O_NOFOLLOW", 0):  # such an open refuses a symlink: nothing read
            _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # process-wide and permanent: it records only while _OPENED is a list

BOMB = "a0: &a0 [lol]\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 25))

RESOURCES = {
    "ok": "cm.yaml",
    "absolute": "{outside}/base/secret.yaml",
    "escape": "../../outside/base",
    "linked-folder": "linked-base",
    "linked-file": "linked.yaml",
    "remote-unreachable": "https://git.homeops.invalid/org/repo.git//base?ref=v1.0.0",
    "remote-local": "file://{outside}/repo.git//base?ref=v1",
    "missing": "missing.yaml",
    "bomb": "bomb.yaml",
    "deep": "deep.yaml",
    "duplicate-keys": "dup.yaml",
    "latin1": "latin1.yaml",
    "helmrelease-bomb": "helmrelease.yaml",
}
GENERATOR_FILES = {
    "ok": "ok.txt",
    "rel-escape": "rel=../../outside/keys.txt",
    "absolute": "{outside}/keys.txt",
    "linked": "linked.txt",
    "two-equals": "a=b=c",
}
EXTRAS = {
    "none": "",
    "replacements": "replacements:\n  - source: {kind: ConfigMap, name: cm, fieldPath: data.a}\n"
    "    targets:\n      - select: {kind: ConfigMap, name: cm}\n        fieldPaths: [data.b]\n",
    "transformer-out": "transformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n"
    "    metadata:\n      name: p\n    path: ../../outside/patch.yaml\n",
    "patch-out": "patches:\n  - path: {outside}/patch.yaml\n",
    "openapi-out": "openapi:\n  path: ../../outside/keys.txt\n",
}

SPECIAL = {  # repository files homeops reads on its own, as symlinks leading out
    "gitignore": ".gitignore",
    "sourceignore": ".sourceignore",
    "sops-config": ".sops.yaml",
    "ledger": ".homeops/ledger.json",
    "settings": ".homeops.yaml",
}
ARTIFACT_TO = {
    "none": None,
    "ok": "@artifact/",
    "dot": "@artifact/.",
    "climbs": "@artifact/" + "../" * 12 + "{outside_rel}/written-by-artifact.yaml",
    "absolute": "@artifact/{outside}/written-by-artifact.yaml",
}
CHART = {  # (HelmRelease chart, valuesFiles, Chart.yaml dependencies)
    "none": None,
    "ok": ("./charts/web", [], ""),
    "linked-template": ("./charts/web", [], ""),
    "values-climb": ("./charts/web", ["../outside/values.yaml"], ""),
    "values-linked": ("./charts/web", ["charts/web/linked-values.yaml"], ""),
    "chart-climbs": ("../outside/chart", [], ""),
    "chart-linked": ("./charts/linked", [], ""),
    "dependency-climbs": (
        "./charts/web",
        [],
        "dependencies:\n  - name: elsewhere\n    version: '*'\n    repository: file://../../../outside/chart\n",
    ),
}

example = st.fixed_dictionaries(
    {
        "resources": st.lists(st.sampled_from(sorted(RESOURCES)), min_size=1, max_size=4, unique=True),
        "files": st.lists(st.sampled_from(sorted(GENERATOR_FILES)), max_size=2, unique=True),
        "extras": st.lists(st.sampled_from(sorted(EXTRAS)), max_size=2, unique=True),
        "generated": st.booleans(),
        "special": st.lists(st.sampled_from(sorted(SPECIAL)), max_size=2, unique=True),
        "artifact": st.sampled_from(sorted(ARTIFACT_TO)),
        "chart": st.sampled_from(sorted(CHART)),
    }
)


def _outside(tmp: Path) -> Path:
    outside = tmp / "outside"
    (outside / "base").mkdir(parents=True)
    (outside / "keys.txt").write_text(f"{CANARY}\n")
    (outside / "base" / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    (outside / "base" / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  key: {CANARY}\n"
    )
    (outside / "patch.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  z: {CANARY}\n"
    )
    (outside / "values.yaml").write_text(f"leaked: {CANARY}\n")
    _chart(outside / "chart", "elsewhere")
    (outside / "chart" / "templates" / "canary.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\ndata:\n  k: {CANARY}\n"
    )
    return outside


def _chart(folder: Path, name: str, dependencies: str = "") -> None:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{dependencies}")
    (folder / "values.yaml").write_text("message: hi\n")
    (folder / "templates" / "values.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-values\n"
        "data:\n  values: {{ toYaml .Values | quote }}\n"
    )


def _repo(tmp: Path, outside: Path, spec: dict[str, Any]) -> Path:
    repo = tmp / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "flux.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    (app / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: x\n  b: y\n"
    )
    (app / "ok.txt").write_text("fine\n")
    (app / "bomb.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n" +
                                   "".join(f"  {line}\n" for line in BOMB.splitlines()))  # fmt: skip
    (app / "deep.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  a: "
                                   + "[" * 5000 + "]" * 5000 + "\n")  # fmt: skip
    (app / "dup.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  name: again\n")
    (app / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\xfcrich\n")
    (app / "helmrelease.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: hr\nspec:\n"
        "  interval: 1h\n  chart:\n    spec:\n      chart: x\n"
        "      sourceRef: {kind: HelmRepository, name: r}\n"
        "  values:\n" + "".join(f"    {line}\n" for line in BOMB.splitlines())
    )
    os.symlink(outside / "keys.txt", app / "linked.txt")
    os.symlink(outside / "base" / "secret.yaml", app / "linked.yaml")
    os.symlink(outside / "base", app / "linked-base")
    for name in spec.get("special", ()):
        (repo / SPECIAL[name]).parent.mkdir(exist_ok=True)
        os.symlink(outside / "keys.txt", repo / SPECIAL[name])
    to = ARTIFACT_TO[spec.get("artifact", "none")]
    if to is not None:
        target = to.format(outside=outside, outside_rel=str(outside).lstrip("/"))
        (repo / "artifacts.yaml").write_text(
            "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata:\n"
            "  name: gen\n  namespace: flux-system\nspec:\n  sources:\n    - alias: repo\n"
            "      kind: GitRepository\n      name: flux-system\n  artifacts:\n    - name: art\n"
            '      copy:\n        - from: "@repo/app/**"\n          to: "@artifact/app/"\n'
            f'        - from: "@repo/app/cm.yaml"\n          to: "{target}"\n'
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            "  name: from-artifact\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n"
            "  prune: true\n  sourceRef:\n    kind: ExternalArtifact\n    name: art\n"
        )
    chart = CHART[spec.get("chart", "none")]
    if chart is not None:
        path, values_files, dependencies = chart
        _chart(repo / "charts" / "web", "web", dependencies)
        if spec["chart"] == "linked-template":
            os.symlink(outside / "patch.yaml", repo / "charts" / "web" / "templates" / "leak.yaml")
        os.symlink(outside / "values.yaml", repo / "charts" / "web" / "linked-values.yaml")
        os.symlink(outside / "chart", repo / "charts" / "linked")
        (repo / "web").mkdir()
        (repo / "web-ks.yaml").write_text(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n"
            "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./web\n  prune: true\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
        (repo / "web" / "release.yaml").write_text(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
            "  namespace: default\nspec:\n  interval: 1h\n  chart:\n    spec:\n"
            f"      chart: {path}\n      valuesFiles: {values_files}\n"
            "      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n"
        )
    if spec["generated"] and not spec["files"] and not spec["extras"]:
        return repo  # no kustomization.yaml: Flux generates one from every file of the folder
    text = "resources:\n" + "".join(f"  - {RESOURCES[name]}\n" for name in spec["resources"])
    if spec["files"]:
        text += "configMapGenerator:\n  - name: gen\n    files:\n"
        text += "".join(f"      - {GENERATOR_FILES[name]}\n" for name in spec["files"])
    text += "".join(EXTRAS[name] for name in spec["extras"])
    (app / "kustomization.yaml").write_text(text.replace("{outside}", str(outside)))
    return repo


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], outside: Path) -> tuple[int, str]:
    global _OPENED
    _OPENED = []
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = main(argv)
    finally:
        elapsed = time.perf_counter() - started
        _size, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        opened, _OPENED = _OPENED, None
    out, err = capsys.readouterr()
    assert elapsed < SECONDS, f"{argv} took {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"{argv} peaked at {peak / 1e6:.0f} MB"
    real_outside = os.path.realpath(outside)
    escaped = [p for p in opened if os.path.realpath(p).startswith(real_outside + os.sep)]
    assert not escaped, f"{argv} opened {escaped}"
    assert CANARY not in out + err, argv
    assert "Traceback" not in err and "internal error" not in err, err
    written = [p for p in outside.rglob("written-*")]
    assert not written, f"{argv} wrote {written}"
    return code, err


@settings(
    derandomize=True,
    max_examples=25,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: shrinking costs minutes
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=example)
def test_hostile_repositories(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    spec: dict[str, Any],
) -> None:
    kubectl_path()
    tmp = tmp_path_factory.mktemp("hostile")
    outside = _outside(tmp)
    repo = _repo(tmp, outside, spec)
    # --offline: deterministic, remote bases are never fetched here
    code, err = _run(
        ["kustomize", "build", str(repo / "app"), "--flux", "-o", "json", "--offline"], capsys, outside
    )
    assert code in (0, 3, 4), err
    settings_linked = "settings" in spec["special"]  # a .homeops.yaml leading out: a usage error
    code, err = _run(["check", str(repo), "-o", "json", "--no-cache", "--offline"], capsys, outside)
    assert code in ((2,) if settings_linked else (0, 1)), err
    code, err = _run(["build", "ks", "app", str(repo), "-o", "json", "--offline"], capsys, outside)
    assert code in ((2,) if settings_linked else (0, 1, 3)), err
    if spec["artifact"] != "none":
        argv = ["build", "ks", "from-artifact", str(repo), "-o", "json", "--offline"]
        code, err = _run(argv, capsys, outside)
        assert code in ((2,) if settings_linked else (0, 1, 3)), err
    if spec["chart"] != "none":
        code, err = _run(["build", "hr", "web", str(repo), "-o", "json", "--offline"], capsys, outside)
        assert code in ((2,) if settings_linked else (0, 1, 3)), err


def test_an_alias_bomb_never_reaches_kubectl(tmp_path: Path) -> None:
    # kubectl has no bound of its own: on this file it grows past 10 GB. The fallback's copy only
    # takes files that parse within go-yaml's limits.
    from homeops.errors import KustomizeError
    from homeops.kustomize import build
    from homeops.load.tree import SourceTree

    kubectl_path()
    spec = {"resources": ["ok", "bomb"], "files": [], "extras": ["replacements"], "generated": False}
    repo = _repo(tmp_path, _outside(tmp_path), spec)
    started = time.perf_counter()
    with pytest.raises(KustomizeError, match="excessive aliasing") as caught:
        build(SourceTree(repo), "app", flux=True)
    assert time.perf_counter() - started < 5
    assert caught.value.where is not None and caught.value.where.path == "app/bomb.yaml"
