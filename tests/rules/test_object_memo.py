"""The Flux tree's memo per object: one answer per object's data, and the data it relies on is not
changed after the expansion first asks, nor by the rules (what makes a memo keyed by identity safe)."""

from __future__ import annotations

import copy
from pathlib import Path

from rules_testlib import REPOS

from homeops.model.base import ObjectMemo, Origin, Resource
from homeops.model.producers import products
from homeops.rules.catalog import all_rules
from homeops.rules.context import Context
from homeops.workspace import open_workspace


def test_objects_sharing_their_data_get_one_answer_and_others_their_own() -> None:
    data = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}}
    first, second = Resource(data, Origin("a.yaml", 1)), Resource(data, Origin("b.yaml", 1))
    other = Resource({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}, Origin("c.yaml", 1))
    asked: list[str] = []

    def name(res: Resource) -> str:
        asked.append(res.name)
        return res.name

    memo = ObjectMemo()
    assert [memo(name, first), memo(name, second), memo(name, other), memo(name, first)] == [
        "a",
        "a",
        "b",
        "a",
    ]
    assert asked == ["a", "b"]


def _assert_left_as_built(repo: Path) -> int:
    flux = open_workspace(repo, use_cache=False).flux
    objects = [*flux.objects, *flux.documents]
    # What the expansion asked the memo (what each object creates) is what the finished object says.
    assert [flux.memo(products, res) for res in objects] == [products(res) for res in objects], repo.name
    before = [copy.deepcopy(res.obj) for res in objects]
    ctx = Context(flux)
    for rule in all_rules():
        list(rule.check(ctx))
    ctx.graph  # noqa: B018  (built by the dependency rules; asked again in case none needed it)
    assert [res.obj for res in objects] == before, repo.name
    return len(objects)


def test_the_rules_and_the_graph_leave_every_object_as_built() -> None:
    assert _assert_left_as_built(REPOS / "clusters") > 0


def test_the_rules_and_the_graph_leave_every_corpus_object_as_built(corpus: Path) -> None:
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        _assert_left_as_built(repo)
