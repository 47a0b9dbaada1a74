"""The kstatus port against kstatus' own table (kubernetes-sigs/cli-utils ``status_compute_test.go``).

The Go test file is maintainer-written test data (Apache-2.0, ``../shared/runtime/kstatus/``); this test
reads it as it is: every ``var x = `yaml``` object and every table case (expected status, the
Reconciling/Stalled condition with its reason, the conditions that must be absent), and checks the
Python port case by case.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from homeops.doctor.kstatus import compute

KSTATUS_TABLE = (
    Path(__file__).resolve().parents[3] / "shared" / "runtime" / "kstatus" / "status_compute_test.go"
)


class Case(NamedTuple):
    name: str
    obj: dict[str, Any]
    status: str
    condition: tuple[str, str] | None
    """(type, reason) of the expected standard condition."""
    absent: tuple[str, ...]


COLLECTED_AT = datetime.now(UTC).replace(microsecond=0)
"""The "now" of the table's pod created at test time: cases are judged at this instant, however long
the rest of the suite takes before they run."""

_OBJECT = re.compile(r"^var (\w+) = `\n(.*?)`", re.S | re.M)
_CASE = re.compile(r'^\t\t"(\w+)": \{\n(.*?)^\t\t\},', re.S | re.M)
_STATUSES = {"Current": "Current", "InProgress": "InProgress", "Failed": "Failed"}


def _cases() -> list[Case]:
    if not KSTATUS_TABLE.is_file():
        return []
    text = KSTATUS_TABLE.read_text(encoding="utf-8")
    objects = {name: body for name, body in _OBJECT.findall(text)}
    now = COLLECTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for name, body in _CASE.findall(text):
        spec = re.search(r"spec:\s+(.*),\n", body)
        assert spec is not None, name
        expr = spec.group(1)
        if expr.startswith("fmt.Sprintf("):  # the pod created "now", being scheduled
            var = re.match(r"fmt\.Sprintf\((\w+),", expr)
            assert var is not None
            source = objects[var.group(1)] % now if "%s" in objects[var.group(1)] else objects[var.group(1)]
        else:
            source = objects[expr]
        status = re.search(r"expectedStatus:\s+(\w+)Status", body)
        assert status is not None, name
        expected = body.split("absentConditionTypes")[0]
        cond_type = re.search(r"Type:\s+Condition(\w+)", expected)
        reason = re.search(r'Reason:\s+"([^"]*)"', expected)
        absent_block = body.split("absentConditionTypes", 1)[1] if "absentConditionTypes" in body else ""
        absent = tuple(re.findall(r"Condition(Reconciling|Stalled)\b", absent_block))
        out.append(
            Case(
                name,
                yaml.load(source.replace("\t", "   "), Loader=_JsonLikeLoader),
                _STATUSES[status.group(1)],
                (cond_type.group(1), reason.group(1) if reason else "") if cond_type else None,
                absent,
            )
        )
    return out


class _JsonLikeLoader(yaml.SafeLoader):
    """YAML as sigs.k8s.io/yaml reads it on its way to JSON: timestamps stay strings."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

CASES = _cases()


def test_the_table_is_read() -> None:
    if not KSTATUS_TABLE.is_file():
        pytest.skip(f"kstatus table not found at {KSTATUS_TABLE}")
    # Every kind the table covers, and a case count that notices a parser that silently skips cases.
    assert len(CASES) >= 50
    kinds = {c.obj.get("kind") for c in CASES}
    assert {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Service"} <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kstatus_case(case: Case) -> None:
    result = compute(case.obj, now=COLLECTED_AT)
    assert result.status == case.status
    if case.condition is not None:
        assert (result.condition, result.reason) == case.condition
    assert result.condition not in case.absent
