"""A chart archive that decompresses into far more than it weighs (a tar bomb) is refused as Helm's
loader refuses it (a file over 5 MiB, a chart over 100 MiB), at once and in little memory: a
repository names the chart repository, so a pull request can point homeops at such a chart.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from render_testlib import platform_repo

from services import helm_http_repo

RELEASE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: gateway
spec:
  interval: 1h
  url: {url}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: gateway
  namespace: gateway
spec:
  interval: 1h
  chart:
    spec:
      chart: bomb
      sourceRef:
        kind: HelmRepository
        name: charts
"""


class _Spaces(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = b" " * count
        self.left -= count
        return count


def _bomb(folder: Path, *, member: str, size: int) -> None:
    """A chart repository serving ``bomb`` 0.1.0, whose ``member`` is ``size`` bytes of spaces."""
    folder.mkdir()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, compresslevel=1) as zipped:
        with tarfile.open(fileobj=zipped, mode="w") as tar:
            for name, data in (
                ("bomb/Chart.yaml", b"apiVersion: v2\nname: bomb\nversion: 0.1.0\n"),
                ("bomb/templates/cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo(f"bomb/{member}")
            info.size = size
            tar.addfile(info, io.BufferedReader(_Spaces(size), 1 << 20))
    archive = packed.getvalue()
    (folder / "bomb-0.1.0.tgz").write_bytes(archive)
    digest = hashlib.sha256(archive).hexdigest()
    (folder / "index.yaml").write_text(
        "apiVersion: v1\nentries:\n  bomb:\n  - apiVersion: v2\n    name: bomb\n    version: 0.1.0\n"
        f"    digest: {digest}\n    urls: [bomb-0.1.0.tgz]\n"
    )


def test_a_tar_bomb_chart_is_refused_quickly_in_little_memory(tmp_path: Path) -> None:
    _bomb(tmp_path / "served", member="values.schema.json", size=1024**3)
    repo = platform_repo(tmp_path)
    with helm_http_repo(tmp_path / "served") as served:
        (repo / "platform" / "controllers" / "gateway.yaml").write_text(RELEASE.format(url=served.url))
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "homeops", "build", "hr", "gateway", str(repo)],
            env={**os.environ, "HOMEOPS_CACHE_DIR": str(tmp_path / "cache")},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 3, done.stderr
    assert "bomb/values.schema.json is 1,073,741,824 bytes decompressed" in done.stderr
    assert "Helm refuses a chart file over 5 MiB" in done.stderr
    assert elapsed < 60  # decompressing a gigabyte into memory took much longer, and 2 GB of it
    assert peak_kib < 700 * 1024


def test_a_chart_repository_index_over_50_mib_is_refused(tmp_path: Path) -> None:
    from homeops.render.charts.errors import ChartSourceError
    from homeops.render.charts.helmrepo import download_index

    served = tmp_path / "served"
    served.mkdir()
    with (served / "index.yaml").open("w") as handle:
        handle.write("apiVersion: v1\nentries:\n")
        line = "# " + "x" * 1022 + "\n"
        for _ in range(51 * 1024):  # 51 MiB of comments
            handle.write(line)
    with helm_http_repo(served) as repo, pytest.raises(ChartSourceError, match="larger than 50 MiB"):
        download_index(repo.url, credentials=None, timeout=30)
