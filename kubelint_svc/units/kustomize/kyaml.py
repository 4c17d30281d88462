"""Objects as kubectl kustomize prints them: read as YAML 1.2 (kyaml), where the linter reads YAML 1.1
(`on` is text, not true), then written out through JSON (1.0 is 1, a date is an RFC 3339 time,
an annotation is the text written). The built-in fallback builds from these values."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
from kubelint_svc.loader import parse_stream
from kubelint_svc.units.kustomize.scan import BuildError, linear_pattern

# Plain text YAML 1.1 (the linter's reading) and kustomize may read apart, cheaply found in a file:
# a 1.1 boolean word, a number with a leading zero or a base prefix, a float, a date, a key that
# YAML 1.2 reads as no text, a key that is a list or a mapping (`? [a]`, `[a]: b`: the linter writes
# it as text, kustomize fails). A file without any is read as the linter read it.
# Python's \s in a text pattern (Unicode whitespace), spelled out for RE2, whose \s is ASCII (the
# characters themselves: Python's re and RE2 write escapes above \xff apart)
_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_BOUNDARY = r"(?:^|[" + _SPACE + r"\[{,])"
_END = r"(?:[" + _SPACE + r"]|$)"
_MAY_DIFFER = (  # searched with RE2 (linear_pattern): once a resource or patch file a run
    r"(?m)" + _BOUNDARY + r"(?:(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF)[ \t]*(?:[,}\]#]|:" + _END + r"|$)"
    r"|[-+]?0[0-9xXbBoO_]|[-+]?[0-9][0-9_]*[.eE]|[-+]?\.[0-9a-zA-Z]|[0-9]{4}-[0-9]"
    r"|(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~|[-+]?[0-9][^" + _SPACE + r":]*)[ \t]*:" + _END
    + r"|\?" + _END + r")"
    r"|[\]}][ \t]*:" + _END
)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NOT_JSON = frozenset({".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                       "-.inf", "-.Inf", "-.INF"})
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")  # go-yaml v3's
_BASES = {"x": 16, "b": 2, "o": 8}
_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 10: frozenset("0123456789"), 8: frozenset("01234567"),
           2: frozenset("01")}
# go-yaml v3's timestamps: a date, a date and time with a zone after T or t, or without one after a space
_STAMP = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
                    r"(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?(Z|[-+][0-9]{2}:[0-9]{2})?)?")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def text_of(path: Path) -> str | None:
    """A file's text as the linter decodes it; BuildError when it cannot be read."""
    try:
        text, _ = decode(read_bounded(path))
    except UnreadableFile as error:
        raise BuildError(f"{path}: {error}") from None
    return text


def documents(path: Path, as_read: list[Any], read: Callable[[Path], str | None] = text_of) -> list[Any]:
    """The documents of a resource or strategic-merge patch file as kustomize builds them, given the
    linter's reading of it (as_read); BuildError for what kustomize cannot build (a key it reads
    as a number or a date, an infinite number). read: its text (scan.Tree.text_of: once a run)."""
    text = read(path)
    if text is not None and linear_pattern(_MAY_DIFFER).search(text) is None \
            and all(map(_annotations_are_text, as_read)):
        return as_read
    found = text_documents(text or "", str(path))
    if len(found) != len([data for data in as_read if data is not None]):
        raise BuildError(f"{path}: changed while it was read")
    built = iter(found)
    return [None if data is None else next(built) for data in as_read]


def text_documents(text: str, where: str) -> list[Any]:
    """The documents of a YAML stream (an inline patch) as kustomize builds them, but those the
    linter could not read (kept out of every build before this)."""
    found = []
    for document in parse_stream(text).documents:
        if document.data is not None and document.node is not None:
            data = _value(document.node, where)
            _annotations_as_written(document.node, data)
            found.append(data)
    return found


def json_value(value: Any) -> Any:
    """A value written to JSON and read back as kustomize's JSON6902 patches do (floats as through_json)."""
    if isinstance(value, float) and not math.isinf(value) and not math.isnan(value):
        return through_json(value)
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def annotations_as_text(body: Any) -> None:
    """kustomize reads annotations back as text once a JSON6902 patch has written them: 42 is "42"."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            if isinstance(value, int):  # a boolean too: "true"
                annotations[key] = str(value).lower()


def _annotations_are_text(data: Any) -> bool:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return not isinstance(annotations, dict) or all(isinstance(value, str) for value in annotations.values())


def _annotations_as_written(node: Node, data: Any) -> None:
    """kustomize reads annotations as text whatever they look like (`42`, `on`, `~` stay as written)."""
    metadata = _child(node, "metadata")
    annotations = _child(metadata, "annotations") if metadata is not None else None
    if not isinstance(annotations, MappingNode) or not isinstance(data, dict):
        return
    written = data["metadata"]["annotations"]
    for key_node, value_node in annotations.value:
        if isinstance(key_node, ScalarNode) and isinstance(value_node, ScalarNode) and key_node.value in written:
            written[key_node.value] = value_node.value


def _child(node: Node, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                found: Node = value_node
                return found
    return None


def _value(node: Node, where: str) -> Any:
    """A node's value; the loader has read the same text within its limits (depth, aliases)."""
    if isinstance(node, ScalarNode):
        return _scalar(node, where)
    if isinstance(node, SequenceNode):
        return [_value(item, where) for item in node.value]
    assert isinstance(node, MappingNode)  # the composer makes scalar, sequence and mapping nodes only
    result: dict[str, Any] = {}
    merges = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "<<" and not key_node.style:
            merges.append(value_node)  # merged as the linter merges
            continue
        key = _key(key_node)
        if key is None:
            written = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
            raise BuildError(f"{where}:{key_node.start_mark.line + 1}: the key {written!r} is no text to "
                             "kustomize (YAML 1.2), which cannot build it")
        result[key] = _value(value_node, where)
    for merge in merges:
        for source in merge.value if isinstance(merge, SequenceNode) else [merge]:
            merged = _value(source, where)
            for key, value in merged.items() if isinstance(merged, dict) else ():
                result.setdefault(key, value)
    return result


