"""The labelled audit of ``homeops check``: every error and warning on the corpus repositories and on the
layouts ``homeops new`` writes, judged real or not (tests/testdata/audit/labels.yaml), and the precision
table of docs/accuracy.md written from it.

``python tests/cli/audit.py`` prints the findings nobody has judged yet; ``--write`` rewrites the table in
docs/accuracy.md from the labels and the current findings.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

HERE = Path(__file__).resolve().parent
LABELS = HERE.parent / "testdata" / "audit" / "labels.yaml"
ACCURACY = HERE.parents[1] / "docs" / "accuracy.md"
LAYOUTS = ("flat", "clusters", "layered")
BEGIN, END = "<!-- accuracy:begin -->", "<!-- accuracy:end -->"

Place = tuple[str, str, int]
"""(rule, path, line)."""


def _tests_conftest() -> Any:
    """tests/conftest.py, loaded by its path: ``import conftest`` would find whichever conftest.py of
    the tests' folders pytest put first on ``sys.path``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("homeops_tests_conftest", HERE.parent / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CONFTEST = _tests_conftest()
CORPUS: Path = _CONFTEST.CORPUS
corpus_repos: Callable[[], list[Path]] = _CONFTEST.corpus_repos


class Label(NamedTuple):
    real: bool
    why: str


def labels() -> dict[str, dict[Place, Label]]:
    data = yaml.safe_load(LABELS.read_text()) or {}
    out: dict[str, dict[Place, Label]] = {}
    for repo, entries in data.items():
        judged = out[repo] = {}
        for e in entries or ():
            judged[(e["rule"], e["path"], int(e["line"]))] = Label(e["real"], e["why"])
    return out


def serious(findings: list[dict[str, Any]]) -> dict[Place, str]:
    """Errors and warnings (what the audit judges), with their messages."""
    return {
        (f["rule"], f["path"], int(f["line"])): f["message"]
        for f in findings
        if f["severity"] in ("error", "warning")
    }


def check(repo: Path) -> list[dict[str, Any]]:
    from homeops.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["check", str(repo), "-o", "json", "--no-cache"])
    findings: list[dict[str, Any]] = json.loads(out.getvalue())["findings"]
    return findings


def new_layout(layout: str, target: Path) -> Path:
    from homeops.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["new", str(target), "--layout", layout])
    assert code == 0, f"homeops new --layout {layout} failed"
    return target


class Row(NamedTuple):
    repo: str
    reported: int
    real: int
    false_reported: int
    false_gone: int

    @property
    def precision(self) -> str:
        return f"{100 * self.real / self.reported:.0f}%" if self.reported else "-"


def rows(found: dict[str, dict[Place, str]]) -> Iterator[Row]:
    known = labels()
    for repo, places in found.items():
        judged = known.get(repo, {})
        real = sum(1 for p in places if p in judged and judged[p].real)
        false_reported = sum(1 for p in places if p in judged and not judged[p].real)
        false_gone = sum(1 for p, label in judged.items() if not label.real and p not in places)
        yield Row(repo, len(places), real, false_reported, false_gone)


def table(found: dict[str, dict[Place, str]]) -> str:
    head = ("repository", "errors, warnings", "judged real", "judged false", "precision", "false ones gone")
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|---:|"]
    for row in rows(found):
        cells = (f"`{row.repo}`", row.reported, row.real, row.false_reported, row.precision, row.false_gone)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def everything(tmp: Path) -> dict[str, dict[Place, str]]:
    found = {repo.name: serious(check(repo)) for repo in corpus_repos()}
    for layout in LAYOUTS:
        found[f"layout-{layout}"] = serious(check(new_layout(layout, tmp / layout)))
    return found


def main(argv: list[str]) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = everything(Path(tmp))
    known = labels()
    unjudged = [(repo, place, message) for repo, places in found.items() for place, message in places.items()
                if place not in known.get(repo, {})]  # fmt: skip
    for repo, (rule, path, line), message in unjudged:
        print(f"{repo}: {path}:{line} {rule} {message}")
    if "--write" in argv:
        text = ACCURACY.read_text()
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        ACCURACY.write_text(f"{head}{BEGIN}\n{table(found)}\n{END}{tail}")
    return 1 if unjudged else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
