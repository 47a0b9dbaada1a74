"""The walks over HelmRelease values that rules share between releases: a container reached from
several releases (an overlay's objects share what its patches leave alone with their base's, cluster
after cluster) or twice in one (a YAML alias) is walked once, and its findings are placed under each
path that reaches it."""

from __future__ import annotations

from typing import Any

from homeops.model.values import Seen, images
from homeops.rules.secrets import literal_credentials


def test_credentials_of_a_shared_container_are_placed_under_each_path() -> None:
    shared: dict[str, Any] = {
        "app": {
            "env": {"TZ": "Europe/Berlin", "DB_PASSWORD": "hunter2hunter2"},
            "args": [{"name": "API_TOKEN", "value": "abcd1234efgh5678"}],
        }
    }
    first = {"controllers": {"main": {"containers": shared}}}
    second = {"controllers": {"other": {"containers": shared}}, "again": [shared]}
    seen: dict[int, Any] = {}
    expected_first = [
        (("controllers", "main", "containers", "app", "env", "DB_PASSWORD"), "DB_PASSWORD"),
        (("controllers", "main", "containers", "app", "args", 0, "value"), "API_TOKEN"),
    ]
    assert literal_credentials(first, seen) == expected_first
    assert literal_credentials(second, seen) == [
        (("controllers", "other", "containers", "app", "env", "DB_PASSWORD"), "DB_PASSWORD"),
        (("controllers", "other", "containers", "app", "args", 0, "value"), "API_TOKEN"),
        (("again", 0, "app", "env", "DB_PASSWORD"), "DB_PASSWORD"),
        (("again", 0, "app", "args", 0, "value"), "API_TOKEN"),
    ]
    # the same answers without sharing anything
    assert literal_credentials(first) == expected_first
    assert literal_credentials(second) == literal_credentials(second, seen)


def test_images_of_a_shared_container_are_placed_under_each_path() -> None:
    shared: dict[str, Any] = {"sidecar": {"image": {"repository": "ghcr.io/example/sidecar", "tag": "1.2"}}}
    first = {"extra": shared}
    second = {"more": [shared], "again": shared}
    seen: Seen = {}
    assert [(i.path, str(i.image)) for i in images(first, seen)] == [
        (("extra", "sidecar", "image"), "ghcr.io/example/sidecar:1.2")
    ]
    assert [i.path for i in images(second, seen)] == [
        ("more", 0, "sidecar", "image"),
        ("again", "sidecar", "image"),
    ]
    assert list(images(second, seen)) == list(images(second))
