"""Chart archives: read ``Chart.yaml`` and other files out of a ``.tgz``, and build one from a folder.

Building goes through Helm's own loader and writer (so ``.helmignore`` and chart validation are
Helm's), after the files are copied to a private folder with every timestamp pinned: the archive's
bytes, hence its digest, depend only on the chart's content. Dependencies declared in ``Chart.yaml``
but absent from ``charts/`` are fetched first, as source-controller does when it builds a chart from
Git: ``file://`` paths relative to the chart, repository URLs through the chart cache.

:func:`chart_tree` reads a chart and its subcharts (folders or nested archives under ``charts/``, as
Helm's loader does) for their JSON files; :func:`strip_schemas` rewrites an archive without the
``values.schema.json`` of any of them, for rendering once the values were validated elsewhere.
"""

from __future__ import annotations

import copy
import gzip
import io
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...fsutil import private_tempdir
from ...load.walk import inside
from ...load.yamlio import HELM, parse
from .errors import ChartSourceError

PINNED_MTIME = 315532800
"""1980-01-01T00:00:00Z, the timestamp every file gets before packaging."""
SCHEMA_FILE = "values.schema.json"
MAX_NESTING = 8
"""Subcharts inside subcharts deeper than this are not read (no real chart comes close)."""
MAX_FILE_BYTES = 5 * 1024 * 1024
"""Helm's ``MaxDecompressedFileSize``: a chart with a bigger file does not load."""
MAX_CHART_BYTES = 100 * 1024 * 1024
"""Helm's ``MaxDecompressedChartSize``: the whole chart, decompressed."""


def bounded_members(tar: tarfile.TarFile, source: str) -> Iterator[tarfile.TarInfo]:
    """The members of a chart archive, refusing (as Helm's loader does) a file or a whole chart larger
    than Helm loads: a small download must not decompress into gigabytes here (a tar bomb)."""
    total = 0
    for member in tar:
        if member.size > MAX_FILE_BYTES:
            raise ChartSourceError(
                f"{source}: {member.name} is {member.size:,} bytes decompressed; Helm refuses a chart "
                f"file over {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                source=source,
                hint="the chart is broken or hostile; use another version or source",
            )
        total += member.size
        if total > MAX_CHART_BYTES:
            raise ChartSourceError(
                f"{source}: the chart is over {MAX_CHART_BYTES // (1024 * 1024)} MiB decompressed, "
                "which Helm refuses",
                source=source,
                hint="the chart is broken or hostile; use another version or source",
            )
        yield member


@dataclass(frozen=True, slots=True)
class Dependency:
    """One entry of ``dependencies`` in ``Chart.yaml``."""

    name: str
    version: str
    repository: str


@dataclass(frozen=True, slots=True)
class ChartFiles:
    """One chart of an archive (the top chart or a subchart) and the files schemas may refer to."""

    name: str
    version: str
    path: str
    """Where it sits, for messages: ``app-template`` or ``app-template/charts/common-4.1.1.tgz``."""
    files: Mapping[str, bytes]
    """Its JSON files (``values.schema.json``, ``schemas/…``) by path inside the chart, subcharts excluded."""
    meta: Mapping[str, Any]
    """Its ``Chart.yaml``."""
    subcharts: tuple[ChartFiles, ...] = ()

    @property
    def schema(self) -> bytes | None:
        return self.files.get(SCHEMA_FILE)

    def walk(self) -> list[ChartFiles]:
        """This chart and every subchart below it."""
        out = [self]
        for sub in self.subcharts:
            out.extend(sub.walk())
        return out


MAX_SOURCE_JSON = 256
MAX_SOURCE_JSON_BYTES = 2 * 1024 * 1024


def source_json(folder: Path, archive: bytes) -> dict[str, bytes]:
    """The JSON files of a chart's source folder that its archive lacks (a ``.helmignore`` left them
    out, as bjw-s charts leave out ``schemas/``), by path inside the chart: schema references may name
    them. Symlinks are not followed; the count and sizes are bounded."""
    packed = set()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        for member in tar:
            packed.add(member.name.removeprefix("./").partition("/")[2])
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(folder).as_posix()
            if not name.endswith(".json") or rel in packed or full.is_symlink():
                continue
            try:
                if full.stat().st_size <= MAX_SOURCE_JSON_BYTES:
                    out[rel] = full.read_bytes()
            except OSError:
                continue
            if len(out) >= MAX_SOURCE_JSON:
                return out
    return out


