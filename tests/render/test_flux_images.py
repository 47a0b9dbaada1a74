"""`homeops get images --rendered`: the images the charts really run, post-renderers included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from render_testlib import cli, copy_repo


def images(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> set[tuple[str, str, str]]:
    code, out, _ = cli(capsys, "get", "images", str(repo), "-o", "json", *extra)
    assert code == 0
    return {(row["image"], row["tag"], ",".join(row["used_by"])) for row in json.loads(out)}


def test_rendered_images_include_what_the_chart_brings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(tmp_path)
    from_values = images(capsys, repo)
    rendered = images(capsys, repo, "--rendered", "--offline")
    # The echo chart names its image only in its own defaults (registry.example/echo:1.0), and the
    # HelmRelease's postRenderers set the tag to 2.0: only the render knows.
    assert not any(image == "registry.example/echo" for image, _, _ in from_values)
    assert ("registry.example/echo", "2.0", "HelmRelease/demo/echo") in rendered
    # Plain workloads of Kustomizations are listed either way.
    assert ("registry.example/worker", "1.0", "Deployment/tools-worker") in from_values & rendered


def test_a_release_that_cannot_render_falls_back_to_its_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(tmp_path)
    chart = repo / "charts/echo/Chart.yaml"
    chart.write_text(chart.read_text() + "not: [valid\n")
    code, out, err = cli(capsys, "get", "images", str(repo), "-o", "json", "--rendered", "--offline")
    assert code == 0
    assert "HelmRelease/demo/echo" in err and "listing the images its values name" in err
    assert json.loads(out)
