"""Validate cluster.toml and apply its defaults (pydantic; type aliases need Python 3.12)."""

import tomllib
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import BaseModel, ConfigDict

type Replicas = int


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Network(Model):
    node_cidr: IPv4Network
    dns_servers: list[IPv4Address] = [IPv4Address("1.1.1.1")]


class App(Model):
    name: str
    replicas: Replicas = 2


class Config(Model):
    network: Network
    app: App


def load(config_file: str = "cluster.toml") -> dict:
    raw = tomllib.loads(Path(config_file).read_text())
    return Config.model_validate(raw).model_dump(mode="json")
