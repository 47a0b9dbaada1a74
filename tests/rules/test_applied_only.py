"""Rules judge what Flux applies; what nothing applies gets one note per file or folder, or none."""

from __future__ import annotations

import shutil
from pathlib import Path

from rules_testlib import TESTDATA, findings

FLUX = TESTDATA / "flux"


def test_unapplied_files_get_one_note_each_and_nothing_else() -> None:
    found = findings(FLUX / "gotk-sync")
    assert [(f.rule, f.severity.value, f.path) for f in found] == [
        ("REF003", "info", "apps/forgotten/configmap.yaml"),
        ("REF003", "info", "archived/old-echo/ks.yaml"),
    ]
    forgotten, archived = found
    assert forgotten.message.startswith(
        "apps/forgotten/ is not applied by Flux: not listed in apps/kustomization.yaml"
    )
    assert archived.message == "archived/ is not applied by Flux: not under any path a cluster reaches"
    # the archived copy has a dependsOn on nothing and a build that would fail: no DEP001, no LOAD002


def test_the_notes_can_be_switched_off(tmp_path: Path) -> None:
    repo = tmp_path / "home"
    shutil.copytree(FLUX / "gotk-sync", repo)
    (repo / ".homeops.yaml").write_text("unapplied-files: off\n")
    assert findings(repo) == []


def test_patch_files_are_not_judged_as_whole_objects() -> None:
    # workloads/<env>/greeter-values.yaml are HelmRelease patches: no interval, no chart of their own
    found = findings(FLUX / "artifact-generator")
    assert not [f for f in found if f.path.endswith("greeter-values.yaml")]
    assert {f.rule for f in found} == {"CHT002"}


def test_broken_yaml_flux_does_not_read_is_no_error() -> None:
    found = findings(FLUX / "sourceignore")  # apps/scratch/notes.yaml does not parse; .sourceignore hides it
    assert not [f for f in found if f.rule == "LOAD001"]
