"""Where a field of a built object was written: its resource file, or the patch that set it.

kustomize applies patches from the kustomization files of a build (``patches``,
``patchesStrategicMerge``, ``patchesJson6902``; in files or inline), from components, and Flux adds
a Kustomization's own ``spec.patches`` (often put there by a parent's patch, itself YAML inside a
string inside YAML). A finding about a field a patch set belongs on that patch's line, not on the
base file where the field does not even appear. :class:`Provenance` finds it: the last patch of the
build that names the field for that object, else the object's own document.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from ..load import yamlio
from ..load.tree import SourceTree, normalize
from ..model.base import Resource, get_path
from ..records import NamedTuple
from .tree import FluxTree, Producer

Path = tuple[str | int, ...]

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class _Patch(NamedTuple):
    """One patch document, with where its text starts in the repository."""

    path: str
    """The file holding it."""
    node: yaml.Node
    """The patch document (a mapping for a strategic merge patch, a list for a JSON 6902 patch)."""
    offset: int
    """Added to the node's 0-based line to get the file's 1-based line."""
    target: dict[str, Any] | None
    """The patch's ``target`` selector, when it has one."""


class Provenance:
    """Field → file:line for one Flux tree, with the parsed patches of each build remembered."""

    def __init__(self, flux: FluxTree) -> None:
        self.flux = flux
        self.tree: SourceTree = flux.tree
        self._nodes: dict[str, list[yaml.Node]] = {}
        self._patches: dict[tuple[str, Any], list[_Patch]] = {}

    def nodes(self, path: str) -> list[yaml.Node]:
        found = self._nodes.get(path)
        if found is None:
            try:
                text = yamlio.decode(self.tree.read_bytes(path))
            except (OSError, UnicodeDecodeError):
                text = ""
            found = self._nodes[path] = yamlio.compose(text, tags=False)
        return found

    def locate(self, res: Resource, path: Path) -> tuple[str, int]:
        """The file and 1-based line that wrote ``path`` of ``res`` (its origin document when no patch
        of its build did)."""
        if path:
            producer = self.flux.producer_of(res)
            if producer is not None:
                found = self._from_patches(producer, res, path)
                if found is None and path == ("metadata", "namespace"):
                    found = self._namespace(producer, res)
                if found is not None:
                    return found
        nodes = self.nodes(res.origin.path)
        if res.origin.index >= len(nodes) or not path:
            return res.origin.path, res.origin.line
        return res.origin.path, yamlio.locate(nodes[res.origin.index], path)

    def _namespace(self, producer: Producer, res: Resource) -> tuple[str, int] | None:
        """Where a namespace the object's own document does not write was set: the Kustomization's
        ``spec.targetNamespace``, else the outermost kustomization file of the build whose ``namespace``
        names it (kustomize applies the outer one last)."""
        nodes = self.nodes(res.origin.path)
        written = nodes[res.origin.index] if res.origin.index < len(nodes) else None
        if written is not None and _plain(_node_at(written, ("metadata", "namespace"))) == res.namespace:
            return None
        if producer.ks.target_namespace == res.namespace:
            ks_nodes = self.nodes(producer.ks.origin.path)
            if producer.ks.origin.index < len(ks_nodes):
                node = ks_nodes[producer.ks.origin.index]
                if _node_at(node, ("spec", "targetNamespace")) is not None:
                    return producer.ks.origin.path, yamlio.locate(node, ("spec", "targetNamespace"))
        setting = []
        for kfile in producer.files:
            if posixpath.basename(kfile) not in _KUSTOMIZATION_FILES:
                continue
            kustomization = self.nodes(kfile)
            if kustomization and _plain(_node_at(kustomization[0], ("namespace",))) == res.namespace:
                folder = posixpath.dirname(kfile)
                above = folder == "" or res.origin.path.startswith(folder + "/")
                setting.append((not above, kfile.count("/"), kfile, kustomization[0]))
        if not setting:
            return None
        _far, _depth, kfile, node = min(setting)
        return kfile, yamlio.locate(node, ("namespace",))

    # -- patches ----------------------------------------------------------------------------------

    def _from_patches(self, producer: Producer, res: Resource, path: Path) -> tuple[str, int] | None:
        nodes = self.nodes(res.origin.path)
        written = nodes[res.origin.index] if res.origin.index < len(nodes) else None
        own = _node_at(written, path) if written is not None else None
        if own is not None and _same(own, get_path(res.obj, *path)):
            return None  # the resource file itself says so
        best: tuple[str, int] | None = None
        for patch in self.patches(producer):
            line = _patch_line(patch, res, path)
            if line is not None:
                best = (patch.path, line)  # later patches apply later: the last one wins
        return best

    def patches(self, producer: Producer) -> list[_Patch]:
        """Every patch of a build, in the order kustomize and Flux apply them (bases before overlays,
        the Kustomization's own ``spec.patches`` last)."""
        key = (producer.cluster, producer.id)
        found = self._patches.get(key)
        if found is None:
            found = self._patches[key] = [*self._kustomize_patches(producer), *self._flux_patches(producer)]
        return found

    def _kustomize_patches(self, producer: Producer) -> Iterator[_Patch]:
        files = sorted(
            (f for f in producer.files if posixpath.basename(f) in _KUSTOMIZATION_FILES),
            key=lambda f: -f.count("/"),  # deeper folders are usually the bases
        )
        for kfile in files:
            nodes = self.nodes(kfile)
            if not nodes or not isinstance(nodes[0], yaml.MappingNode):
                continue
            root = nodes[0]
            folder = posixpath.dirname(kfile)
            for section in ("patchesStrategicMerge", "patches", "patchesJson6902"):
                items = _node_at(root, (section,))
                if not isinstance(items, yaml.SequenceNode):
                    continue
                for item in items.value:
                    yield from self._entry_patches(kfile, folder, item)

    def _entry_patches(self, kfile: str, folder: str, item: yaml.Node) -> Iterator[_Patch]:
        target = _plain(_node_at(item, ("target",))) if isinstance(item, yaml.MappingNode) else None
        target = target if isinstance(target, dict) else None
        text_node = item if isinstance(item, yaml.ScalarNode) else _node_at(item, ("patch",))
        file_node = _node_at(item, ("path",)) if isinstance(item, yaml.MappingNode) else None
        if isinstance(text_node, yaml.ScalarNode) and "\n" in str(text_node.value):
            yield from _inline(kfile, text_node, target)
            return
        name = file_node if isinstance(file_node, yaml.ScalarNode) else text_node
        if isinstance(name, yaml.ScalarNode) and isinstance(name.value, str):
            rel = normalize(posixpath.join(folder, name.value))
            if rel is not None and self.tree.is_file(rel):
                for node in self.nodes(rel):
                    yield _Patch(rel, node, 1, target)

    def _flux_patches(self, producer: Producer) -> Iterator[_Patch]:
        """``spec.patches`` as written in the Kustomization's file, then those its parents' patches
        put there (inline patches of a parent that target Kustomizations hold the child's patches)."""
        chain: list[Producer] = []
        current: Producer | None = producer
        while current is not None and len(chain) < 8:
            chain.append(current)
            parent = current.parent
            current = self.flux.producers.get((producer.cluster, parent)) if parent is not None else None
        for owner in chain:
            nodes = self.nodes(owner.ks.origin.path)
            if owner.ks.origin.index >= len(nodes):
                continue
            items = _node_at(nodes[owner.ks.origin.index], ("spec", "patches"))
            if not isinstance(items, yaml.SequenceNode):
                continue
            for item in items.value:
                for patch in self._entry_patches(owner.ks.origin.path, "", item):
                    yield patch
                    yield from _nested(patch)


