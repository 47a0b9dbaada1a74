"""Charts inside a Git repository (a bare remote reached by file://), and charts in local folders."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from homeops.render.charts import ChartCache, ChartNotCached, ChartSourceError
from homeops.render.helm import HelmOptions, chart_default_values, render_chart
from services import GitRemote, git_remote, helm_http_repo

CHARTS = Path(__file__).resolve().parents[1] / "testdata" / "charts"


def members(archive: Path) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes())) as tar:
        return sorted(m.name for m in tar.getmembers() if m.isfile())


@dataclass
class History:
    remote: GitRemote
    first: str
    second: str


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """v1.0.0 (annotated) and v1.1.0 tags; main carries a greeting change after v1.0.0."""
    with git_remote(tmp_path_factory.mktemp("git")) as remote:
        first = remote.commit(
            {"charts/demo": CHARTS / "demo", "charts/apptpl": CHARTS / "apptpl", "README.md": "homelab\n"},
            "add charts",
        )
        remote.tag("v1.0.0", annotated=True)
        values = (CHARTS / "demo" / "values.yaml").read_text().replace("greeting: hello", "greeting: bonjour")
        second = remote.commit(
            {
                "charts/demo/values.yaml": values,
                "charts/bundle/Chart.yaml": "apiVersion: v2\nname: bundle\nversion: 0.1.0\n"
                "dependencies:\n  - name: apptpl\n    version: 3.0.0\n    repository: file://../apptpl\n",
            },
            "say bonjour, add a bundle",
        )
        remote.tag("v1.1.0")
        yield History(remote, first, second)


def greeting(artifact_path: Path) -> str:
    return str(chart_default_values(artifact_path)["greeting"])


def test_branch_tag_semver_commit(history: History, tmp_path: Path) -> None:
    cache = ChartCache(tmp_path)
    url = history.remote.url
    on_main = cache.git(url, ref={"branch": "main"}, path="./charts/demo")
    at_tag = cache.git(url, ref={"tag": "v1.0.0"}, path="charts/demo")
    by_range = cache.git(url, ref={"semver": "~1.0"}, path="charts/demo")
    at_commit = cache.git(url, ref={"commit": history.first}, path="charts/demo")
    assert greeting(on_main.path) == "bonjour" and greeting(at_tag.path) == "hello"
    assert by_range.digest == at_tag.digest == at_commit.digest  # same tree, same bytes
    assert history.first[:12] in at_tag.source and "v1.0.0" in at_tag.source
    assert cache.git(url, ref={"semver": ">=1.0.0"}, path="charts/demo").digest == on_main.digest
    # Flux's precedence: a commit wins over a branch
    assert cache.git(url, ref={"branch": "main", "commit": history.first}, path="charts/demo") == at_commit


def test_packaging_is_helm_valid_and_complete(history: History, tmp_path: Path) -> None:
    artifact = ChartCache(tmp_path).git(history.remote.url, ref={"tag": "v1.0.0"}, path="charts/demo")
    files = members(artifact.path)
    assert "demo/charts/extras/templates/configmap.yaml" in files and "demo/crds/widgets.yaml" in files
    objects = render_chart(artifact, release_name="web", namespace="apps", values={}, options=HelmOptions())
    assert render_chart(CHARTS / "demo", release_name="web", namespace="apps", values={},
                        options=HelmOptions()) == objects  # fmt: skip


def test_file_dependency_inside_the_repository(history: History, tmp_path: Path) -> None:
    artifact = ChartCache(tmp_path).git(history.remote.url, ref={"branch": "main"}, path="charts/bundle")
    assert "bundle/charts/apptpl/templates/controllers.yaml" in members(artifact.path)
    values = {"apptpl": {"service": {"main": {"ports": {"http": {"port": 80}}}}}}
    objects = render_chart(artifact, release_name="b", namespace="n", values=values, options=HelmOptions())
    assert [o["kind"] for o in objects] == ["Service"]


def test_git_cache_and_offline(history: History, tmp_path: Path) -> None:
    url = history.remote.url
    first = ChartCache(tmp_path).git(url, ref={"branch": "main"}, path="charts/demo")
    offline = ChartCache(tmp_path, offline=True)
    assert offline.git(url, ref={"branch": "main"}, path="charts/demo") == first
    assert offline.git(url, ref={"commit": history.second}, path="charts/demo").digest == first.digest
    with pytest.raises(ChartNotCached) as missing:
        offline.git(url, ref={"tag": "v1.0.0"}, path="charts/demo")
    assert "v1.0.0" in missing.value.message and url in missing.value.message


def test_git_errors(history: History, tmp_path: Path) -> None:
    cache = ChartCache(tmp_path)
    url = history.remote.url
    with pytest.raises(ChartSourceError) as no_branch:
        cache.git(url, ref={"branch": "nope"}, path="charts/demo")
    assert "no branch 'nope'" in no_branch.value.message
    with pytest.raises(ChartSourceError) as no_chart:
        cache.git(url, ref={"branch": "main"}, path="charts/missing")
    assert "charts/missing" in no_chart.value.message
    with pytest.raises(ChartSourceError):
        cache.git(url, ref={"branch": "main"}, path="../outside")
    with pytest.raises(ChartSourceError) as no_repo:
        cache.git((tmp_path / "absent.git").as_uri(), ref={"branch": "main"}, path="x")
    assert "git could not" in no_repo.value.message


def test_command_transport_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even when the user's git configuration would allow "ext::" (it runs a shell command).
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.ext.allow")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "always")
    marker = tmp_path / "pwned"
    with pytest.raises(ChartSourceError):
        ChartCache(tmp_path / "cache").git(f"ext::sh -c touch% {marker}", ref={"branch": "main"}, path="x")
    assert not marker.exists()  # the command-running transport is refused


# --- local folders ----------------------------------------------------------------------------


def test_local_packaging_is_deterministic(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(CHARTS / "demo", copy)
    cache = ChartCache(tmp_path / "cache")
    first = cache.local(copy)
    assert cache.local(CHARTS / "demo").digest == first.digest  # other folder, other mtimes, same bytes
    (copy / "values.yaml").touch()
    assert cache.local(copy).digest == first.digest
    (copy / "values.yaml").write_text((copy / "values.yaml").read_text() + "extra: 1\n")
    assert cache.local(copy).digest != first.digest


def test_local_honours_helmignore(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(CHARTS / "demo", copy)
    (copy / "templates" / "deployment.yaml.swp").write_text("junk")
    (copy / "scratch").mkdir()
    (copy / "scratch" / "todo.txt").write_text("junk")
    files = members(ChartCache(tmp_path / "cache").local(copy).path)
    assert "demo/templates/deployment.yaml" in files
    assert not [f for f in files if f.endswith(".swp") or "/scratch/" in f]


def test_local_dependency_from_a_chart_repository(tmp_path: Path) -> None:
    import helm_python

    (tmp_path / "repo").mkdir()
    helm_python.package(CHARTS / "apptpl", destination=tmp_path / "repo")
    helm_python.repo_index_generate(tmp_path / "repo")
    with helm_http_repo(tmp_path / "repo") as repo:
        chart = tmp_path / "site"
        chart.mkdir()
        (chart / "Chart.yaml").write_text(
            "apiVersion: v2\nname: site\nversion: 1.0.0\ndependencies:\n"
            f"  - name: apptpl\n    version: ^3\n    repository: {repo.url}\n"
        )
        artifact = ChartCache(tmp_path / "cache").local(chart)
    assert "site/charts/apptpl/Chart.yaml" in members(artifact.path)


def test_local_dependency_cycle(tmp_path: Path) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Chart.yaml").write_text(
            f"apiVersion: v2\nname: {name}\nversion: 1.0.0\ndependencies:\n"
            f"  - name: {other}\n    version: 1.0.0\n    repository: file://../{other}\n"
        )
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(tmp_path / "cache").local(tmp_path / "a")
    assert "cycle" in caught.value.message


def test_local_errors(tmp_path: Path) -> None:
    with pytest.raises(ChartSourceError) as not_chart:
        ChartCache(tmp_path / "cache").local(tmp_path)
    assert "no Chart.yaml" in not_chart.value.message
    chart = tmp_path / "aliased"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: aliased\nversion: 1.0.0\ndependencies:\n"
        "  - name: redis\n    version: 1.0.0\n    repository: '@myrepo'\n"
    )
    with pytest.raises(ChartSourceError) as alias:
        ChartCache(tmp_path / "cache").local(chart)
    assert "'@myrepo'" in alias.value.message and "vendor" in (alias.value.hint or "")
