"""The machines as data: internally consistent, documented, and the docs in docs/runtime/ up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.runtime import defaults
from homeops.runtime.docs import mermaid, pages
from homeops.runtime.durations import clock, format_duration, parse_duration
from homeops.runtime.machines import ALL, MACHINES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "runtime"
HEALTH = {"healthy", "progressing", "waiting", "failing", "stalled", "absent", "suspended"}


@pytest.mark.parametrize("machine", ALL, ids=lambda m: m.kind)
def test_machine_is_consistent(machine) -> None:  # type: ignore[no-untyped-def]
    names = [s.name for s in machine.states]
    assert len(names) == len(set(names)), "duplicate state"
    assert machine.initial in names
    assert all(s.health in HEALTH for s in machine.states)
    timers = {t.name for t in machine.timers}
    for t in machine.transitions:
        assert t.source in names and t.target in names, t
        assert not t.timer or t.timer in timers, t
    for rule in machine.recognise:
        assert rule.state in names, rule
        assert rule.when, rule
    assert not machine.fallback[0] or machine.fallback[0] in names
    # every state but the initial one is reachable, every non-final state can be left
    reached = {machine.initial}
    todo = [machine.initial]
    while todo:
        here = todo.pop()
        for t in machine.transitions:
            if t.source == here and t.target not in reached:
                reached.add(t.target)
                todo.append(t.target)
    assert reached == set(names), set(names) - reached
    assert machine.seed_differences and machine.sources


def test_flux_machines_say_what_the_contract_needs() -> None:
    hr = MACHINES["HelmRelease"]
    reasons = {(t.source, t.target, t.reason) for t in hr.transitions}
    assert ("Installing", "Failed", "InstallFailed") in reasons
    assert ("Failed", "Stalled", "RetriesExceeded") in reasons
    assert ("Reconciling", "Blocked", "DependencyNotReady") in reasons
    assert hr.timer("requeue-dependency").default == 30
    assert hr.timer("timeout").default == 300
    assert MACHINES["Kustomization"].events == ("FluxReconciled",)
    assert "HelmReleaseReady" in hr.events
    assert MACHINES["ExternalSecret"].events == ("SecretSynced",)
    assert MACHINES["HTTPRoute"].events == ("HTTPRouteCreated",)
    assert MACHINES["ClusterSecretStore"] is MACHINES["SecretStore"]


def test_docs_are_generated_from_the_machines() -> None:
    assert DOCS.is_dir(), "run: homeops machines --write-docs docs/runtime"
    expected = pages()
    on_disk = {p.name: p.read_text() for p in DOCS.glob("*.md")}
    assert set(on_disk) == set(expected), "run: homeops machines --write-docs docs/runtime"
    stale = sorted(name for name, text in expected.items() if on_disk[name] != text)
    assert not stale, f"out of date, run 'homeops machines --write-docs docs/runtime': {stale}"


def test_each_page_has_diagram_table_and_seed_notes() -> None:
    for machine in ALL:
        page = pages()[f"{machine.slug}.md"]
        assert "```mermaid\nstateDiagram-v2\n" in page
        assert "## States and how to recognise them" in page
        assert "## Differs from the seeds" in page
        for state in machine.states:
            assert f"| {state.name} |" in page


def test_mermaid_has_every_transition_once_per_pair() -> None:
    text = mermaid(MACHINES["HelmRelease"])
    assert text.count("Installing --> Failed: InstallFailed") == 1
    assert "Failed --> Stalled: RetriesExceeded" in text
    for line in text.splitlines()[2:]:
        if "-->" in line:
            assert line.count(":") == 1, line  # a second ':' would end the label


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("5m0s") == 300
    assert parse_duration("750ms") == 0.75
    assert parse_duration("1.5h") == 5400
    assert parse_duration(90) == 90
    for bad in ("", "5", "5 m", "1x", "-1m", True, None, [], "m"):
        assert parse_duration(bad) is None, bad
    assert parse_duration("0") == 0
    assert format_duration(300) == "5m0s"
    assert format_duration(3600) == "1h0m0s"
    assert format_duration(0.75) == "750ms"
    assert clock(3725) == "+1:02:05"
    assert clock(5.25) == "+0:00:05.25"


def test_backoff_is_the_flux_rate_limiter() -> None:
    assert [defaults.backoff(n) for n in (1, 2, 3, 4)] == [0.75, 1.5, 3.0, 6.0]
    assert defaults.backoff(40) == 900
    assert defaults.kustomization_timeout(600, None) == 570
    assert defaults.kustomization_timeout(40, None) == 30
    assert defaults.kustomization_timeout(3600, 300) == 300


def test_machines_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["machines", "helmrelease", "-o", "json"]) == 0
    out = capsys.readouterr().out
    assert '"kind": "HelmRelease"' in out and "RetriesExceeded" in out
    assert main(["machines", "nope"]) == 2
    assert "no machine for kind" in capsys.readouterr().err