def chart_tree(
    data: bytes, *, source: str, extra: Mapping[str, bytes] | None = None, _depth: int = 0
) -> ChartFiles:
    """The chart in an archive with its subcharts, as far as schemas are concerned; ``extra``: files of
    the chart's source the archive lacks (:func:`source_json`), by path inside the chart."""
    members: dict[str, bytes] = dict(extra or {})
    top = ""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in bounded_members(tar, source):
                head, _, rest = member.name.removeprefix("./").partition("/")
                if not member.isfile() or not rest or (top and head != top):
                    continue
                top = top or head
                if rest.endswith((".json", ".tgz")) or rest.rsplit("/", 1)[-1] == "Chart.yaml":
                    handle = tar.extractfile(member)
                    if handle is not None:
                        members[rest] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartSourceError(f"{source} is not a readable chart archive: {exc}", source=source) from exc
    return _chart_files(members, "", top or source, source, _depth)


def _chart_files(members: Mapping[str, bytes], prefix: str, path: str, source: str, depth: int) -> ChartFiles:
    raw = members.get(prefix + "Chart.yaml")
    if raw is None:
        raise ChartSourceError(f"{source}: {path} has no Chart.yaml", source=source)
    meta = parse_chart_yaml(raw, source=f"{source}: {path}")
    files = {
        rel[len(prefix) :]: data
        for rel, data in members.items()
        if rel.startswith(prefix) and rel.endswith(".json") and not rel[len(prefix) :].startswith("charts/")
    }
    subcharts: list[ChartFiles] = []
    if depth < MAX_NESTING:
        under = prefix + "charts/"
        folders = sorted(
            {
                rel[len(under) :].split("/", 1)[0]
                for rel in members
                if rel.startswith(under) and "/" in rel[len(under) :]
            }
        )
        for folder in folders:
            if under + folder + "/Chart.yaml" in members:
                subcharts.append(
                    _chart_files(members, f"{under}{folder}/", f"{path}/charts/{folder}", source, depth + 1)
                )
        for rel in sorted(members):
            if rel.startswith(under) and rel.endswith(".tgz") and "/" not in rel[len(under) :]:
                nested = chart_tree(
                    members[rel], source=f"{source}: {path}/{rel[len(prefix) :]}", _depth=depth + 1
                )
                subcharts.append(replace(nested, path=f"{path}/{rel[len(prefix) :]}"))
    return ChartFiles(str(meta["name"]), str(meta["version"]), path, files, meta, tuple(subcharts))


def strip_schemas(data: bytes, *, _depth: int = 0) -> bytes | None:
    """``data`` without the ``values.schema.json`` of its chart and of every subchart (nested archives
    rewritten likewise); None when there is none. Deterministic: the same archive gives the same bytes."""
    out = io.BytesIO()
    changed = False
    try:
        with (
            tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as source,
            gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed,
            tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as target,
        ):
            for member in bounded_members(source, "archive"):
                parts = member.name.removeprefix("./").split("/")
                # A chart root is the top folder or <root>/charts/<name>: <root>/x has an even number of
                # parts, <root>/charts/y.tgz an odd one, and every odd place before the last says "charts".
                inside = all(p == "charts" for p in parts[1:-1:2])
                if member.isfile() and inside and len(parts) % 2 == 0 and parts[-1] == SCHEMA_FILE:
                    changed = True
                    continue
                handle = source.extractfile(member) if member.isfile() else None
                content = handle.read() if handle is not None else None
                if (
                    content is not None
                    and inside
                    and len(parts) % 2 == 1
                    and len(parts) >= 3
                    and parts[-2] == "charts"
                    and parts[-1].endswith(".tgz")
                    and _depth < MAX_NESTING
                ):
                    stripped = strip_schemas(content, _depth=_depth + 1)
                    if stripped is not None:
                        content, changed = stripped, True
                info = copy.copy(member)
                if content is not None:
                    info.size = len(content)
                target.addfile(info, io.BytesIO(content) if content is not None else None)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartSourceError(f"not a readable chart archive: {exc}", source="archive") from exc
    return out.getvalue() if changed else None


