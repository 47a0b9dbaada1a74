"""Object-level diffs: what a reviewer needs to see, and nothing that is not a change."""

from __future__ import annotations

from typing import Any

from homeops.diff.objects import MISSING, Rendered, diff
from homeops.diff.report import to_json, to_markdown, to_text, to_unified
from homeops.report.style import Style


def deployment(
    image: str = "nginx:1.27", env: list[dict[str, str]] | None = None, **labels: str
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": dict(labels)},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "env": env or [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                }
            }
        },
    }


def config_map(name: str, value: str = "v") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": value},
    }


def test_add_change_delete() -> None:
    base = [Rendered("ks/apps", (deployment(), config_map("old")))]
    head = [Rendered("ks/apps", (deployment(image="nginx:1.28"), config_map("new")))]
    result = diff(base, head)
    statuses = {(c.key.kind, c.key.name): c.status for c in result.changes}
    assert statuses == {
        ("ConfigMap", "new"): "added",
        ("ConfigMap", "old"): "removed",
        ("Deployment", "web"): "changed",
    }
    changed = next(c for c in result.changes if c.status == "changed")
    assert [(f.before, f.after) for f in changed.fields] == [("nginx:1.27", "nginx:1.28")]


def test_reordering_named_list_items_is_not_a_change() -> None:
    reordered = deployment(env=[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
    reordered["spec"]["template"]["spec"]["containers"].reverse()
    result = diff([Rendered("p", (deployment(),))], [Rendered("p", (reordered,))])
    assert result.empty
    assert result.unchanged == 1


def test_value_change_inside_a_named_list_is_located_by_name() -> None:
    changed = deployment(env=[{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
    result = diff([Rendered("p", (deployment(),))], [Rendered("p", (changed,))])
    text = to_text(result, Style(False))
    assert "[name=app]" in text and "[name=B]" in text and '"2" → "3"' in text


def test_chart_label_noise_is_ignored_by_default_but_configurable() -> None:
    base = [Rendered("p", (deployment(**{"helm.sh/chart": "app-1.0.0"}),))]
    head = [Rendered("p", (deployment(**{"helm.sh/chart": "app-1.1.0"}),))]
    assert diff(base, head).empty
    result = diff(base, head, ignore=())
    assert result.changes and result.changes[0].fields[0].path[-1] == "helm.sh/chart"


def test_a_side_that_fails_is_reported_not_shown_as_deletions() -> None:
    base = [Rendered("hr/immich", (deployment(), config_map("a"))), Rendered("ks/other", (config_map("b"),))]
    head = [
        Rendered("hr/immich", error="chart not in cache"),
        Rendered("ks/other", (config_map("b", "changed"),)),
    ]
    result = diff(base, head)
    assert [(f.producer, f.side) for f in result.failures] == [("hr/immich", "head")]
    assert all(c.producer == "ks/other" for c in result.changes)
    assert "could not render the head side" in to_text(result, Style(False))


def test_outputs() -> None:
    base = [Rendered("ks/apps", (config_map("a"),))]
    head = [Rendered("ks/apps", (config_map("a", "w"), config_map("b")))]
    result = diff(base, head)
    unified = to_unified(result)
    assert "-  k: v" in unified and "+  k: w" in unified and "+++ b/ConfigMap/default/b" in unified
    markdown = to_markdown(result)
    assert "| `ks/apps` | 1 | 1 | 0 |" in markdown and "<details>" in markdown and "```diff" in markdown
    payload = __import__("json").loads(to_json(result))
    assert {c["status"] for c in payload["changes"]} == {"added", "changed"}


def test_removed_field_is_marked_missing() -> None:
    before = config_map("a")
    after = config_map("a")
    after["data"] = {}
    change = diff([Rendered("p", (before,))], [Rendered("p", (after,))]).changes[0]
    assert change.fields[0].after is MISSING


def chart_crd(name: str, policy: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "annotations": {"homeops.dev/crds-on-upgrade": policy}},
    }


def test_a_new_chart_crd_is_noted_only_when_an_upgrade_would_skip_it() -> None:
    upgraded = diff(
        [Rendered("HelmRelease/x/app")],
        [Rendered("HelmRelease/x/app", (chart_crd("a.example.com", "Skip"),))],
    )
    installed = diff([], [Rendered("HelmRelease/x/app", (chart_crd("a.example.com", "Skip"),))])
    created = diff(
        [Rendered("HelmRelease/x/app")],
        [Rendered("HelmRelease/x/app", (chart_crd("a.example.com", "Create"),))],
    )
    (change,) = upgraded.changes
    assert change.status == "added" and change.note is not None and "is Skip" in change.note
    assert [c.note for c in installed.changes] == [None]
    assert [c.note for c in created.changes] == [None]
    assert '"note": null' in to_json(installed)
    assert "# note: CustomResourceDefinition.apiextensions.k8s.io/a.example.com" in to_unified(upgraded)


HOSTILE = "x</summary><img src=https://attacker.example/p.png>|`y`\n```\n# Injected [link](https://attacker.example)"


def test_the_markdown_comment_carries_no_markup_from_the_repository() -> None:
    """Names, values and errors written in a pull request cannot close the comment's code blocks, cells
    or summaries and add an image, a link or a heading (the comment is rendered as GitHub does:
    CommonMark with tables and raw HTML)."""
    from markdown_it import MarkdownIt

    base = [Rendered(f"ks/{HOSTILE}", (config_map("a"),)), Rendered("ks/broken", (config_map("c"),))]
    head = [
        Rendered(f"ks/{HOSTILE}", (config_map("a", HOSTILE),)),
        Rendered(f"ks/broken{HOSTILE}", error=f"cannot build: {HOSTILE}"),
    ]
    markdown = to_markdown(diff(base, head))
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<img" not in rendered and "<a " not in rendered and "<h1>" not in rendered, rendered
    headings = [t for t in tokens if t.type == "heading_open"]
    assert [t.tag for t in headings] == ["h3"]  # only the comment's own title
    assert "attacker.example/p.png" in rendered  # shown as text, in a cell, a summary and a code block
