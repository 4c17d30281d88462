"""Findings: the immutable values every stage produces and every reporter formats."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
FIX_SAFETIES = ("safe", "unsafe")

# A place in an object, key by key and index by index: ("spec", "ports", 0, "port").
FieldPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ObjectRef:
    api_version: str | None
    kind: str | None
    namespace: str | None
    name: str | None

    def describe(self) -> str:
        """`Kind ns/name` as shown at the end of a text finding."""
        name = self.name or "<unnamed>"
        if self.namespace:
            name = f"{self.namespace}/{name}"
        return f"{self.kind or '?'} {name}"


@dataclass(frozen=True)
class Note:
    """A place related to a finding (the workload a targetPort was looked up in), with why."""

    message: str
    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Edit:
    """One change a fix makes, named by the node the user wrote (1-based line and column of its
    first character in file): kubelint_svc/fixes.py finds that node again in the file's text and
    edits only its span. `old` and `new` are JSON texts (hashable, and kept in the cache as they
    are): the value the linted object had there, which the file must still hold, and the value
    to give it."""

    file: str
    line: int
    column: int
    action: str  # "replace" a scalar value, "delete" the mapping entry whose key is there, or "insert" key
    old: str = "null"
    new: str = "null"
    key: str = ""  # the key an insert adds to the mapping that is the value of the entry whose key is there


@dataclass(frozen=True)
class Fix:
    """How to fix a finding, as text edits of the files that wrote the value: `safe` keeps what
    the author meant, `unsafe` changes behaviour on purpose (applied only with --unsafe-fixes).
    refused says why no edit can be offered (a value Helm rendered from a template, a stream
    read from standard input): the finding's fix is then skipped with that note."""

    safety: str  # "safe" | "unsafe"
    title: str  # what it does, one line: `set protocol to 'TCP'`
    edits: tuple[Edit, ...] = ()
    refused: str = ""


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    object: ObjectRef | None = None
    field: str | None = None
    end_line: int | None = None  # where the marked key or value ends, when known
    end_column: int | None = None  # exclusive
    help: tuple[str, ...] = ()  # how to fix it: the closest match, the names declared
    notes: tuple[Note, ...] = ()  # related places
    fix: Fix | None = None  # how --fix changes the files (never shown in the JSON report: a contract)
    # the check's own severity, when it gave one: milder than its rule's, it stays so under any
    # configuration (settling.as_governed); not part of what a finding is (`dataclasses.field`: a
    # Finding's own `field` shadows the name here)
    verdict: str | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The message and its help on one line, as one-line formats show it."""
        return "; ".join((self.message, *self.help))

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.line, self.column, self.rule, self.field or "", self.message)


def format_field_path(path: Iterable[str | int]) -> str:
    """("spec", "ports", 0, "nodePort") -> "spec.ports[0].nodePort", as the API server prints it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part}]"
    return text


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(set(findings), key=Finding.sort_key)


def rule_or_verdict(rule_severity: str, verdict: str | None) -> str:
    """A finding's severity: its rule's, or the check's own verdict when that is milder (a check
    may lower what it reports, never raise it)."""
    if verdict is None:
        return rule_severity
    return min(verdict, rule_severity, key=SEVERITY_RANK.__getitem__)


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


@dataclass
class Report:
    """What a run found, and what it read: the one thing every reporter formats."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    objects: int = 0
    # read only to know the surroundings (--context, --git-context): never reported on
    context_files: int = 0
    context_objects: int = 0
    object_refs: list[tuple[str, ObjectRef]] = field(default_factory=list)  # (file, object) linted
    # (file, line) -> the text of that line as read, for the findings' and notes' lines only
    source_lines: dict[tuple[str, int], str] = field(default_factory=dict)
    fixed: int = 0  # findings --fix fixed (not among findings: those remain)
    fixed_files: int = 0  # files --fix changed
    complete: bool = True  # every build and render ran to its end: the run may be replayed (replay.py)

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


def listed_briefly(items: list[str], limit: int = 3) -> str:
    """`a, b, c and 4 more`: a long list of names cut, saying how much was left out."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"
