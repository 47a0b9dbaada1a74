"""The rule documentation pages (``docs/rules/``), generated from the catalog's own source."""

from __future__ import annotations

from .base import Rule


def rule_page(rule: Rule) -> str:
    return f"""# {rule.id} `{rule.name}`

{rule.summary}.

| | |
|---|---|
| Severity | {rule.severity.value} |
| Family | {rule.family} |
| Seed rule | {rule.seed} |

## Why it matters

{rule.why}

## Bad

```yaml
{rule.bad.rstrip()}
```

## Good

```yaml
{rule.good.rstrip()}
```

## Fix

{rule.fix}

Silence one line with `# homeops:ignore {rule.id}`, or change the severity in `.homeops.yaml`
(`rules: {{{rule.id}: warning}}`, or `off`).
"""


def index_page(rules: list[Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rule catalog (`homeops rules --write-docs docs/rules`); do not edit by hand.",
        "",
        "| Id | Name | Severity | Family | What it finds |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        lines.append(
            f"| [{rule.id}]({rule.id}.md) | `{rule.name}` | {rule.severity.value} | {rule.family} "
            f"| {rule.summary} |"
        )
    return "\n".join(lines) + "\n"


def pages(rules: list[Rule]) -> dict[str, str]:
    """File name → content of every documentation page."""
    out = {f"{rule.id}.md": rule_page(rule) for rule in rules}
    out["README.md"] = index_page(rules)
    return out
