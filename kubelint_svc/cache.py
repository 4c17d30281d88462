"""A cache of what reading a file gave, as ruff keeps one: `.kubelint-svc_cache/` at the project
root, one entry per key (the caller's key names the tool version, the settings and the content).

A cache in a repository is input like any other: a pull request can commit one. So every entry
is signed with a secret kept outside the repository (in the user's cache folder, made on first
use); an entry that is not signed with it, or is damaged, cut short or of another format, is
ignored and rebuilt, never believed. Entries are plain data (marshal), written to a temporary
file and renamed into place: two runs at once never see half an entry.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import marshal
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kubelint_svc.file_reads import SUPPRESSION_MARK, UnreadableFile, read_bounded

CACHE_FOLDER = ".kubelint-svc_cache"
_FORMAT = b"kubelint-svc cache 1\n"
_MAC_SIZE = 32
_MAX_ENTRY_BYTES = 256 * 1024 * 1024
GITIGNORE = "# made by kubelint-svc: nothing here belongs in version control\n*\n"


# A file whose size, times and inode are what they were when it was read, and that had not
# changed for this long before that read, is taken as unchanged without reading it (as git's
# index and ruff's cache do); any other is read, and its bytes compared with those cached.
# "Changed" is the later of its mtime and ctime: an mtime can be set back (os.utime, touch -r,
# rsync -t), and an edit made within the same tick of a coarse clock keeps the stamp; the ctime
# is set by the kernel on every write and cannot be set back.
SETTLED_NS = 2_000_000_000


def stamp_of(info: os.stat_result) -> tuple[int, ...]:
    """What says a file is the one read before: size, mtime, ctime, inode, device."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def settled(stamp: tuple[int, ...], recorded: Any, read_at: Any) -> bool:
    """Whether a file whose stamp is now stamp is, unread, the one recorded at read_at: the same
    stamp, and no change within SETTLED_NS before that read."""
    return (isinstance(recorded, list | tuple) and tuple(recorded) == stamp and isinstance(read_at, int)
            and max(stamp[1], stamp[2]) < read_at - SETTLED_NS)


