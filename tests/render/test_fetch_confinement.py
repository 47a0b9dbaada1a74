"""A repository cannot point homeops' fetches at this machine or its network (SSRF): chart sources
(Helm repositories, OCI registries, Git), the documents chart schemas refer to, and every redirect and
connection they lead to. ``file://`` is refused too: Flux's sources are remote, and a local path would
render a chart (or read an index) from this disk into the output.

The servers here run on loopback, as a metadata endpoint or a router would be reached: each records
the requests it gets, and none may get one. ``HOMEOPS_ALLOW_LOCAL_REMOTES=1`` (set for the rest of
the suite, whose test services run on loopback) is removed for these.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from render_testlib import FLUX, platform_repo

from homeops import localnet
from homeops.render.charts import transport
from homeops.render.charts.errors import ChartSourceError
from services import git_remote, helm_http_repo

CANARY = "CANARY-b71c-on-this-machine"


RELEASE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: {kind}
metadata:
  name: source
  namespace: gateway
spec:
  interval: 1h
  url: {url}
{extra}---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: gateway
  namespace: gateway
spec:
  interval: 12h
  chart:
    spec:
      chart: {chart}
      sourceRef:
        kind: {kind}
        name: source
"""


@pytest.fixture(autouse=True)
def _no_local_remotes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEOPS_ALLOW_LOCAL_REMOTES", raising=False)


def _chart(dest: Path) -> Path:
    """A chart whose output carries the canary: rendering it means it was fetched."""
    chart = dest / "canary"
    shutil.copytree(FLUX / "artifact-generator" / "charts" / "greeter", chart)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: canary\nversion: 0.1.0\n")
    (chart / "templates" / "canary.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\ndata:\n  k: {CANARY}\n"
    )
    return chart


def _served(folder: Path) -> Path:
    import helm_python

    folder.mkdir()
    helm_python.package(_chart(folder.parent), destination=folder)
    helm_python.repo_index_generate(folder)
    return folder


def _repo(tmp: Path, release: str) -> Path:
    repo = platform_repo(tmp)
    (repo / "platform" / "controllers" / "gateway.yaml").write_text(release)
    return repo


def _build(repo: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HOMEOPS_ALLOW_LOCAL_REMOTES"}
    return subprocess.run(
        [sys.executable, "-m", "homeops", "build", "hr", "gateway", str(repo)],
        env={**env, "HOMEOPS_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_a_helm_repository_on_this_machine_is_not_fetched(tmp_path: Path, host: str) -> None:
    with helm_http_repo(_served(tmp_path / "served")) as served:
        url = served.url.replace("127.0.0.1", host)
        repo = _repo(tmp_path, RELEASE.format(kind="HelmRepository", url=url, extra="", chart="canary"))
        done = _build(repo, tmp_path / "cache")
        assert served.requests == []
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3
    assert "local or private address" in done.stderr
    assert "HOMEOPS_ALLOW_LOCAL_REMOTES=1" in done.stderr


def test_a_helm_repository_on_this_disk_is_not_read(tmp_path: Path) -> None:
    served = _served(tmp_path / "served")
    repo = _repo(
        tmp_path, RELEASE.format(kind="HelmRepository", url=served.as_uri(), extra="", chart="canary")
    )
    done = _build(repo, tmp_path / "cache")
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3
    assert "on this machine" in done.stderr


def test_an_oci_registry_on_this_machine_is_not_fetched(tmp_path: Path) -> None:
    with helm_http_repo(tmp_path) as served:
        url = served.url.replace("http://", "oci://") + "/charts/canary"
        extra = "  ref:\n    tag: 0.1.0\n"
        repo = _repo(tmp_path, RELEASE.format(kind="OCIRepository", url=url, extra=extra, chart="canary"))
        repo_file = repo / "platform" / "controllers" / "gateway.yaml"
        text = repo_file.read_text().replace(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository",
            "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository",
        )
        repo_file.write_text(
            text.replace(
                "  chart:\n    spec:\n      chart: canary\n      sourceRef:\n        kind: OCIRepository\n"
                "        name: source\n",
                "  chartRef:\n    kind: OCIRepository\n    name: source\n",
            )
        )
        done = _build(repo, tmp_path / "cache")
        assert served.requests == []
    assert done.returncode == 3, done.stderr
    assert "local or private address" in done.stderr


@pytest.mark.parametrize("scheme", ["file", "ssh"])
def test_a_git_repository_on_this_machine_is_not_fetched(tmp_path: Path, scheme: str) -> None:
    with git_remote(tmp_path / "git") as remote:
        remote.commit({"charts/canary": _chart(tmp_path / "chart")}, "a chart")
        url = remote.url if scheme == "file" else f"ssh://git@127.0.0.1{remote.bare}"
        extra = "  ref:\n    branch: main\n"
        repo = _repo(
            tmp_path, RELEASE.format(kind="GitRepository", url=url, extra=extra, chart="charts/canary")
        )
        done = _build(repo, tmp_path / "cache")
    assert CANARY not in done.stdout + done.stderr
    assert done.returncode == 3, done.stderr
    assert "homeops does not fetch the Git repository" in done.stderr


def test_a_schema_reference_to_this_machine_is_not_fetched(tmp_path: Path) -> None:
    with helm_http_repo(tmp_path / "web") as web:
        (tmp_path / "web").mkdir()
        (tmp_path / "web" / "s.json").write_text('{"type": "object"}')
        repo = _repo(
            tmp_path,
            RELEASE.format(kind="GitRepository", url="https://github.com/example/fleet", extra="", chart="x")
            .split("---\n", 1)[1]
            .replace("chart: x", "chart: ./charts/greeter")
            .replace(
                "kind: GitRepository\n        name: source",
                "kind: GitRepository\n        name: flux-system\n        namespace: flux-system",
            ),
        )
        schema = {"$ref": f"{web.url}/s.json"}
        (repo / "charts" / "greeter" / "values.schema.json").write_text(json.dumps(schema))
        done = _build(repo, tmp_path / "cache")
        assert web.requests == []
    assert done.returncode == 0, done.stderr
    assert f"values were not validated against {web.url}/s.json" in done.stderr
    assert "local or private address" in done.stderr


def test_a_name_that_resolves_elsewhere_when_connecting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name was public when checked, loopback when connected; the address the
    connection reached is checked too."""
    monkeypatch.setitem(localnet._ADDRESSES, "localhost", {"192.0.43.10"})  # what a first answer said
    with helm_http_repo(_served(tmp_path / "served")) as served:
        url = served.url.replace("127.0.0.1", "localhost") + "/index.yaml"
        with pytest.raises(ChartSourceError, match="local or private address"):
            transport.get(url, what="index")
        assert served.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata endpoint
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://0.0.0.0:8080/",
        "http://10.0.0.1/index.yaml",
        "http://100.100.100.200/",  # a shared-address (CGNAT, tailnet) host
        "https://[::1]/",
        "ftp://example.com/chart.tgz",
        "file:///etc/passwd",
    ],
)
def test_no_local_or_odd_url_is_fetched(url: str) -> None:
    with pytest.raises(ChartSourceError, match="homeops does not fetch"):
        transport.get(url, what="fetching")
