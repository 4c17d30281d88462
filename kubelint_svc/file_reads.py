"""A file's bytes read within the limits and decoded to text: no path the linter is given makes it
block (a FIFO), read without end (a device) or hold more than MAX_FILE_BYTES."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


def limit_from_environment(name: str, default: int) -> int:
    """A limit the person running the linter may raise (never the files being linted)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 15 and int(value) > 0 else default


MAX_FILE_BYTES = limit_from_environment("KUBELINT_SVC_MAX_FILE_BYTES", 64 * 1024 * 1024)
# what every suppression comment holds (suppressions.py): a text without it suppresses nothing
SUPPRESSION_MARK = "kubelint-svc:"


@dataclass(frozen=True)
class Problem:
    """Something wrong with the YAML itself, reported under a loader rule id."""

    rule: str
    message: str
    line: int
    column: int
    severity: str | None = None  # milder than the rule's own, when the problem is (never harsher)
    removable: bool = False  # --fix may delete what is marked (a repeated key with the same value)


class UnreadableFile(Exception):
    """A path that is not read: it cannot be opened, or it is no regular file (a FIFO that would
    block, a device that never ends, a directory, a socket)."""


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def read_bounded(path: Path, limit: int | None = None, follow_links: bool = True) -> bytes:
    """The bytes of a regular file, at most limit + 1 of them (MAX_FILE_BYTES by default): one
    byte past the limit is enough to say the file is too large, and nothing more is read.
    follow_links=False: a symbolic link is not opened (UnreadableFile)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below
        descriptor = os.open(path, flags)
    except (OSError, ValueError) as error:
        raise UnreadableFile(getattr(error, "strerror", None) or str(error)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_TYPES if test(mode)), "not a regular file")
            raise UnreadableFile(f"{kind}, not a regular file; only regular files are read")
        chunks, remaining = [], limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise UnreadableFile(error.strerror or type(error).__name__) from None
    finally:
        os.close(descriptor)


def decode(raw: bytes) -> tuple[str, None] | tuple[None, Problem]:
    """Bytes -> text, or the problem that makes the bytes unreadable as YAML."""
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(
            "yaml-limit-exceeded",
            f"file is larger than {_size(MAX_FILE_BYTES)}; not linted (KUBELINT_SVC_MAX_FILE_BYTES raises the limit)",
            1, 1,
        )
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError:
                break
    if b"\x00" in raw[:8192]:
        return None, Problem("yaml-encoding", "binary file (NUL bytes), not YAML", 1, 1)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        return None, Problem(
            "yaml-encoding",
            f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); Kubernetes manifests must be UTF-8",
            line,
            column,
        )


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count % (1024 * 1024) == 0 else f"{count:,} bytes"
