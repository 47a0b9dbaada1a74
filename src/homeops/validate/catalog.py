"""The schema catalog: every known kind's JSON Schema, built once into the cache, compiled once per kind.

Three sources, each converted once and kept in the content-addressed cache under
``$HOMEOPS_CACHE_DIR/schemas/`` (the key is a digest of what went in: the file and its size and
modification time, or the CRDs' own content): the Kubernetes definitions, Flux's kinds (shipped as
JSON Schema with homeops), and the CRDs of the repository. A kind is looked up by ``apiVersion`` and
``kind``: a CRD of the repository first (it is what the cluster will have), then Flux's, then
Kubernetes. Its validator is compiled on first use with only the definitions it reaches
(``jsonschema-rs``; a few milliseconds at most).
"""

from __future__ import annotations

import json
import marshal
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..digest import blake2b, sha256
from ..load.cache import cache_root
from ..records import NamedTuple
from . import sources
from .openapi import Schema, crd_kinds, ref

_FORMAT = 2
"""Bumped whenever the conversion changes: older cache entries are then simply not found."""

_BUNDLES: dict[str, dict[str, Any]] = {}
"""Converted sources this process has loaded, by their cache file (content-addressed: an entry never
changes under its name). In one run each is loaded once anyway; in the resident process
(:mod:`homeops.resident`, :func:`preload`) the children start with them."""

_COMPILED: dict[tuple[tuple[str, ...], str], tuple[Any, str | None]] = {}
"""Compiled validators of Flux and Kubernetes kinds (never a repository's CRDs), by the keys of the
bundles they were compiled from and the kind: (validator or None, why it does not compile)."""


class Unavailable(NamedTuple):
    """A source of schemas this machine does not have, and how to get it."""

    what: str
    hint: str


