""""Did you mean": the known name closest to one a user got wrong (a rule id, a config key)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name closest to word (`fail_on` -> `fail-on`), or None when none is close."""
    names = list(known)
    if word.replace("_", "-") in names:
        return word.replace("_", "-")
    found = difflib.get_close_matches(word, names, n=1)
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """"; did you mean 'fail-on'?", or "" when no known name is close."""
    found = closest(word, known)
    return f"; did you mean {found!r}?" if found else ""


def clipped(name: str, limit: int = 60) -> str:
    """A name as a message quotes it: a rule id a pull request made 200,000 characters long
    makes a one-line message, not a 200 KB one."""
    return name if len(name) <= limit else name[:limit - 3] + "..."
