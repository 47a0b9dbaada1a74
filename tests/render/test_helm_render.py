"""Rendering charts through Helm's Go SDK, as helm-controller would install them."""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.errors import RenderError
from homeops.render.charts import ChartCache
from homeops.render.helm import (
    HelmOptions,
    HelmTemplateError,
    chart_default_values,
    chart_file,
    render_chart,
    render_release,
)

CHARTS = Path(__file__).resolve().parents[1] / "testdata" / "charts"
DEMO = CHARTS / "demo"
WEB_VALUES: dict[str, Any] = {"replicaCount": 2, "image": {"tag": "2.2.0"}}


def render_demo(values: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
    return render_chart(
        DEMO, release_name="web", namespace="apps", values=values or {}, options=HelmOptions(**options)
    )


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def dump(objects: list[dict[str, Any]]) -> bytes:
    return yaml.safe_dump_all(objects, sort_keys=False).encode()


def test_golden_output() -> None:
    expected = [d for d in yaml.safe_load_all((CHARTS / "expected" / "demo-web.yaml").read_text()) if d]
    assert render_demo(WEB_VALUES) == expected
    assert names(render_demo(WEB_VALUES)) == names(expected)  # the order too, not only the content


def test_same_inputs_same_bytes_across_runs_and_threads() -> None:
    first = dump(render_demo(WEB_VALUES))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: dump(render_demo(WEB_VALUES)), range(8)))
    assert all(r == first for r in results)


def test_hooks_notes_and_tests() -> None:
    release = render_release(
        DEMO, release_name="web", namespace="apps", values={}, options=HelmOptions(skip_tests=False)
    )
    hooks = {m.obj["metadata"]["name"]: m.hook for m in release.hooks}
    assert hooks == {
        "web-demo-migrate": ("pre-install", "pre-upgrade"),
        "web-demo-test-connection": ("test",),
    }
    migrate = next(m.obj for m in release.hooks if m.obj["kind"] == "Job")
    assert migrate["metadata"]["annotations"]["helm.sh/hook-weight"] == "-5"
    assert release.notes == "web-demo is installed in apps.\n"
    every = names(release.objects())
    assert "ConfigMap/web-demo-legacy" not in every  # crd-install is not a hook Helm 3+ knows
    assert not any("NOTES" in m.source for m in release.resources)
    assert "Pod/web-demo-test-connection" not in names(render_demo())  # skip_tests defaults to True


def test_crds_follow_the_policy_and_enabled_subcharts() -> None:
    assert names(render_demo(include_crds=False))[0] == "ConfigMap/web-demo-settings"
    with_extras = render_demo({"extras": {"enabled": True}})
    crds = [n for n in names(with_extras) if n.startswith("CustomResourceDefinition/")]
    assert crds == [
        "CustomResourceDefinition/widgets.example.com",
        "CustomResourceDefinition/gadgets.example.com",
    ]
    extras = next(o for o in with_extras if o["metadata"]["name"] == "web-extras")
    assert extras["data"] == {"message": "from-demo"}  # the parent's values win over the subchart's


def test_capabilities_come_from_the_options() -> None:
    settings = render_demo(
        kube_version="1.30.2", api_versions=("example.com/v1", "monitoring.coreos.com/v1")
    )[1]
    assert settings["data"] == {
        "greeting": "hello",
        "kubeVersion": "v1.30.2",
        "widgetsApi": "true",
        "monitoring": "enabled",
    }


def test_kube_version_constraint_of_the_chart() -> None:
    with pytest.raises(RenderError) as caught:
        render_demo(kube_version="1.24.9")
    assert ">=1.25.0-0" in caught.value.message and "v1.24.9" in caught.value.message
    assert render_demo(kube_version="1.25.0-rc.1")  # Helm compares without the pre-release part


def test_schema_violation_is_reported() -> None:
    with pytest.raises(RenderError) as caught:
        render_demo({"replicaCount": "two"})
    assert "values.schema.json" in caught.value.message and "replicaCount" in caught.value.message


def test_template_error_names_file_and_line(tmp_path: Path) -> None:
    chart = tmp_path / "broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.3.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.missing.deeper }}\n"
    )
    with pytest.raises(HelmTemplateError) as caught:
        render_chart(chart, release_name="r", namespace="n", values={}, options=HelmOptions())
    assert caught.value.template == "broken/templates/cm.yaml"
    assert caught.value.line == 6
    assert caught.value.message == (
        "chart broken 0.3.0: template broken/templates/cm.yaml line 6 failed: "
        'executing "broken/templates/cm.yaml" at <.Values.missing.deeper>: '
        "nil pointer evaluating interface {}.deeper"
    )


