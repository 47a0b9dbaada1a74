"""Check template input values (``cluster.yaml``, ``nodes.yaml``, ``cluster.toml`` …) before rendering.

Every problem names the file, the line, the key path and the expected form, e.g.
``cluster.yaml:4: node_cidr: "10.0.0.0/33" is not a CIDR (expected like 10.69.0.0/16)``; all problems
are reported at once. Keys the schema does not know are warnings, not errors. Values of keys whose
name says they are secret are never shown.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Where
from ..load import jsonio, yamlio
from . import schema
from .schema import Field, Kind

Issue = tuple[Where, str]
Path_ = tuple[str | int, ...]

_SECRET_NAME = re.compile(r"token|secret|password|passwd|key$|private", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DataFile:
    """One parsed input file."""

    rel: str
    """Repo-relative path."""
    text: str
    data: dict[str, Any]


def load(repo_root: Path, paths: Sequence[Path]) -> tuple[list[DataFile], list[Issue]]:
    """Parse the data files (YAML documents are merged, as makejinja does)."""
    files: list[DataFile] = []
    issues: list[Issue] = []
    for path in paths:
        rel = _rel(repo_root, path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            issues.append((Where(rel), f"cannot read: {exc.strerror or exc}"))
            continue
        text = raw.decode("utf-8", errors="replace")
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            parsed = yamlio.parse(raw, schema=yamlio.HELM)  # makejinja's PyYAML: YAML 1.1 booleans
            if parsed.failure is not None:
                issues.append((Where(rel, parsed.failure.line), f"not valid YAML: {parsed.failure.reason}"))
                continue
            merged: dict[str, Any] = {}
            for doc, line in zip(parsed.documents, parsed.lines, strict=True):
                if doc is None:
                    continue
                if not isinstance(doc, dict):
                    issues.append((Where(rel, line), "expected a mapping of keys to values"))
                    continue
                merged.update(doc)
            files.append(DataFile(rel, text, merged))
        elif suffix == ".toml":
            try:
                files.append(DataFile(rel, text, tomllib.loads(text)))
            except tomllib.TOMLDecodeError as exc:
                found = re.search(r"line (\d+)", str(exc))
                issues.append((Where(rel, int(found.group(1)) if found else 0), f"not valid TOML: {exc}"))
        elif suffix == ".json":
            try:
                value = jsonio.loads(text)
            except json.JSONDecodeError as exc:
                issues.append((Where(rel, exc.lineno), f"not valid JSON: {exc.msg}"))
                continue
            except ValueError as exc:
                issues.append((Where(rel, 1), f"not valid JSON: {exc}"))
                continue
            if isinstance(value, dict):
                files.append(DataFile(rel, text, value))
            else:
                issues.append((Where(rel, 1), "expected a JSON object"))
    return files, issues


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def applies(files: Sequence[DataFile]) -> bool:
    """Whether these inputs are cluster-template's (any key the schema knows)."""
    return any(
        _dotted(path) in schema.CLUSTER or path[0] in schema.NODE_LISTS
        for f in files
        for path in _leaf_paths(f.data)
    )


def validate(files: Sequence[DataFile], used: Callable[[str], bool]) -> tuple[list[Issue], list[str]]:
    """Errors and warnings for the merged input values. ``used(name)``: do the templates use it."""
    return _Validator(files, used).run()


