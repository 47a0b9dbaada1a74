"""Every real repository of the corpus renders all its Kustomizations; charts missing offline are listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from render_testlib import cli

from homeops.flux.tree import load_flux_tree
from homeops.load.tree import SourceTree
from homeops.render.flux import FolderFiles, RenderOptions, render
from homeops.render.snapshot import Snapshot

pytestmark = pytest.mark.corpus


def test_every_corpus_repo_renders(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(tmp_path / "empty-cache"))
    repos = sorted(p for p in corpus.iterdir() if p.is_dir())
    assert repos
    for repo in repos:
        flux = load_flux_tree(SourceTree(repo))
        snapshot = Snapshot.of(flux)
        results = render(snapshot, FolderFiles(repo), options=RenderOptions(offline=True, render_cache=False))
        kustomizations = [r for r in results if r.kind == "Kustomization"]
        assert len(kustomizations) == len(flux.producers), repo.name
        by_name = {(cluster, str(ident)): p for (cluster, ident), p in flux.producers.items()}
        for result in kustomizations:
            producer = by_name[(result.cluster, result.producer)]
            if producer.error is not None:
                assert result.error == str(producer.error), (repo.name, result.producer)
            elif not producer.external:
                assert result.error is None, (repo.name, result.producer, result.error)
                assert len(result.objects) == len(producer.objects)
        releases = [r for r in results if r.kind == "HelmRelease"]
        for result in releases:
            assert result.error is not None and "is not in the chart cache" in result.error, (
                repo.name,
                result.producer,
                result.error,
            )
            assert result.hint is not None and "without offline mode" in result.hint
        code, _, err = cli(capsys, "build", "all", str(repo), "--offline")
        assert code == (3 if any(r.failed for r in results) else 0), repo.name
        assert "Traceback" not in err and "internal error" not in err
        assert err.count("is not in the chart cache") == len(releases)
