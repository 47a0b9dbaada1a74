"""The JSON documents a chart's ``values.schema.json`` refers to, made part of the chart's content.

A chart's schema, or a subchart's, may ``$ref`` documents by URL (bjw-s app-template's schema is a
single ``$ref`` to its common library's, which refers to more files beside it). Helm loads them over
the network every time it validates values. Here each URL is fetched once, online, stored
content-addressed beside the charts (``schemas/`` of the chart cache) and verified whenever it is read;
after that every reference resolves from the cache, and offline only the cache is used. A reference
that can be neither fetched nor found in the cache resolves from the chart's own files when the URL
names a file that the chart or one of its subcharts ships at the same version (app-template's URLs name
files of the common chart it vendors, at its version); anything else is left out, which accepts any
value there, and named in a warning: the values were not validated against it.

Relative references of a schema without ``$id`` resolve, as in Helm, against
``file:///values.schema.json``; they are read from the same chart's files and never from the disk.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...load import jsonio
from ...load.yamlio import MAX_DEPTH
from .archive import SCHEMA_FILE, ChartFiles, chart_tree
from .errors import ChartSourceError
from .store import ChartStore
from .transport import get

ROOT_URI = f"file:///{SCHEMA_FILE}"
"""Where Helm places every chart's schema when it compiles it (``ValidateAgainstSingleSchema``)."""
FETCH_TIMEOUT = 10.0
MAX_SCHEMA_BYTES = 8 * 1024 * 1024
DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default"})
"""Keywords whose values are instances, not schemas: a ``$ref`` key inside them is data."""


@dataclass(frozen=True, slots=True)
class SchemaRoot:
    """One chart's ``values.schema.json`` and the documents of its own files it refers to."""

    chart: ChartFiles
    contents: Any
    local: Mapping[str, Any]
    """``file:///…`` URI → document, read from this chart's files."""


@dataclass(frozen=True, slots=True)
class ChartSchemas:
    """Every schema of a chart (and its subcharts) with every document they refer to, resolved."""

    key: str
    """A digest of how each reference was resolved: renders validated against other documents differ."""
    tree: ChartFiles | None
    roots: tuple[SchemaRoot, ...] = ()
    remote: Mapping[str, Any] | None = None
    """URL → document (fetched, cached, or one of the chart's files)."""
    missing: Mapping[str, str] | None = None
    """URL → why it could not be resolved (values are not validated against it)."""
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What is built from these once and kept with them (compiled validators)."""

    def root_of(self, chart: ChartFiles) -> SchemaRoot | None:
        return next((root for root in self.roots if root.chart is chart), None)

    def warnings(self) -> list[str]:
        return [
            f"values were not validated against {url}, which a values.schema.json refers to: {why}"
            for url, why in sorted((self.missing or {}).items())
        ]


NO_SCHEMAS = ChartSchemas("", None)


class SchemaResolver:
    """Resolves the references of charts' schemas; one per :class:`ChartCache`, safe between threads."""

    def __init__(self, store: ChartStore, *, offline: bool, timeout: float = FETCH_TIMEOUT) -> None:
        self.store = store
        self.offline = offline
        self.timeout = timeout
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._memo: dict[str, ChartSchemas] = {}
        self._unreachable: dict[str, str] = {}
        """Hosts that failed once in this run (not asked again: a dead network costs one timeout)."""

    def schemas(
        self, archive: bytes, digest: str, *, source: str, extra: Mapping[str, bytes] | None = None
    ) -> ChartSchemas:
        """The schemas of the chart archive ``archive`` (``digest``), resolved once per process;
        ``extra``: JSON files of the chart's source folder that the archive lacks."""
        with self._guard:
            lock = self._locks.setdefault(digest, threading.Lock())
        with lock:
            found = self._memo.get(digest)
            if found is None:
                found = self._resolve(chart_tree(archive, source=source, extra=extra), source)
                self._memo[digest] = found
            return found

    def _resolve(self, tree: ChartFiles, source: str) -> ChartSchemas:
        roots: list[SchemaRoot] = []
        remote: dict[str, Any] = {}
        missing: dict[str, str] = {}
        how: dict[str, str] = {}
        pending: deque[tuple[str, ChartFiles, dict[str, Any]]] = deque()
        for chart in tree.walk():
            raw = chart.schema
            if raw is None:
                continue
            contents = _json(raw)
            if contents is None:
                raise ChartSourceError(
                    f"chart {chart.name} {chart.version} ({chart.path}): {SCHEMA_FILE} is not valid JSON "
                    f"(or nests deeper than {MAX_DEPTH} levels, which homeops does not read)",
                    source=source,
                    hint="the chart is broken: Helm refuses to load invalid JSON too; use another version",
                )
            local: dict[str, Any] = {ROOT_URI: contents}
            roots.append(SchemaRoot(chart, contents, local))
            pending.extend((uri, chart, local) for uri in references(contents, ROOT_URI))
        while pending:
            uri, chart, local = pending.popleft()
            if uri.startswith("file:"):
                if uri in local:
                    continue
                doc = _json(chart.files.get(urllib.parse.unquote(urllib.parse.urlsplit(uri).path)[1:], b""))
                if doc is None:
                    missing.setdefault(uri, f"chart {chart.name} {chart.version} has no such JSON file")
                    continue
                local[uri] = doc
                pending.extend((ref, chart, local) for ref in references(doc, uri))
            elif _is_metaschema(uri):
                continue
            elif uri.startswith(("http://", "https://")):
                if uri in remote or uri in missing:
                    continue
                found = self._remote(uri, tree)
                if isinstance(found, str):
                    missing[uri] = found
                    continue
                doc, how[uri] = found
                remote[uri] = doc
                pending.extend((ref, chart, local) for ref in references(doc, document_base(doc, uri)))
            else:
                missing.setdefault(uri, "homeops resolves http(s) URLs and the chart's own files only")
        summary = json.dumps([sorted(how.items()), sorted(missing)], sort_keys=True)
        key = hashlib.sha256(summary.encode()).hexdigest()[:32] if roots else ""
        return ChartSchemas(key, tree, tuple(roots), remote, missing)

    def _remote(self, url: str, tree: ChartFiles) -> tuple[Any, str] | str:
        """The document at ``url`` and where it came from (``sha256:…`` or ``chart:…``), or why not."""
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:  # two charts rendered at once that refer to the same URL: one fetch
            record = self.store.get("schema-url", (url,))
            if record is not None:
                digest = str(record.get("blob", ""))
                doc = _json(self.store.read_blob(digest) or b"")
                if doc is not None:
                    return doc, digest
            why = self._fetch(url)
        if not isinstance(why, str):
            return why
        shipped = shipped_file(url, tree)
        if shipped is not None:
            chart, rel = shipped
            doc = _json(chart.files[rel])
            if doc is not None:
                return doc, f"chart:{chart.path}/{rel}"
        return why

    def keep_source_json(self, digest: str, files: Mapping[str, bytes]) -> None:
        """Remember the source-only JSON files of the chart ``digest`` (built from a folder)."""
        if not files:
            return
        text = {rel: data.decode("utf-8", "replace") for rel, data in sorted(files.items())}
        try:
            blob = self.store.put_blob(json.dumps(text, sort_keys=True).encode())
            self.store.put("source-json", (digest,), {"blob": blob})
        except ChartSourceError:
            pass  # a cache that cannot be written: references to those files stay unresolved offline

    def source_json(self, digest: str) -> dict[str, bytes] | None:
        record = self.store.get("source-json", (digest,))
        raw = self.store.read_blob(str(record.get("blob", ""))) if record is not None else None
        try:
            files = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        if not isinstance(files, dict):
            return None
        return {str(rel): str(text).encode() for rel, text in files.items()}

    def _fetch(self, url: str) -> tuple[Any, str] | str:
        if self.offline:
            return "it is not in the chart cache and offline mode forbids fetching it"
        host = urllib.parse.urlsplit(url).netloc
        with self._guard:
            earlier = self._unreachable.get(host)
        if earlier is not None:
            return earlier
        try:
            reply = get(url, what=f"schema {url}", timeout=self.timeout, max_bytes=MAX_SCHEMA_BYTES)
        except ChartSourceError as exc:
            with self._guard:
                self._unreachable.setdefault(host, f"{host} could not be reached ({exc.message})")
            return exc.message
        doc = _json(reply.body)
        if doc is None:
            return f"{url} did not answer with a JSON document"
        try:
            digest = self.store.put_blob(reply.body)
            self.store.put("schema-url", (url,), {"blob": digest})
        except ChartSourceError:
            digest = "sha256:" + hashlib.sha256(reply.body).hexdigest()  # used now, fetched again next run
        return doc, digest


