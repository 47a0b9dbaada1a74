"""What a person sees on a terminal: tables fitted to its width, a progress bar on long runs, ``graph``
as a tree; and what a pipe gets: full-width tables, no bar, mermaid."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.report import style
from homeops.report.style import fit, progress_bar, table

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
CLUSTERS = TESTDATA / "repos" / "clusters"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("CI", raising=False)


def to_terminal(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    out, err = Terminal(), Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# -- tables ----------------------------------------------------------------------------------------

ROWS: list[dict[str, object]] = [
    {"name": "cloudnative-pg-operator", "path": "./kubernetes/main/apps/dbms/cloudnative-pg/app", "n": 1},
    {"name": "immich", "path": "./kubernetes/main/apps/media/immich/app", "n": 3, "deps": ["a/b", "c/d"]},
]


def test_a_table_fits_the_width_and_keeps_the_first_column() -> None:
    text = table(ROWS, ("name", "path", "deps", "n"), width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines), lines
    assert lines[0].split() == ["NAME", "PATH", "DEPS", "N"]
    # a path keeps its end, which tells the rows apart (they all start ./kubernetes/main/apps/)
    assert lines[1].startswith("cloudnative-pg-operator  …") and lines[1].split()[1].endswith("/app")
    assert "/cloudnative-pg/app" in lines[1] and "/immich/app" in lines[2]
    assert lines[2].split()[2] == "a/b,c/d" and lines[1].split()[2] == "-"
    # other text keeps its start
    digest = table([{"a": "x" * 30, "b": "sha256:" + "f" * 40}], ("a", "b"), width=30).splitlines()[1]
    assert digest.split()[1].startswith("sha256:")


def test_without_a_width_nothing_is_shortened() -> None:
    lines = table(ROWS, ("name", "path", "deps", "n")).splitlines()
    assert "./kubernetes/main/apps/dbms/cloudnative-pg/app" in lines[1] and "…" not in "".join(lines)


def test_fit_cuts_only_the_widest_columns() -> None:
    assert fit([10, 50, 40, 5], [8, 8, 8, 8], 60) == [10, 22, 22, 5]  # 59: one more would not fit
    assert fit([10, 20], [8, 8], 60) == [10, 20]
    assert fit([30, 30], [30, 8], 20) == [30, 8]  # minimums hold even when the line cannot fit


def test_get_fits_the_terminal_and_a_pipe_gets_full_width(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], terminal_env: None
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = to_terminal(monkeypatch, "get", "ks", str(CLUSTERS))
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "cloudnative-pg-operator" in out  # the name column is whole
    monkeypatch.undo()
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["get", "ks", str(CLUSTERS)]) == 0
    piped = capsys.readouterr().out
    assert max(len(line) for line in piped.splitlines()) > 100
    assert "./kubernetes/main/apps/external-secrets/external-secrets/app" in piped


def test_json_is_never_shortened(monkeypatch: pytest.MonkeyPatch, terminal_env: None) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    _, out, _ = to_terminal(monkeypatch, "get", "ks", str(CLUSTERS), "-o", "json")
    paths = {row["path"] for row in json.loads(out)}
    assert "./kubernetes/main/apps/external-secrets/external-secrets/app" in paths


# -- progress --------------------------------------------------------------------------------------


def test_the_bar_is_drawn_on_a_terminal_only_after_the_delay_and_erased(
    monkeypatch: pytest.MonkeyPatch, terminal_env: None
) -> None:
    clock = [100.0]
    monkeypatch.setattr(style.time, "monotonic", lambda: clock[0])
    stream = Terminal()
    bar = progress_bar(stream, delay=0.5)
    assert bar is not None
    bar(1, 10, "parsing")
    assert stream.getvalue() == ""  # a fast run shows nothing
    clock[0] += 1
    bar(5, 10, "parsing")
    assert "[###############...............] 5/10 parsing" in stream.getvalue()
    bar(10, 10, "")
    assert stream.getvalue().endswith("\r")
    assert stream.getvalue().rsplit("\r", 2)[-2].strip() == ""  # the line is blanked


def test_no_bar_in_a_pipe_or_in_ci(monkeypatch: pytest.MonkeyPatch, terminal_env: None) -> None:
    assert progress_bar(io.StringIO()) is None
    monkeypatch.setenv("CI", "true")
    assert progress_bar(Terminal()) is None
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "dumb")
    assert progress_bar(Terminal()) is None


def test_check_shows_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch, terminal_env: None) -> None:
    monkeypatch.setattr("homeops.cli.commands.check.PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(style.time, "monotonic", iter(range(0, 10_000)).__next__)
    code, out, err = to_terminal(monkeypatch, "check", str(CLUSTERS), "--no-cache")
    assert code == 0, err
    assert "expanding Kustomizations" in err and "\r[" in err
    last = err.rsplit("\r", 1)[-1]
    assert last.startswith("0 errors"), "the bar is erased before the summary"
    assert "[" not in out


def test_check_shows_no_progress_in_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("homeops.cli.commands.check.PROGRESS_AFTER", 0.0)
    assert main(["check", str(CLUSTERS), "--no-cache"]) == 0
    assert "\r" not in capsys.readouterr().err


# -- graph -----------------------------------------------------------------------------------------


def test_graph_on_a_terminal_is_a_tree(monkeypatch: pytest.MonkeyPatch, terminal_env: None) -> None:
    code, out, _ = to_terminal(monkeypatch, "graph", str(CLUSTERS), "--cluster", "main")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "cluster main:",
        "  Kustomization flux-system/cluster",
        "  ├── Kustomization flux-system/cluster-apps",
    ]
    assert "  │   ├── Kustomization cert-manager/cert-manager  (dependsOn: kube-system/cilium)" in lines
    assert (
        "  │   │   └── HelmRelease cert-manager/cert-manager  (source: HelmRepository flux-system/jetstack)"
        in lines
    )
    assert "flowchart" not in out


def test_graph_in_a_pipe_stays_mermaid_and_formats_are_chosen_with_f_or_o(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal_env: None
) -> None:
    assert main(["graph", str(CLUSTERS)]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR\n")
    _, out, _ = to_terminal(monkeypatch, "graph", str(CLUSTERS), "-f", "mermaid")
    assert out.startswith("flowchart LR\n")
    _, out, _ = to_terminal(monkeypatch, "graph", str(CLUSTERS), "-o", "dot")
    assert out.startswith("digraph homeops {")


def test_graph_of_a_folder_without_flux_objects_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal_env: None
) -> None:
    (tmp_path / "values.yaml").write_text("a: 1\n")
    code, out, err = to_terminal(monkeypatch, "graph", str(tmp_path))
    assert code == 0 and out == ""
    assert "no Flux Kustomization or HelmRelease found" in err


def slow_square(n: int) -> int:
    time.sleep(0.001)  # both sides get items to do, whatever the machine
    return n * n


def test_work_split_over_two_cores_reports_its_progress() -> None:
    from homeops import parallel, progress

    if not parallel.fork_safe():
        pytest.skip("this process may not fork a helper (threads running)")
    steps: list[tuple[int, int, str]] = []
    previous = progress.listen(lambda done, total, what: steps.append((done, total, what)))
    try:
        results = parallel.run(list(range(400)), slow_square, what="squaring")
    finally:
        progress.listen(previous)
    assert results == [n * n for n in range(400)]
    assert steps and {(total, what) for _, total, what in steps} == {(400, "squaring")}
    done = [d for d, _, _ in steps]
    assert done == sorted(done) and 0 < done[-1] <= 400
    # Nobody listening: nothing is reported (and nothing is computed for it).
    assert parallel.run([1, 2, 3], lambda n: n, what="quiet") == [1, 2, 3]
