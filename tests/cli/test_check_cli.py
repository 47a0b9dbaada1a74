"""``homeops check`` run in-process: exit codes, output formats, configuration, suppression, colour, cache."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main
from homeops.rules.catalog import all_rules

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
CLEAN = TESTDATA / "repos" / "flat"
WARNINGS = TESTDATA / "rules" / "IMG001" / "fail"  # five IMG001 warnings, nothing else
ERRORS = TESTDATA / "rules" / "IMG002" / "fail"  # four IMG002 errors, nothing else

#: The IMG001 lines marked in the fixture (``# expect: IMG001``), as the JSON output must give them.
IMG001_PLACES = {
    ("kubernetes/apps/default/legacy/app/cronjob.yaml", 15),
    ("kubernetes/apps/default/legacy/app/deployment.yaml", 22),
    ("kubernetes/apps/default/web/app/helmrelease.yaml", 17),
    ("kubernetes/apps/default/web/app/helmrelease.yaml", 22),
    ("kubernetes/apps/kube-system/descheduler/app/helmrelease.yaml", 17),
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def findings_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, *argv, "--output", "json")
    assert code in (0, 1)
    payload = json.loads(out)
    return list(payload["findings"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A private copy of the warnings fixture, to add configuration and comments to."""
    return Path(shutil.copytree(WARNINGS, tmp_path / "repo"))


def test_fixture_places_are_the_marked_ones() -> None:
    marked = set()
    for path in WARNINGS.rglob("*.yaml"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "# expect: IMG001" in line:
                marked.add((path.relative_to(WARNINGS).as_posix(), number))
    assert marked == IMG001_PLACES


# -- exit codes --------------------------------------------------------------------------------


def test_clean_repository_exits_0_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(CLEAN))
    assert code == 0
    assert out == ""
    assert err.startswith("0 errors, 0 warnings, 0 infos in 0 files (checked ")
    assert "2 clusters" not in err and "1 cluster," in err


def test_errors_exit_1_with_place_rule_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(ERRORS))
    assert code == 1
    place = "kubernetes/apps/default/legacy/app/deployment.yaml:18"
    assert f"{place} IMG002 error: Deployment 'legacy' runs docker.io/library/nginx with no tag" in out
    assert "    fix: pin a released version with its digest" in out
    assert err.startswith("4 errors, 0 warnings, 0 infos in 2 files")


@pytest.mark.parametrize(
    ("fixture", "fail_on", "expected"),
    [
        (WARNINGS, None, 0),  # warnings only: below the default threshold
        (WARNINGS, "warning", 1),
        (WARNINGS, "info", 1),
        (WARNINGS, "error", 0),
        (ERRORS, "none", 0),
        (ERRORS, "error", 1),
        (CLEAN, "info", 0),
    ],
)
def test_fail_on(
    capsys: pytest.CaptureFixture[str], fixture: Path, fail_on: str | None, expected: int
) -> None:
    argv = [str(fixture)] + (["--fail-on", fail_on] if fail_on else [])
    assert run(capsys, *argv)[0] == expected


def test_fail_on_from_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".homeops.yaml").write_text("fail-on: warning\n")
    assert run(capsys, str(repo))[0] == 1
    assert run(capsys, str(repo), "--fail-on", "error")[0] == 0  # the flag wins


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope"))
    assert code == 2
    assert out == ""
    assert err == f"homeops: error: {tmp_path / 'nope'}: no such directory\n"


def test_file_instead_of_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(CLEAN / "README.md"))
    assert code == 2
    assert "not a directory" in err


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("rules:\n  IMG001: sometimes\n", ".homeops.yaml:2:", "'sometimes' is not a severity"),
        ("rules:\n  IMG001: off\n  NOPE999: error\n", ".homeops.yaml:3:", "unknown rule 'NOPE999'"),
        ("ignore:\n  - archive/\nfail_on: warning\n", ".homeops.yaml:3:", "unknown key 'fail_on'"),
        ("rules: [IMG001]\n", ".homeops.yaml:1:", "'rules' must map rule ids"),
        ("ignore: archive/\n", ".homeops.yaml:1:", "'ignore' must be a list"),
        ("rules:\n  IMG001: [error\n", ".homeops.yaml:3:", "invalid YAML"),
        ("isolated-clusters: sometimes\n", ".homeops.yaml:1:", "'isolated-clusters' must be auto, true"),
    ],
)
def test_bad_config_is_a_usage_error_with_its_line(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, words: str
) -> None:
    (repo / ".homeops.yaml").write_text(text)
    code, out, err = run(capsys, str(repo))
    assert code == 2
    assert out == ""
    assert err.startswith(f"homeops: error: {where} ")
    assert words in err


