"""A HelmRelease whose ``chartRef`` is an ExternalArtifact renders the chart the ArtifactGenerator
puts in it, in ``build`` and in ``diff``.

helm-controller loads the artifact as a packaged chart (Helm's ``LoadArchive``): the chart is the one
folder at the artifact's root (``from: "@repo/charts/greeter/"`` keeps the folder), and a chart copied
to the root itself is refused as Helm refuses it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from homeops.cli.main import main

FLEET = Path(__file__).resolve().parent.parent / "testdata" / "flux" / "artifact-generator"
GATEWAY = "platform/controllers/gateway.yaml"
CHART_SPEC = (
    "  chart:\n    spec:\n      chart: ./charts/greeter\n      reconcileStrategy: Revision\n"
    "      sourceRef:\n        kind: GitRepository\n        name: flux-system\n"
    "        namespace: flux-system\n"
)
CHART_REF = "  chartRef:\n    kind: ExternalArtifact\n    name: greeter-chart\n    namespace: flux-system\n"


def _artifact(copies: str) -> str:
    return f"    - name: greeter-chart\n      copy:\n{copies}"


FOLDER = '        - from: "@repo/charts/greeter/"\n          to: "@artifact/"\n'
MERGE = (
    '        - from: "@repo/charts/staging-values.yaml"\n          to: "@artifact/greeter/values.yaml"\n'
    "          strategy: Merge\n"
)


def _fleet(tmp_path: Path, staging: str, production: str) -> Path:
    """The fixture with the gateway release taking its chart from the ExternalArtifact greeter-chart."""
    repo = tmp_path / "fleet"
    shutil.copytree(FLEET, repo)
    gateway = repo / GATEWAY
    assert CHART_SPEC in gateway.read_text()
    gateway.write_text(gateway.read_text().replace(CHART_SPEC, CHART_REF))
    (repo / "charts" / "staging-values.yaml").write_text("replicas: 2\n")
    for cluster, copies in (("staging", staging), ("production", production)):
        artifacts = repo / "clusters" / cluster / "artifacts.yaml"
        artifacts.write_text(artifacts.read_text() + _artifact(copies))
    return repo


def _deployments(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, dict[str, Any]]:
    items = json.loads(capsys.readouterr().out)["items"]
    return {
        o["metadata"]["annotations"]["homeops.dev/cluster"]: o
        for o in items
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway"
    }


def test_build_renders_the_chart_the_artifact_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_env: None
) -> None:
    repo = _fleet(tmp_path, FOLDER + MERGE, FOLDER)
    assert main(["build", "hr", "gateway", str(repo), "--offline", "-o", "json"]) == 0
    found = _deployments(capsys, repo)
    assert set(found) == {"staging", "production"}
    # staging's artifact merged its values into the chart's values.yaml; production's did not
    assert found["staging"]["spec"]["replicas"] == 2
    assert found["production"]["spec"]["replicas"] == 1
    env = found["staging"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "MESSAGE", "value": "gateway"}]  # the release's own values still win


def test_a_chart_copied_to_the_root_fails_as_helm_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_env: None
) -> None:
    root = '        - from: "@repo/charts/greeter/**"\n          to: "@artifact/"\n'
    repo = _fleet(tmp_path, root, FOLDER)
    assert main(["build", "hr", "gateway", str(repo), "--offline", "-o", "json"]) == 3
    out, err = capsys.readouterr()
    assert "ExternalArtifact flux-system/greeter-chart holds 'Chart.yaml' at its root" in err
    assert "outside the base directory" in err and '"@artifact/<chart>/"' in err
    production = [o for o in json.loads(out)["items"] if o["kind"] == "Deployment"]
    assert [o["metadata"]["annotations"]["homeops.dev/cluster"] for o in production] == ["production"]


def test_diff_sees_a_change_to_the_chart_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_env: None
) -> None:
    repo = _fleet(tmp_path, FOLDER + MERGE, FOLDER)
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "fleet"]):
        subprocess.run(["git", *argv], cwd=repo, check=True)
    template = repo / "charts" / "greeter" / "templates" / "deployment.yaml"
    template.write_text(
        template.read_text().replace(
            "app: {{ .Release.Name }}\nspec:", "app: {{ .Release.Name }}\n    tier: edge\nspec:", 1
        )
    )
    assert main(["diff", str(repo), "-o", "json"]) == 1
    changed = json.dumps(json.loads(capsys.readouterr().out))
    assert "tier" in changed and "HelmRelease/gateway/gateway" in changed
    values = repo / "charts" / "staging-values.yaml"  # only staging's artifact merges it
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    values.write_text("replicas: 4\n")
    assert main(["diff", str(repo), "-o", "json"]) == 1
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [(c["producer"], c["kind"], c["fields"]) for c in changes] == [
        (
            "[staging] HelmRelease/gateway/gateway",
            "Deployment",
            [{"path": "spec.replicas", "before": 2, "after": 4}],
        )
    ]