def _inline(path: str, scalar: yaml.ScalarNode, target: dict[str, Any] | None) -> Iterator[_Patch]:
    """The documents of a patch written as a string; block scalars keep their lines."""
    if scalar.style not in ("|", ">"):
        return  # a quoted one-liner: lines inside it cannot be told apart
    first = int(scalar.start_mark.line) + 2  # the indicator's line, then the text
    for node in yamlio.compose(str(scalar.value), tags=False):
        yield _Patch(path, node, first, target)


def _nested(patch: _Patch) -> Iterator[_Patch]:
    """Patches inside a patch that targets Kustomizations (a parent giving defaults to every child)."""
    items = _node_at(patch.node, ("spec", "patches"))
    if not isinstance(items, yaml.SequenceNode):
        return
    for item in items.value:
        text = _node_at(item, ("patch",))
        if isinstance(text, yaml.ScalarNode) and text.style in ("|", ">"):
            target = _plain(_node_at(item, ("target",)))
            first = patch.offset + int(text.start_mark.line) + 1
            for node in yamlio.compose(str(text.value), tags=False):
                yield _Patch(patch.path, node, first, target if isinstance(target, dict) else None)


def _patch_line(patch: _Patch, res: Resource, path: Path) -> int | None:
    node = patch.node
    if isinstance(node, yaml.SequenceNode):
        return _json_patch_line(patch, res, path)
    if not isinstance(node, yaml.MappingNode) or not _targets(patch, node, res):
        return None
    found = _node_at(node, path)
    if found is None:
        return None
    line = yamlio.locate(node, path)
    return patch.offset + line - 1