def test_unknown_rule_in_select_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(CLEAN), "--select", "IMG001,nope")
    assert code == 2
    assert "unknown rule 'nope'" in err


# -- output formats ------------------------------------------------------------------------------


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(WARNINGS), "--output", "json")
    assert code == 0
    assert err == ""  # the summary line is for people: not with --output json
    payload = json.loads(out)
    assert payload["summary"] == {"error": 0, "warning": 5, "info": 0}
    findings = payload["findings"]
    for finding in findings:
        assert {"rule", "severity", "path", "line", "message", "name", "hint"} <= set(finding)
        assert not finding["path"].startswith("/") and not os.path.isabs(finding["path"])
        assert isinstance(finding["line"], int) and finding["line"] >= 1
        assert finding["severity"] == "warning" and finding["name"] == "image-not-pinned"
    assert {(f["path"], f["line"]) for f in findings} == IMG001_PLACES
    assert [(f["path"], f["line"]) for f in findings] == sorted((f["path"], f["line"]) for f in findings)


def test_json_of_a_clean_repository(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CLEAN), "-o", "json")
    assert code == 0
    assert json.loads(out) == {"findings": [], "summary": {"error": 0, "warning": 0, "info": 0}}


def test_sarif_is_valid_2_1_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(ERRORS), "--output", "sarif")
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    assert len(sarif["runs"]) == 1
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "homeops"
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == [rule.id for rule in all_rules()]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = sarif["runs"][0]["results"]
    assert len(results) == 4
    for result in results:
        assert result["ruleId"] == "IMG002"
        assert result["level"] == "error"
        assert driver["rules"][result["ruleIndex"]]["id"] == "IMG002"
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("kubernetes/apps/default/")
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert location["region"]["startLine"] >= 1


def test_sarif_levels_follow_configured_severity(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".homeops.yaml").write_text("rules:\n  IMG001: info\n")
    sarif = json.loads(run(capsys, str(repo), "-o", "sarif")[1])
    assert {r["level"] for r in sarif["runs"][0]["results"]} == {"note"}


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(ERRORS), "--output", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(
        "::error file=kubernetes/apps/default/legacy/app/deployment.yaml,line=18,title=IMG002 image-latest::"
    )
    for line in lines:
        assert line.startswith("::error file=kubernetes/") and ",line=" in line
    warnings = run(capsys, str(WARNINGS), "-o", "github")[1].splitlines()
    assert all(line.startswith("::warning file=") for line in warnings) and len(warnings) == 5


def test_min_severity_hides_but_does_not_change_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(WARNINGS), "--min-severity", "error", "--fail-on", "warning")
    assert code == 1
    assert out == ""


# -- configuration and suppression -------------------------------------------------------------


def test_config_changes_a_severity(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".homeops.yaml").write_text("rules:\n  IMG001: error\n")
    findings = findings_json(capsys, str(repo))
    assert {f["severity"] for f in findings} == {"error"} and len(findings) == 5
    assert run(capsys, str(repo))[0] == 1


def test_config_turns_a_rule_off_by_name(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".homeops.yaml").write_text("rules:\n  image-not-pinned: off\n")
    assert findings_json(capsys, str(repo)) == []


def test_config_ignores_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "ignore:\n  - kubernetes/apps/default/legacy/\n  - '**/descheduler/**'\n"
    (repo / ".homeops.yaml").write_text(config)
    places = {(f["path"], f["line"]) for f in findings_json(capsys, str(repo))}
    assert places == {p for p in IMG001_PLACES if "/web/" in p[0]}


