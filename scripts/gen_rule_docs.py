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
from kubelint_svc.kinds import KNOWN_POD_TEMPLATE_KINDS  # noqa: E402

TARGET = REPO / "docs" / "rules.md"
FIX_WORDS = {
    "safe": "Fix: **safe** (`lint --fix` applies it where it can).",
    "unsafe": "Fix: **unsafe**, it changes behaviour on purpose (`lint --fix --unsafe-fixes` applies it).",
}


def render(registry: Registry) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `rules/*.yaml` by `scripts/gen_rule_docs.py`; do not edit by hand.",
        "`kubelint-svc explain RULE` prints the same text in the terminal.",
        "",
        "| rule | severity | fix | summary |",
        "|---|---|---|---|",
    ]
    rules = registry.sorted_rules()
    def pack(rule) -> str:
        return f" (policy pack `{rule.pack}`, off by default)" if rule.pack else ""

    lines += [f"| [`{r.id}`](#{r.id}) | {r.severity}{pack(r)} | {r.fix or '-'} | {r.summary} |" for r in rules]
    lines += [
        "",
        "## What each rule judges",
        "",
        "An object is its API group and kind together. `Applies to: Service` below means the core",
        "`v1` Service: a `kind: Service` of another group (Knative's `serving.knative.dev`, Config",
        "Connector's) is never judged by these rules, nor taken for a Service across objects.",
        "",
        "Besides the built-in workloads, the Pods of these custom kinds are read from their",
        "template, so every cross-object rule (selector, targetPort, protocol, ambiguous",
        "selectors) sees them as it sees a Deployment's:",
        "",
        "| group | kind | Pod template | selector | labels the controller adds |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{k.group}` | {k.kind} | `{'.'.join(k.template)}` | `{'.'.join(k.selector)}` | "
        f"{', '.join(f'`{key}`' for key in (*k.added_labels, *k.name_labels)) or '-'} |"
        for k in KNOWN_POD_TEMPLATE_KINDS
    ]
    lines += [
        "",
        "An Argo Rollout with `spec.workloadRef` takes its Pods from the Deployment it names, which is",
        "read as that Deployment. Teach any other kind with `pod-templates:` in the configuration",
        "(docs/configuration.md):",
        "",
        "```yaml",
        "pod-templates:",
        "  - {group: example.com, kind: WebApp, template: spec.podTemplate, selector: spec.selector}",
        "```",
    ]
    for rule in rules:
        lines += ["", f"## {rule.id}", "", f"Severity: **{rule.severity}**{pack(rule)}.", "", rule.summary, "",
                  rule.rationale]
        if rule.kinds:
            lines += ["", "Applies to: " + ", ".join(rule.kinds) + "."]
        if rule.fix:
            lines += ["", FIX_WORDS[rule.fix]]
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
