"""The External Secrets machines: ExternalSecret, and the SecretStore / ClusterSecretStore it reads through.

Checked against ``../shared/runtime/external-secrets/`` (external-secrets @ cc5bfbc apis/externalsecrets/v1:
condition reasons, ``refreshInterval`` default 1h, the store's Ready reasons). On a provider error the
controller leaves the target Secret as it was (``SecretSyncedError``): consumers keep running on the last
synced data; a failed sync blocks a pod only when the Secret does not exist yet or a new key is needed.
"""

from __future__ import annotations

from . import defaults as d
from .machine import Cond, Fact, Has, Machine, NoStatus, Recognise, State, Timer, Transition

_SOURCES = (
    "external-secrets/externalsecret_types.go (external-secrets @ cc5bfbc apis/externalsecrets/v1): "
    "ConditionReasonSecretSynced|SecretSyncedError|SecretDeleted|SecretMissing, "
    "refreshInterval default 1h0m0s",
    "external-secrets/secretstore_types.go: SecretStoreReady reasons Valid, InvalidStoreConfiguration, "
    "InvalidProviderConfig, ValidationFailed, ValidationUnknown; spec.refreshInterval",
    d.ESO_RETRY_SOURCE,
    d.ESO_STORE_REQUEUE_SOURCE,
)

