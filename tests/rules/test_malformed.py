"""Malformed and odd input never crashes: ``homeops check`` finishes, unreadable files are LOAD001 with
their line, and what is readable is read the way Flux reads it."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest
from rules_testlib import REPOS, copy_repo, findings, markers

from homeops.cli.main import main
from homeops.workspace import open_workspace

APP = "kubernetes/apps/default/oddities/app"
UNREADABLE = "kubernetes/apps/default/unreadable/app"
"""Files Flux reads (a folder without kustomization.yaml) that do not parse."""
INVISIBLE = f"{APP}/config\u200b\u00a0.yaml"  # zero-width space and no-break space in the name


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The malformed fixture plus what Git should not hold: line endings, encodings, odd names, links."""
    base = tmp_path_factory.mktemp("malformed")
    root = copy_repo(REPOS / "malformed", base / "repo")
    app = root / APP
    release = app / "helmrelease.yaml"
    release.write_bytes(release.read_bytes().replace(b"\n", b"\r\n"))
    documents = app / "documents.yaml"
    documents.write_bytes(codecs.BOM_UTF8 + documents.read_bytes())
    (app / "utf16.yaml").write_bytes(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: utf16\n".encode("utf-16")
    )
    (root / UNREADABLE / "tabs.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabs\n")
    (root / UNREADABLE / "latin1.yaml").write_bytes(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin1\ndata:\n  city: Z\xfcrich\n"
    )
    (root / INVISIBLE).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: invisible\n")
    os.symlink("helmrelease.yaml", app / "alias.yaml")  # inside the repository: followed
    os.symlink("..", app / "loop")  # a folder linking to its parent: walked once
    os.symlink("missing.yaml", app / "dangling.yaml")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nstringData:\n  key: value\n")
    os.symlink(outside, root / "kubernetes" / "apps" / "default" / "outside")
    return root


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["check", *argv, "--output", "json", "--no-cache"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["findings"], err


def test_check_finishes_and_reports_unreadable_files_with_their_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found, err = _check(capsys, str(repo))
    assert code == 1
    assert "Traceback" not in err and "internal error" not in err
    assert not [f for f in found if "internal error" in f["message"]]
    load = {(f["path"], f["line"]) for f in found if f["rule"] == "LOAD001"}
    marked = {(path, line) for rule, path, line in markers(REPOS / "malformed") if rule == "LOAD001"}
    assert marked == {(f"{UNREADABLE}/broken.yaml", 7)}
    assert load == marked | {(f"{UNREADABLE}/tabs.yaml", 4), (f"{UNREADABLE}/latin1.yaml", 6)}
    latin1 = next(f for f in found if f["path"] == f"{UNREADABLE}/latin1.yaml" and f["rule"] == "LOAD001")
    assert "not valid UTF-8 (byte 0xfc" in latin1["message"]
    assert ("LOAD003", "kubernetes/apps/default/outside") in {(f["rule"], f["path"]) for f in found}
    # the file with invisible characters in its name is reported under its exact name
    assert ("REF003", INVISIBLE, 1) in {(f["rule"], f["path"], f["line"]) for f in found}


def test_every_rule_survives(repo: Path) -> None:
    found = findings(repo)  # raise_errors=True: a rule that crashes fails here
    assert found


def test_what_is_readable_is_read_as_flux_reads_it(repo: Path) -> None:
    flux = open_workspace(repo, use_cache=False).flux
    applied = {(r.kind, r.name): r.obj for r in flux.objects}
    release = applied[("HelmRelease", "oddities")]  # CRLF line endings
    assert release["metadata"]["annotations"]["description"] == "odd but valid, as kustomize reads it"
    values = release["spec"]["values"]
    controller = values["controllers"]["oddities"]
    assert controller["replicas"] == 2  # ${REPLICAS} substituted and retyped
    assert controller["pod"]["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 0o775}
    env = controller["containers"]["app"]["env"]
    assert env["PORT"] == 8080 and env["METRICS_PORT"] == 9090
    assert env["ENABLED"] is True and env["oddities_HOME"] == "/config"
    assert env["on"] == "yes" and env["1"] == "numeric key"  # YAML 1.2: "on" and "yes" are text
    assert env["RELEASE"] == "{{ .Release.Name }}"  # Go templates are the chart's business
    # an alias refers to the latest definition of a re-defined anchor, as in Go YAML
    assert controller["containers"]["app"]["probes"]["liveness"]["spec"]["httpGet"]["port"] == 9090
    assert values["service"]["app"]["ports"]["metrics"]["port"] == 9090
    assert release["spec"]["install"]["remediation"]["retries"] == 3  # the parent's patch still applies
    documents = applied[("ConfigMap", "oddities-documents")]  # BOM, empty and comment-only documents
    # kustomize decodes an unquoted date as a time and writes it back in RFC 3339
    assert documents["data"]["started"] == "2024-01-01T00:00:00Z"
    assert ("ConfigMap", "oddities-directive") in applied  # %YAML directive
    generated = applied[("ConfigMap", "oddities-config")]  # custom tags in a file beside the manifests
    assert "!include customize.yaml" in generated["data"]["configuration.yaml"]
    assert flux.tree.parsed(f"{APP}/resources/configuration.yaml").failure is None
    assert flux.tree.parsed(f"{APP}/utf16.yaml").documents[0]["metadata"]["name"] == "utf16"
    assert flux.tree.parsed(f"{APP}/resources/values-list.yaml").documents[0][1]["name"] == "second"
    files = flux.tree.files()
    assert f"{APP}/alias.yaml" in files and f"{APP}/dangling.yaml" not in files
    assert not any("/loop/loop/" in path for path in files)
    assert not any(path.startswith("templates/") and path.endswith(".yaml") for path in files)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "{repo}", "--no-cache"],
        ["check", "{repo}", "--output", "sarif", "--no-cache"],
        ["check", "{repo}", "--output", "github", "--no-cache"],
        ["graph", "{repo}"],
        ["graph", "{repo}", "--order"],
        ["graph", "{repo}", "--format", "dot", "--all-kinds"],
        ["graph", "{repo}", "--why", "oddities"],
        ["get", "ks", "{repo}"],
        ["get", "hr", "{repo}", "--output", "json"],
        ["get", "images", "{repo}"],
    ],
    ids=" ".join,
)
def test_every_command_copes(repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main([arg.replace("{repo}", str(repo)) for arg in argv])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err
    assert out
