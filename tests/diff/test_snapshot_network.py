"""A base revision's snapshot is kept per Git tree, so what came from the network must not be kept:
a remote base that could not be fetched (offline, unreachable) would stay missing from every later
diff against that revision."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from homeops.diff.revisions import Repo, git_side
from homeops.render.flux import RenderOptions
from homeops.render.snapshot import code_fingerprint, load_cached
from services import GitRemote

FLUX_APP = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
    "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"


def _repo(tmp_path: Path, resources: str) -> Path:
    source = tmp_path / "source"
    (source / "app").mkdir(parents=True)
    (source / "flux.yaml").write_text(FLUX_APP)
    (source / "app" / "config.yaml").write_text(CONFIG)
    (source / "app" / "kustomization.yaml").write_text(f"resources:\n{resources}")
    return source


@pytest.mark.parametrize("remote_base", [False, True], ids=["local-only", "unreachable-remote"])
def test_a_snapshot_that_needed_the_network_is_not_kept(
    tmp_path: Path,
    committed: Callable[[Path], GitRemote],
    monkeypatch: pytest.MonkeyPatch,
    remote_base: bool,
) -> None:
    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")
    entries = "  - config.yaml\n"
    if remote_base:
        entries += f"  - {(tmp_path / 'nowhere.git').as_uri()}//base?ref=v1.0.0\n"
    git = committed(_repo(tmp_path, entries))
    repo = Repo.of(git.work)
    commit = repo.resolve("HEAD")
    with ExitStack() as stack:
        side = git_side(repo, commit, "base", stack, RenderOptions())
    (entry,) = side.snapshot.entries.values()
    assert (entry.error is not None) is remote_base
    kept = load_cached(f"{repo.tree_id(commit)}-{code_fingerprint()}")
    assert (kept is None) is remote_base
