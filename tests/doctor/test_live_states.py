"""The live side names states with the runtime machines only: one recognition, words by health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.cluster.snapshot import Snapshot
from homeops.doctor.states import BLOCKED, READY, RECONCILING, RETRYING, STALLED, WORDS, facts, state_of
from homeops.doctor.view import Ref, View, ref_of
from homeops.doctor.why import next_of
from homeops.runtime.machines import MACHINES, classify

SHAPED = Path(__file__).resolve().parents[1] / "testdata" / "runtime" / "shaped-status.yaml"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def view_of(*objects: dict[str, Any]) -> View:
    return View(Snapshot(list(objects), "test", NOW))


def test_every_machine_state_is_worded_by_its_health() -> None:
    """The shaped status objects of the runtime tests: the state the live side shows is the machine's
    state (its `phase`) worded by the state's health, never a second reading of the conditions."""
    checked = 0
    for doc in yaml.safe_load_all(SHAPED.read_text()):
        if not isinstance(doc, dict) or doc.get("kind") not in MACHINES or doc["kind"] == "Node":
            continue
        ref = ref_of(doc)
        view = view_of(doc)
        live = state_of(view, ref)
        machine_state, reason = classify(doc["kind"], doc, facts(view, ref, doc))
        assert live.phase == machine_state, doc["metadata"]["name"]
        expected = WORDS[MACHINES[doc["kind"]].state(machine_state).health]
        if expected == RECONCILING and reason == "ProgressingWithRetry":
            expected = RETRYING
        assert (live.state, live.reason) == (expected, reason), doc["metadata"]["name"]
        checked += 1
    assert checked >= 15


def _external_secret(ready: str, reason: str, refreshed: bool) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": ready, "reason": reason}]}
    if refreshed:
        status["refreshTime"] = "2026-03-01T11:00:00Z"
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "app", "namespace": "media"},
        "spec": {
            "target": {"name": "app-secret"},
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": "op"},
        },
        "status": status,
    }


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secret", "namespace": "media"}}


@pytest.mark.parametrize(
    ("refreshed", "secret", "phase"),
    [
        (True, True, "Stale"),  # synced once, the Secret is there: pods keep running on it
        (False, True, "Stale"),  # no refreshTime, but the Secret is there: what the cluster shows wins
        (True, False, "Failed"),  # synced once, yet the Secret is gone: consumers cannot start
        (False, False, "Failed"),
    ],
)
def test_stale_or_failed_is_the_target_secret_fact(refreshed: bool, secret: bool, phase: str) -> None:
    es = _external_secret("False", "SecretSyncedError", refreshed)
    view = view_of(es, *([SECRET] if secret else []))
    live = state_of(view, Ref("ExternalSecret", "media", "app"))
    assert (live.phase, live.state, live.reason) == (phase, RETRYING, "SecretSyncedError")
    # alone, without the cluster around it, the machine falls back on refreshTime
    assert classify("ExternalSecret", es)[0] == ("Stale" if refreshed else "Failed")
    assert classify("ExternalSecret", es, {"target-exists": secret})[0] == phase


def test_routes_and_gateways_use_their_machines() -> None:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "app", "namespace": "media"},
        "status": {
            "parents": [
                {
                    "parentRef": {"name": "internal", "namespace": "network"},
                    "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted"},
                        {"type": "ResolvedRefs", "status": "False", "reason": "BackendNotFound"},
                    ],
                }
            ]
        },
    }
    live = state_of(view_of(route), ref_of(route))
    # waiting for the Service: it resolves by itself as soon as the Service appears
    assert (live.state, live.reason, live.phase) == (BLOCKED, "BackendNotFound", "RefsUnresolved")
    assert any("parent network/internal: ResolvedRefs=False BackendNotFound" in e for e in live.evidence)
    route["status"]["parents"][0]["conditions"][0] = {
        "type": "Accepted",
        "status": "False",
        "reason": "NotAllowedByListeners",
    }
    live = state_of(view_of(route), ref_of(route))
    # refused: the controller looks again only when the route or the Gateway changes
    assert (live.state, live.reason, live.phase) == (STALLED, "NotAllowedByListeners", "Rejected")

    gateway: dict[str, Any] = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "internal", "namespace": "network"},
        "status": {
            "conditions": [
                {"type": "Accepted", "status": "True", "reason": "Accepted"},
                {"type": "Programmed", "status": "False", "reason": "AddressNotAssigned"},
            ]
        },
    }
    assert state_of(view_of(gateway), ref_of(gateway))[:2] == (RECONCILING, "AddressNotAssigned")
    gateway["status"]["conditions"][1] = {"type": "Programmed", "status": "True", "reason": "Programmed"}
    assert state_of(view_of(gateway), ref_of(gateway))[:2] == (READY, "Programmed")
    gateway["status"]["conditions"] = [{"type": "Accepted", "status": "False", "reason": "InvalidParameters"}]
    assert state_of(view_of(gateway), ref_of(gateway))[:2] == (STALLED, "InvalidParameters")


