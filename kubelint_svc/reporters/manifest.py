"""A generated object written as kubectl writes it: YAML with keys in order and lists not
indented (`kubectl ... -o yaml`), or JSON. Every string from input is quoted where YAML 1.1 (what
kubectl reads) could take it for something else, and control characters are escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from kubelint_svc.reporters.escaping import json_text

# plain scalars that YAML 1.1 reads as a string; everything else is written double-quoted
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_YAML11_WORDS = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null",
}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML11_WORDS:
        return text
    return json.dumps(text, ensure_ascii=True)  # a JSON string is a YAML double-quoted scalar


def yaml_text(document: dict[str, Any]) -> str:
    """One YAML document, keys sorted as kubectl's printer sorts them."""
    lines: list[str] = []
    _mapping(document, 0, lines)
    return "\n".join(lines) + "\n"


def _mapping(mapping: dict[str, Any], indent: int, lines: list[str], first_prefix: str | None = None) -> None:
    for position, key in enumerate(sorted(mapping)):
        prefix = first_prefix if position == 0 and first_prefix is not None else " " * indent
        _entry(prefix + _scalar(key) + ":", mapping[key], indent, lines)


def _entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            lines.append(head + " {}")
            return
        lines.append(head)
        _mapping(value, indent + 2, lines)
    elif isinstance(value, list):
        if not value:
            lines.append(head + " []")
            return
        lines.append(head)
        for item in value:
            if isinstance(item, dict) and item:
                _mapping(item, indent + 2, lines, " " * indent + "- ")
            else:
                lines.append(" " * indent + "- " + _scalar(item))
    else:
        lines.append(head + " " + _scalar(value))


def json_document(document: dict[str, Any]) -> str:
    return json_text(document) + "\n"
