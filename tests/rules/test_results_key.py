"""The key of a stored ``check`` result covers everything the findings depend on besides the files:
a warm check must never answer from before an upgrade of the schemas or of homeops' own data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from homeops.load.walk import walk
from homeops.rules import results

REPO = Path(__file__).resolve().parents[1] / "testdata" / "rules" / "IMG001" / "fail"


def _key(**kw: bool) -> str:
    root = str(REPO)
    return results.result_key(root, walk(root), None, **kw)


def test_upgrading_the_kubernetes_schemas_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _key()
    assert _key() == before  # stable
    site = tmp_path / "site-packages"
    (site / "kubernetes_validate-9.0.0.dist-info").mkdir(parents=True)
    (site / "unrelated_package-1.0.dist-info").mkdir()
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    assert _key() != before


def test_an_unrelated_package_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _key()
    site = tmp_path / "site-packages"
    (site / "unrelated_package-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    assert _key() == before


def test_offline_and_the_environment_that_changes_what_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEOPS_ALLOW_LOCAL_REMOTES", raising=False)
    before = _key()
    assert _key(offline=True) != before
    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")
    assert _key() != before


def test_homeops_data_files_count_like_its_code(tmp_path: Path) -> None:
    package = tmp_path / "homeops"
    (package / "validate" / "data").mkdir(parents=True)
    (package / "rules.py").write_text("")
    data = package / "validate" / "data" / "flux-schemas.json"
    data.write_text("{}")
    os.utime(package / "rules.py", ns=(1, 1_000_000_000))
    os.utime(data, ns=(1, 2_000_000_000))
    assert results._newest(str(package)) == 2_000_000_000  # a regenerated schema file is newer code
