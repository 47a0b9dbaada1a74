"""A Kustomization that cannot be built is never dropped from a diff, in any output format.

The fixture: three apps share one component whose strategic-merge patch names a ConfigMap ``settings``;
the app ``three`` has no such ConfigMap, so its build fails on the base already. Which files a failed
build reads is unknown, so a changed-only diff must still render it on both sides and report it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main
from services import GitRemote

REPO = Path(__file__).resolve().parents[1] / "testdata" / "diff" / "shared-component"
SETTINGS = "kubernetes/components/common/settings.yaml"
THREE = "Kustomization/flux-system/three"


@pytest.fixture
def remote(committed: Callable[[Path], GitRemote]) -> GitRemote:
    return committed(REPO)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    assert old in path.read_text(), (rel, old)
    path.write_text(path.read_text().replace(old, new))


def failures(out: str) -> set[tuple[str, str]]:
    return {(f["producer"], f["side"]) for f in json.loads(out)["failures"]}


def test_a_component_change_reports_the_user_that_fails_on_both_sides(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, SETTINGS, "Europe/Paris", "UTC")
    code, out, err = run(capsys, str(remote.work), "-o", "json")
    assert code == 3, err
    result: dict[str, Any] = json.loads(out)
    assert failures(out) == {(THREE, "base"), (THREE, "head")}
    assert all("no object matches the strategic merge patch" in f["error"] for f in result["failures"])
    changed = {(c["producer"], c["name"], c["fields"][0]["after"]) for c in result["changes"]}
    assert changed == {
        ("Kustomization/flux-system/one", "settings", "UTC"),
        ("Kustomization/flux-system/two", "settings", "UTC"),
    }
    assert "including 1 Kustomization(s) that cannot be built" in err
    # The same as rendering everything.
    code, everything, _ = run(capsys, str(remote.work), "-o", "json", "--all")
    assert code == 3
    assert {k: v for k, v in json.loads(everything).items() if k != "unchanged"} == {
        k: v for k, v in result.items() if k != "unchanged"
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), f"! {THREE}: could not render the base side: "),
        (("-o", "unified"), f"# {THREE}: could not render the head side: "),
        (("-o", "markdown"), f"| `{THREE}` | ⚠️ base failed to render | | |"),
        (("images",), f"! {THREE}: could not render the head side: "),
        (("images", "-o", "markdown"), f"`{THREE}`: base failed to render"),
    ],
)
def test_every_output_format_names_the_failure(
    remote: GitRemote, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    edit(remote.work, SETTINGS, "Europe/Paris", "UTC")
    images = list(argv[:1]) if argv[:1] == ("images",) else []
    code, out, _ = run(capsys, *images, str(remote.work), *argv[len(images) :])
    assert code == 3
    assert expected in out


def test_diff_images_json_lists_failures(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    edit(remote.work, SETTINGS, "Europe/Paris", "UTC")
    code, out, _ = run(capsys, "images", str(remote.work), "-o", "json")
    assert code == 3
    assert failures(out) == {(THREE, "base"), (THREE, "head")}


def test_a_change_that_fixes_the_build_is_seen(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    # The fix is in a file the failed build never got to read on the base.
    edit(remote.work, "kubernetes/apps/three/app/other.yaml", "name: other", "name: settings")
    code, out, _ = run(capsys, str(remote.work), "-o", "json")
    assert code == 3
    assert failures(out) == {(THREE, "base")}


def test_a_change_that_breaks_one_user_is_reported(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, "kubernetes/apps/three/app/other.yaml", "name: other", "name: settings")
    remote.commit({}, "fix three")
    edit(remote.work, SETTINGS, "name: settings", "name: settings-v2")
    code, out, _ = run(capsys, str(remote.work), "-o", "json")
    assert code == 3
    assert failures(out) == {
        ("Kustomization/flux-system/one", "head"),
        ("Kustomization/flux-system/two", "head"),
        (THREE, "head"),
    }


def test_a_kustomization_whose_folder_appears_is_seen(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, "kubernetes/apps/one/ks.yaml", "apps/one/app", "apps/one/later")
    remote.commit({}, "point one at a folder that does not exist yet")
    shutil.copytree(remote.work / "kubernetes/apps/one/app", remote.work / "kubernetes/apps/one/later")
    code, out, _ = run(capsys, str(remote.work), "-o", "json")
    assert code == 3
    # (three fails on both sides all along: it is reported with every change.)
    assert failures(out) == {("Kustomization/flux-system/one", "base"), (THREE, "base"), (THREE, "head")}
    assert "'./kubernetes/apps/one/later' does not exist" in json.loads(out)["failures"][0]["error"]
    assert json.loads(out)["changes"] == []


def test_no_change_renders_nothing(remote: GitRemote, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(remote.work), "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"changes": [], "failures": [], "unchanged": 0}