def key_of(*parts: str | bytes) -> str:
    """A key naming everything an entry depends on: each part length-prefixed, so that no two
    different lists of parts give the same key."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Cache:
    """Signed entries in one folder; every failure to read or write is a miss, never an error."""

    def __init__(self, folder: Path, secret: bytes) -> None:
        self.folder = folder
        self._secret = secret
        # what its users counted: entries used, entries (re)built, files not even read
        self.hits = 0
        self.misses = 0
        self.unread = 0
        self._folders: dict[str, bool] = {}  # entry folder -> not a link

    @classmethod
    def open(cls, folder: Path) -> Cache | None:
        """The cache in folder (made, with a .gitignore of `*`, if need be), or None when it
        cannot be used: not a real folder (a link a pull request committed), not writable, or
        no secret can be kept for this user."""
        secret = _user_secret()
        if secret is None:
            return None
        try:
            if not folder.is_symlink() and not folder.exists():
                folder.mkdir(parents=True)
                (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
            if folder.is_symlink() or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                return None
        except OSError:
            return None
        return cls(folder, secret)

    def _path(self, key: str) -> str | None:
        """Where key's entry lives; None if its folder is a link (entries never lead elsewhere)."""
        prefix = key[:2]
        if prefix not in self._folders:  # each of the 256 folders is looked at once a run
            self._folders[prefix] = not os.path.islink(os.path.join(self.folder, prefix))
        return os.path.join(self.folder, prefix, key[2:]) if self._folders[prefix] else None

    def get(self, key: str) -> Any | None:
        """The value stored under key, or None (absent, foreign, damaged)."""
        path = self._path(key)
        try:
            if path is None:
                raise UnreadableFile("a link")
            raw = read_bounded(Path(path), _MAX_ENTRY_BYTES, follow_links=False)
        except UnreadableFile:
            return None
        return self._open_entry(key, raw)

    def _open_entry(self, key: str, raw: bytes) -> Any | None:
        body = raw[len(_FORMAT) + _MAC_SIZE:]
        if not raw.startswith(_FORMAT) or len(raw) > _MAX_ENTRY_BYTES:
            return None
        mac = raw[len(_FORMAT):len(_FORMAT) + _MAC_SIZE]
        if not hmac.compare_digest(mac, self._mac(key, body)):
            return None
        collecting = gc.isenabled()
        gc.disable()  # loading makes only acyclic plain data: the collector's passes over it find nothing
        try:
            return marshal.loads(body)
        except (EOFError, ValueError, TypeError):
            return None
        finally:
            if collecting:
                gc.enable()

    def put(self, key: str, value: Any) -> None:
        """Store value (plain data: None, bool, int, float, str, bytes, tuple, list, dict)."""
        try:
            body = marshal.dumps(value)
        except ValueError:
            return  # not plain data: nothing is stored
        found = self._path(key)
        if found is None:
            return
        target = Path(found)
        import tempfile  # here: a run that writes nothing (a replay, --no-cache) needs it not

        try:
            target.parent.mkdir(exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        except OSError:
            return
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(_FORMAT + self._mac(key, body) + body)
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _mac(self, key: str, body: bytes) -> bytes:
        return hmac.new(self._secret, key.encode("ascii") + b"\0" + body, hashlib.sha256).digest()


def _user_secret() -> bytes | None:
    """This user's signing secret, kept in their own cache folder (never in a repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    path = Path(base) / "kubelint-svc" / "secret"
    try:
        raw = read_bounded(path, 64, follow_links=False)
    except UnreadableFile:
        raw = b""
    if len(raw) == 32 and _private(path):
        return raw
    import secrets
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        made = secrets.token_bytes(32)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        with os.fdopen(descriptor, "wb") as stream:  # mkstemp makes it readable by its owner only
            stream.write(made)
        os.replace(temporary, path)
    except OSError:
        return None
    return made


def _private(path: Path) -> bool:
    """Whether only this user can write the secret (a secret others can set signs nothing)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    own = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISREG(info.st_mode) and own and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class KeptDocuments:
    """The data of the small files a run reads for their meaning alone (kustomizations), kept in
    one entry: a file whose stamp had settled before it was read is not read again (the rule
    above); any other is read, parsed, and kept anew. Each caller gets its own copy."""

    def __init__(self, store: Cache | None, fingerprint: str) -> None:
        self._store = store
        self._key = key_of(fingerprint, "kept documents 2")
        self._lock = threading.Lock()  # builds read from threads
        self._kept: dict[str, list[Any]] | None = None  # path -> [stamp, read_at, its parse (_parse)]
        self._changed = False
        # every file parsed this run, by its stamp (which names the real file, inode and device, and
        # its version): a base three overlays include is parsed once, not once a build
        self._parsed: dict[tuple[int, ...], bytes] = {}
        self._texts: dict[tuple[int, ...], str | None] = {}  # and every text read as text, the same way
        self._fresh: dict[str, list[Any]] = {}  # the entries this process read anew, by path

    def text_of(self, path: Path, read: Callable[[Path], str | None]) -> str | None:
        """read(path), or what this run read of the file while it is unchanged (its stamp): the
        built-in engine reads a base's text again to see whether kustomize reads it otherwise, once
        a run however many overlays include it. What read raises passes, and nothing is kept.
        The file's parse at that stamp, if any, notes whether the text holds a suppression comment:
        the run's reading then need not read it again (see suppression_mark_at)."""
        try:
            now = stamp_of(os.stat(path))
        except (OSError, ValueError):
            return read(path)
        with self._lock:
            if now in self._texts:
                return self._texts[now]
        text = read(path)
        with self._lock:
            self._texts[now] = text
            body = self._parsed.get(now)
        if text is not None and body is not None and body[:1] == _UNMARKED:
            with contextlib.suppress(OSError, ValueError):
                if stamp_of(os.stat(path)) == now:  # the text is of the bytes parsed at that stamp
                    with self._lock:
                        self._parsed[now] = _with_mark(body, SUPPRESSION_MARK in text)
        return text

    def data_of(self, path: Path, read: Callable[[Path], list[Any]], keep: bool = True) -> list[Any]:
        """read(path)'s documents' data, or a copy of what this run or (keep: kept in the cache)
        an earlier one read while the file is unchanged; what read raises (a file refused)
        passes, and nothing is kept of it."""
        try:
            now = stamp_of(os.stat(path))
        except (OSError, ValueError):
            return read(path)
        with self._lock:
            body: Any = self._parsed.get(now)
            entry = self._entries().get(str(path)) if keep and body is None else None
        if body is None and isinstance(entry, list) and len(entry) == 3 and settled(now, entry[0], entry[1]):
            body = entry[2]
        if isinstance(body, bytes):
            found = _data_in(body)
            if found is not None:
                with self._lock:
                    self._parsed.setdefault(now, body)
                return found
        started = time.time_ns()
        data = read(path)
        try:
            body = _UNMARKED + marshal.dumps(data)
            again = stamp_of(os.stat(path))
        except (OSError, ValueError):
            return data  # not plain data, or gone: not kept
        if again == now:
            with self._lock:
                self._parsed[now] = body
                if keep and self._store is not None:
                    self._entries()[str(path)] = self._fresh[str(path)] = [list(now), started, body]
                    self._changed = True
        return data

    def parsed(self) -> dict[tuple[int, ...], bytes]:
        """Every file parsed this run, by stamp, as data_of keeps it (only what read gave: a file
        it refused is not among them): what a forked worker gives back to the run."""
        with self._lock:
            return dict(self._parsed)

    def fresh(self) -> dict[str, list[Any]]:
        """The entries this process read anew to keep (with a store), by path: with parsed(), what
        a forked worker gives back, so that the files it read are kept for the next run too."""
        with self._lock:
            return dict(self._fresh)

    def absorb(self, parsed: Mapping[tuple[int, ...], bytes], fresh: Mapping[str, list[Any]] | None = None) -> None:
        """Files parsed elsewhere this run (a forked worker's parsed() and fresh())."""
        with self._lock:
            for stamp, body in parsed.items():
                self._parsed.setdefault(stamp, body)
            if fresh and self._store is not None:
                self._entries().update(fresh)
                self._fresh.update(fresh)
                self._changed = True

    def parsed_at(self, stamp: tuple[int, ...]) -> list[Any] | None:
        """The data of the file this run parsed at stamp (its version), or None."""
        with self._lock:
            body = self._parsed.get(stamp)
        return _data_in(body) if body is not None else None

    def suppression_mark_at(self, stamp: tuple[int, ...]) -> bool | None:
        """Whether the text of the file this run parsed at stamp holds SUPPRESSION_MARK; None when
        no parse at stamp, or no reading of its text as text (text_of), is known to this run."""
        with self._lock:
            body = self._parsed.get(stamp)
        return None if body is None else _MARKS.get(body[:1])

    def _entries(self) -> dict[str, list[Any]]:
        if self._kept is None:
            stored = self._store.get(self._key) if self._store is not None else None
            self._kept = stored if isinstance(stored, dict) else {}
        return self._kept

    def save(self) -> None:
        """Write the entry back when a file was read anew."""
        if self._store is not None and self._changed and self._kept is not None:
            with self._lock:
                self._store.put(self._key, self._kept)
                self._changed = False


# A parse as KeptDocuments keeps it (in this run, sent back by a forked worker, in the cache): one
# byte saying what the file's text holds, then the marshalled data of its documents. The byte is
# set when the same process reads the text too (text_of): a forked worker's parses carry it back
# in the bytes it already sends, and the run's reading of the file then knows, without reading it
# again, that no comment of it suppresses anything.
_UNMARKED, _MARKED, _NOT_MARKED = b"?", b"m", b"-"  # not known; holds SUPPRESSION_MARK; does not
_MARKS = {_MARKED: True, _NOT_MARKED: False}


def _with_mark(body: bytes, marked: bool) -> bytes:
    return (_MARKED if marked else _NOT_MARKED) + body[1:]


def _data_in(body: bytes) -> list[Any] | None:
    """A parse's data (a new copy), or None for bytes of another shape."""
    if body[:1] not in (_UNMARKED, _MARKED, _NOT_MARKED):
        return None
    try:
        found = marshal.loads(memoryview(body)[1:])
    except (EOFError, ValueError, TypeError):
        return None
    return found if isinstance(found, list) else None