def _key(node: Node) -> str | None:
    """A mapping key's text, or None where go-yaml v3 reads a number, a date, a boolean or null: a
    mapping of such keys is no JSON object, and kustomize fails the build."""
    if not isinstance(node, ScalarNode):
        return None
    text = str(node.value)
    tag = str(node.tag)
    if node.style or not (tag.startswith("tag:yaml.org,2002:") or tag == "?"):
        return text
    if text in _NULLS or text in _BOOLEANS or text in _NOT_JSON or _timestamp(text) is not None:
        return None
    plain = text.replace("_", "")
    if text[:1] == "." and _DOT_FLOAT.fullmatch(text):
        return None
    if text[:1] in tuple("0123456789+-") and (
            _go_integer(plain) is not None or (_YAML_FLOAT.fullmatch(plain) and not math.isinf(float(plain)))):
        return None
    return text


def _scalar(node: ScalarNode, where: str) -> Any:
    tag = str(node.tag)
    if node.style or not (tag.startswith("tag:yaml.org,2002:") or tag == "?"):
        return node.value  # quoted, a block, or a custom tag: text, as the linter reads it too
    try:
        return plain_value(node.value)
    except ValueError as error:
        raise BuildError(f"{where}:{node.start_mark.line + 1}: {error}") from None


def plain_value(text: str) -> Any:
    """An unquoted scalar as kubectl kustomize prints it: go-yaml v3's reading (YAML 1.2, with 1.1's
    `017` octal kept), then JSON's. ValueError: a number JSON cannot hold."""
    if text in _NULLS:
        return None
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if text in _NOT_JSON:
        raise ValueError(f"{text!r} is a number JSON cannot hold: kustomize cannot print it")
    first = text[0]
    if first == ".":
        return through_json(float(text)) if _DOT_FLOAT.fullmatch(text) else text
    if first not in "0123456789+-":
        return text
    stamp = _timestamp(text)
    if stamp is not None:
        return stamp
    plain = text.replace("_", "")
    number = _go_integer(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.fullmatch(plain):
        # past a float's range go-yaml keeps the text, printed plain: the linter reads it as infinity
        return float(plain) if math.isinf(float(plain)) else through_json(float(plain))
    return text


def _go_integer(plain: str) -> int | None:
    """Go's ParseInt(plain, 0, 64), then ParseUint: a sign, then 0x, 0b, 0o or a leading 0 (octal)."""
    sign = -1 if plain[:1] == "-" else 1
    body = plain[1:] if plain[:1] in ("-", "+") else plain
    base, digits = 10, body
    if len(body) > 1 and body[0] == "0":
        base = _BASES.get(body[1].lower(), 8)
        digits = body[2:] if body[1].lower() in _BASES else body[1:]
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = sign * int(digits, base)
    if -(2**63) <= value < 2**63 or (0 <= value < 2**64 and plain[0] != "+"):
        return value
    return None


def through_json(number: float) -> float | int:
    """A float as read back from Go's JSON: a whole one under 1e21 is written as its shortest digits
    padded with zeros (2^63 as 9223372036854776000), an integer again when it fits 64 bits."""
    if not number.is_integer() or abs(number) >= 1e21:
        return number
    written = int(Decimal(repr(number)))
    return written if -(2**63) <= written < 2**64 else number


def _timestamp(text: str) -> str | None:
    """go-yaml v3's timestamp as Go's JSON writes it (RFC 3339, `Z` for UTC), or None."""
    match = _STAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, separator, hour, minute, second, fraction, zone = match.groups()
    if separator is not None and (zone is None) != (separator == " "):
        return None  # a zone after T, none after a space: the layouts go-yaml tries
    days = _MONTH_DAYS[int(month) - 1] + (int(month) == 2 and _leap(int(year))) if 1 <= int(month) <= 12 else 0
    clock = [int(part) for part in (hour or 0, minute or 0, second or 0)]
    offset = (int(zone[1:3]), int(zone[4:6])) if zone not in (None, "Z") else (0, 0)
    if not 1 <= int(day) <= days or clock[0] > 23 or clock[1] > 59 or clock[2] > 59 or offset[0] > 24 \
            or offset[1] > 60:
        return None
    nanoseconds = (fraction or "")[:9].ljust(9, "0").rstrip("0")
    written = "Z" if offset == (0, 0) else zone
    return (f"{int(year):04d}-{int(month):02d}-{int(day):02d}T{clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}"
            f"{'.' + nanoseconds if nanoseconds else ''}{written}")


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
