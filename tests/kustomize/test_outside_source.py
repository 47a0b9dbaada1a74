"""Nothing outside the source root is ever read, by the native engine or by the kubectl fallback.

Every case puts a canary file outside the repository and a kustomization that tries to reach it: an
absolute path, ``..`` past the root, a ``rel=`` generator name, an in-repo symlink (to a file, to a
folder), a patch, a component, a plugin configuration, a replacement source, an OpenAPI schema, a
``file://`` base. Each is tried natively and, with ``replacements:`` added (a feature the engine leaves
to ``kubectl kustomize``), through the fallback. The build must fail with an error naming the
kustomization file and line, the canary must appear in no output, and ``check`` must report LOAD004.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from kustomize_testlib import kubectl_path

from homeops.cli.main import main
from homeops.errors import KustomizeError
from homeops.kustomize import build
from homeops.kustomize.loader import OutsideSource, path_kind
from homeops.load.tree import SourceTree

CANARY = "CANARY-7f3c-outside-the-source"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  a: x\n  b: y\n"
REPLACEMENTS = """replacements:
  - source: {kind: ConfigMap, name: base, fieldPath: data.a}
    targets:
      - select: {kind: ConfigMap, name: base}
        fieldPaths: [data.b]
"""


def _outside(tmp: Path) -> Path:
    outside = tmp / "outside"
    (outside / "base").mkdir(parents=True)
    (outside / "keys.txt").write_text(f"{CANARY}\n")
    (outside / "k.txt").write_text(f"{CANARY}\n")
    (outside / "base" / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    (outside / "base" / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  key: {CANARY}\n"
    )
    (outside / "patch.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  leaked: {CANARY}\n"
    )
    return outside


def _repo(tmp: Path, kustomization: str, *, links: dict[str, str] | None = None) -> Path:
    repo = tmp / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    (repo / ".git").mkdir()
    (app / "cm.yaml").write_text(CONFIGMAP)
    (app / "kustomization.yaml").write_text(kustomization)
    for name, target in (links or {}).items():
        os.symlink(target, app / name)
    return repo


#: (kustomization text after the resources, line the error must name, symlinks in app/)
GENERATOR = "configMapGenerator:\n  - name: leak\n    {field}:\n      - {path}\n"
VECTORS: dict[str, tuple[str, int, dict[str, str]]] = {
    "absolute-generator-file": (GENERATOR.format(field="files", path="{outside}/keys.txt"), 6, {}),
    "rel-escape": (GENERATOR.format(field="files", path="rel=../../outside/keys.txt"), 6, {}),
    "env-escape": (GENERATOR.format(field="envs", path="../../outside/keys.txt"), 6, {}),
    "symlinked-file": (GENERATOR.format(field="files", path="l.txt"), 6, {"l.txt": "../../outside/k.txt"}),
    "symlinked-folder": ("", 3, {"base": "../../outside/base"}),
    "absolute-resource": ("", 3, {}),
    "patch-escape": ("patches:\n  - path: ../../outside/patch.yaml\n", 4, {}),
    "component-escape": ("components:\n  - ../../outside/base\n", 4, {}),
}  # fmt: skip


def _kustomization(name: str, outside: Path, *, fallback: bool) -> str:
    body, _line, _links = VECTORS[name]
    resources = ["cm.yaml"]
    if name == "symlinked-folder":
        resources.append("base")
    if name == "absolute-resource":
        resources.append(f"{outside}/base")
    text = "resources:\n" + "".join(f"  - {r}\n" for r in resources) + body.format(outside=outside)
    return text + (REPLACEMENTS if fallback else "")


@pytest.mark.parametrize("fallback", [False, True], ids=["native", "kubectl-fallback"])
@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_way_out_is_refused_with_file_and_line(tmp_path: Path, name: str, fallback: bool) -> None:
    if fallback:
        kubectl_path()
    outside = _outside(tmp_path)
    repo = _repo(tmp_path, _kustomization(name, outside, fallback=fallback), links=VECTORS[name][2])
    expected_line = VECTORS[name][1]
    for flux in (True, False):
        with pytest.raises(OutsideSource) as caught:
            build(SourceTree(repo), "app", flux=flux)
        assert caught.value.where is not None
        assert (caught.value.where.path, caught.value.where.line) == ("app/kustomization.yaml", expected_line)
        assert CANARY not in str(caught.value)


def test_the_cli_never_prints_the_canary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_path()
    outside = _outside(tmp_path)
    for name in VECTORS:
        for fallback in (False, True):
            root = tmp_path / f"{name}-{fallback}"
            root.mkdir()
            repo = _repo(root, _kustomization(name, outside, fallback=fallback), links=VECTORS[name][2])
            code = main(["kustomize", "build", str(repo / "app"), "--flux", "-o", "json"])
            out, err = capsys.readouterr()
            assert code == 3, (name, fallback, err)
            assert CANARY not in out + err
            assert "app/kustomization.yaml:" in err


def _plugin_repo(tmp: Path, body: str, files: dict[str, str]) -> Path:
    repo = _repo(tmp, "resources:\n  - cm.yaml\n" + body)
    for rel, text in files.items():
        (repo / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / "app" / rel).write_text(text)
    return repo


@pytest.mark.parametrize(
    ("body", "files"),
    [
        # a transformer configuration file whose patch path leaves the source
        (
            "transformers:\n  - xform.yaml\n",
            {"xform.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\n"
                           "path: {outside}/patch.yaml\n"},
        ),
        # the same configuration inline
        (
            "transformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata:\n"
            "      name: p\n    path: ../../outside/patch.yaml\n",
            {},
        ),
        # a folder of transformer configurations
        (
            "transformers:\n  - xforms\n",
            {"xforms/kustomization.yaml": "resources: [gen.yaml]\n",
             "xforms/gen.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: g\n"
                                "files: [../../../outside/keys.txt]\n"},
        ),
        # a replacement source file outside
        ("replacements:\n  - path: ../../outside/patch.yaml\n", {}),
        # an OpenAPI schema outside
        ("openapi:\n  path: {outside}/keys.txt\n", {}),
    ],
    ids=["transformer-file", "transformer-inline", "transformer-folder", "replacement-path", "openapi"],
)  # fmt: skip
def test_fallback_only_features_are_checked_before_kubectl_runs(
    tmp_path: Path, body: str, files: dict[str, str]
) -> None:
    kubectl_path()
    outside = _outside(tmp_path)
    repo = _plugin_repo(
        tmp_path, body.format(outside=outside), {k: v.format(outside=outside) for k, v in files.items()}
    )
    with pytest.raises(OutsideSource) as caught:
        build(SourceTree(repo), "app", flux=True)
    assert caught.value.where is not None and caught.value.where.line > 0
    assert CANARY not in str(caught.value)


def test_plugins_and_helm_charts_are_refused_as_flux_refuses_them(tmp_path: Path) -> None:
    kubectl_path()
    repo = _plugin_repo(
        tmp_path,
        "transformers:\n  - x.yaml\n",
        {"x.yaml": "apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: x\n"},
    )
    with pytest.raises(KustomizeError, match="not one of kustomize's builtins"):
        build(SourceTree(repo), "app", flux=True)
    (repo / "app" / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\nhelmCharts:\n  - name: x\n    repo: https://charts.example.invalid\n"
    )
    with pytest.raises(KustomizeError, match="--enable-helm") as caught:
        build(SourceTree(repo), "app", flux=True)
    assert caught.value.where is not None and caught.value.where.line == 2


def test_a_file_remote_is_a_repository_outside_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOMEOPS_ALLOW_LOCAL_REMOTES", raising=False)
    outside = _outside(tmp_path)
    repo = _repo(tmp_path, f"resources:\n  - cm.yaml\n  - file://{outside}/repo.git//base?ref=v1\n")
    with pytest.raises(OutsideSource, match="repository on this machine") as caught:
        build(SourceTree(repo), "app", flux=True)
    assert caught.value.where is not None and caught.value.where.line == 3


def test_a_fallback_build_inside_the_source_still_works(tmp_path: Path) -> None:
    kubectl_path()
    repo = _repo(
        tmp_path,
        "resources:\n  - cm.yaml\nconfigMapGenerator:\n  - name: settings\n    files:\n      - linked.ini\n"
        + REPLACEMENTS,
        links={"linked.ini": "real.ini"},
    )
    (repo / "app" / "real.ini").write_text("mode = quiet\n")
    result = build(SourceTree(repo), "app", flux=True)
    assert result.fallback == "replacements"
    by_name = {r.obj["metadata"]["name"]: r.obj for r in result.resources}
    assert by_name["base"]["data"] == {"a": "x", "b": "x"}
    generated = next(obj for name, obj in by_name.items() if name.startswith("settings-"))
    assert generated["data"] == {"linked.ini": "mode = quiet\n"}


def test_check_reports_load004_as_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubectl_path()
    outside = _outside(tmp_path)
    repo = _repo(tmp_path, _kustomization("rel-escape", outside, fallback=True))
    (repo / "flux.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    code = main(["check", str(repo), "--output", "json", "--no-cache"])
    out, err = capsys.readouterr()
    found = json.loads(out)["findings"]
    load004 = [f for f in found if f["rule"] == "LOAD004"]
    assert code == 1
    assert [(f["path"], f["line"], f["severity"]) for f in load004] == [
        ("app/kustomization.yaml", 6, "error")
    ]
    assert CANARY not in out + err


def test_what_the_walk_left_out_is_still_looked_up_on_disk(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("ignored/\nlocal.yaml\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "app" / "local.yaml").write_text("x: 1\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "x.yaml").write_text("x: 1\n")
    (tmp_path / "empty").mkdir()
    tree = SourceTree(tmp_path)
    assert tree.files() == [".gitignore", "app/cm.yaml"]
    kinds = {p: path_kind(tree, p) for p in ("", "app", "app/cm.yaml", "app/local.yaml", "ignored", "empty")}
    assert kinds == {"": "dir", "app": "dir", "app/cm.yaml": "file", "app/local.yaml": "file",
                     "ignored": "dir", "empty": "dir"}  # fmt: skip
    missing = ("app/kustomization.yaml", "ignored/y.yaml", "ignored/x.yaml/z", "nope", "nope/x.yaml")
    assert [path_kind(tree, p) for p in missing] == [None] * 5
    assert path_kind(tree, "ignored/x.yaml") == "file"
