"""The template's makejinja plugin: cluster.toml, validated and defaulted, is the template data."""

from typing import Any

import makejinja

from validate import load


def gateway(cidr: str) -> str:
    return cidr.split("/")[0].rsplit(".", 1)[0] + ".1"


class Plugin(makejinja.plugin.Plugin):
    def __init__(self, data: dict[str, Any]):
        self._data = data

    def data(self) -> makejinja.plugin.Data:
        return load("cluster.toml")

    def filters(self) -> makejinja.plugin.Filters:
        return [gateway]
