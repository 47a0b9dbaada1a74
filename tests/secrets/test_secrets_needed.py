"""``secrets needed``: what the ExternalSecrets of a repository expect in the vault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeops.cli.main import main
from homeops.secrets.needed import by_store, needed, template_keys_of

FIXTURE = Path(__file__).resolve().parents[1] / "testdata" / "secrets" / "externalsecrets"


def test_template_keys() -> None:
    text = '{{ .a }} {{- .b | b64dec -}} {{ index . "c-d" }} {{ .e.f }} {{ $x := .g }}{{ $x.h }} plain .z'
    assert template_keys_of(text) == ["a", "b", "c-d", "e", "g"]  # in order of appearance


def test_needed_on_fixture() -> None:
    found = {(s.namespace, s.name): s for s in needed(FIXTURE)}
    assert set(found) == {
        ("media", "plex"),
        ("media", "open-webui"),
        ("", "authelia"),
        ("", "registry-credentials"),
    }

    plex = found[("media", "plex")]
    assert (plex.store_kind, plex.store_name, plex.target) == (
        "ClusterSecretStore",
        "onepassword-connect",
        "plex-secret",
    )
    assert plex.path == "kubernetes/apps/media/app/externalsecret.yaml" and plex.line == 3
    assert [(i.key, i.fields, i.how) for i in plex.items] == [("plex", ("claim", "token"), "extract")]

    webui = found[("media", "open-webui")]
    assert {i.key: i.fields for i in webui.items} == {
        "kanidm": ("openwebui_client_id", "openwebui_client_secret"),
        "open-webui": ("secret_key",),
    }
    assert webui.unattributed == ()

    authelia = found[("", "authelia")]
    assert authelia.store_kind == "SecretStore"  # the default kind
    assert {(i.key, i.how): i.fields for i in authelia.items} == {
        ("authelia", "remoteRef"): ("jwt_secret", "session_secret"),
        ("smtp", "extract"): (),
        ("ldap", "extract"): (),
    }
    # JWT_SECRET/SESSION_SECRET come from data[]; the others from smtp or ldap, which cannot be told
    assert set(authelia.template_keys) == {"JWT_SECRET", "SESSION_SECRET", "ldap_password", "smtp-password"}
    assert set(authelia.unattributed) == {"ldap_password", "smtp-password"}

    registry = found[("", "registry-credentials")]
    assert registry.kind == "ClusterExternalSecret"
    assert [i.key for i in registry.items] == ["find: name~^registry-.*"]


def test_by_store_merges_items() -> None:
    stores = by_store(needed(FIXTURE))
    assert stores[("ClusterSecretStore", "onepassword-connect")]["plex"] == {"token", "claim"}
    assert stores[("SecretStore", "vault-store")]["authelia"] == {"jwt_secret", "session_secret"}


def test_needed_json_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "needed", "--output", "json", str(FIXTURE)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1
    assert len(report["external_secrets"]) == 4
    onepassword = next(s for s in report["stores"] if s["name"] == "onepassword-connect")
    assert {"key": "kanidm", "fields": ["openwebui_client_id", "openwebui_client_secret"]} in onepassword[
        "items"
    ]


@pytest.mark.corpus
def test_needed_on_corpus(corpus: Path) -> None:
    repo = corpus / "bjw-s-labs__home-ops"
    if not repo.is_dir():
        pytest.skip("bjw-s-labs__home-ops not in the corpus")
    found = needed(repo)
    assert len(found) >= 40
    assert all(s.store_name for s in found)
    webui = next(s for s in found if s.name == "open-webui")
    fields = {i.key: set(i.fields) for i in webui.items}
    assert fields["kanidm"] == {"openwebui_client_id", "openwebui_client_secret"}
