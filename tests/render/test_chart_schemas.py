"""The real bjw-s app-template (4.1.1, common vendored) and podinfo charts: remote schema references
fetched once and kept with the chart, offline rendering, values validated, violations at their line.

app-template's ``values.schema.json`` is a ``$ref`` to a URL of its common library, whose schema refers
to more files beside it. The published chart does not ship those (its ``.helmignore`` leaves
``schemas/`` out): only the common chart's own ``values.schema.json`` is inside it. So:

* online-shaped: a copy of the real chart whose schema URLs point at a server on loopback that serves
  the real common files at their upstream paths; the server records every request.
* offline, the real chart as published, with an empty schema cache: what the chart ships resolves from
  it, every other URL is named in a warning, and the values are validated against what it does ship.

Charts come from the test OCI registry (Debian's docker-registry), a Helm HTTP repository and a folder
of the repository itself (a Git path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from render_testlib import cli, documents

from homeops.render.charts import ChartCache
from homeops.render.charts.archive import chart_tree, strip_schemas
from homeops.render.charts.schemas import references, shipped_file
from homeops.render.helm import HelmOptions, render_release
from services import HttpRepo, helm_http_repo, oci_registry

SHARED = Path(os.environ.get("HOMEOPS_CHARTS", Path(__file__).resolve().parents[3] / "shared" / "charts"))
TEMPLATE = Path(__file__).resolve().parents[1] / "testdata" / "render" / "apptemplate"
UPSTREAM = "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/charts/library/common/"
UPSTREAM_PATH = "bjw-s-labs/helm-charts/common-4.1.1/charts/library/common/"
SOURCES = ("oci", "http", "git")


def vendored(shared: Path, dest: Path, *, base_url: str | None = None) -> Path:
    """app-template with common vendored into charts/common; with ``base_url`` its schema URLs point
    there instead of upstream (nothing else changes)."""
    chart = dest / "app-template"
    shutil.copytree(shared / "app-template-4.1.1", chart)
    shutil.copytree(shared / "common-4.1.1", chart / "charts" / "common")
    if base_url is not None:
        for schema in (chart / "values.schema.json", chart / "charts" / "common" / "values.schema.json"):
            schema.write_text(schema.read_text().replace(UPSTREAM, base_url))
    return chart


def package(folder: Path, dest: Path) -> Path:
    import helm_python

    return Path(helm_python.package(folder, destination=dest))


@dataclass
class Setup:
    """One repository installing one variant of the chart from each source, and what serves it."""

    repo: Path
    oci_url: str
    http_url: str
    archive: Path
    schemas: HttpRepo | None = None
    """For the online-shaped variant: the server of the schema files (``requests``: what was fetched)."""

    def schema_requests(self) -> list[str]:
        return [r for r in self.schemas.requests if r.endswith(".json")] if self.schemas else []


def make_repo(dest: Path, chart: Path, oci_url: str, http_url: str) -> Path:
    shutil.copytree(TEMPLATE, dest)
    shutil.copytree(chart, dest / "charts" / "app-template")
    sources = dest / "kubernetes/apps/web/sources.yaml"
    sources.write_text(sources.read_text().replace("REGISTRY", oci_url).replace("HELMREPO", http_url))
    return dest


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Setup]]:
    """The online-shaped and the real (as published) chart, each pushed to the registry, put in a Helm
    repository and vendored into a repository."""
    if not (SHARED / "app-template-4.1.1").is_dir():
        pytest.skip(f"the real charts are not at {SHARED} (set HOMEOPS_CHARTS)")
    import helm_python

    work = tmp_path_factory.mktemp("schemas")
    served = work / "served"
    shutil.copytree(SHARED / "common-4.1.1" / "schemas", served / UPSTREAM_PATH / "schemas")
    with oci_registry(work / "registry") as registry, helm_http_repo(served) as schemas:
        setups: dict[str, Setup] = {}
        variants = {"online": f"{schemas.url}/{UPSTREAM_PATH}", "real": None}
        common = (SHARED / "common-4.1.1" / "values.schema.json").read_text()
        (served / UPSTREAM_PATH / "values.schema.json").write_text(
            common.replace(UPSTREAM, variants["online"])
        )
        with contextlib.ExitStack() as stack:
            for name, base in variants.items():
                chart = vendored(SHARED, work / name / "src", base_url=base)
                archive = package(chart, work / name / "dist")
                registry.push(archive, name)
                helmrepo = work / name / "helmrepo"
                helmrepo.mkdir()
                shutil.copy(archive, helmrepo)
                helm_python.package(SHARED / "podinfo-6.14.1", destination=helmrepo)
                helm_python.repo_index_generate(helmrepo)
                http = stack.enter_context(helm_http_repo(helmrepo))
                repo = make_repo(work / name / "repo", chart, registry.url(name), http.url)
                setups[name] = Setup(repo, registry.url(name), http.url, archive,
                                     schemas if base else None)  # fmt: skip
            yield setups


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: what it fetches, it fetches for the first time."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(folder))
    return folder


def work_copy(setup: Setup, tmp_path: Path) -> Path:
    return Path(shutil.copytree(setup.repo, tmp_path / "repo"))


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- online-shaped: fetched once, kept, offline afterwards ------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_schema_documents_are_fetched_once_and_kept_with_the_chart(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    before = len(setup.schema_requests())
    code, out, err = cli(capsys, "build", "hr", f"web-{source}", str(repo))
    assert code == 0, err
    fetched = setup.schema_requests()[before:]
    assert len(fetched) == 18 and len(set(fetched)) == 18  # common's schema and its 17 files, once each
    assert "warning" not in err
    assert {d["kind"] for d in documents(out)} == {"Deployment", "Service"}
    for extra in ((), ("--offline",), ("--no-render-cache",), ("--offline", "--no-render-cache")):
        code, again, err = cli(capsys, "build", "hr", f"web-{source}", str(repo), *extra)
        assert code == 0 and again == out and "warning" not in err, err
    assert len(setup.schema_requests()) == before + 18  # nothing fetched twice
    assert any((cache / "charts" / "schemas" / "blobs" / "sha256").glob("*.json"))


def test_the_three_sources_share_what_was_fetched(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    before = len(setup.schema_requests())
    code, out, err = cli(capsys, "build", "hr", str(repo))
    assert code == 0, err
    assert len(setup.schema_requests()) == before + 18
    names = {d["metadata"]["name"] for d in documents(out) if d["kind"] == "Deployment"}
    assert names == {f"web-{source}" for source in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_a_schema_violation_is_an_error_at_the_line_of_the_value(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    assert cli(capsys, "build", "hr", f"web-{source}", str(repo))[0] == 0  # fills the cache
    release = repo / f"kubernetes/apps/web/{source}.yaml"
    release.write_text(release.read_text().replace("type: deployment", "type: bogus"))
    before = len(setup.schema_requests())
    code, _, err = cli(capsys, "build", "hr", f"web-{source}", str(repo), "--offline")
    assert code == 3
    line = line_of(release, "type: bogus")
    assert f"kubernetes/apps/web/{source}.yaml:{line}: HelmRelease web/web-{source}" in err
    assert "values.controllers.web.type: 'bogus' is not one of ['deployment'," in err
    assert "set in spec.values" in err and "the app-template 4.1.1 schema" in err
    assert len(setup.schema_requests()) == before


def test_helm_itself_agrees_on_the_output_and_on_the_violation(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Helm renders the online-shaped chart as published, loading its schema references over loopback
    itself: the same objects as homeops, and the same refusal of a bad value."""
    from homeops.errors import RenderError

    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    code, out, _ = cli(capsys, "build", "hr", "web-oci", str(repo))
    assert code == 0
    ours = next(d for d in documents(out) if d["kind"] == "Deployment")
    values = {"controllers": {"web": {"containers": {"app": {"image": {
        "repository": "ghcr.io/example/web", "tag": "1.0.0"}}}}},
        "service": {"app": {"controller": "web", "ports": {"http": {"port": 8080}}}}}  # fmt: skip
    helm = render_release(setup.archive, release_name="web-oci", namespace="web", values=values,
                          options=HelmOptions(include_crds=False))  # fmt: skip
    theirs = next(m.obj for m in helm.resources if m.obj["kind"] == "Deployment")
    assert ours["spec"] == theirs["spec"]
    values["controllers"]["web"]["type"] = "bogus"
    with pytest.raises(RenderError, match="/controllers/web/type"):
        render_release(setup.archive, release_name="web-oci", namespace="web", values=values,
                       options=HelmOptions(include_crds=False))  # fmt: skip