def test_inline_suppression(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = repo / "kubernetes/apps/default/web/app/helmrelease.yaml"
    lines = release.read_text().splitlines()
    assert lines[16].endswith("# expect: IMG001") and lines[21].endswith("# expect: IMG001")
    lines[16] = lines[16].replace("# expect: IMG001", "# homeops:ignore IMG001")
    lines[21] = lines[21].replace("# expect: IMG001", "# homeops:ignore SEC004,IMG002")  # other rules only
    release.write_text("\n".join(lines) + "\n")
    deployment = repo / "kubernetes/apps/default/legacy/app/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("# expect: IMG001", "# homeops:ignore"))
    places = {(f["path"], f["line"]) for f in findings_json(capsys, str(repo))}
    assert places == IMG001_PLACES - {
        ("kubernetes/apps/default/web/app/helmrelease.yaml", 17),
        ("kubernetes/apps/default/legacy/app/deployment.yaml", 22),
    }


def test_select_by_id_and_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    sec = TESTDATA / "rules" / "SEC002" / "fail"  # SEC002 twice and SEC001 once
    assert {f["rule"] for f in findings_json(capsys, str(sec))} == {"SEC001", "SEC002"}
    assert {f["rule"] for f in findings_json(capsys, str(sec), "--select", "SEC002")} == {"SEC002"}
    assert {f["rule"] for f in findings_json(capsys, str(sec), "--select", "plaintext-secret")} == {"SEC001"}
    assert findings_json(capsys, str(sec), "--select", "IMG001,IMG002") == []


# -- colour -------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _text_to_terminal(monkeypatch: pytest.MonkeyPatch, *argv: str) -> str:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    main(["check", str(WARNINGS), *argv])
    return terminal.getvalue()


def test_no_colour_when_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, err = run(capsys, str(WARNINGS))
    assert "IMG001 warning:" in out
    assert "\x1b[" not in out + err


def test_colour_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\x1b[33mwarning\x1b[0m" in _text_to_terminal(monkeypatch)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _text_to_terminal(monkeypatch)
    assert "\x1b[" not in _text_to_terminal(monkeypatch, "--no-cache")


def test_colour_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--color", "always", "check", str(WARNINGS)])
    out = capsys.readouterr().out
    assert code == 0 and "\x1b[33mwarning\x1b[0m" in out
    main(["--color", "never", "check", str(WARNINGS)])
    assert "\x1b[" not in capsys.readouterr().out


# -- result cache --------------------------------------------------------------------------------


def test_result_cache(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))
    first = run(capsys, str(repo), "-o", "json")
    stored = list((cache / "results").glob("*.marshal"))
    assert stored, "the result was not stored"

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second run must come from the result cache")

    monkeypatch.setattr("homeops.rules.engine.run_checks", not_again)
    assert run(capsys, str(repo), "-o", "json") == first
    monkeypatch.undo()
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))

    # a torn or foreign entry is a miss, not an error
    for garbage in (b"", b"\xff\x00garbage", stored[0].read_bytes()[:40]):
        stored[0].write_bytes(garbage)
        assert run(capsys, str(repo), "-o", "json") == first
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))

    # pin the deployment's image: the next run sees the change
    deployment = repo / "kubernetes/apps/default/legacy/app/deployment.yaml"
    digest = "@sha256:" + "0" * 64
    deployment.write_text(deployment.read_text().replace("nginx:1.27.3", "nginx:1.27.3" + digest))
    code, out, _ = run(capsys, str(repo), "-o", "json")
    assert code == 0
    places = {(f["path"], f["line"]) for f in json.loads(out)["findings"]}
    assert places == IMG001_PLACES - {("kubernetes/apps/default/legacy/app/deployment.yaml", 22)}

    # and a change to the configuration is seen too
    (repo / ".homeops.yaml").write_text("rules:\n  IMG001: off\n")
    assert findings_json(capsys, str(repo)) == []


def test_the_parse_cache_is_written_after_the_output_and_read_by_the_next_cold_run(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nobody waits for the next run's parse cache: the findings are out first.
    cache = tmp_path / "cache"
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))
    from homeops.cli.commands import check

    printed = check._print
    at_print: list[list[Path]] = []

    def printing(*args: Any, **kwargs: Any) -> int:
        at_print.append(list(cache.glob("parse/*.marshal")))
        return int(printed(*args, **kwargs))

    monkeypatch.setattr(check, "_print", printing)
    first = run(capsys, str(repo), "-o", "json")
    assert at_print == [[]]
    assert list(cache.glob("parse/*.marshal")), "the parse cache was not written"
    shutil.rmtree(cache / "results")

    def no_parsing(data: bytes) -> object:
        raise AssertionError("a file the parse cache holds was parsed again")

    monkeypatch.setattr("homeops.load.yamlio.parse", no_parsing)
    monkeypatch.setattr("homeops.load.prefetch.parse_plain", no_parsing)
    assert run(capsys, str(repo), "-o", "json") == first


def test_no_cache_writes_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(cache))
    assert run(capsys, str(repo), "--no-cache")[0] == 0
    assert not list(cache.glob("parse/*")) and not list(cache.glob("results/*"))
