"""JSON and YAML from outside homeops' control are read with bounded nesting and alias expansion:
a chart's ``values.schema.json``, a snapshot given to ``--from`` (JSON, or YAML), a repository's
ledger. Each is a clear error naming the file, never a ``RecursionError`` or a hang (real processes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeops.load import jsonio

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"
BOMB = "a0: &a0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)
)


def _homeops(*args: str | Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeops", *(str(a) for a in args)],
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_depth_is_measured_outside_strings() -> None:
    assert jsonio.depth('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') <= 1
    assert jsonio.depth("[" * 300 + "]" * 300) == 300
    assert jsonio.loads('["[[[\\"[[["]') == ['[[["[[[']
    with pytest.raises(jsonio.TooDeep):
        jsonio.loads("[" * 201 + "]" * 201)
    assert jsonio.loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # as json.loads reads bytes


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "deep.json",
            '{"apiVersion": "v1", "kind": "List", "items": [{"kind": "ConfigMap", "metadata": {}, "x": '
            + "[" * 5000
            + "]" * 5000
            + "}]}",
            "nested deeper than 200 levels",
        ),
        (
            "deep.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  x:\n"
            + "  - " * 1
            + "- " * 5000
            + "x\n",
            "nested deeper than 200 levels",
        ),
        (
            "bomb.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n"
            "  data:\n" + "".join(f"    {line}\n" for line in BOMB.splitlines()),
            "alias bomb",
        ),
    ],
)
def test_a_hostile_snapshot_is_an_error_naming_the_file(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    snapshot = tmp_path / name
    snapshot.write_text(content)
    done = _homeops("status", FLUX / "gotk-sync", "--from", snapshot, cache=tmp_path / "cache")
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert str(snapshot) in done.stderr and message in done.stderr


def test_a_chart_schema_nested_too_deeply_is_an_error_naming_the_chart(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLUX / "artifact-generator", repo)
    schema = repo / "charts" / "greeter" / "values.schema.json"
    schema.write_text('{"properties": {"x": ' + '{"items": ' * 3000 + "{}" + "}" * 3000 + "}}")
    done = _homeops("build", "hr", "gateway", repo, cache=tmp_path / "cache")
    assert "internal error" not in done.stderr and "RecursionError" not in done.stderr, done.stderr
    assert done.returncode == 3
    assert "values.schema.json is not valid JSON (or nests deeper than 200 levels" in done.stderr


def test_a_ledger_nested_too_deeply_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLUX / "gotk-sync", repo)
    (repo / ".homeops").mkdir()
    deep = "[" * 5000 + "]" * 5000
    (repo / ".homeops" / "ledger.json").write_text('{"format": 1, "outputs": ' + deep + "}")
    done = _homeops("check", repo, cache=tmp_path / "cache")
    assert "internal error" not in done.stderr and "RecursionError" not in done.stderr, done.stderr
    assert done.returncode in (0, 1)
    assert ".homeops/ledger.json" in done.stdout
