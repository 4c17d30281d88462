"""The one writer of every output a run makes (reports, SARIF, graphs, exposed Services): only to a
real path inside the working directory, never onto a file the run read, and atomically, so a
symbolic link a pull request committed at the name (or above it) is never written through."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from kubelint_svc.paths import refusal, resolved


class OutputRefused(Exception):
    """An output that may not be written there, worded for the user (one line, exit code 2)."""


def write_output(name: str, content: str, read: Iterable[str] = (), append: bool = False,
                 flag: str = "--output") -> Path:
    """Write content to the file name (relative to the working directory) and return where it
    went. Its folder, after every symlink, must lie inside the working directory and outside any
    git directory (created when missing); unless append, the file must not be one of read. It
    is written to a temporary file beside it and renamed onto the name, so a link at the name is
    replaced, not followed. append keeps what the file held (a link there is refused)."""
    target = _target(name, flag)
    if not append and _among(target, read):  # appending adds a document; it replaces nothing
        more = " (--append adds the Service to it)" if flag == "--output-file" else ""
        raise OutputRefused(f"{_named(flag, name)} is one of the manifests read; writing would replace it{more}")
    if target.is_dir() and not target.is_symlink():
        raise OutputRefused(f"{_named(flag, name)} is a directory; name a file to write")
    data = content.encode("utf-8", "backslashreplace")
    try:
        if append:
            data = _appended(target, data, name, flag)
        _replace(target, data)
    except OSError as error:
        raise OutputRefused(f"{_named(flag, name)}: cannot write it: {error.strerror or error}") from None
    return target


def output_target(name: str, flag: str = "--output") -> Path:
    """Where write_output would write name (its folder's real path and its own name), checked
    but not created: for a front end that must look at the file before writing it."""
    return _target(name, flag, create=False)


def rewrite_file(path: Path, data: bytes, top: Path) -> None:
    """Replace a file the run read with data (what --fix writes): its real path, after every
    symlink, must lie inside the work tree top and outside any git directory (paths.refusal). The
    real file is replaced, not a link to it: a temporary file beside it, renamed onto it, its mode
    kept."""
    why = refusal(path, top)
    real = resolved(path)
    if why is not None or real is None:
        raise OutputRefused(f"{path}: {why or 'cannot be resolved'}; not written")
    try:
        _replace(real, data)
    except OSError as error:
        raise OutputRefused(f"{path}: cannot write it: {error.strerror or error}") from None


def _named(flag: str, name: str) -> str:
    """The output as messages name it: with the flag that named it, when there is one."""
    return f"{flag} {name}" if flag else name


def _target(name: str, flag: str, create: bool = True) -> Path:
    top = resolved(Path.cwd())
    given = Path(name)
    if not name or given.name in ("", ".", "..") or name.endswith(os.sep):
        raise OutputRefused(f"{_named(flag, repr(name))} names a folder; name a file to write")
    folder = resolved(given.absolute().parent)
    if top is None or folder is None:
        raise OutputRefused(f"{_named(flag, name)}: a symbolic link that loops, or a name that cannot be resolved")
    why = refusal(given.absolute().parent, top)  # named as given, so a link on the way is named
    if why is not None:
        where = why.replace("the repository", "the working directory")
        raise OutputRefused(f"{_named(flag, name)}: its folder is {where}; outputs are written inside the working "
                            "directory")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputRefused(f"{_named(flag, name)}: cannot write it: {error.strerror or error}") from None
    return folder / given.name


def _among(target: Path, read: Iterable[str]) -> bool:
    """Is target one of the files read, by its own name (a link read is replaced too) or its real path?"""
    names: set[Path] = set()
    for each in read:
        if each == "-":
            continue
        folder = resolved(Path(each).absolute().parent)
        if folder is not None:
            names.add(folder / Path(each).name)
        real = resolved(Path(each))
        if real is not None:
            names.add(real)
    return target in names or resolved(target) in names


def _appended(target: Path, data: bytes, name: str, flag: str) -> bytes:
    """What the file holds, then a new YAML document holding data."""
    if target.is_symlink():
        raise OutputRefused(f"{_named(flag, name)} is a symbolic link; --append does not follow it: name the file "
                            "itself")
    if not target.exists():
        return data
    with open(os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)),
              "rb") as existing:
        if not stat.S_ISREG(os.fstat(existing.fileno()).st_mode):
            raise OutputRefused(f"{_named(flag, name)} is not a regular file; not appended to")
        held = existing.read()
    if not held:
        return data
    return held + (b"" if held.endswith(b"\n") else b"\n") + b"---\n" + data


def _replace(target: Path, data: bytes) -> None:
    """A temporary file in target's folder, renamed onto target: readers never see half a file,
    and a symbolic link at target is replaced, never followed."""
    mode = 0o666  # less the umask, as open() gives a new file; a file replaced keeps its mode
    if target.is_file() and not target.is_symlink():
        mode = target.stat().st_mode & 0o777
    import secrets  # here: a run that writes no file needs it not

    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with open(handle, "wb") as stream:
            stream.write(data)
        if mode != 0o666:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