def read_member(data: bytes, relpath: str) -> bytes | None:
    """The bytes of ``<chart>/<relpath>`` inside a chart archive, or None when absent."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in bounded_members(tar, "archive"):
                parts = member.name.removeprefix("./").split("/", 1)
                if len(parts) == 2 and parts[1] == relpath and member.isfile():
                    handle = tar.extractfile(member)
                    return handle.read() if handle is not None else None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartSourceError(f"not a readable chart archive: {exc}", source="archive") from exc
    return None


def chart_yaml(data: bytes, *, source: str) -> dict[str, Any]:
    """``Chart.yaml`` of a chart archive; raises when the archive holds none."""
    raw = read_member(data, "Chart.yaml")
    if raw is None:
        raise ChartSourceError(
            f"{source} is not a Helm chart archive (no Chart.yaml)",
            source=source,
            hint="check that the source points at a chart, not a plain image or folder",
        )
    return parse_chart_yaml(raw, source=source)


def parse_chart_yaml(raw: bytes, *, source: str) -> dict[str, Any]:
    parsed = parse(raw, schema=HELM)
    if parsed.failure is not None:
        raise ChartSourceError(
            f"{source}: Chart.yaml is not valid YAML (line {parsed.failure.line}: {parsed.failure.reason})",
            source=source,
        )
    meta = parsed.documents[0] if parsed.documents else None
    if not isinstance(meta, dict) or not meta.get("name") or not meta.get("version"):
        raise ChartSourceError(f"{source}: Chart.yaml lacks a name or a version", source=source)
    return meta


def dependencies(meta: dict[str, Any]) -> list[Dependency]:
    found: list[Dependency] = []
    for entry in meta.get("dependencies") or []:
        if isinstance(entry, dict) and entry.get("name"):
            found.append(
                Dependency(
                    str(entry["name"]), str(entry.get("version") or ""), str(entry.get("repository") or "")
                )
            )
    return found


FetchDependency = Callable[[Dependency, Path], Path]
"""Given a dependency and the chart folder it belongs to, return the path of its chart (folder or .tgz)."""


def within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path``, its symlinks resolved, is ``root`` or below it."""
    return inside(os.path.realpath(root), str(path))


def leaving(root: Path | None) -> Callable[[str, list[str]], set[str]]:
    """A ``shutil.copytree`` ``ignore`` that leaves out the symlinks leading outside ``root`` (None:
    nothing left out), as the repository walk treats them: absent. Flux's artifacts hold no symlink."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        if root is None:
            return set()
        return {
            name
            for name in names
            if os.path.islink(os.path.join(folder, name)) and not within(os.path.join(folder, name), root)
        }

    return ignore


def package_folder(folder: Path, *, fetch: FetchDependency, root: Path | None = None) -> bytes:
    """A deterministic ``.tgz`` of the chart in ``folder``, missing dependencies vendored first;
    ``root``: the source the chart belongs to, whose symlinks leading out of it are not followed."""
    import helm_python

    if not (folder / "Chart.yaml").is_file():
        raise ChartSourceError(
            f"{folder} is not a Helm chart (no Chart.yaml)", source=str(folder), hint="check the chart path"
        )
    with private_tempdir("homeops-chart-") as tmp:
        work = tmp / "src" / folder.name
        try:
            shutil.copytree(folder, work, symlinks=False, ignore=leaving(root))
        except (OSError, shutil.Error) as exc:
            raise ChartSourceError(f"cannot copy the chart {folder}: {exc}", source=str(folder)) from exc
        _vendor_dependencies(work, folder, fetch)
        _pin_mtimes(work)
        out = tmp / "out"
        out.mkdir()
        try:
            with helm_python.Chart.load(work) as chart:
                written = chart.save(out)
        except helm_python.HelmError as exc:
            raise ChartSourceError(
                f"{folder} is not a valid Helm chart: {exc.detail}", source=str(folder)
            ) from exc
        return Path(written).read_bytes()


def _vendor_dependencies(work: Path, original: Path, fetch: FetchDependency) -> None:
    meta = parse_chart_yaml((work / "Chart.yaml").read_bytes(), source=str(original / "Chart.yaml"))
    wanted = dependencies(meta)
    if not wanted:
        return
    charts = work / "charts"
    present = _present_subcharts(charts)
    for dep in wanted:
        if dep.name in present:
            continue
        chart_path = fetch(dep, original)
        charts.mkdir(exist_ok=True)
        if chart_path.is_dir():
            shutil.copytree(chart_path, charts / dep.name, symlinks=False, ignore=leaving(chart_path))
        else:
            shutil.copyfile(chart_path, charts / f"{dep.name}-{dep.version or 'vendored'}.tgz")
        present.add(dep.name)


def _present_subcharts(charts: Path) -> set[str]:
    """Names of the charts already in ``charts/`` (folders and archives)."""
    names: set[str] = set()
    if not charts.is_dir():
        return names
    for entry in charts.iterdir():
        try:
            if entry.is_dir() and (entry / "Chart.yaml").is_file():
                meta = parse_chart_yaml((entry / "Chart.yaml").read_bytes(), source=str(entry))
                names.add(str(meta["name"]))
            elif entry.suffix == ".tgz":
                names.add(str(chart_yaml(entry.read_bytes(), source=str(entry))["name"]))
        except ChartSourceError:
            continue  # Helm reports broken subcharts when it loads the chart
    return names


def _pin_mtimes(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*filenames, *dirnames]:
            os.utime(os.path.join(dirpath, name), (PINNED_MTIME, PINNED_MTIME), follow_symlinks=False)
    os.utime(root, (PINNED_MTIME, PINNED_MTIME))