class _Validator:
    def __init__(self, files: Sequence[DataFile], used: Callable[[str], bool]) -> None:
        self.files = list(files)
        self.used = used
        self.issues: list[Issue] = []
        self.warnings: list[str] = []
        self.merged: dict[str, Any] = {}
        self.origin: dict[str, DataFile] = {}
        for f in self.files:
            for key, value in f.data.items():
                self.merged[key] = value
                self.origin[key] = f
        self._nodes_cache: dict[str, list[yaml.Node]] = {}

    # -- locating ----------------------------------------------------------------------------

    def where(self, path: Path_) -> Where:
        f = self.origin.get(str(path[0]))
        if f is None:
            return Where(self._home_of(str(path[0])).rel if self.files else "")
        if f.rel.endswith((".yaml", ".yml")):
            nodes = self._nodes_cache.get(f.rel)
            if nodes is None:
                nodes = self._nodes_cache[f.rel] = yamlio.compose(f.text)
            for node in nodes:
                if _has_key(node, str(path[0])):
                    return Where(f.rel, yamlio.locate(node, list(path)))
            return Where(f.rel)
        if f.rel.endswith(".toml"):
            return Where(f.rel, _toml_line(f.text, path))
        return Where(f.rel)

    def _home_of(self, key: str) -> DataFile:
        """The file a missing key belongs in: ``nodes.yaml`` for nodes, else the first input."""
        if key in schema.NODE_LISTS:
            for f in self.files:
                if Path(f.rel).stem == "nodes":
                    return f
        return self.files[0]

    def error(self, path: Path_, text: str) -> None:
        self.issues.append((self.where(path), f"{_show(path)}: {text}"))

    def warn(self, path: Path_, text: str) -> None:
        self.warnings.append(f"{self.where(path)}: {_show(path)}: {text}")

    # -- checking ----------------------------------------------------------------------------

    def run(self) -> tuple[list[Issue], list[str]]:
        if not self.files:
            return [], []
        present = {_generation(_dotted(p)) for p in _leaf_paths(self.merged) if _dotted(p) in schema.CLUSTER}
        for dotted, spec in schema.CLUSTER.items():
            path: Path_ = tuple(dotted.split("."))
            found, value = _get(self.merged, path)
            if not found:
                # Keys of a generation the inputs do not follow are not demanded (flat by default).
                if _generation(dotted) not in (present - {"any"} or {"flat"}) | {"any"}:
                    continue
                if spec.required and all(self.used(str(part)) for part in path):
                    self.error(path, f"missing (required by the templates; {_expected(spec)})")
                continue
            self.check(path, value, spec)
        for path in _leaf_paths(self.merged):
            if _dotted(path) in schema.CLUSTER or path[0] in schema.NODE_LISTS:
                continue
            if not self.used(str(path[-1])):
                self.warn(path, "unknown key (not in cluster-template's schema nor used by the templates)")
        self.cross_checks()
        return self.issues, self.warnings

    def check(self, path: Path_, value: Any, spec: Field) -> None:
        shown = str(path[-1])
        if value is None or value == "":
            self.error(path, "is empty (set a value, or remove the key to use the default)")
            return
        if spec.kind is Kind.NODES:
            self.check_nodes(path, value)
            return
        if spec.many:
            if not isinstance(value, list):
                self.error(path, f"{_quote(shown, value)} is not a list (expected [{_example(spec)}, …])")
                return
            for i, item in enumerate(value):
                self.check_one((*path, i), item, spec)
            return
        self.check_one(path, value, spec)

    def check_one(self, path: Path_, value: Any, spec: Field) -> None:
        name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        if spec.kind is Kind.CHOICE:
            if value not in spec.choices:
                choices = " or ".join(f'"{c}"' for c in spec.choices)
                self.error(path, f"{_quote(name, value)} is not one of the choices (expected {choices})")
            return
        problem = schema.CHECKS[spec.kind](value)
        if problem is not None:
            self.error(path, f"{_quote(name, value)} {problem}")

    def check_nodes(self, path: Path_, value: Any) -> None:
        item_schema = schema.NODE_LISTS[str(path[0])]
        if not isinstance(value, list):
            self.error(path, "is not a list of nodes (expected - name: k8s-0 …)")
            return
        if not value and item_schema is schema.NODE:
            self.error(path, "has no nodes (expected at least one controller node)")
        for i, node in enumerate(value):
            where: Path_ = (*path, i)
            if not isinstance(node, dict):
                self.error(where, "is not a node (expected a mapping with name, address, controller …)")
                continue
            for key, spec in item_schema.items():
                if key not in node:
                    # The nested generation sets one schematic for all nodes (talos.schematic_id).
                    shared = key == "schematic_id" and _get(self.merged, ("talos", "schematic_id"))[0]
                    if spec.required and not shared:
                        self.error((*where, key), f"missing (required for every node; {_expected(spec)})")
                    continue
                self.check((*where, key), node[key], spec)
            for key in node:
                if key not in item_schema and not self.used(str(key)):
                    self.warn((*where, str(key)), "unknown node key (not in cluster-template's schema)")
        for key in ("name", "address", "mac_addr"):
            seen: dict[Any, int] = {}
            for i, node in enumerate(value):
                if isinstance(node, dict) and node.get(key) not in (None, ""):
                    try:
                        first = seen.setdefault(node[key], i)
                    except TypeError:
                        continue
                    if first != i:
                        self.error(
                            (*path, i, key), f"{node[key]!r} is used by node {first} too (must be unique)"
                        )

    def cross_checks(self) -> None:
        networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for key, default in schema.NETWORKS.items():
            value = self.merged.get(key, default)
            if isinstance(value, str) and schema.CHECKS[Kind.CIDR](value) is None:
                networks.append((key, ipaddress.ip_network(value)))
        for i, (a, net_a) in enumerate(networks):
            for b, net_b in networks[i + 1 :]:
                if not net_a.overlaps(net_b):
                    continue
                if b in self.merged:
                    self.error((b,), f'"{net_b}" overlaps {a} {net_a} (the networks must be disjoint)')
                else:
                    self.error(
                        (a,), f'"{net_a}" overlaps the default {b} {net_b} (set {b} to another network)'
                    )
        seen: dict[str, str] = {}
        for key in schema.DISTINCT_ADDRESSES:
            value = self.merged.get(key)
            if isinstance(value, str) and value:
                if value in seen:
                    self.error((key,), f'"{value}" is also {seen[value]} (each address must be different)')
                else:
                    seen[value] = key
        node_cidr = self.merged.get("node_cidr")
        nodes = self.merged.get("nodes")
        if (
            isinstance(node_cidr, str)
            and schema.CHECKS[Kind.CIDR](node_cidr) is None
            and isinstance(nodes, list)
        ):
            network = ipaddress.ip_network(node_cidr)
            for i, node in enumerate(nodes):
                address = node.get("address") if isinstance(node, dict) else None
                if isinstance(address, str) and schema.CHECKS[Kind.IPV4](address) is None:
                    if ipaddress.ip_address(address) not in network:
                        self.error(("nodes", i, "address"), f'"{address}" is outside node_cidr {network}')
                    if address in seen:
                        self.error(("nodes", i, "address"), f'"{address}" is also {seen[address]}')


