"""What the namespace and operator-reference rules tell the user: the cause and the fix, not only a place.

The places are checked by the fixtures' markers (test_rules.py); these read the messages of the same
fixtures for what a user acts on.
"""

from __future__ import annotations

from rules_testlib import RULES, findings


def _messages(rule: str, fixture: str) -> dict[tuple[str, int], tuple[str, str | None]]:
    return {(f.path, f.line): (f.message, f.hint) for f in findings(RULES / rule / fixture) if f.rule == rule}


def test_namespace_missing_names_the_unlisted_namespace_file_and_the_failure() -> None:
    found = _messages("REF009", "fail")
    message, _hint = found[("apps/media/kustomization.yaml", 4)]
    assert 'namespaces "media" not found' in message
    assert "apps/media/namespace.yaml defines it but is not applied" in message
    assert "not listed in apps/media/kustomization.yaml" in message
    helm, hint = found[("infra/logging.yaml", 10)]
    assert "helm-controller cannot install HelmRelease 'loki'" in helm
    assert hint is not None and "createNamespace" in hint


def test_namespace_missing_names_the_unread_kustomization_that_may_create_it() -> None:
    ((message, _hint),) = _messages("REF009", "fail-unseen").values()
    assert "flux-system/metallb is built from another repository" in message
    assert "add it to dependsOn" in message


def test_namespace_race_says_which_kustomization_to_depend_on() -> None:
    ((message, hint),) = _messages("DEP005", "fail").values()
    assert "created only by flux-system/namespaces" in message
    assert hint == "add to spec.dependsOn: flux-system/namespaces"


def test_issuer_missing_lists_the_issuers_and_explains_the_default_kind() -> None:
    found = _messages("REF010", "fail")
    path = "kubernetes/apps/media/jellyfin/app/certificates.yaml"
    message, hint = found[(path, 11)]
    assert "ClusterIssuer 'letsencrypt-production', which does not exist" in message
    assert hint == "ClusterIssuers here: letsencrypt-prod, letsencrypt-staging"
    message, hint = found[(path, 22)]
    assert "it defaults to Issuer" in message and "'letsencrypt-prod' is a ClusterIssuer" in message
    assert hint == "set issuerRef.kind: ClusterIssuer"


def test_secret_store_missing_tells_kind_from_namespace() -> None:
    found = _messages("REF011", "fail")
    path = "kubernetes/apps/media/jellyfin/app/externalsecrets.yaml"
    assert found[(path, 9)][1] == "set kind: ClusterSecretStore"
    assert "exists only in namespace external-secrets" in found[(path, 20)][0]
    assert found[(path, 31)][1] == "stores here: external-secrets/vault, onepassword"


def test_notification_secret_in_another_namespace_says_where_it_is() -> None:
    found = _messages("REF012", "fail")
    path = "kubernetes/apps/flux-system/notifications/app/notifications.yaml"
    message, hint = found[(path, 11)]
    assert "the Secret is created in namespace monitoring" in message
    assert hint == "create the Secret in namespace flux-system"
