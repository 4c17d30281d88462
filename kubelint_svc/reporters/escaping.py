"""Strings from input, made safe for where they are written: a terminal or CI log, a workflow
command, XML, or JSON. Names, labels, messages and file names all come from files a pull request
controls, so none reaches an output unescaped."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Any

_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")
# Controls (C0, C1), format characters (bidirectional overrides that reorder what a reader sees,
# zero-width characters, soft hyphens), line and paragraph separators, surrogates (bytes of a
# non-UTF-8 file name), private-use and unassigned code points.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Lines the GitHub Actions runner reads as commands (after leading white space): `::name::`, and
# the older `##[name]` form.
_COMMAND_START = ("::", "##[")


def _escape(match: re.Match[str]) -> str:
    return _escape_char(match.group())


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """One line of plain text: every control character shown as an escape (`\\n`, `\\x1b`), so
    nothing from input can move the cursor, recolour the terminal or start a new log line."""
    if text.isascii():
        return _ASCII_CONTROL.sub(_escape, text)
    return "".join(_escape_char(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)


def unicode_text(text: str) -> str:
    """Text that encodes as UTF-8: bytes of a non-UTF-8 file name shown as `\\xff`."""
    return _SURROGATE.sub(_escape, text)


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids (NUL, ESC, ...) shown as escapes."""
    return _not_xml_1_0().sub(_escape, text)


@functools.cache
def _not_xml_1_0() -> re.Pattern[str]:
    """What XML 1.0 forbids, compiled when first asked (4-5 ms: the set spans every code point),
    by the JUnit report alone."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def not_a_command(line: str) -> str:
    """A log line the CI runner cannot mistake for a workflow command, whatever file name it
    starts with (`./` in front of such a name keeps it a valid path)."""
    return "./" + line if line.lstrip().startswith(_COMMAND_START) else line


def json_text(document: Any) -> str:
    """A JSON document whose strings keep their values, with every character a terminal or a
    reader could be fooled by (C1 controls, bidi overrides, DEL) written as a \\u escape, and
    non-UTF-8 file names' bytes shown as \\xff text."""
    text = json.dumps(unicode_tree(document), indent=2, ensure_ascii=False)
    if text.isascii() and "\x7f" not in text:
        return text
    # the only raw control character json.dumps leaves is the layout's own line break
    return "".join(_json_escape(c) if c != "\n" and unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def unicode_tree(value: Any) -> Any:
    """A JSON-ready document with every string (keys included) made UTF-8 encodable."""
    if isinstance(value, str):
        return unicode_text(value)
    if isinstance(value, dict):
        return {unicode_text(k) if isinstance(k, str) else k: unicode_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unicode_tree(item) for item in value]
    return value
