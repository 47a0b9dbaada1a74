"""Charts from a real OCI registry (Debian's docker-registry on loopback): select, verify, cache."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from homeops.render.charts import (
    BasicAuth,
    ChartCache,
    ChartIntegrityError,
    ChartNotCached,
    ChartSourceError,
)
from services import OciRegistry, oci_registry

CHARTS = Path(__file__).resolve().parents[1] / "testdata" / "charts"


def package(chart: Path, dest: Path, version: str) -> Path:
    import helm_python

    return Path(helm_python.package(chart, destination=dest, version=version))


@dataclass
class Published:
    registry: OciRegistry
    archives: dict[str, Path]
    """version → the archive pushed"""
    digests: dict[str, str]
    """version → manifest digest"""

    @property
    def url(self) -> str:
        return self.registry.url("charts/demo")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    work = tmp_path_factory.mktemp("oci")
    with oci_registry(work / "registry") as registry:
        archives, digests = {}, {}
        for version in ("1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"):
            archives[version] = package(CHARTS / "demo", work / "dist", version)
            digests[version] = registry.push(archives[version])
        yield Published(registry, archives, digests)


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_pull_by_tag(published: Published, tmp_path: Path) -> None:
    artifact = ChartCache(tmp_path).oci(published.url, tag="1.1.0")
    assert (artifact.name, artifact.version) == ("demo", "1.1.0")
    assert artifact.digest == sha256(published.archives["1.1.0"])  # the very bytes pushed
    assert artifact.path.read_bytes() == published.archives["1.1.0"].read_bytes()
    assert published.digests["1.1.0"] in artifact.source


@pytest.mark.parametrize(
    ("semver", "version"),
    [("^1.0.0", "1.1.0"), ("~1.0", "1.0.0"), ("*", "2.0.0"), (">=1.2.0-0 <2", "1.2.0-rc.1")],
)
def test_pull_by_semver_range(published: Published, tmp_path: Path, semver: str, version: str) -> None:
    assert ChartCache(tmp_path).oci(published.url, semver=semver).version == version


def test_no_tag_matches(published: Published, tmp_path: Path) -> None:
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(tmp_path).oci(published.url, semver="^5")
    assert "^5" in caught.value.message and "2.0.0" in (caught.value.hint or "")


def test_pull_by_digest(published: Published, tmp_path: Path) -> None:
    artifact = ChartCache(tmp_path).oci(published.url, digest=published.digests["1.0.0"])
    assert artifact.version == "1.0.0"
    assert artifact.digest == sha256(published.archives["1.0.0"])


def test_unknown_digest_and_tag(published: Published, tmp_path: Path) -> None:
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(tmp_path).oci(published.url, digest="sha256:" + "0" * 64)
    assert "not found" in caught.value.message
    with pytest.raises(ChartSourceError):
        ChartCache(tmp_path).oci(published.url, tag="9.9.9")


def test_helm_repository_of_type_oci(published: Published, tmp_path: Path) -> None:
    cache = ChartCache(tmp_path)
    assert cache.helm_repo(published.registry.url("charts"), "demo", "1.0.0").version == "1.0.0"
    assert cache.helm_repo(published.registry.url("charts"), "demo", "^1").version == "1.1.0"
    assert cache.helm_repo(published.registry.url("charts"), "demo", None).version == "2.0.0"


def test_not_a_chart(published: Published, tmp_path: Path) -> None:
    layer = ("application/vnd.oci.image.layer.v1.tar+gzip", b"not a chart")
    published.registry.push_artifact("images/app", "1.0.0", [layer])
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(tmp_path).oci(published.registry.url("images/app"), tag="1.0.0")
    assert "not a Helm chart" in caught.value.message


def test_tampered_layer_is_detected(tmp_path: Path) -> None:
    with oci_registry(tmp_path / "registry") as registry:
        archive = package(CHARTS / "apptpl", tmp_path / "dist", "3.0.0")
        registry.push(archive)
        blob = registry.blob_file(sha256(archive))
        data = bytearray(blob.read_bytes())
        data[-20] ^= 0xFF  # same size, different bytes: storage corrupted or tampered with
        blob.write_bytes(bytes(data))
        with pytest.raises(ChartIntegrityError) as caught:
            ChartCache(tmp_path / "cache").oci(registry.url("charts/apptpl"), tag="3.0.0")
        assert sha256(archive) in caught.value.message
        assert not list((tmp_path / "cache").glob("blobs/sha256/*.tgz"))  # nothing unverified was kept


def test_cache_serves_without_the_registry(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    with oci_registry(tmp_path / "registry") as registry:
        archive = package(CHARTS / "demo", tmp_path / "dist", "1.3.0")
        digest = registry.push(archive)
        url = registry.url("charts/demo")
        first = ChartCache(cache_root).oci(url, digest=digest)
        ChartCache(cache_root).oci(url, tag="1.3.0")
        ChartCache(cache_root).oci(url, semver="~1.3")
    # The registry is gone: a digest is immutable and never fetched again, the tag and the range
    # are trusted for the TTL; a fresh cache object proves it is the disk, not memory.
    assert ChartCache(cache_root).oci(url, digest=digest) == first
    assert ChartCache(cache_root).oci(url, tag="1.3.0").digest == first.digest
    assert ChartCache(cache_root).oci(url, semver="~1.3").digest == first.digest
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(cache_root, ttl=0).oci(url, tag="1.3.0")  # a tag is mutable: re-checked after the TTL
    assert "cannot reach" in caught.value.message
    offline = ChartCache(cache_root, offline=True, ttl=0)
    assert offline.oci(url, tag="1.3.0").digest == first.digest  # offline: the last known answer
    assert offline.oci(url, semver="^1").digest == first.digest
    with pytest.raises(ChartNotCached) as missing:
        offline.oci(url, tag="1.4.0")
    assert url in missing.value.message and "1.4.0" in missing.value.message
    assert "without offline mode" in (missing.value.hint or "")


def test_moved_tag_is_followed_after_the_ttl(tmp_path: Path) -> None:
    with oci_registry(tmp_path / "registry") as registry:
        url = registry.url("charts/demo")
        registry.push(package(CHARTS / "demo", tmp_path / "a", "1.5.0"))
        before = ChartCache(tmp_path / "cache").oci(url, tag="1.5.0")
        changed = tmp_path / "demo"
        shutil.copytree(CHARTS / "demo", changed)
        (changed / "values.yaml").write_text((changed / "values.yaml").read_text() + "extra: true\n")
        registry.push(package(changed, tmp_path / "b", "1.5.0"))
        assert ChartCache(tmp_path / "cache").oci(url, tag="1.5.0") == before  # within the TTL
        after = ChartCache(tmp_path / "cache", ttl=0).oci(url, tag="1.5.0")
        assert after.digest != before.digest


@pytest.fixture
def private_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    with oci_registry(tmp_path / "registry", auth="token", users={"alice": "s3cret"}) as registry:
        registry.push(package(CHARTS / "apptpl", tmp_path / "dist", "3.0.0"))
        yield registry


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "docker"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    monkeypatch.setenv("HELM_REGISTRY_CONFIG", str(tmp_path / "helm-registry.json"))
    return folder / "config.json"


def test_token_auth_with_docker_config(
    private_registry: OciRegistry, docker_config: Path, tmp_path: Path
) -> None:
    url = private_registry.url("charts/apptpl")
    with pytest.raises(ChartSourceError) as denied:
        ChartCache(tmp_path / "c1").oci(url, tag="3.0.0")
    assert "access denied anonymously" in denied.value.message
    assert "config.json" in (denied.value.hint or "")

    auth = base64.b64encode(b"alice:s3cret").decode()
    docker_config.write_text(json.dumps({"auths": {f"http://{private_registry.host}": {"auth": auth}}}))
    seen = len(private_registry.token_requests)
    artifact = ChartCache(tmp_path / "c2").oci(url, semver="^3")
    assert artifact.version == "3.0.0"
    scopes = private_registry.token_requests[seen:]
    assert scopes and all("repository%3Acharts%2Fapptpl%3Apull" in s for s in scopes)


def test_token_auth_with_explicit_credentials(
    private_registry: OciRegistry, docker_config: Path, tmp_path: Path
) -> None:
    url = private_registry.url("charts/apptpl")
    good = ChartCache(tmp_path / "c1").oci(url, tag="3.0.0", credentials=BasicAuth("alice", "s3cret"))
    assert good.name == "apptpl"
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(tmp_path / "c2").oci(url, tag="3.0.0", credentials=BasicAuth("alice", "wrong"))
    assert "access denied with the configured credentials" in caught.value.message
    assert "wrong" not in str(caught.value)


def test_credential_helper(
    private_registry: OciRegistry, docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """credHelpers: docker-credential-<name> get, server on stdin, JSON on stdout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-homeops-test"
    log = tmp_path / "asked.txt"
    helper.write_text(f'#!/bin/sh\ncat > {log}\necho \'{{"Username": "alice", "Secret": "s3cret"}}\'\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    docker_config.write_text(json.dumps({"credHelpers": {private_registry.host: "homeops-test"}}))
    assert (
        ChartCache(tmp_path / "cache").oci(private_registry.url("charts/apptpl"), tag="3.0.0").name
        == "apptpl"
    )
    assert log.read_text() == private_registry.host


def test_bad_references(tmp_path: Path) -> None:
    cache = ChartCache(tmp_path)
    for url in ("https://example.invalid/chart", "oci://host-only", "oci://host/chart:1.0.0"):
        with pytest.raises(ChartSourceError):
            cache.oci(url, tag="1.0.0")
    with pytest.raises(ChartSourceError):
        cache.oci("oci://127.0.0.1:1/charts/x", digest="md5:abc")


def test_docker_hub_charts_are_read_from_its_api_host() -> None:
    # oci://docker.io/envoyproxy/gateway-helm is how envoy-gateway publishes its chart; docker.io itself
    # serves no registry API
    from homeops.render.charts.oci import Registry, parse_oci_url

    for host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = Registry(parse_oci_url(f"oci://{host}/envoyproxy/gateway-helm"))
        assert registry.base == "https://registry-1.docker.io/v2/envoyproxy/gateway-helm"
    assert Registry(parse_oci_url("oci://ghcr.io/a/b")).base == "https://ghcr.io/v2/a/b"
