"""Today's cluster-template: ``cluster.toml`` read by its own plugin, which needs a newer Python than
homeops may run on and imports pydantic (``tests/testdata/configure/template-toml`` is a small
repository of that shape: ``type`` aliases need Python 3.12). And makejinja 2.8 and 2.9 alike.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from configure_testlib import TESTDATA, fingerprint

from homeops.cli.main import main
from homeops.configure import TemplateError, configure, makejinja_setup, plugin_python

TEMPLATE = TESTDATA / "template-toml"
ROOT = Path(__file__).resolve().parents[2]
APP = "kubernetes/apps/demo/app.yaml"
CLUSTER_TOML = '[network]\nnode_cidr = "192.168.7.0/24"\n\n[app]\nname = "demo"\n'
TOO_OLD = sys.version_info < (3, 12)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "repo"))
    (root / "cluster.toml").write_text(CLUSTER_TOML)
    return root


def newer_python() -> str | None:
    """An interpreter of Python 3.12 or later with makejinja and pydantic: the test suite's own venv for
    the newest Python (.ci/run makes it first), or $HOMEOPS_TEST_NEWER_PYTHON."""
    named = os.environ.get("HOMEOPS_TEST_NEWER_PYTHON")
    for python in [named] if named else sorted(ROOT.glob(".venv-3.1[2-9]/bin/python"), reverse=True):
        if python and Path(python).is_file():
            return str(python)
    return None


@pytest.fixture
def newer(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not TOO_OLD:
        pytest.skip(f"Python {sys.version_info[0]}.{sys.version_info[1]} runs the plugin itself")
    python = newer_python()
    if python is None:
        pytest.skip("no venv of Python >= 3.12 with makejinja and pydantic (.venv-3.13: .ci/run makes it)")
    monkeypatch.setenv(plugin_python.ENV_VARIABLE, python)
    yield python


def expected_app() -> str:
    return (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  replicas: 2\n"
        "  template:\n    spec:\n      containers:\n        - name: app\n"
        "          image: ghcr.io/example/app:1.0.0\n          env:\n            - name: GATEWAY\n"
        '              value: "192.168.7.1"\n            - name: DNS\n              value: "1.1.1.1"\n'
    )


def test_renders_in_process_where_the_python_allows_it(repo: Path) -> None:
    if TOO_OLD:
        pytest.skip("the plugin's syntax needs Python 3.12")
    result = configure(repo)
    assert (repo / APP).read_text() == expected_app()  # pydantic's defaults (replicas, dns) applied
    assert result.warnings == ()


def test_a_plugin_too_new_for_this_python_runs_in_a_newer_one(repo: Path, newer: str) -> None:
    result = configure(repo)
    assert (repo / APP).read_text() == expected_app()
    assert any(f"they ran with {newer}" in w for w in result.warnings)
    # The ledger maps the output back to its template lines, as an in-process render does.
    from homeops.configure import load_ledger

    ledger = load_ledger(repo)
    assert ledger is not None
    assert ledger.template_line(APP, 5) == ("template/config/kubernetes/apps/demo/app.yaml.j2", 5)


def test_errors_come_back_from_the_newer_python_with_their_place(repo: Path, newer: str) -> None:
    template = repo / "template/config/kubernetes/apps/demo/app.yaml.j2"
    template.write_text(template.read_text().replace("#{ app.name }#", "#{ app.nickname }#"))
    before = fingerprint(repo)
    with pytest.raises(TemplateError) as caught:
        configure(repo)
    assert str(caught.value.where) == "template/config/kubernetes/apps/demo/app.yaml.j2:5"
    assert "nickname" in caught.value.message
    assert fingerprint(repo) == before


def test_without_a_fitting_python_the_error_names_python_and_packages(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not TOO_OLD:
        pytest.skip("this Python can parse the plugin")
    monkeypatch.setenv(plugin_python.ENV_VARIABLE, sys.executable)  # only this one: no other is tried
    before = fingerprint(repo)
    assert main(["configure", str(repo), "--no-check"]) == 4
    err = capsys.readouterr().err
    line = next(
        i for i, text in enumerate((repo / "template/scripts/validate.py").read_text().splitlines(), 1)
        if text.startswith("type ")
    )  # fmt: skip
    assert f"template/scripts/validate.py:{line}: the template's makejinja plugins cannot run" in err
    assert "Python >=3.12 with makejinja>=2.8, pydantic>=2 (pyproject.toml)" in err
    assert "'uv sync'" in err and '.venv/bin/pip install "makejinja>=2.8" "pydantic>=2"' in err
    assert "Traceback" not in err and fingerprint(repo) == before


def test_a_missing_package_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"pydantic>=2",', '"pydantic>=2",\n  "absent-fixture-pkg>=1",')
    )
    monkeypatch.setenv(plugin_python.ENV_VARIABLE, sys.executable)
    assert main(["configure", str(repo), "--no-check"]) == 4
    err = capsys.readouterr().err
    assert "it imports absent-fixture-pkg, not installed for homeops' Python" in err
    assert '"absent-fixture-pkg>=1"' in err


def test_an_undeclared_missing_import_is_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if TOO_OLD:
        pytest.skip("the plugin's syntax needs Python 3.12")
    (repo / "pyproject.toml").unlink()
    plugin = repo / "template/scripts/plugin.py"
    plugin.write_text("import absent_fixture_module\n" + plugin.read_text())
    assert main(["configure", str(repo), "--no-check"]) == 4
    err = capsys.readouterr().err
    assert "absent_fixture_module" in err and "pip install" in err


def test_a_missing_cluster_toml_says_copy_the_sample(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "cluster.toml").unlink()
    assert main(["configure", str(repo), "--no-check"]) == 2
    err = capsys.readouterr().err
    assert "cluster.toml does not exist (the template's plugin reads it)" in err
    assert "hint: copy cluster.sample.toml to cluster.toml and fill it in (what 'just init' does)" in err


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"justfile": "set quiet\n\ninit:\n    cp a b\n"}, "just init"),
        ({"justfile": "[doc('x')]\ninit *args:\n    true\n"}, "just init"),
        (
            {"justfile": "mod template 'template'\n", "template/mod.just": "init:\n    true\n"},
            "just template init",
        ),
        ({"justfile": "mod? setup\n", "setup/justfile": "init:\n  true\n"}, "just setup init"),
        ({"justfile": "init := 'x'\n"}, None),
        ({"Taskfile.yaml": "version: '3'\ntasks:\n  init:\n    cmds: [true]\n"}, "task init"),
        (
            {"Taskfile.yaml": "version: '3'\n", ".taskfiles/template/Taskfile.yaml": "tasks:\n  :init:\n"},
            "task init",
        ),
        ({}, None),
    ],
)
def test_init_command_follows_the_repositorys_task_runner(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert makejinja_setup.init_command(tmp_path) == expected


@pytest.mark.parametrize("shape", ["2.8: paths", "2.9: (path, relative path) pairs"])
def test_data_files_with_either_makejinja(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    import makejinja.app

    (tmp_path / "a.yaml").write_text("a: 1\n")
    (tmp_path / "more").mkdir()
    (tmp_path / "more/b.yaml").write_text("b: 2\n")
    wanted = [tmp_path / "a.yaml", tmp_path / "more/b.yaml"]

    def collect(paths: object) -> object:
        if shape.startswith("2.8"):
            return list(wanted)
        return iter([(wanted[0], Path("a.yaml")), (wanted[1], Path("b.yaml"))])

    monkeypatch.setattr(makejinja.app, "collect_files", collect)

    class Config:
        data = (tmp_path / "a.yaml", tmp_path / "more")

    assert makejinja_setup.data_files(Config()) == wanted


def test_the_installed_makejinja_collects_data_files(tmp_path: Path) -> None:
    """Against whichever makejinja this Python has (2.8 below Python 3.12, 2.9 from 3.13 on)."""
    (tmp_path / "a.yaml").write_text("a: 1\n")
    (tmp_path / "more").mkdir()
    (tmp_path / "more/b.yaml").write_text("b: 2\n")

    class Config:
        data = (tmp_path / "a.yaml", tmp_path / "more")

    assert makejinja_setup.data_files(Config()) == [tmp_path / "a.yaml", tmp_path / "more/b.yaml"]


def test_needs_reads_pyproject(repo: Path) -> None:
    found = plugin_python.needs(repo)
    assert found.python == ">=3.12" and found.packages == ("pydantic",)
    assert found.python_ok((3, 12, 0)) and not found.python_ok((3, 11, 7))
    assert plugin_python.needs(repo / "template") == plugin_python.Needs()


def test_a_program_the_plugin_runs_is_named_when_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from configure_testlib import make_mini_repo

    repo = make_mini_repo(tmp_path / "repo", secret_value="s3cr3t-value")
    toml = repo / "makejinja.toml"
    toml.write_text(
        toml.read_text().replace(
            "[makejinja]\n", '[makejinja]\nimport_paths = ["./scripts"]\nloaders = ["plugin:Plugin"]\n', 1
        )
    )
    (repo / "scripts").mkdir()
    (repo / "scripts/plugin.py").write_text(
        "import subprocess\n\n\nclass Plugin:\n    def data(self):\n"
        "        subprocess.run(['absent-fixture-program', 'export'], check=True)\n        return {}\n"
    )
    before = fingerprint(repo)
    assert main(["configure", str(repo), "--no-check"]) == 4
    err = capsys.readouterr().err
    assert "'absent-fixture-program' is not installed or not on PATH" in err
    assert "the template's makejinja plugin runs 'absent-fixture-program'" in err
    assert fingerprint(repo) == before