def _release(retries: int, failures: int) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "app", "namespace": "media"},
        "spec": {"interval": "1h", "install": {"remediation": {"retries": retries}}},
        "status": {
            "installFailures": failures,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "InstallFailed",
                    "lastTransitionTime": "2026-03-01T11:59:00Z",
                },
                {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry"},
            ],
        },
    }


def test_release_attempts_and_next_retry_come_from_the_machine() -> None:
    release = _release(3, 2)
    view = view_of(release)
    live = state_of(view, ref_of(release))
    assert (live.state, live.attempt, live.attempts, live.label) == (RETRYING, 2, 4, "Retrying 2 of 4")
    upcoming = next_of(view, ref_of(release), live, "fixing it")
    assert upcoming is not None and "(attempt 3 of 4)" in upcoming.action
    # the helm-controller rate limiter: 750 ms doubling, so 1.5 s after two failures
    delay = MACHINES["HelmRelease"].timer("retry-backoff").delay(2)
    assert delay == 1.5
    # retries: -1 never gives up: no "n of N"
    live = state_of(view_of(_release(-1, 7)), ref_of(release))
    assert (live.attempt, live.attempts, live.label) == (7, None, RETRYING)


def test_next_retry_periods_are_the_machines_timers() -> None:
    store = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "op"},
        "spec": {},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ValidationFailed",
                    "lastTransitionTime": "2026-03-01T11:58:00Z",
                }
            ]
        },
    }
    view = view_of(store)
    ref = ref_of(store)
    upcoming = next_of(view, ref, state_of(view, ref), "fixing it")
    # external-secrets --store-requeue-interval: 5 min from the last transition
    assert upcoming is not None and "every 300s" in upcoming.action
    assert upcoming.at == datetime(2026, 3, 1, 12, 3, tzinfo=UTC)
    store["spec"]["refreshInterval"] = "1m"
    upcoming = next_of(view, ref, state_of(view, ref), "fixing it")
    assert upcoming is not None and upcoming.at == NOW + timedelta(minutes=1)

    es = _external_secret("False", "SecretSyncedError", True)
    view = view_of(es)
    upcoming = next_of(view, ref_of(es), state_of(view, ref_of(es)), "fixing it")
    assert upcoming is not None and "up to 16m40s apart" in upcoming.action

    git = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {"interval": "1h"},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "GitOperationFailed"}]},
    }
    view = view_of(git)
    live = state_of(view, ref_of(git))
    assert (live.state, live.reason, live.phase) == (RETRYING, "GitOperationFailed", "Failed")
    upcoming = next_of(view, ref_of(git), live, "fixing it")
    # a failed fetch returns an error: the rate limiter's back-off, not spec.interval
    assert upcoming is not None and upcoming.action.startswith("source-controller retries")
    assert upcoming.at == NOW + timedelta(seconds=0.75)


def test_pod_that_cannot_start_its_container_is_retried_like_a_crash_loop() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app-0", "namespace": "media"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "app",
                    "restartCount": 3,
                    "state": {"waiting": {"reason": "RunContainerError", "message": "exec: not found"}},
                }
            ],
        },
    }
    view = view_of(pod)
    live = state_of(view, ref_of(pod))
    assert (live.state, live.reason, live.phase, live.attempt) == (
        RETRYING,
        "RunContainerError",
        "CrashLoopBackOff",
        3,
    )
    upcoming = next_of(view, ref_of(pod), live, "fixing it")
    assert upcoming is not None and upcoming.at == NOW + timedelta(seconds=40)
