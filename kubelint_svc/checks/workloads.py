"""Workload specs: label selector expressions, and counts (replicas and the like) that may not be
negative."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kubelint_svc.checks.api import Hit, NoParams, RunContext
from kubelint_svc.k8s_syntax import is_int, label_value, qualified_name
from kubelint_svc.model import Resource

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector_expressions(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    expressions = resource.get(("spec", "selector", "matchExpressions"))
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, dict):
            continue
        path = ("spec", "selector", "matchExpressions", index)
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values")
        if isinstance(key, str):
            problem = qualified_name(key)
            if problem:
                yield Hit(f"selector key {key!r} is not a valid label key: {problem}", (*path, "key"), at_key=False)
        if isinstance(operator, str) and operator not in OPERATORS:
            yield Hit(f"{operator!r} is not a valid selector operator: use In, NotIn, Exists or DoesNotExist",
                      (*path, "operator"), at_key=False)
            continue
        if operator in ("In", "NotIn") and not values:
            yield Hit(f"operator {operator} needs at least one value (Required value)", (*path, "values"))
        elif operator in ("Exists", "DoesNotExist") and values:
            yield Hit(f"operator {operator} takes no values (Forbidden)", (*path, "values"))
        for value_index, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str) and label_value(value):
                yield Hit(f"selector value {value!r} is not a valid label value: it {label_value(value)}",
                          (*path, "values", value_index), at_key=False)


@dataclass(frozen=True)
class CountFields:
    fields: dict[str, list[str]]  # kind -> spec fields that must be zero or more


def negative_counts(resource: Resource, run: RunContext, params: CountFields) -> Iterator[Hit]:
    for field in params.fields.get(resource.builtin_kind, []):
        value = resource.get(("spec", field))
        if is_int(value) and value < 0:
            yield Hit(f"{field} {value} must be greater than or equal to 0", ("spec", field), at_key=False)