class Catalog:
    """Validators by kind, for one Kubernetes release and one repository's CRDs."""

    def __init__(
        self,
        kubernetes_version: str | None = None,
        crds: Iterable[Mapping[str, Any]] = (),
        *,
        cache: Path | None = None,
        flux_schemas: Path | None = None,
    ) -> None:
        """``flux_schemas``: another file than the Flux schemas homeops ships (tests)."""
        self._cache = cache if cache is not None else Path(cache_root()) / "schemas"
        self.provenance: list[sources.Provenance] = []
        self.unavailable: list[Unavailable] = []
        self.kubernetes: sources.KubernetesSchemas | None = sources.kubernetes_schemas(kubernetes_version)
        self._defs: list[dict[str, bytes]] = []
        self._loaded: dict[str, Schema] = {}
        self._kinds: dict[str, str] = {}
        self._sources: dict[str, str] = {}
        self._validators: dict[str, Any] = {}
        self._shipped: tuple[str, ...] = ()
        """The keys of the Flux and Kubernetes bundles, in lookup order (see :data:`_COMPILED`)."""
        self.broken: dict[str, str] = {}
        """Kind key → why its schema does not compile (a CRD with a pattern the engine rejects)."""
        self._load_crds(crds)
        self._load_flux(flux_schemas if flux_schemas is not None else sources.FLUX_SCHEMAS)
        self._load_kubernetes()

    # -- sources --------------------------------------------------------------------------------

    def _load_kubernetes(self) -> None:
        found = self.kubernetes
        if found is None:
            self.unavailable.append(
                Unavailable(
                    "Kubernetes schemas", "install homeops with its dependencies (kubernetes-validate)"
                )
            )
            return
        stat = (found.folder / "_definitions.json").stat()
        identity = f"kubernetes:{found.folder}:{stat.st_size}:{stat.st_mtime_ns}"

        def build() -> dict[str, Any]:
            from .openapi import core_bundle

            with open(found.folder / "_definitions.json", encoding="utf-8") as handle:
                return core_bundle(json.load(handle)["$defs"])

        self._add(*self._bundle(identity, build), "kubernetes", shipped=True)
        self.provenance.append(found.provenance)

    def _load_flux(self, path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            self.unavailable.append(Unavailable("Flux schemas", f"{path} is missing: reinstall homeops"))
            return

        def build() -> dict[str, Any]:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            return {"source": data["source"], "kinds": data["kinds"], "defs": data["defs"]}

        try:
            key, bundle = self._bundle(f"flux:{path}:{stat.st_size}:{stat.st_mtime_ns}", build)
        except (OSError, ValueError, KeyError, TypeError):
            self.unavailable.append(Unavailable("Flux schemas", f"{path} cannot be read: reinstall homeops"))
            return
        self._add(key, bundle, "flux", shipped=True)
        self.provenance.append(sources.flux_provenance(bundle.get("source") or {}, path))

    def _load_crds(self, crds: Iterable[Mapping[str, Any]]) -> None:
        documents = [dict(crd) for crd in crds]
        if not documents:
            return
        identity = (
            "crds:"
            + blake2b(json.dumps(documents, sort_keys=True, default=str).encode(), digest_size=32).hexdigest()
        )

        def build() -> dict[str, Any]:
            defs: dict[str, Schema] = {}
            kinds: dict[str, str] = {}
            for crd in documents:
                for key, schema in crd_kinds(crd):
                    defs["crd:" + key] = schema
                    kinds[key] = "crd:" + key
            return {"defs": defs, "kinds": kinds}

        self._add(*self._bundle(identity, build), "crd")
        self.provenance.append(
            sources.Provenance("CustomResourceDefinitions of the repository and its charts", "", "", "")
        )

    def _bundle(self, identity: str, build: Any) -> tuple[str, dict[str, Any]]:
        """A converted source from the cache, or built and stored there; and its key there."""
        key = sha256(f"{_FORMAT}\n{identity}".encode()).hexdigest()
        path = self._cache / f"{key}.marshal"
        if str(path) in _BUNDLES:
            return key, _BUNDLES[str(path)]
        try:
            with open(path, "rb") as handle:
                stored = marshal.load(handle)
            if isinstance(stored, dict) and "defs" in stored and "kinds" in stored:
                _BUNDLES[str(path)] = stored
                return key, stored
        except (OSError, EOFError, ValueError, TypeError):
            pass
        built = build()
        # each definition is marshalled on its own and read back only when a kind reaches it: a
        # repository uses a few dozen kinds of the hundreds known
        bundle = {"kinds": built["kinds"], "defs": {n: marshal.dumps(d) for n, d in built["defs"].items()}}
        if "source" in built:
            bundle["source"] = built["source"]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # written whole then renamed; no fsync: a torn entry does not load and is built again
            import tempfile  # only when built: once per installation

            fd, tmp = tempfile.mkstemp(prefix=".schemas.", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(bundle, handle)
            os.replace(tmp, path)
        except OSError:
            pass  # no cache: only a slower next run
        _BUNDLES[str(path)] = bundle
        return key, bundle

    def _add(self, key: str, bundle: dict[str, Any], source: str, *, shipped: bool = False) -> None:
        """``shipped``: Flux's or Kubernetes' own, not the repository's CRDs."""
        if shipped:
            self._shipped = (*self._shipped, key)
        self._defs.append(bundle["defs"])
        for key, name in bundle["kinds"].items():
            if key not in self._kinds:  # the sources are added most specific first
                self._kinds[key] = name
                self._sources[key] = source

    # -- lookup ---------------------------------------------------------------------------------

    def knows(self, api_version: str, kind: str) -> bool:
        return f"{api_version}/{kind}" in self._kinds

    def source(self, api_version: str, kind: str) -> str | None:
        """Where a kind's schema comes from: ``crd``, ``flux`` or ``kubernetes`` (None: unknown)."""
        return self._sources.get(f"{api_version}/{kind}")

    def definition(self, name: str) -> Schema | None:
        found = self._loaded.get(name)
        if found is None:
            for defs in self._defs:
                packed = defs.get(name)
                if packed is not None:
                    found = self._loaded[name] = marshal.loads(packed)
                    break
        return found

    def schema(self, api_version: str, kind: str) -> Schema | None:
        """The self-contained JSON Schema of one kind (its root and every definition it reaches)."""
        root = self._kinds.get(f"{api_version}/{kind}")
        if root is None:
            return None
        reached: dict[str, Schema] = {}
        todo = [root]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            found = self.definition(name)
            if found is None:
                found = {}  # a reference to nothing: accept rather than guess
            reached[name] = found
            todo.extend(_refs(found))
        return {**ref(root), "$defs": reached}

    def validator(self, api_version: str, kind: str) -> Any | None:
        """The compiled validator of one kind (None when no schema is known or it does not compile)."""
        key = f"{api_version}/{kind}"
        if key in self._validators:
            return self._validators[key]
        # A shipped kind's schema reaches only shipped definitions (a CRD's are all named "crd:…"),
        # so its validator depends on those bundles alone and can be shared within the process.
        shared = (self._shipped, key) if self._sources.get(key) in ("flux", "kubernetes") else None
        if shared is not None and shared in _COMPILED:
            compiled, broken = _COMPILED[shared]
        else:
            compiled, broken = self._compile(api_version, kind)
            if shared is not None:
                _COMPILED[shared] = (compiled, broken)
        if broken is not None:
            self.broken[key] = broken
        self._validators[key] = compiled
        return compiled

    def _compile(self, api_version: str, kind: str) -> tuple[Any, str | None]:
        schema = self.schema(api_version, kind)
        if schema is None:
            return None, None
        import jsonschema_rs

        try:
            return jsonschema_rs.Draft202012Validator(schema), None
        except (ValueError, jsonschema_rs.ValidationError) as exc:
            return None, (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


COMMON_KINDS = (
    "v1/Namespace", "v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount",
    "v1/PersistentVolumeClaim", "apps/v1/Deployment", "apps/v1/StatefulSet", "apps/v1/DaemonSet",
    "batch/v1/Job", "batch/v1/CronJob", "networking.k8s.io/v1/Ingress",
    "rbac.authorization.k8s.io/v1/Role", "rbac.authorization.k8s.io/v1/RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole", "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
)  # fmt: skip
"""Kubernetes kinds nearly every homelab repository applies (with every Flux kind: :func:`preload`)."""


def preload() -> None:
    """Load the shipped schemas and compile the validators of every Flux kind and the common
    Kubernetes ones, for the default Kubernetes release: what the resident process does once, so that
    each check it forks starts with them."""
    catalog = Catalog()
    flux = [key for key, source in catalog._sources.items() if source == "flux"]
    for key in (*flux, *COMMON_KINDS):
        api_version, _, kind = key.rpartition("/")
        catalog.validator(api_version, kind)


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            target = current.get("$ref")
            if isinstance(target, str) and target.startswith("#/$defs/"):
                out.append(target[len("#/$defs/") :].replace("~1", "/").replace("~0", "~"))
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return out
