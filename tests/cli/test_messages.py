"""Error messages as a person reads them: where (file:line) once, what, and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.errors import Where, WriteError


def test_a_message_that_names_its_file_names_it_once() -> None:
    assert str(WriteError("a.yaml already exists", where=Where("a.yaml"))) == "a.yaml already exists"
    assert str(WriteError("a.yaml changed", where=Where("a.yaml", 3))) == "a.yaml:3 changed"
    assert str(WriteError("a.yaml: not a mapping", where=Where("a.yaml"))) == "a.yaml: not a mapping"
    assert str(WriteError("no value", where=Where("a.yaml", 2), hint="fix it")) == (
        "a.yaml:2: no value\n  hint: fix it"
    )
    assert str(WriteError("a.yamlx is odd", where=Where("a.yaml"))) == "a.yaml: a.yamlx is odd"


@pytest.mark.usefixtures("isolated_env")
def test_secrets_init_over_an_existing_sops_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules: []\n")
    assert main(["secrets", "init", str(tmp_path), "--age-key", str(tmp_path.parent / "k.txt")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("homeops: error: .sops.yaml already exists\n"), err
    assert "hint: pass --force" in err
