"""Charts from a Helm HTTP repository (index.yaml + archives) served on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from homeops.render.charts import ChartCache, ChartIntegrityError, ChartNotCached, ChartSourceError
from services import HttpRepo, helm_http_repo

CHARTS = Path(__file__).resolve().parents[1] / "testdata" / "charts"
VERSIONS = ("1.0.0", "1.1.0", "2.0.0-beta.1")


def build_repo(folder: Path, *, base_url: str | None = None) -> None:
    import helm_python

    folder.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        helm_python.package(CHARTS / "demo", destination=folder, version=version)
    helm_python.package(CHARTS / "apptpl", destination=folder)
    helm_python.repo_index_generate(folder, base_url=base_url)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[HttpRepo]:
    build_repo(tmp_path / "repo")
    with helm_http_repo(tmp_path / "repo") as served:
        yield served


def test_index_carries_digests_and_relative_urls(repo: HttpRepo) -> None:
    index = yaml.safe_load((repo.folder / "index.yaml").read_text())
    entry = next(e for e in index["entries"]["demo"] if e["version"] == "1.0.0")
    assert entry["urls"] == ["demo-1.0.0.tgz"]
    assert entry["digest"] == hashlib.sha256((repo.folder / "demo-1.0.0.tgz").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.0.0", "1.0.0"), ("^1", "1.1.0"), (None, "1.1.0"), ("*", "1.1.0"), (">=2.0.0-0", "2.0.0-beta.1")],
)
def test_version_selection(repo: HttpRepo, tmp_path: Path, version: str | None, expected: str) -> None:
    artifact = ChartCache(tmp_path / "cache").helm_repo(repo.url, "demo", version)
    assert (artifact.name, artifact.version) == ("demo", expected)
    served = (repo.folder / f"demo-{expected}.tgz").read_bytes()
    assert artifact.digest == "sha256:" + hashlib.sha256(served).hexdigest()


def test_exact_version_is_fetched_once(repo: HttpRepo, tmp_path: Path) -> None:
    first = ChartCache(tmp_path / "cache").helm_repo(repo.url, "demo", "1.0.0")
    assert repo.requests == ["/index.yaml", "/demo-1.0.0.tgz"]
    repo.stop()
    again = ChartCache(tmp_path / "cache", ttl=0).helm_repo(repo.url, "demo", "1.0.0")
    assert again == first  # an exact version is immutable: no index, no download, even past the TTL


def test_concurrent_requests_download_once(repo: HttpRepo, tmp_path: Path) -> None:
    cache = ChartCache(tmp_path / "cache")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.helm_repo(repo.url, "demo", "^1"), range(16)))
    assert len({r.digest for r in results}) == 1
    assert sorted(repo.requests) == ["/demo-1.1.0.tgz", "/index.yaml"]


def test_ranges_use_the_index_within_the_ttl(repo: HttpRepo, tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    ChartCache(cache_root).helm_repo(repo.url, "demo", "^1")
    repo.stop()
    assert ChartCache(cache_root).helm_repo(repo.url, "demo", "^1").version == "1.1.0"
    with pytest.raises(ChartSourceError) as caught:
        ChartCache(cache_root, ttl=0).helm_repo(repo.url, "demo", "^1")
    assert "cannot reach" in caught.value.message
    offline = ChartCache(cache_root, offline=True, ttl=0)
    assert offline.helm_repo(repo.url, "demo", "^1").version == "1.1.0"
    with pytest.raises(ChartNotCached) as missing:
        offline.helm_repo(repo.url, "demo", "1.0.0")  # listed in the index, never downloaded
    assert "demo 1.0.0" in missing.value.message and repo.url in missing.value.message


def test_offline_without_an_index_picks_among_held_versions(repo: HttpRepo, tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    ChartCache(cache_root).helm_repo(repo.url, "demo", "1.0.0")
    for record in (cache_root / "refs" / "helm-index").iterdir():
        record.unlink()
    offline = ChartCache(cache_root, offline=True)
    assert offline.helm_repo(repo.url, "demo", "^1").version == "1.0.0"
    with pytest.raises(ChartNotCached):
        offline.helm_repo(repo.url, "demo", "^2.0.0-0")


def test_tampered_archive_is_rejected(repo: HttpRepo, tmp_path: Path) -> None:
    archive = repo.folder / "demo-1.1.0.tgz"
    archive.write_bytes(archive.read_bytes() + b"\0")
    with pytest.raises(ChartIntegrityError) as caught:
        ChartCache(tmp_path / "cache").helm_repo(repo.url, "demo", "1.1.0")
    assert "index says" in caught.value.message
    assert not list((tmp_path / "cache").glob("blobs/sha256/*"))


def test_absolute_urls_in_the_index(tmp_path: Path) -> None:
    with helm_http_repo(tmp_path / "files") as files:
        build_repo(tmp_path / "files", base_url=files.url + "/")
        (tmp_path / "index").mkdir()
        (tmp_path / "index" / "index.yaml").write_bytes((tmp_path / "files" / "index.yaml").read_bytes())
        with helm_http_repo(tmp_path / "index") as index_only:
            artifact = ChartCache(tmp_path / "cache").helm_repo(index_only.url, "apptpl", "3.0.0")
    assert artifact.version == "3.0.0"
    assert index_only.requests == ["/index.yaml"] and files.requests == ["/apptpl-3.0.0.tgz"]


def test_clear_errors(repo: HttpRepo, tmp_path: Path) -> None:
    cache = ChartCache(tmp_path / "cache")
    with pytest.raises(ChartSourceError) as no_chart:
        cache.helm_repo(repo.url, "nginx", "1.0.0")
    assert "'nginx' is not in the repository" in no_chart.value.message
    with pytest.raises(ChartSourceError) as no_version:
        cache.helm_repo(repo.url, "demo", "~3.1")
    assert "1.1.0" in (no_version.value.hint or "")
    with pytest.raises(ChartSourceError) as no_repo:
        cache.helm_repo(repo.url + "/nowhere", "demo", "1.0.0")
    assert "not found" in no_repo.value.message and "404" in no_repo.value.message