EXTERNAL_SECRET = Machine(
    kind="ExternalSecret",
    api="external-secrets.io/v1",
    slug="externalsecret",
    title="ExternalSecret",
    summary="external-secrets reads the referenced keys through the SecretStore and writes the target "
    "Secret, then re-reads them every `refreshInterval` (1h by default; `0` means once). A failed "
    "read leaves an existing Secret untouched: its consumers keep running on stale data.",
    initial="Absent",
    states=(
        State("Absent", "not in the cluster yet", "absent"),
        State("Syncing", "no sync reported yet (the store is being contacted)", "progressing"),
        State("Ready", "the target Secret holds the provider's data", "healthy"),
        State("Stale", "the last refresh failed; the target Secret still holds the previous data", "failing"),
        State(
            "Failed",
            "the sync failed and the target Secret does not exist: consumers cannot start",
            "failing",
        ),
        State(
            "Deleted", "the provider data is gone and `deletionPolicy: Delete` removed the Secret", "failing"
        ),
    ),
    transitions=(
        Transition("Absent", "Syncing", "applied by its Kustomization or Helm release"),
        Transition(
            "Syncing",
            "Ready",
            "store Ready and every key found",
            reason="SecretSynced",
            emits=("SecretSynced",),
        ),
        Transition(
            "Syncing",
            "Failed",
            "store not Ready, item or key missing, template error",
            timer="retry-backoff",
            reason="SecretSyncedError",
        ),
        Transition(
            "Failed",
            "Ready",
            "retry succeeds",
            timer="retry-backoff",
            reason="SecretSynced",
            emits=("SecretSynced",),
        ),
        Transition(
            "Ready",
            "Ready",
            "refresh: the data changed (Reloader-style annotations then restart consumers)",
            timer="refreshInterval",
            reason="SecretSynced",
            emits=("SecretSynced",),
        ),
        Transition("Ready", "Stale", "a refresh fails", timer="refreshInterval", reason="SecretSyncedError"),
        Transition(
            "Stale",
            "Ready",
            "retry succeeds",
            timer="retry-backoff",
            reason="SecretSynced",
            emits=("SecretSynced",),
        ),
        Transition(
            "Ready",
            "Deleted",
            "the provider data was deleted (deletionPolicy Delete)",
            reason="SecretDeleted",
        ),
        Transition(
            "Ready", "Failed", "the target Secret was deleted by someone else", reason="SecretMissing"
        ),
    ),
    timers=(
        Timer(
            "refreshInterval",
            d.ESO_REFRESH_INTERVAL,
            "spec.refreshInterval (API default 1h0m0s; 0 = sync once)",
            fields=("spec.refreshInterval",),
        ),
        Timer("retry-backoff", d.ESO_RETRY_MIN, d.ESO_RETRY_SOURCE, cap=d.ESO_RETRY_MAX),
    ),
    recognise=(
        Recognise("Ready", (Cond("Ready", "True"),)),
        Recognise("Deleted", (Cond("Ready", "False", ("SecretDeleted",)),)),
        # Whether the target Secret exists is read beside the object when the caller can (a snapshot);
        # alone, a past sync (refreshTime) says the Secret was written.
        Recognise(
            "Stale",
            (Cond("Ready", "False", exclude=("SecretMissing",)), Fact("target-exists", True)),
        ),
        Recognise("Failed", (Cond("Ready", "False"), Fact("target-exists", False))),
        Recognise("Stale", (Cond("Ready", "False", ("SecretSyncedError",)), Has("status.refreshTime"))),
        Recognise("Failed", (Cond("Ready", "False"),)),
        Recognise("Syncing", (NoStatus(),), reason="NoStatus"),
        Recognise("Syncing", (Cond("Ready", "Unknown"),)),
    ),
    fallback=("Syncing", "Unknown"),
    seed_differences=(
        '"Refresh every 12 hours by default" (seed 002): the API default `refreshInterval` is 1h; 12h is '
        "that repository's setting (seed 001 says 10 minutes, another repository's).",
        '"A failed sync blocks dependent pods indefinitely": only when the target Secret does not exist yet '
        "(first sync) or a pod needs a key it does not have. A failed refresh leaves the existing Secret "
        "as it was, and running pods keep the old values (state Stale here).",
        '"Failed → Syncing: retry after exponential backoff" is right; there is no retry limit.',
    ),
    sources=_SOURCES,
)
SECRET_STORE = Machine(
    kind="SecretStore",
    api="external-secrets.io/v1",
    slug="secretstore",
    title="SecretStore and ClusterSecretStore",
    summary="The store holds how to reach the provider (1Password Connect, Vault, …). The controller "
    "validates it and re-validates it periodically; ExternalSecrets that use a store which is not "
    "Ready fail to sync (and keep any Secret they already wrote).",
    initial="Absent",
    states=(
        State("Absent", "not in the cluster yet", "absent"),
        State("Validating", "no validation result yet", "progressing"),
        State("Ready", "the provider answered: ExternalSecrets can sync", "healthy"),
        State("Failed", "the provider cannot be reached or the configuration is invalid", "failing"),
    ),
    transitions=(
        Transition("Absent", "Validating", "applied"),
        Transition("Validating", "Ready", "provider reachable and credentials valid", reason="Valid"),
        Transition(
            "Validating", "Failed", "provider unreachable", timer="retry-backoff", reason="ValidationFailed"
        ),
        Transition("Validating", "Failed", "invalid spec", reason="InvalidStoreConfiguration"),
        Transition("Validating", "Failed", "provider configuration invalid", reason="InvalidProviderConfig"),
        Transition("Failed", "Ready", "re-validation succeeds", timer="refreshInterval", reason="Valid"),
        Transition(
            "Ready",
            "Failed",
            "re-validation fails (vault down)",
            timer="refreshInterval",
            reason="ValidationFailed",
        ),
    ),
    timers=(
        Timer(
            "refreshInterval",
            d.ESO_STORE_REQUEUE,
            d.ESO_STORE_REQUEUE_SOURCE,
            fields=("spec.refreshInterval",),
        ),
        Timer("retry-backoff", d.ESO_RETRY_MIN, d.ESO_RETRY_SOURCE, cap=d.ESO_RETRY_MAX),
    ),
    recognise=(
        Recognise("Ready", (Cond("Ready", "True"),)),
        Recognise("Failed", (Cond("Ready", "False"),)),
        Recognise("Validating", (NoStatus(),), reason="NoStatus"),
    ),
    fallback=("Validating", "Unknown"),
    seed_differences=(
        '"onepassword-connect MUST be running before any ExternalSecret can sync" (seed 002) holds for the '
        "first sync only: once written, Secrets survive a store outage (their ExternalSecrets go Stale).",
    ),
    sources=_SOURCES,
)
