"""Nested YAML or JSON data walked without recursion: a document a pull request nests 100,000
levels deep costs a loop, never Python's recursion limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def mapping_items(data: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) of every mapping in data, at any depth, lists included."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            for key, child in value.items():
                yield key, child
                stack.append(child)
