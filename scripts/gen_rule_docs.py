"""Write docs/rules.md from rules/*.yaml, so the rule reference is never out of date.

    python scripts/gen_rule_docs.py          # rewrite docs/rules.md
    python scripts/gen_rule_docs.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kubelint_svc.engine import Registry  # noqa: E402

TARGET = REPO / "docs" / "rules.md"


def render(registry: Registry) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `rules/*.yaml` by `scripts/gen_rule_docs.py`; do not edit by hand.",
        "`kubelint-svc explain RULE` prints the same text in the terminal.",
        "",
        "| rule | severity | summary |",
        "|---|---|---|",
    ]
    rules = registry.sorted_rules()
    def pack(rule) -> str:
        return f" (policy pack `{rule.pack}`, off by default)" if rule.pack else ""

    lines += [f"| [`{r.id}`](#{r.id}) | {r.severity}{pack(r)} | {r.summary} |" for r in rules]
    for rule in rules:
        lines += ["", f"## {rule.id}", "", f"Severity: **{rule.severity}**{pack(rule)}.", "", rule.summary, "",
                  rule.rationale]
        if rule.kinds:
            lines += ["", "Applies to: " + ", ".join(rule.kinds) + "."]
        if rule.failing_example.strip():
            lines += ["", "Failing:", "", "```yaml", rule.failing_example.rstrip("\n"), "```"]
        if rule.passing_example.strip():
            lines += ["", "Fixed:", "", "```yaml", rule.passing_example.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render(Registry.builtin())
    if "--check" in sys.argv:
        return 0 if TARGET.read_text() == text else 1
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