def test_disable_schema_validation_is_honoured(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    release = repo / "kubernetes/apps/web/git.yaml"
    release.write_text(release.read_text().replace("type: deployment", "type: bogus").replace(
        "  values:\n", "  install:\n    disableSchemaValidation: true\n  values:\n"))  # fmt: skip
    before = len(setup.schema_requests())
    code, _, err = cli(capsys, "build", "hr", "web-git", str(repo))
    assert code == 3 and "bogus" in err  # the chart's own template refuses the type, not the schema
    assert "values.schema.json" not in err
    assert len(setup.schema_requests()) == before  # nothing is fetched for a schema that is not used


# -- offline, the chart as published -----------------------------------------------------------------


def fill_chart_cache(setup: Setup, source: str) -> None:
    """Only the chart, as a run with the registry or repository reachable would: no schema fetched."""
    if source == "oci":
        ChartCache().oci(f"{setup.oci_url}/app-template", tag="4.1.1")
    elif source == "http":
        ChartCache().helm_repo(setup.http_url, "app-template", "4.1.1")


@pytest.mark.parametrize("source", SOURCES)
def test_offline_the_real_chart_renders_validated_against_what_it_ships(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    setup = servers["real"]
    repo = work_copy(setup, tmp_path)
    fill_chart_cache(setup, source)
    code, out, err = cli(capsys, "build", "hr", f"web-{source}", str(repo), "--offline")
    assert code == 0, err
    assert {d["kind"] for d in documents(out)} == {"Deployment", "Service"}
    # common's own values.schema.json ships inside the chart and is used; the files it refers to are
    # left out of the package by its .helmignore, but a chart built from a folder still has them there.
    assert (f"values were not validated against {UPSTREAM}schemas/controllers.json" in err) == (
        source != "git"
    )
    assert f"values were not validated against {UPSTREAM}values.schema.json" not in err
    assert "fix the" not in err  # nothing blames the values
    release = repo / f"kubernetes/apps/web/{source}.yaml"
    release.write_text(
        release.read_text().replace("  values:\n", "  values:\n    defaultPodOptionsStrategy: sideways\n")
    )
    code, _, err = cli(capsys, "build", "hr", f"web-{source}", str(repo), "--offline")
    assert code == 3
    line = line_of(release, "defaultPodOptionsStrategy: sideways")
    assert f"{source}.yaml:{line}: HelmRelease web/web-{source}" in err
    assert "values.defaultPodOptionsStrategy: 'sideways' is not one of ['overwrite', 'merge']" in err


def test_offline_a_git_path_validates_against_the_vendored_sources_schema_files(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No network and an empty cache: the vendored common chart's schemas/ (left out of the package by
    .helmignore, present in the repository) resolve its URLs, so a bad controller type is caught."""
    repo = work_copy(servers["real"], tmp_path)
    release = repo / "kubernetes/apps/web/git.yaml"
    release.write_text(release.read_text().replace("type: deployment", "type: bogus"))
    code, _, err = cli(capsys, "build", "hr", "web-git", str(repo), "--offline")
    assert code == 3
    line = line_of(release, "type: bogus")
    assert f"kubernetes/apps/web/git.yaml:{line}: HelmRelease web/web-git" in err
    assert "values.controllers.web.type: 'bogus' is not one of ['deployment'," in err
    assert "warning" not in err


def test_each_warning_is_said_once_for_every_release_it_concerns(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = servers["real"]
    repo = work_copy(setup, tmp_path)
    for source in SOURCES:
        fill_chart_cache(setup, source)
    code, _, err = cli(capsys, "build", "hr", str(repo), "--offline")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "schemas/controllers.json" in line]
    assert len(warnings) == 1 and all(f"web-{source}" in warnings[0] for source in ("oci", "http"))


def test_an_unreachable_reference_is_named_in_a_warning_never_blamed_on_the_values(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Online, but the schema host refuses connections: one attempt, then the chart's own files."""
    closed = "http://127.0.0.1:9/" + UPSTREAM_PATH
    chart = vendored(SHARED, tmp_path / "src", base_url=closed)
    shutil.rmtree(chart / "charts" / "common" / "schemas")  # as in a package: only the URLs can answer
    repo = make_repo(tmp_path / "repo", chart, servers["real"].oci_url, servers["real"].http_url)
    code, out, err = cli(capsys, "build", "hr", "web-git", str(repo))
    assert code == 0, err
    assert f"values were not validated against {closed}schemas/pod.json" in err
    assert f"values were not validated against {closed}values.schema.json" not in err  # the chart's own
    assert "127.0.0.1:9 could not be reached" in err
    assert documents(out)


def test_podinfo_from_the_helm_repository(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = servers["real"]
    repo = work_copy(setup, tmp_path)
    (repo / "kubernetes/apps/web/http.yaml").write_text(
        (repo / "kubernetes/apps/web/http.yaml").read_text().replace("chart: app-template", "chart: podinfo")
        .replace("version: 4.1.1", "version: 6.14.1")
    )  # fmt: skip
    code, out, err = cli(capsys, "build", "hr", "web-http", str(repo))
    assert code == 0, err
    deployment = next(d for d in documents(out) if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "ghcr.io/stefanprodan/podinfo:"
    )
    assert "warning" not in err


# -- the pieces --------------------------------------------------------------------------------------


def test_references_resolve_against_the_id_around_them() -> None:
    doc = {"$id": "https://x/a/root.json", "properties": {
        "one": {"$ref": "defs.json#/one"}, "two": {"$ref": "#/local"},
        "nested": {"$id": "sub/", "$ref": "other.json"},
        "enum": {"enum": [{"$ref": "not-a-reference.json"}]}}}  # fmt: skip
    assert set(references(doc, "file:///values.schema.json")) == {
        "https://x/a/defs.json", "https://x/a/root.json", "https://x/a/sub/other.json"}  # fmt: skip


def test_a_url_names_a_shipped_file_only_at_the_same_version(servers: dict[str, Setup]) -> None:
    tree = chart_tree(servers["real"].archive.read_bytes(), source="test")
    found = shipped_file(UPSTREAM + "values.schema.json", tree)
    assert found is not None and (found[0].name, found[1]) == ("common", "values.schema.json")
    assert shipped_file(UPSTREAM.replace("4.1.1", "4.1.0") + "values.schema.json", tree) is None
    assert shipped_file(UPSTREAM + "schemas/pod.json", tree) is None  # .helmignore left it out


def test_stripping_schemas_leaves_everything_else(servers: dict[str, Setup], tmp_path: Path) -> None:
    import tarfile

    archive = servers["real"].archive.read_bytes()
    stripped = strip_schemas(archive)
    assert stripped is not None and strip_schemas(stripped) is None
    assert strip_schemas(archive) == stripped  # deterministic

    def members(data: bytes) -> dict[str, bytes]:
        import io

        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]

    before, after = members(archive), members(stripped)
    assert {n for n in before if n.endswith("values.schema.json")} == {
        "app-template/values.schema.json", "app-template/charts/common/values.schema.json"}  # fmt: skip
    assert after == {n: b for n, b in before.items() if not n.endswith("values.schema.json")}


def tgz(folder: Path, name: str) -> bytes:
    """``folder`` as a chart archive whose top folder is ``name`` (as ``helm package`` lays it out)."""
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(folder, arcname=name)
    return out.getvalue()


def test_stripping_reaches_into_a_subchart_archive(tmp_path: Path) -> None:
    """A dependency fetched by ``helm dependency build`` sits in charts/ as an archive of its own."""
    if not (SHARED / "common-4.1.1").is_dir():
        pytest.skip(f"the real charts are not at {SHARED}")
    chart = tmp_path / "app-template"
    shutil.copytree(SHARED / "app-template-4.1.1", chart)
    (chart / "charts").mkdir()
    (chart / "charts" / "common-4.1.1.tgz").write_bytes(tgz(SHARED / "common-4.1.1", "common"))
    archive = tgz(chart, "app-template")
    tree = chart_tree(archive, source="test")
    assert [(s.name, s.path) for s in tree.subcharts] == [("common", "app-template/charts/common-4.1.1.tgz")]
    assert tree.subcharts[0].schema is not None and "schemas/pod.json" in tree.subcharts[0].files
    stripped = strip_schemas(archive)
    assert stripped is not None
    assert [c.schema for c in chart_tree(stripped, source="test").walk()] == [None, None]
    import helm_python

    with helm_python.Chart.load_archive(stripped) as loaded:  # Helm still reads it, subchart included
        assert [d["name"] for d in loaded.dependencies] == ["common"] and loaded.schema is None


def test_a_tampered_cached_document_is_never_used(
    servers: dict[str, Setup], cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cached documents are verified against their digest when read: a changed one counts as absent."""
    setup = servers["online"]
    repo = work_copy(setup, tmp_path)
    assert cli(capsys, "build", "hr", "web-oci", str(repo))[0] == 0
    blobs = cache / "charts" / "schemas" / "blobs" / "sha256"
    controllers = (SHARED / "common-4.1.1" / "schemas" / "controllers.json").read_bytes()
    tampered = next(p for p in blobs.glob("*.json") if p.read_bytes() == controllers)
    tampered.write_text('{"type": "object"}')  # would accept a controller of any type
    code, _, err = cli(capsys, "build", "hr", "web-oci", str(repo), "--offline", "--no-render-cache")
    assert code == 0, err
    assert (
        "schemas/controllers.json, which a values.schema.json refers to: it is not in the chart cache" in err
    )
    assert not tampered.exists()  # dropped, to be fetched again
