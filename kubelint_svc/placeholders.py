"""Template placeholders: `${VAR}` (envsubst and friends) and `{{ ... }}` (Go/Helm templates).
A value holding one is not final until rendered, so it is noted once per object
(`unrendered-placeholder`) and never judged; a file that only parses once rendered gets one
note instead of syntax errors. All that knowledge lives here."""

from __future__ import annotations

import marshal
import re
from typing import Any

from kubelint_svc.file_reads import Problem

# `${VAR}`, `${VAR:-default}` (envsubst and friends) and `{{ .Values.x }}` (Go/Helm templates)
PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=+?][^}]*)?\}|\{\{.*?\}\}")
# `$NAME`: envsubst's other form, in the upper-case shape of a shell variable. Only where a
# field expects a number, a CIDR, a name or an IP does it count (a check would reject it
# there); `$` in commands and scripts is left alone.
BARE_PLACEHOLDER = re.compile(r"\$[A-Z_][A-Z0-9_]*\b")


def may_hold_placeholders(text: str) -> bool:
    """Cheap: could any value of this file be a placeholder?"""
    return "$" in text or "{{" in text


def data_may_hold_placeholders(data: Any) -> bool:
    """Cheap: could any string value of this data (an object built from files, whose text is not
    at hand) be a placeholder? Keys are not looked at: no check reads a placeholder there."""
    try:
        written = marshal.dumps(data)
    except ValueError:  # not plain data: each value looked at
        written = b"$"
    # marshal writes each string as its UTF-8 bytes: without these bytes, no string holds one (with
    # them, a key, a length or a number may hold them as well as a value: each value is looked at)
    if b"$" not in written and b"{{" not in written:
        return False
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "$" in value or "{{" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def is_placeholder(value: Any) -> bool:
    """A value holding `${VAR}` or `{{ ... }}`: noted once per object wherever it is."""
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def bare_placeholder(value: Any) -> str | None:
    """The `$NAME` a value holds, if any (only a check's verdict on it makes it count)."""
    match = BARE_PLACEHOLDER.search(value) if isinstance(value, str) else None
    return match.group() if match else None


def placeholder_note(placeholder: str, more: int = 0) -> str:
    """The one message an object's placeholders get."""
    others = f" and {more} more" if more else ""
    return (f"unrendered placeholder {placeholder}{others}: this is a template, to render with envsubst or helm "
            "template before applying; placeholder values are not checked")


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