def references(doc: Any, base: str) -> Iterator[str]:
    """The absolute URIs (without fragment) of every ``$ref`` in ``doc``, relative ones resolved against
    ``base`` and the ``$id`` of the schemas around them."""
    stack: list[tuple[Any, str]] = [(doc, base)]
    while stack:
        node, here = stack.pop()
        if isinstance(node, dict):
            here = document_base(node, here)
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = urllib.parse.urldefrag(urllib.parse.urljoin(here, ref)).url
                if target:
                    yield target
            for key, value in node.items():
                if key not in DATA_KEYWORDS:
                    stack.append((value, here))
        elif isinstance(node, list):
            stack.extend((item, here) for item in node)


def shipped_file(url: str, tree: ChartFiles) -> tuple[ChartFiles, str] | None:
    """The chart (or subchart) file that ``url`` names: the URL mentions the chart's name and its
    version, and its path ends with the file's path inside the chart (the longest such file wins)."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    best: tuple[ChartFiles, str] | None = None
    for chart in tree.walk():
        version = re.compile(rf"(?<![\w.])v?{re.escape(chart.version)}(?![\w.])")
        if chart.name not in url or not version.search(url):
            continue
        for rel in chart.files:
            if path.endswith("/" + rel) and (best is None or len(rel) > len(best[1])):
                best = (chart, rel)
    return best


def document_base(doc: Any, uri: str) -> str:
    """The URI that references inside ``doc`` (found at ``uri``) are relative to: its ``$id``, if any."""
    own = doc.get("$id") if isinstance(doc, dict) else None
    return urllib.parse.urljoin(uri, own) if isinstance(own, str) and own else uri


def _json(raw: bytes) -> Any:
    """A JSON Schema document (an object or a boolean), or None."""
    try:
        doc = jsonio.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict | bool) else None


def _is_metaschema(uri: str) -> bool:
    """The JSON Schema dialects' own documents, which every validator knows without loading them."""
    parts = urllib.parse.urlsplit(uri)
    return parts.netloc == "json-schema.org"
