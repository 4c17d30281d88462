"""JSON Schema errors -> hits at the field the user wrote, with messages a person can act on."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kubelint_svc.checks.api import Hit, RunContext
from kubelint_svc.findings import format_field_path
from kubelint_svc.model import Resource, replaced
from kubelint_svc.placeholders import is_placeholder

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
    "object": "a mapping", "array": "a list", "null": "null",
}


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def hits_from_errors(errors: Iterable[ValidationError], subject: str) -> Iterator[Hit]:
    """One hit per problem: unknown and missing fields are named one by one."""
    for error in errors:
        path = tuple(error.absolute_path)
        instance = error.instance
        if is_placeholder(instance):
            continue  # reported once per object by unrendered-placeholder
        validator = error.validator
        if validator == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, Mapping):
            known = set(error.schema.get("properties", {}))
            for key in instance:
                if key in known:
                    continue
                hint = difflib.get_close_matches(key, known, n=1)
                where = format_field_path(path) or subject
                yield Hit(f"unknown field {key!r} in {where}", (*path, key),
                          help=(f"did you mean {hint[0]!r}?",) if hint else ())
        elif validator == "required" and isinstance(instance, dict) and isinstance(error.validator_value, list):
            # a schema that passed check_schema lists `required` and `enum`: the test only narrows the type
            for key in error.validator_value:
                if key not in instance:
                    yield Hit(f"missing required field {key!r}", (*path, key))
        elif validator == "type":
            number = _quoted_integer(instance, error.validator_value)
            yield Hit(f"expected {_expected(error.validator_value)}, got {describe_value(instance)}", path,
                      at_key=False, fix=None if number is None else replaced(path, number, f"write {number} unquoted"))
        elif validator in ("oneOf", "anyOf") and _is_int_or_string(error.validator_value):
            yield Hit(f"expected an integer or a string, got {describe_value(instance)}", path, at_key=False)
        elif validator in ("oneOf", "anyOf") and error.context:
            # the alternative that came closest says best where the object falls short
            from jsonschema.exceptions import best_match

            yield from hits_from_errors([best_match(error.context)], subject)
        elif validator == "enum" and isinstance(error.validator_value, list):
            listed = [repr(v) for v in error.validator_value[:_ENUM_SHOWN + 1] if v is not None]
            more = len(error.validator_value) - _ENUM_SHOWN  # a CRD's enum of thousands is no message
            allowed = ", ".join(listed[:_ENUM_SHOWN]) + (f" (and {more:,} more)" if more > 0 else "")
            yield Hit(f"{describe_value(instance)} is not allowed here; expected one of {allowed}", path, at_key=False)
        else:
            yield Hit(error.message, path, at_key=False)


_ENUM_SHOWN = 20
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,9}")


def _quoted_integer(instance: Any, types: Any) -> int | None:
    """The number a string holds where an integer belongs (`port: "80"`): written without the
    quotes, it is what the author meant. Not `"080"` (YAML 1.1 reads 080 as octal) nor `"1e3"`."""
    wanted = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if "integer" in wanted and isinstance(instance, str) and _DECIMAL.fullmatch(instance):
        return int(instance)
    return None


def _is_int_or_string(options: Any) -> bool:
    types: set[str] = set()
    for option in options if isinstance(options, list) else []:
        value = option.get("type") if isinstance(option, dict) else None
        types.update([value] if isinstance(value, str) else value or [])
    return {"integer", "string"} <= types


def fragment_check(schema: dict[str, Any], message: str | None) -> Callable[..., Iterator[Hit]]:
    """A check from a rule's `json-schema:` fragment, evaluated against the whole object."""
    from kubelint_svc.checks.safe_schema import (
        StepBudgetExceeded,
        step_budget,
        validator_for,
    )

    validator = validator_for(schema)

    def check(resource: Resource, run: RunContext, params: object) -> Iterator[Hit]:
        try:
            with step_budget():
                errors = list(validator.iter_errors(resource.body))
        except StepBudgetExceeded as error:
            yield Hit(f"{error}; not evaluated", (), severity="warning")
            return
        for hit in hits_from_errors(errors, resource.kind):
            yield Hit(message or hit.message, hit.path, hit.at_key, help=() if message else hit.help)

    return check