def test_template_producing_invalid_yaml(tmp_path: Path) -> None:
    chart = tmp_path / "badyaml"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: badyaml\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text("kind: ConfigMap\nmetadata: {name: [x\n")
    with pytest.raises(HelmTemplateError) as caught:
        render_chart(chart, release_name="r", namespace="n", values={}, options=HelmOptions())
    assert caught.value.template == "badyaml/templates/cm.yaml"


def test_invalid_release_name() -> None:
    with pytest.raises(RenderError) as caught:
        render_chart(DEMO, release_name="Not_Valid", namespace="n", values={}, options=HelmOptions())
    assert "Not_Valid" in caught.value.message


def test_missing_subchart_is_an_error(tmp_path: Path) -> None:
    chart = tmp_path / "demo"
    shutil.copytree(DEMO, chart)
    shutil.rmtree(chart / "charts")
    with pytest.raises(RenderError) as caught:
        render_chart(chart, release_name="r", namespace="n", values={}, options=HelmOptions())
    assert "missing in charts/: extras" in caught.value.message


def test_app_template_like_values_drive_the_workloads() -> None:
    values = {
        "controllers": {
            "main": {"containers": {"app": {"image": {"repository": "registry.example/app", "tag": "1.4"},
                                            "env": {"TZ": "Europe/Paris", "PORT": 8080}}}},
            "db": {"type": "statefulset",
                   "containers": {"postgres": {"image": {"repository": "registry.example/pg", "tag": "16"}}}},
            "off": {"enabled": False, "containers": {}},
        },
        "service": {"main": {"ports": {"http": {"port": 80, "targetPort": 8080}}}},
    }  # fmt: skip
    objects = render_chart(CHARTS / "apptpl", release_name="paperless", namespace="docs", values=values,
                           options=HelmOptions())  # fmt: skip
    assert names(objects) == ["Service/paperless", "Deployment/paperless", "StatefulSet/paperless-db"]
    deployment = objects[1]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container == {
        "name": "app",
        "image": "registry.example/app:1.4",
        "env": [{"name": "PORT", "value": "8080"}, {"name": "TZ", "value": "Europe/Paris"}],
    }
    assert deployment["spec"]["template"]["spec"]["securityContext"] == {"runAsNonRoot": True}
    assert objects[0]["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080}]


def test_order_matches_helms_own_install() -> None:
    """Helm's install (client-side dry run) sorts its manifest itself; ours must agree."""
    import helm_python

    with helm_python.Config(storage_driver="memory") as config:
        release = config.install(str(CHARTS / "kinds"), "rel", {}, dry_run="client", namespace="ns")
    helm_order = re.findall(r"^kind: (\w+)\nmetadata: \{name: ([\w-]+)\}", release["manifest"], re.M)
    ours = render_chart(
        CHARTS / "kinds", release_name="rel", namespace="ns", values={}, options=HelmOptions()
    )
    assert [(o["kind"], o["metadata"]["name"]) for o in ours] == helm_order
    assert len(helm_order) == 16  # the partial _partial.yaml is not rendered


def test_files_inside_the_chart(tmp_path: Path) -> None:
    artifact = ChartCache(tmp_path / "cache").local(DEMO)
    for chart in (DEMO, artifact):
        assert chart_file(chart, "values.yaml") == (DEMO / "values.yaml").read_bytes()
        assert chart_file(chart, "./crds/widgets.yaml") == (DEMO / "crds" / "widgets.yaml").read_bytes()
        assert chart_file(chart, "values-prod.yaml") is None
    assert chart_file(DEMO, "../apptpl/values.yaml") is None  # never outside the chart


def test_default_values_and_artifact_input(tmp_path: Path) -> None:
    assert chart_default_values(DEMO) == yaml.safe_load((DEMO / "values.yaml").read_text())
    artifact = ChartCache(tmp_path / "cache").local(DEMO)
    assert render_chart(artifact, release_name="web", namespace="apps", values=WEB_VALUES,
                        options=HelmOptions()) == render_demo(WEB_VALUES)  # fmt: skip
    assert chart_default_values(artifact)["greeting"] == "hello"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_is_refused_instead_of_hanging() -> None:
    render_demo()  # the Go library is loaded in this process now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            render_demo()
        except RenderError as exc:
            code = 0 if "forked" in exc.message else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
