"""Remote kustomize bases: fetched once into the cache from a real Git remote, built from the cache
afterwards and offline, refused as a limit of the machine (not a fault of the repository) when they
cannot be fetched, and flagged when they follow a branch. The remote is a local bare repository
(``file://``), never the internet."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kustomize_testlib import differences, kubectl_build, kubectl_path

from homeops.cli.main import main
from homeops.errors import HomeopsError
from homeops.kustomize import BuildResult, build, remote
from homeops.kustomize.loader import OutsideSource, RemoteUnavailable
from homeops.load.tree import SourceTree
from services import GitRemote, git_remote

BASE = {
    "base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
    "spec:\n  replicas: 1\n",
}


@pytest.fixture
def origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRemote]:
    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")
    with git_remote(tmp_path / "git") as repo:
        repo.commit(BASE, "base v1")
        repo.tag("v1.0.0")
        yield repo


def _repo(tmp: Path, entry: str) -> Path:
    repo = tmp / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app").mkdir()
    (repo / "app" / "kustomization.yaml").write_text(
        f"resources:\n  - {entry}\nnamespace: web\nreplicas:\n  - name: web\n    count: 3\n"
    )
    return repo


def _git_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record every git command the remote cache runs (and still run it)."""
    from homeops.render.charts import git

    calls: list[list[str]] = []
    real = git._git

    def spy(args: list[str], *rest: object, **kw: object) -> object:
        calls.append(args)
        return real(args, *rest, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(git, "_git", spy)
    return calls


def test_a_pinned_base_is_fetched_once_then_built_from_the_cache(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    calls = _git_calls(monkeypatch)
    first = build(SourceTree(repo), "app", flux=True)
    assert [(r.obj["kind"], r.obj["metadata"]) for r in first.resources] == [
        ("Deployment", {"name": "web", "namespace": "web"})
    ]
    assert first.resources[0].obj["spec"]["replicas"] == 3  # the overlay applies to the remote base
    assert calls, "the first build fetches"
    calls.clear()
    shutil.rmtree(origin.bare)  # the remote is gone: only the cache can answer now
    again = build(SourceTree(repo), "app", flux=True)
    assert [r.obj for r in again.resources] == [r.obj for r in first.resources]
    assert calls == []
    offline = build(SourceTree(repo), "app", flux=True, offline=True)
    assert [r.obj for r in offline.resources] == [r.obj for r in first.resources]


def test_offline_without_the_cache_is_a_limit_not_a_fault(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    calls = _git_calls(monkeypatch)
    with pytest.raises(RemoteUnavailable) as caught:
        build(SourceTree(repo), "app", flux=True, offline=True)
    assert calls == []
    assert "offline" in caught.value.message
    assert caught.value.where is not None and (caught.value.where.path, caught.value.where.line) == (
        "app/kustomization.yaml",
        2,
    )


def test_an_unreachable_base_says_why_and_is_not_retried_at_once(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    missing = origin.url.replace("remote.git", "missing.git")
    repo = _repo(tmp_path, f"{missing}//base?ref=v1.0.0")
    calls = _git_calls(monkeypatch)
    with pytest.raises(RemoteUnavailable) as caught:
        build(SourceTree(repo), "app", flux=True)
    assert "does not appear to be a git repository" in caught.value.message  # git's own words
    assert "exit status" not in caught.value.message
    tried = len(calls)
    with pytest.raises(RemoteUnavailable):
        build(SourceTree(repo), "app", flux=True)
    assert len(calls) == tried  # remembered for a while: a cold check does not pay for it every run


def test_check_warns_and_never_errors_for_what_it_could_not_fetch(
    tmp_path: Path, origin: GitRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=main")
    (repo / "flux.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    main(["check", str(repo), "--output", "json", "--no-cache", "--offline"])
    found = json.loads(capsys.readouterr().out)["findings"]
    mine = sorted((f["rule"], f["severity"], f["line"]) for f in found if f["path"].startswith("app/"))
    assert mine == [("LOAD005", "warning", 2), ("LOAD006", "warning", 2)]
    assert not [f for f in found if f["severity"] == "error"]


def test_the_cli_builds_from_the_cache_and_matches_kubectl(
    tmp_path: Path, origin: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    assert main(["kustomize", "build", str(repo / "app"), "-o", "json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built[0]["metadata"] == {"name": "web", "namespace": "web"}
    assert main(["kustomize", "build", str(repo / "app"), "--offline", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == built


@pytest.mark.parametrize(
    ("entry", "url", "path", "ref"),
    [
        ("https://github.com/org/repo//deploy/base?ref=v1.2.0", "https://github.com/org/repo", "deploy/base",
         "v1.2.0"),
        ("github.com/org/repo/deploy?ref=abc", "https://github.com/org/repo", "deploy", "abc"),
        ("git::https://gitlab.example/org/repo.git//base?version=v2", "https://gitlab.example/org/repo.git",
         "base", "v2"),
        ("https://git.example/org/repo.git/base", "https://git.example/org/repo.git", "base", ""),
        ("git@github.com:org/repo.git/base?ref=v1", "git@github.com:org/repo.git", "base", "v1"),
        ("ssh://git@host/org/repo.git//x?ref=main&timeout=90", "ssh://git@host/org/repo.git", "x", "main"),
        ("file:///srv/git/repo.git//base?ref=v1", "file:///srv/git/repo.git", "base", "v1"),
    ],
)  # fmt: skip
def test_remote_entries_are_read_as_kustomize_reads_them(entry: str, url: str, path: str, ref: str) -> None:
    spec = remote.parse(entry)
    assert spec is not None
    assert (spec.url, spec.path, spec.ref) == (url, path, ref)


def test_a_plain_web_file_is_not_a_repository() -> None:
    assert remote.parse("https://raw.example/org/repo/main/deploy.yaml") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo/releases/download/v0.5.0/manifest.yaml",
        "https://github.com/org/repo/releases/latest/download/manifest.yaml",
        "https://github.com/org/repo/raw/v1.2.0/deploy/crds.yaml",
        "https://gitlab.com/org/repo/-/raw/main/deploy.yaml",
    ],
)
def test_a_forge_web_file_is_not_a_repository(url: str) -> None:
    # kustomize downloads every http(s) resource first and clones only when the server answers an
    # error: a release asset or a raw file is served, so it is a file, not a repository
    assert remote.parse(url) is None


def test_a_repository_path_on_a_forge_is_still_a_repository() -> None:
    spec = remote.parse("https://github.com/org/repo/releases/base?ref=v1.0.0")
    assert spec is not None and spec.url == "https://github.com/org/repo" and spec.path == "releases/base"
    spec = remote.parse("github.com/org/repo/releases/download/v1/x.yaml")  # no scheme: never fetched
    assert spec is not None and spec.url == "https://github.com/org/repo"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("", False), ("main", False), ("v1.2.3", True), ("1.2", True), ("0" * 40, True), ("feature-x", None)],
)
def test_pinned_refs(ref: str, expected: bool | None) -> None:
    spec = remote.parse(f"https://github.com/org/repo//base?ref={ref}" if ref else "github.com/org/repo/base")
    assert spec is not None and remote.pinned(spec) is expected


def test_errors_are_homeops_errors() -> None:
    assert issubclass(RemoteUnavailable, HomeopsError)


CRDS = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n"  # noqa: E501


def test_a_web_file_is_downloaded_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_path()
    from services import helm_http_repo

    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")
    served = tmp_path / "web" / "v1.0.0"
    served.mkdir(parents=True)
    (served / "crds.yaml").write_text(CRDS)
    with helm_http_repo(tmp_path / "web") as web:
        repo = _repo(tmp_path, f"{web.url}/v1.0.0/crds.yaml")
        (repo / "app" / "kustomization.yaml").write_text(f"resources:\n  - {web.url}/v1.0.0/crds.yaml\n")
        first = build(SourceTree(repo), "app", flux=True)
        again = build(SourceTree(repo), "app", flux=True)
        assert web.requests == ["/v1.0.0/crds.yaml"]  # a versioned URL is fetched once
    assert [r.obj["metadata"]["name"] for r in first.resources] == ["widgets.example.com"]
    assert [r.obj for r in again.resources] == [r.obj for r in first.resources]
    assert [r.obj for r in build(SourceTree(repo), "app", flux=True, offline=True).resources] == [
        r.obj for r in first.resources
    ]


def test_local_network_addresses_are_never_fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a hostile kustomization could otherwise pull a cloud's metadata endpoint into build output
    monkeypatch.delenv("HOMEOPS_ALLOW_LOCAL_REMOTES", raising=False)
    for entry in (
        "http://169.254.169.254/latest/meta-data/iam.yaml",
        "https://127.0.0.1/org/repo.git//base?ref=v1",
    ):
        repo = _repo(tmp_path / str(abs(hash(entry))), entry)
        with pytest.raises(OutsideSource, match="local or private address") as caught:
            build(SourceTree(repo), "app", flux=True)
        assert caught.value.where is not None and caught.value.where.line == 2
        assert caught.value.message.startswith("remote ") and "in the remote" not in caught.value.message


FLUX_APP = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
    "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)


def _load005(repo: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> list[int]:
    main(["check", str(repo), "--output", "json", *flags])
    return [f["line"] for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "LOAD005"]


def test_offline_is_an_option_of_one_command_not_of_the_process(
    tmp_path: Path, origin: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    assert main(["kustomize", "build", str(repo / "app"), "--offline"]) == 3  # not cached yet
    assert "offline" in capsys.readouterr().err
    # the same process, later, without --offline: the network is used again
    built = build(SourceTree(repo), "app", flux=True)
    assert [r.obj["metadata"]["name"] for r in built.resources] == ["web"]


def test_a_cached_check_that_could_not_fetch_expires(
    tmp_path: Path, origin: GitRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network coming back changes no file: the stored result must not outlive the failure."""
    import time

    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    (repo / "flux.yaml").write_text(FLUX_APP)
    away = origin.bare.with_name("away.git")
    origin.bare.rename(away)  # the host is unreachable
    assert _load005(repo, capsys) == [2]
    origin.bare.parent.joinpath("away.git").rename(origin.bare)  # and back
    assert _load005(repo, capsys) == [2]  # the failure is remembered for a while, as by the fetch
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 11 * 60)
    assert _load005(repo, capsys) == []  # then tried again, and it works
    # offline, a result is kept apart from the online one: it says what could not be fetched
    (repo / "app" / "kustomization.yaml").write_text(
        f"resources:\n  - {origin.url}//base?ref=main\n"  # a branch: not in the cache
    )
    assert _load005(repo, capsys, "--offline") == [2]
    assert _load005(repo, capsys) == []


def test_what_follows_a_branch_is_trusted_for_an_hour(tmp_path: Path, origin: GitRemote) -> None:
    kubectl_path()
    repo = _repo(tmp_path, f"{origin.url}//base?ref=main")
    build(SourceTree(repo), "app", flux=True)
    now = __import__("time").time()
    until = remote.expiry(SourceTree(repo), ["app/kustomization.yaml"], failed=False, now=now)
    assert until is not None and now + 3500 < until <= now + 3600
    pinned = _repo(tmp_path / "pinned", f"{origin.url}//base?ref=v1.0.0")
    assert remote.expiry(SourceTree(pinned), ["app/kustomization.yaml"], failed=False, now=now) is None
    assert remote.expiry(SourceTree(pinned), [], failed=True, now=now) == now + 600


# -- remote bases built natively from the cache, compared with the real kubectl kustomize -----------

REMOTE_TREE = {
    **BASE,
    "overlay/kustomization.yaml": "resources:\n  - ../base\n  - service.yaml\nnamePrefix: ov-\n"
    "commonLabels:\n  tier: web\nconfigMapGenerator:\n  - name: settings\n    files: [config.ini]\n"
    "images:\n  - name: nginx\n    newTag: '1.27'\n",
    "overlay/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
    "  selector:\n    app: web\n  ports:\n    - port: 80\n",
    "overlay/config.ini": "[main]\nport = 80\n",
    "base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
    "  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx\n"
    "          envFrom:\n            - configMapRef:\n                name: settings\n",
    "replaced/kustomization.yaml": "resources: [../base]\nreplacements:\n  - source:\n"
    "      kind: Deployment\n      fieldPath: metadata.name\n    targets:\n      - select:\n"
    "          kind: Deployment\n"
    "        fieldPaths: [metadata.labels.copied]\n        options:\n          create: true\n",
}

LOCAL_APP = (
    "resources:\n  - {entry}\n  - local.yaml\nnamespace: web\nnameSuffix: -x\n"
    "patches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n"
    "        path: /spec/replicas\n        value: 3\n"
)


def _kubectl_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record every kubectl the build runs (and still run it)."""
    from homeops import proc

    calls: list[list[str]] = []
    real = proc.run

    def spy(argv: list[str], *rest: object, **kw: object) -> object:
        if argv and argv[0] == "kubectl":
            calls.append(argv)
        return real(argv, *rest, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(proc, "run", spy)
    return calls


def _overlay_repo(tmp: Path, entry: str) -> Path:
    repo = _repo(tmp, entry)
    (repo / "app" / "kustomization.yaml").write_text(LOCAL_APP.format(entry=entry))
    (repo / "app" / "local.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n")
    return repo


def _assert_built_as_kubectl_builds(
    tmp: Path, repo: Path, built: BuildResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``built`` (homeops' build of ``app``) holds what the real ``kubectl kustomize`` builds for it,
    cloning the remote itself."""
    monkeypatch.setenv("HOME", str(tmp / "kubectl-home"))
    expected = kubectl_build(repo / "app")
    assert not expected.failed, expected.error
    assert expected.objects is not None
    assert differences(expected.objects, [r.obj for r in built.resources]) == ""


def test_a_cached_remote_base_is_built_natively_as_kubectl_builds_it(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    # transformers on both sides, a generator and a nested base reached by '..' inside the checkout
    origin.commit(REMOTE_TREE, "overlay")
    origin.tag("v2.0.0")
    entry = f"{origin.url}//overlay?ref=v2.0.0"
    repo = _overlay_repo(tmp_path, entry)
    kubectl = _kubectl_calls(monkeypatch)
    built = build(SourceTree(repo), "app", flux=True)
    assert built.fallback is None and kubectl == []
    _assert_built_as_kubectl_builds(tmp_path, repo, built, monkeypatch)
    names = sorted(r.obj["metadata"]["name"] for r in built.resources)
    assert names[0] == "local-x" and "ov-web-x" in names
    # the remote's objects are placed at the entry's line; the local ones at their own file
    where = {r.obj["metadata"]["name"]: (r.origin.path, r.origin.line) for r in built.resources}
    assert where["ov-web-x"] == ("app/kustomization.yaml", 2)
    assert where["local-x"] == ("app/local.yaml", 1)
    assert "app/local.yaml" in built.files
    assert not [f for f in built.files if "overlay" in f or "base/" in f]  # the checkout is not the repo


def test_a_cached_remote_base_builds_offline_without_kubectl(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    build(SourceTree(repo), "app", flux=True)  # fills the cache
    shutil.rmtree(origin.bare)
    kubectl = _kubectl_calls(monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no kubectl to run, no git to fetch with
    built = build(SourceTree(repo), "app", flux=False, offline=True, fallback=False)
    assert kubectl == []
    assert [(r.obj["metadata"], r.obj["spec"]["replicas"]) for r in built.resources] == [
        ({"name": "web", "namespace": "web"}, 3)
    ]


def test_a_remote_base_using_what_native_leaves_to_kubectl_still_builds_right(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin.commit(REMOTE_TREE, "replacements")
    origin.tag("v2.0.0")
    repo = _overlay_repo(tmp_path, f"{origin.url}//replaced?ref=v2.0.0")
    kubectl = _kubectl_calls(monkeypatch)
    built = build(SourceTree(repo), "app", flux=True)
    assert built.fallback is not None and "remote resource" in built.fallback
    assert len(kubectl) == 1
    _assert_built_as_kubectl_builds(tmp_path, repo, built, monkeypatch)
    deployment = next(r.obj for r in built.resources if r.obj["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["copied"] == "web"


def test_a_remote_base_may_not_read_a_file_outside_its_folder(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a clone is always LoadRestrictionsRootOnly, even where the caller (Flux) is not
    origin.commit({"escape/kustomization.yaml": "resources: [../base/deployment.yaml]\n"}, "escape")
    origin.tag("v3.0.0")
    repo = _repo(tmp_path, f"{origin.url}//escape?ref=v3.0.0")
    with pytest.raises(HomeopsError, match="LoadRestrictionsRootOnly") as caught:
        build(SourceTree(repo), "app", flux=True)
    assert caught.value.where is not None and caught.value.where.line == 2  # the entry, in the repository
    assert "escape/kustomization.yaml" in caught.value.message  # and where in the remote
    monkeypatch.setenv("HOME", str(tmp_path / "kubectl-home"))
    assert "is not in or below" in kubectl_build(repo / "app").error  # kustomize refuses it too


def test_a_web_file_is_built_natively_as_kubectl_builds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import helm_http_repo

    kubectl_path()
    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")
    served = tmp_path / "web" / "v1.0.0"
    served.mkdir(parents=True)
    (served / "crds.yaml").write_text(CRDS + "---\n" + CRDS.replace("widgets", "gadgets"))
    with helm_http_repo(tmp_path / "web") as web:
        entry = f"{web.url}/v1.0.0/crds.yaml"
        repo = _repo(tmp_path, entry)
        (repo / "app" / "kustomization.yaml").write_text(
            f"resources:\n  - {entry}\ncommonLabels:\n  app: widgets\nnamePrefix: p-\n"
        )
        kubectl = _kubectl_calls(monkeypatch)
        built = build(SourceTree(repo), "app", flux=True)
        assert built.fallback is None and kubectl == []
        expected = kubectl_build(repo / "app")
    assert expected.objects is not None, expected.error
    assert differences(expected.objects, [r.obj for r in built.resources]) == ""
    assert {(r.origin.path, r.origin.line) for r in built.resources} == {("app/kustomization.yaml", 2)}


def test_offline_with_an_empty_cache_is_still_a_limit_and_runs_nothing(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _overlay_repo(tmp_path, f"{origin.url}//base?ref=v1.0.0")
    kubectl = _kubectl_calls(monkeypatch)
    calls = _git_calls(monkeypatch)
    with pytest.raises(RemoteUnavailable, match="offline") as caught:
        build(SourceTree(repo), "app", flux=True, offline=True)
    assert (kubectl, calls) == ([], [])
    assert caught.value.where is not None and caught.value.where.line == 2


def test_a_remote_component_is_built_natively_as_kubectl_builds_it(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin.commit(
        {
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "resources: [extra.yaml]\ncommonAnnotations:\n  from: component\npatches:\n  - target:\n"
            "      kind: Deployment\n    patch: |-\n      - op: add\n        path: /metadata/labels\n"
            "        value: {patched: 'yes'}\n",
            "comp/extra.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: extra\n",
        },
        "component",
    )
    origin.tag("v4.0.0")
    repo = _repo(tmp_path, "deployment.yaml")
    (repo / "app" / "deployment.yaml").write_text(BASE["base/deployment.yaml"])
    (repo / "app" / "kustomization.yaml").write_text(
        f"resources:\n  - deployment.yaml\ncomponents:\n  - {origin.url}//comp?ref=v4.0.0\nnamespace: web\n"
    )
    kubectl = _kubectl_calls(monkeypatch)
    built = build(SourceTree(repo), "app", flux=True)
    assert built.fallback is None and kubectl == []
    _assert_built_as_kubectl_builds(tmp_path, repo, built, monkeypatch)
    where = {r.obj["kind"]: (r.origin.path, r.origin.line) for r in built.resources}
    assert where == {
        "Deployment": ("app/deployment.yaml", 1),
        "ServiceAccount": ("app/kustomization.yaml", 4),
    }


def test_nothing_outside_the_checkout_is_read_through_a_remote_base(
    tmp_path: Path, origin: GitRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n")
    origin.commit(
        {
            "leak/kustomization.yaml": "resources: [leak.yaml]\n",
            "up/kustomization.yaml": "resources: [../../outside]\n",
        },
        "leak",
    )
    origin.tag("v5.0.0")
    spec = remote.parse(f"{origin.url}//leak?ref=v5.0.0")
    assert spec is not None
    checkout = remote.checkout(spec)
    (checkout.root / "leak" / "leak.yaml").symlink_to(secret)  # as a hostile remote's tree could hold
    for folder in ("leak", "up"):
        repo = _repo(tmp_path / folder, f"{origin.url}//{folder}?ref=v5.0.0")
        with pytest.raises(OutsideSource) as caught:
            build(SourceTree(repo), "app", flux=True)
        assert caught.value.where is not None and caught.value.where.line == 2  # the entry, here
        assert f"({folder}/kustomization.yaml, line 1, in the remote)" in caught.value.message


def test_a_remote_base_under_bases_is_placed_at_its_line(tmp_path: Path, origin: GitRemote) -> None:
    repo = _repo(tmp_path, "local.yaml")
    (repo / "app" / "local.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n")
    (repo / "app" / "kustomization.yaml").write_text(
        f"resources:\n  - local.yaml\nbases:\n  - {origin.url}//base?ref=v1.0.0\n"
    )
    built = build(SourceTree(repo), "app", flux=True)
    assert [(r.obj["kind"], r.origin.path, r.origin.line) for r in built.resources] == [
        ("ConfigMap", "app/local.yaml", 1),
        ("Deployment", "app/kustomization.yaml", 4),
    ]
