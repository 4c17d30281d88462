"""Template placeholders: `${VAR}` (envsubst and friends) and `{{ ... }}` (Go/Helm templates).
A value holding one is not final until rendered, so it is noted once per object
(`unrendered-placeholder`) and never judged; a file that only parses once rendered gets one
note instead of syntax errors. All that knowledge lives here."""

from __future__ import annotations

import re
from typing import Any

from kubelint_svc.loader import Problem

# `${VAR}`, `${VAR:-default}` (envsubst and friends) and `{{ .Values.x }}` (Go/Helm templates)
PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=+?][^}]*)?\}|\{\{.*?\}\}")


def may_hold_placeholders(text: str) -> bool:
    """Cheap: could any value of this file be a placeholder?"""
    return "${" in text or "{{" in text


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def template_problems(problems: list[Problem], text: str) -> list[Problem]:
    """A Go/Helm template (`{{ ... }}`) is not YAML until rendered: its syntax errors become one
    note saying so, instead of errors about a file that was never meant to parse."""
    if "{{" not in text or not any(p.rule == "yaml-syntax" for p in problems):
        return problems
    offset = text.index("{{")
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    note = Problem(
        "unrendered-placeholder",
        "this file is a Go/Helm template ({{ ... }}), not YAML until rendered: lint its output instead "
        "(helm template . | kubelint-svc lint -)",
        line,
        column,
    )
    return [note] + [p for p in problems if p.rule != "yaml-syntax"]
