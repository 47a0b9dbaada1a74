"""The HTML pages as files: self-contained, the graph and findings complete, live state and the
doctor's problems from a snapshot, and the HTML diff showing what the other diff outputs show."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main
from homeops.report.html.diff import side_by_side
from homeops.report.html.page import script_json
from homeops.rules.catalog import find_rule
from services import GitRemote, git_remote

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
LIVE_REPO = TESTDATA / "live" / "repo"


RENDER_REPO = TESTDATA / "render" / "repo"


def report(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str, repo: Path = LIVE_REPO) -> str:
    out = tmp_path / "report.html"
    assert main(["report", str(repo), "--output", str(out), *argv]) == 0, capsys.readouterr().err
    return out.read_text()


def graph_json(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["graph", str(repo), "-f", "json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def embedded(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    assert match
    return dict(json.loads(match.group(1)))


def assert_self_contained(page: str) -> None:
    # nothing to fetch: no external script, style sheet, image or font; the policy forbids it anyway
    assert not re.search(r"<(script|img|iframe|link)[^>]*\b(src|href)=", page)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # url(#arrow) is in the page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy and "default-src &#39;none&#39;" in policy.group(1)
    # the one inline script is the one the policy names by hash
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"sha256-{digest}" in policy.group(1)


def test_the_report_is_one_self_contained_file_with_every_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = report(tmp_path, capsys)
    assert_self_contained(page)
    graph = graph_json(capsys, LIVE_REPO)
    assert page.count('class="node ') == len(graph["nodes"]) == len(embedded(page)["nodes"])
    for n in graph["nodes"]:
        assert f'aria-label="{n["kind"]} {n["namespace"]}/{n["name"]}"' in page
    assert 'id="timeline"' in page and "Bootstrap timeline" in page
    assert 'id="live"' not in page  # no snapshot, no live section


def test_findings_by_rule_and_by_file_with_the_rule_doc_inlined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    main(["check", str(LIVE_REPO), "--output", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings, "the live test repository has findings to show"
    page = report(tmp_path, capsys, "--rules-url", "https://docs.example/rules/{id}.md")
    by_rule = page.split('id="by-rule"')[1].split('id="by-file"')[0]
    by_file = page.split('id="by-file"')[1]
    for finding in findings:
        message = finding["message"].replace("'", "&#39;").replace('"', "&#34;")
        assert message in by_rule and message in by_file
        assert f'id="rule-{finding["rule"]}"' in by_rule
        rule = find_rule(finding["rule"])
        assert rule is not None and rule.why.replace("'", "&#39;").replace('"', "&#34;")[:60] in by_rule
        assert f'href="https://docs.example/rules/{finding["rule"]}.md"' in by_rule


def test_live_state_and_the_doctors_problems_from_a_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], snapshot: Callable[[str], Path]
) -> None:
    page = report(tmp_path, capsys, "--from", str(snapshot("vault-chain")))
    assert_self_contained(page)
    capsys.readouterr()
    main(["doctor", str(LIVE_REPO), "--from", str(snapshot("vault-chain")), "--output", "json"])
    problems = json.loads(capsys.readouterr().out)["problems"]
    live = page.split('id="live"')[1].split('id="findings"')[0]
    assert f"{len(problems)} problem" in live
    for p in problems:
        assert p["scenario"] in live and p["root_cause"]["reason"] in live
    # every object is coloured by its live state: failing ones red, healthy ones green
    data = embedded(page)
    marked = re.findall(r'<g class="node k-\w+ s-(\w+)"[^>]*aria-label="([^"]+)"', page)
    by_label = {label: state for state, label in marked}
    states = {
        f"{n['kind']} {n['namespace']}/{n['name']}": n["live"]["state"] for n in data["nodes"] if "live" in n
    }
    assert states["Kustomization flux-system/cluster-apps"] == "Ready"
    assert by_label["Kustomization flux-system/cluster-apps"] == "ok"
    failing = [label for label, state in states.items() if state in ("Retrying", "Stalled", "Missing")]
    assert failing, states
    for label in failing:
        assert by_label[label] in ("bad", "missing")


def test_json_in_the_page_cannot_close_its_script() -> None:
    text = script_json({"message": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["message"].startswith("</script>")


def test_side_by_side_folds_unchanged_runs_and_marks_changed_words() -> None:
    before = "\n".join(f"line {i}" for i in range(1, 21)) + "\nimage: app:1.0\n"
    after = before.replace("app:1.0", "app:1.1").replace("line 3\n", "")
    rows = side_by_side(before, after)
    kinds = [r.kind for r in rows]
    # two lines before the deletion, 17 between it and the last line: 3 kept each side, 11 folded
    assert kinds == ["eq", "eq", "del", "eq", "eq", "eq", "skip", "eq", "eq", "eq", "chg"]
    assert rows[6].folded == 11
    changed = next(r for r in rows if r.kind == "chg")
    assert [text for text, marked in changed.left.parts if marked] == ["0"]
    assert [text for text, marked in changed.right.parts if marked] == ["1"]
    assert changed.left.number == 21 and changed.right.number == 20
    whole = side_by_side("", "a: 1\nb: 2\n")
    assert [(r.kind, r.right.number) for r in whole] == [("add", 1), ("add", 2)]


# -- the HTML diff --------------------------------------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRemote]:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with git_remote(tmp_path / "git") as git:
        shutil.copytree(RENDER_REPO, git.work, dirs_exist_ok=True)
        git.commit({}, "base")
        yield git


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


def diff_outputs(capsys: pytest.CaptureFixture[str], work: Path) -> tuple[int, str, dict[str, Any]]:
    capsys.readouterr()
    code = main(["diff", str(work), "--output", "html"])
    page = capsys.readouterr().out
    assert main(["diff", str(work), "--output", "json"]) == code
    return code, page, json.loads(capsys.readouterr().out)


def test_the_html_diff_shows_every_change_with_secrets_redacted(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(remote.work, "kubernetes/apps/demo/echo/app/helmrelease.yaml", "d: inline", "d: changed")
    edit(
        remote.work, "kubernetes/apps/demo/echo/app/secret.yaml", "plain-token-in-git", "rotated-token-value"
    )
    code, page, result = diff_outputs(capsys, remote.work)
    assert code == 1
    assert_self_contained(page)
    assert "plain-token-in-git" not in page and "rotated-token-value" not in page
    assert "&lt;redacted " in page
    for change in result["changes"]:
        assert change["name"] in page
        for field in change["fields"]:
            assert f"<code>{field['path']}</code>" in page
    # the changed word is marked on both sides
    assert "<mark>inline</mark>" in page and "<mark>changed</mark>" in page


def test_the_html_diff_calls_out_failures_first(
    remote: GitRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        remote.work,
        "kubernetes/apps/demo/echo/app/helmrelease.yaml",
        "chart: ./charts/echo",
        "chart: ./charts/gone",
    )
    edit(remote.work, "kubernetes/apps/demo/echo/ks.yaml", "GREETING: hello", "GREETING: bonjour")
    code, page, result = diff_outputs(capsys, remote.work)
    assert code == 3 and result["failures"]
    failures = page.index('id="failures"')
    assert failures < page.index('id="changes"')
    for failure in result["failures"]:
        assert failure["producer"] in page[failures : page.index('id="changes"')]
    assert "charts/gone" in page


def test_the_timeline_reads_the_simulate_contract() -> None:
    from homeops.report.html.svg import timeline_bars

    def ident(kind: str, name: str) -> dict[str, str]:
        return {"cluster": "default", "kind": kind, "namespace": "media", "name": name}

    contract = {
        "events": [
            {"t": 0, **ident("Kustomization", "app"), "from": "Absent", "to": "Reconciling", "reason": ""},
            {"t": 5, **ident("HelmRelease", "app"), "from": "Absent", "to": "Blocked", "reason": "x"},
            {"t": 20, **ident("Kustomization", "app"), "from": "Reconciling", "to": "Ready", "reason": ""},
            {"t": 30, **ident("HelmRelease", "app"), "from": "Blocked", "to": "Installing", "reason": ""},
            {"t": 90, **ident("HelmRelease", "app"), "from": "Installing", "to": "Stalled", "reason": "R"},
        ],
        "final": [
            {**ident("Kustomization", "app"), "state": "Ready", "reason": "", "ready_at": 20},
            {
                **ident("HelmRelease", "app"),
                "state": "Stalled",
                "reason": "RetriesExceeded",
                "ready_at": None,
            },
            {**ident("ExternalSecret", "app"), "state": "Ready", "reason": "", "ready_at": 3},
        ],
        "converged_at": None,
        "critical_path": [{**ident("Kustomization", "app"), "milestone": "Ready", "t": 20}],
        "assumptions": [],
    }
    ks, hr = timeline_bars(contract)  # only Kustomizations and HelmReleases, Ready ones first
    assert (ks.label, ks.start, ks.end, ks.critical) == ("Kustomization media/app", 0.0, 20.0, True)
    assert ks.segments == ((0.0, 20.0, "work"),)
    assert (hr.start, hr.end, hr.state, hr.reason) == (5.0, None, "Stalled", "RetriesExceeded")
    assert hr.segments == ((5.0, 30.0, "wait"), (30.0, 90.0, "work"), (90.0, None, "fail"))
