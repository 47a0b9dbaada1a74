"""``.minijinja.toml`` setups: rendered with Jinja2 the way minijinja-cli would, to validate them."""

from __future__ import annotations

from pathlib import Path

import pytest
from configure_testlib import fingerprint

from homeops.configure import ConfigureOptions, TemplateError, configure

HOME_OPS = "onedr0p__home-ops"


@pytest.mark.corpus
def test_home_ops_talos_templates_need_their_schematic(corpus: Path) -> None:
    repo = corpus / HOME_OPS
    with pytest.raises(TemplateError) as caught:
        configure(repo, ConfigureOptions(dry_run=True))
    assert str(caught.value.where) == "talos/cluster.yaml.j2:72"
    assert "'schematic' is undefined" in caught.value.message


@pytest.mark.corpus
def test_home_ops_talos_templates_render_and_nothing_is_written(corpus: Path) -> None:
    repo = corpus / HOME_OPS
    before = fingerprint(repo / "talos")
    result = configure(repo, ConfigureOptions(defines={"schematic": "a" * 64}))
    assert result.setups == ("minijinja (.minijinja.toml)",)
    assert sorted(result.rendered_only) == [
        "talos/cluster.yaml.j2",
        "talos/controlplane.yaml.j2",
        "talos/nodes/controlplane/k8s-0.yaml.j2",
        "talos/nodes/controlplane/k8s-1.yaml.j2",
        "talos/nodes/controlplane/k8s-2.yaml.j2",
        "talos/schematic.yaml.j2",
    ]
    assert result.files == ()
    assert fingerprint(repo / "talos") == before
    assert not (repo / ".homeops").exists()


def _repo(tmp_path: Path, config: str, template: str, name: str = "talos/node.yaml.j2") -> Path:
    (tmp_path / ".minijinja.toml").write_text(config)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template)
    return tmp_path


def test_env_strict_and_defines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(
        tmp_path,
        'env = true\nstrict = true\ntrim-blocks = true\n[defines]\nzone = "m"\n',
        "---\nhostname: {{ ENV.NODE_NAME }}\nzone: {{ zone }}\nparts: {{ 'a,b' | split(',') | length }}\n",
    )
    monkeypatch.setenv("NODE_NAME", "k8s-0")
    assert configure(repo).rendered_only == ("talos/node.yaml.j2",)
    monkeypatch.delenv("NODE_NAME")
    with pytest.raises(TemplateError) as caught:
        configure(repo)
    assert str(caught.value.where) == "talos/node.yaml.j2:2"


def test_without_env_flag_the_environment_is_not_exposed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, "strict = true\n", "hostname: {{ ENV.NODE_NAME }}\n")
    monkeypatch.setenv("NODE_NAME", "k8s-0")
    with pytest.raises(TemplateError, match="'ENV' is undefined"):
        configure(repo)
    monkeypatch.setenv("MINIJINJA_ENV", "true")  # minijinja-cli reads its flags from the environment too
    assert configure(repo).rendered_only == ("talos/node.yaml.j2",)


def test_lenient_config_still_refuses_to_print_undefined(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "strict = false\n", "a: 1\n{% if missing %}b: 2\n{% endif %}c: {{ missing }}\n")
    with pytest.raises(TemplateError) as caught:
        configure(repo)
    assert str(caught.value.where) == "talos/node.yaml.j2:3"
    assert configure(repo, ConfigureOptions(allow_undefined=True)).rendered_only == ("talos/node.yaml.j2",)


def test_rendering_to_invalid_yaml_is_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path, 'autoescape = "none"\n', "a: {{ value }}\n", name="x.yaml.j2")
    with pytest.raises(TemplateError, match="renders to invalid YAML"):
        configure(repo, ConfigureOptions(defines={"value": "[unclosed"}))
    # autoescape "auto" prints values of .yaml templates as JSON, which keeps this one valid.
    (repo / ".minijinja.toml").write_text('autoescape = "auto"\n')
    assert configure(repo, ConfigureOptions(defines={"value": "[unclosed"})).rendered_only == ("x.yaml.j2",)
