"""The engine on hand-built objects: HelmRelease retries and timing as helm-controller does them."""

from __future__ import annotations

from homeops.graph.model import Node
from homeops.simulate.engine import Result, Simulation
from homeops.simulate.settings import settings
from homeops.simulate.world import SimObject

SETTINGS = settings()
REMEDIATION = SETTINGS["helm-remediation"]


def release(name: str, **fields: object) -> SimObject:
    obj = SimObject(Node("home", "HelmRelease", "apps", name), None)
    obj.timeout = 300.0
    for key, value in fields.items():
        setattr(obj, key, value)
    return obj


def run(*objects: SimObject, horizon: float | None = None) -> Result:
    return Simulation(
        list(objects), SETTINGS, horizon=horizon or 86400.0, exhaustive=horizon is not None
    ).run()


def events(result: Result, obj: SimObject, reason: str) -> list[float]:
    return [e.t for e in result.events if e.obj is obj and e.reason == reason]


def final(result: Result, obj: SimObject) -> tuple[str, str]:
    [found] = [f for f in result.final if f.obj is obj]
    return found.state, found.reason


def test_install_retries_then_stalls_at_the_time_the_spec_implies() -> None:
    """helm-controller: retries exhausted when failures > retries, so R retries are R+1 attempts, each
    bounded by the timeout, an uninstall between two, then the rate limiter's requeue (750ms doubling)."""
    for retries in (0, 1, 3, 5):
        hr = release("immich", retries=retries, fail=True)
        result = run(hr)
        failures = events(result, hr, "InstallFailed")
        assert len(failures) == retries + 1
        backoff = sum(0.75 * 2 ** (n - 1) for n in range(1, retries + 1))
        stalled_at = (retries + 1) * 300 + retries * REMEDIATION + backoff
        assert events(result, hr, "RetriesExceeded") == [stalled_at]
        assert final(result, hr) == ("Stalled", "RetriesExceeded")
        assert failures[-1] == stalled_at
        assert result.converged_at is None


def test_remediate_last_failure_uninstalls_before_stalling() -> None:
    hr = release("immich", retries=1, fail=True, remediate_last=True)
    result = run(hr)
    assert events(result, hr, "RetriesExceeded") == [2 * 300 + 2 * REMEDIATION + 0.75]


def test_retry_on_failure_never_stalls() -> None:
    hr = release("immich", retry_strategy=True, retry_interval=300.0, fail=True)
    result = run(hr, horizon=3600)
    failures = [
        e for e in result.events if e.obj is hr and e.target == "Failed" and e.reason.endswith("Failed")
    ]
    assert [e.t for e in failures] == [300, 900, 1500, 2100, 2700, 3300]
    assert [e.reason for e in failures[:2]] == ["InstallFailed", "UpgradeFailed"]  # retried as an upgrade
    assert final(result, hr)[0] != "Stalled"
    assert result.stopped  # it would have gone on


def test_unlimited_retries_stop_at_the_first_failure_without_a_horizon() -> None:
    hr = release("immich", retries=-1, fail=True)
    result = run(hr)
    assert len(events(result, hr, "InstallFailed")) == 1
    state, _ = final(result, hr)
    assert state == "Failed"
    assert "without limit" in next(f for f in result.final if f.obj is hr).message


def test_dependency_rechecked_every_30_seconds() -> None:
    first = release("postgres")
    second = release("app", depends=[first])
    result = run(first, second)
    ready = {f.obj.node.name: f.ready_at for f in result.final}
    assert ready["postgres"] == 55  # helm-action 10s + image pull 30s + pod start 15s
    # blocked at 0, re-checked at 30, 60: proceeds at 60, then the same 55s
    assert ready["app"] == 60 + 55
    assert events(result, second, "DependencyNotReady") == [0]


def test_release_waits_for_the_secret_its_pods_need() -> None:
    store = SimObject(Node("home", "ClusterSecretStore", "", "vault"), None, fail=True)
    secret = SimObject(Node("home", "ExternalSecret", "apps", "immich"), None, store=store)
    hr = release("immich", retries=1, needs=[secret])
    result = run(store, secret, hr)
    assert final(result, store) == ("Failed", "ValidationFailed")
    assert final(result, secret) == ("Failed", "SecretSyncedError")
    assert final(result, hr) == ("Stalled", "RetriesExceeded")
    assert len(events(result, hr, "InstallFailed")) == 2
    message = next(e.message for e in result.events if e.obj is hr and e.reason == "InstallFailed")
    assert "ExternalSecret apps/immich" in message


def test_concurrency_limits_helm_controller() -> None:
    releases = [release(f"app{n}") for n in range(8)]
    result = run(*releases)
    ready = sorted(f.ready_at or 0 for f in result.final)
    assert ready == [55] * 4 + [110] * 4  # four workers: the second four wait for the first