def _json_patch_line(patch: _Patch, res: Resource, path: Path) -> int | None:
    if patch.target is None or not _selected(patch.target, res):
        return None
    wanted = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
    best = None
    for op in patch.node.value:
        pointer = _plain(_node_at(op, ("path",)))
        if not isinstance(pointer, str) or _plain(_node_at(op, ("op",))) in ("remove", "test"):
            continue
        pointer = re.sub(r"/-$", "", pointer)
        if wanted == pointer or wanted.startswith(pointer + "/"):
            best = patch.offset + int(op.start_mark.line)
    return best


def _targets(patch: _Patch, node: yaml.MappingNode, res: Resource) -> bool:
    if patch.target is not None:
        return _selected(patch.target, res)
    kind = _plain(_node_at(node, ("kind",)))
    name = _plain(_node_at(node, ("metadata", "name")))
    return kind == res.kind and (name == res.name or (isinstance(name, str) and res.name.endswith(name)))


def _selected(target: dict[str, Any], res: Resource) -> bool:
    kind = target.get("kind")
    if isinstance(kind, str) and kind and kind != res.kind:
        return False
    group = target.get("group")
    if isinstance(group, str) and group and group != res.group:
        return False
    for key, value in (("name", res.name), ("namespace", res.namespace)):
        wanted = target.get(key)
        if isinstance(wanted, str) and wanted:
            try:
                if not re.fullmatch(wanted, value):
                    return False
            except re.error:
                if wanted != value:
                    return False
    return True


def _node_at(node: yaml.Node | None, path: Sequence[str | int]) -> yaml.Node | None:
    current = node
    for part in path:
        if isinstance(current, yaml.MappingNode):
            nxt = None
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    nxt = value
            current = nxt
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            current = current.value[part]
        else:
            return None
        if current is None:
            return None
    return current


def _plain(node: yaml.Node | None) -> Any:
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(_plain(k)): _plain(v) for k, v in node.value}
    return None


def _same(node: yaml.Node, built: Any) -> bool:
    """Whether the written node still says what the built object holds (a scalar compared as text;
    a ``${VAR}`` the build substituted, a mapping or a list count as the same)."""
    if not isinstance(node, yaml.ScalarNode):
        return True
    text = str(node.value)
    if "${" in text:
        return True
    if isinstance(built, bool):
        return text.lower() in (("true", "yes", "on") if built else ("false", "no", "off"))
    return text == str(built)