def _get(data: Any, path: Path_) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data


def _leaf_paths(data: dict[str, Any], prefix: Path_ = ()) -> Iterator[Path_]:
    """Key paths of a mapping; nested tables are walked unless the schema knows their key."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and _dotted(path) not in schema.CLUSTER:
            yield from _leaf_paths(value, path)
        else:
            yield path


def _generation(dotted: str) -> str:
    """Which cluster-template generation a schema key belongs to: legacy, nested, flat (or any)."""
    if dotted == "nodes":
        return "any"
    if dotted.startswith("bootstrap_"):
        return "legacy"
    return "nested" if "." in dotted else "flat"


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _has_key(node: Any, key: str) -> bool:
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == key for k, _ in node.value
    )


def _show(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _quote(name: str, value: Any) -> str:
    if _SECRET_NAME.search(name):
        return "the value"
    if isinstance(value, str):
        return json.dumps(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _example(spec: Field) -> str:
    problem = schema.CHECKS.get(spec.kind, lambda _: None)(object())
    found = re.search(r"like ([^)]*)\)", problem or "")
    return found.group(1) if found else "…"


def _expected(spec: Field) -> str:
    if spec.kind is Kind.CHOICE:
        return "expected " + " or ".join(f'"{c}"' for c in spec.choices)
    if spec.kind is Kind.NODES:
        return "expected a list of nodes"
    problem = schema.CHECKS[spec.kind](object()) or ""
    found = re.search(r"\((expected [^)]*)\)", problem)
    return found.group(1) if found else f"expected a {spec.kind.value}"


def _toml_line(text: str, path: Path_) -> int:
    lines = text.splitlines()
    pos = 0
    tables: list[str] = []
    for part in path:
        if isinstance(part, int):
            header = re.compile(r"^\s*\[\[\s*" + re.escape(".".join(tables)) + r"\s*\]\]")
            hits = [i for i, line in enumerate(lines) if header.match(line)]
            if part < len(hits):
                pos = hits[part]
            continue
        tables.append(part)
        key = re.compile(
            r"^\s*(\[+\s*(?:[\w.-]+\.)?" + re.escape(part) + r"\s*\]+|" + re.escape(part) + r"\s*=)"
        )
        for i in range(pos, len(lines)):
            if key.match(lines[i]):
                pos = i
                break
    return pos + 1 if lines else 0
