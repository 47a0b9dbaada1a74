"""Edits of existing files change exactly one thing and keep comments, order and formatting."""

from __future__ import annotations

import difflib

import pytest

from homeops.errors import LoadError, WriteError
from homeops.scaffold.kedit import add_list_item, set_scalar

NAMESPACE = """\
---
# yaml-language-server: $schema=https://json.schemastore.org/kustomization
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default

components:
  - ../../components/alerts   # every namespace alerts

resources:
  - ./namespace.yaml
  # media apps
  - ./bazarr/ks.yaml
  - ./plex/ks.yaml
  - ./sonarr/ks.yaml
patches: []  # none yet
"""


def _changes(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


def test_item_goes_in_sorted_position_and_nothing_else_changes() -> None:
    after = add_list_item(NAMESPACE, "resources", "./radarr/ks.yaml")
    assert _changes(NAMESPACE, after) == ["+   - ./radarr/ks.yaml"]
    lines = after.splitlines()
    assert lines.index("  - ./radarr/ks.yaml") == lines.index("  - ./plex/ks.yaml") + 1


def test_item_after_the_last_one_keeps_the_following_keys() -> None:
    after = add_list_item(NAMESPACE, "resources", "./zigbee/ks.yaml")
    assert _changes(NAMESPACE, after) == ["+   - ./zigbee/ks.yaml"]
    assert after.index("./zigbee/ks.yaml") < after.index("patches: []  # none yet")


def test_unsorted_list_gets_the_item_appended() -> None:
    text = "resources:\n  - ./b/ks.yaml\n  - ./a/ks.yaml\n"
    assert add_list_item(text, "resources", "./c/ks.yaml") == text + "  - ./c/ks.yaml\n"


def test_zero_indent_lists_keep_their_style() -> None:
    text = "kind: Kustomization\nresources:\n- ./a/ks.yaml\n- ./c/ks.yaml\n"
    after = add_list_item(text, "resources", "./b/ks.yaml")
    assert after == "kind: Kustomization\nresources:\n- ./a/ks.yaml\n- ./b/ks.yaml\n- ./c/ks.yaml\n"


def test_missing_key_is_added_at_the_end() -> None:
    text = "apiVersion: x\nkind: Kustomization\n# trailing comment\nnamespace: foo\n"
    after = add_list_item(text, "resources", "./c/ks.yaml")
    assert after == text + "resources:\n  - ./c/ks.yaml\n"


def test_flow_lists_fall_back_to_a_round_trip_that_keeps_comments() -> None:
    text = "---\n# head\nkind: Kustomization\nresources: [./a.yaml, ./b.yaml]  # listed\n"
    after = add_list_item(text, "resources", "./c.yaml")
    assert "# head" in after and "# listed" in after
    assert "  - ./c.yaml" in after


def test_adding_an_item_twice_changes_nothing() -> None:
    assert add_list_item(NAMESPACE, "resources", "./plex/ks.yaml") == NAMESPACE
    assert add_list_item(NAMESPACE, "resources", "plex/ks.yaml") == NAMESPACE


def test_refuses_files_that_do_not_parse() -> None:
    with pytest.raises(LoadError):
        add_list_item("resources: [unclosed\n", "resources", "./x.yaml")
    with pytest.raises(WriteError):
        add_list_item("resources: ./x.yaml\n", "resources", "./y.yaml")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  CERT_ISSUER: letsencrypt-staging  # switch me", "  CERT_ISSUER: letsencrypt-prod  # switch me"),
        ('  CERT_ISSUER: "letsencrypt-staging"', '  CERT_ISSUER: "letsencrypt-prod"'),
        ("  CERT_ISSUER: 'letsencrypt-staging' # q", "  CERT_ISSUER: 'letsencrypt-prod' # q"),
    ],
)
def test_set_scalar_changes_only_the_value_token(line: str, expected: str) -> None:
    text = (
        f"---\napiVersion: v1\nkind: ConfigMap\n# settings\ndata:\n  A: b\n{line}\n  Z: z\n---\nkind: Other\n"
    )
    after = set_scalar(text, 0, ("data", "CERT_ISSUER"), "letsencrypt-prod", rel="settings.yaml")
    assert after == text.replace(line, expected)


def test_set_scalar_reports_a_missing_field() -> None:
    with pytest.raises(WriteError, match=r"no value at data\.CERT_ISSUER"):
        set_scalar("kind: ConfigMap\ndata: {}\n", 0, ("data", "CERT_ISSUER"), "x", rel="a.yaml")
