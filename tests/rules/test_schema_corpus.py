"""The schema rules on the real repositories: every finding read at its line and judged.

``JUDGED`` lists each SCH finding on the corpus with the verdict of reading it. Today there is none:
every object Flux would apply validates. Findings seen while building the rules and judged false
(fixed in homeops, not labelled here): the ``failed``/``current`` fields of ``healthCheckExprs``
(inherited from Flux's HealthCheckExpressions type, first missed); ``kind: FluxInstance`` in an
Alert's ``eventSources`` (onedr0p, ``kubernetes/components/alerts/alertmanager/alert.yaml:12``), which
the Flux version that repository runs (``version: 2.x``) accepts but the schema package's enumeration
predates, hence enumerations of Flux kinds are not enforced.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from homeops.rules.context import Context
from homeops.rules.engine import run_checks
from homeops.rules.schema import schema_result
from homeops.workspace import open_workspace

SCHEMA_RULES = ["SCH001", "SCH002", "SCH003"]

JUDGED: dict[str, dict[tuple[str, str, int], str]] = {
    "onedr0p__home-ops": {},
    "bjw-s-labs__home-ops": {},
    "Chrtol__home-cluster": {},
    "onedr0p__cluster-template__feb482b6": {},
    "fluxcd__flux2-kustomize-helm-example__a484a05e": {},
}

#: kinds each repository applies that must have been validated (not skipped for want of a schema)
VALIDATED = {
    "onedr0p__home-ops": ["apps/v1/Deployment", "v1/Namespace", "v1/ConfigMap"],
    "bjw-s-labs__home-ops": ["v1/Namespace", "v1/ConfigMap", "v1/PersistentVolumeClaim"],
    "Chrtol__home-cluster": ["v1/Namespace"],
    "fluxcd__flux2-kustomize-helm-example__a484a05e": ["v1/Namespace"],
}
FLUX_KINDS = ["kustomize.toolkit.fluxcd.io/v1/Kustomization", "helm.toolkit.fluxcd.io/v2/HelmRelease"]


@pytest.mark.corpus
@pytest.mark.parametrize("version", [None, "1.37.0"], ids=["default-release", "newest-release"])
@pytest.mark.parametrize("name", sorted(JUDGED))
def test_schema_findings_on_the_corpus_are_the_judged_ones(
    corpus: Path, name: str, version: str | None
) -> None:
    workspace = open_workspace(corpus / name, use_cache=False)
    config = workspace.config._replace(kubernetes_version=version) if version else workspace.config
    found = run_checks(workspace.flux, config, select=SCHEMA_RULES, raise_errors=True)
    places = Counter((f.rule, f.path, f.line) for f in found)
    listed = "\n".join(f"  {f.path}:{f.line} {f.rule} {f.message}" for f in found)
    assert places == Counter(JUDGED[name]), f"unjudged or missing schema findings:\n{listed}"


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(VALIDATED))
def test_the_corpus_is_really_validated(corpus: Path, name: str) -> None:
    workspace = open_workspace(corpus / name, use_cache=False)
    result = schema_result(Context(workspace.flux, workspace.config))
    applied = {f"{res.api_version}/{res.kind}" for res in workspace.flux.objects}
    expected = VALIDATED[name] + FLUX_KINDS
    for kind in expected:
        if kind in applied:
            assert kind not in result.report.unvalidated, kind
    assert result.report.validated > 0
    # nothing Kubernetes itself serves at the repository's release is left out
    assert not [k for k in result.report.unvalidated if k.split("/")[0] in ("v1", "apps", "batch")]
