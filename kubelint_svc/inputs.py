"""Inputs: the paths a user names -> the files to read, each once, in a stable order."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import operator
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from kubelint_svc.ignore_files import IgnoreFiles, repository_top, top_outside_repositories
from kubelint_svc.paths import GIT_DIRECTORY, FolderNames, RealPaths, is_inside, refusal, resolved

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    display: str  # as findings name it: relative to where the user pointed, or "-"
    path: Path | None  # None for stdin
    refused: str | None = None  # why it is not read: a link out of the tree being walked
    real: Path | None = None  # its real path, when the walk already resolved it
    # its absolute, normalised path (units.common.normal), when the walk knows it: its real path,
    # when no link leads to it (a run names its 1,600 files: no Path made again for each)
    normal: Path | None = None


def _link_out_of(path: Path, top: Path) -> str | None:
    """Why a symbolic link found in the walk of top is not followed (it leads out of top, or
    into a git directory), or None."""
    if not path.is_symlink():
        return None
    why = refusal(path, top)
    if why is None:
        return None
    target = resolved(path)
    if target is None:
        return "a symbolic link that loops or cannot be followed; not followed"
    if is_inside(target, top):
        return f"a symbolic link into a git directory (to {target}); not followed"
    return f"a symbolic link out of {top} (to {target}); not followed"


def working_top() -> Path | None:
    """The repository paths named on the command line (or in the Action) must stay in: the git
    work tree holding the working directory, else the working directory."""
    cwd = resolved(Path.cwd())
    return None if cwd is None else git_toplevel(cwd) or cwd


def _named_refusal(path: Path, top_of: Callable[[], Path | None]) -> str | None:
    """Why a path named inside the repository is not read: after its symlinks it leads out of
    the repository (a pull request turned `k8s` into `k8s -> /`) or into a git directory. A
    path named outside the repository is the user's own choice."""
    lexical = Path(os.path.normpath(os.path.abspath(path)))
    if resolved(path) == lexical and not any(part.casefold() == GIT_DIRECTORY for part in lexical.parts):
        return None  # no link on the way, no git directory: the repository is not even looked for
    if not (path.is_file() or path.is_dir()):
        return None  # a device, FIFO or socket is never read: the loader says so (file-unreadable)
    top = top_of()
    if top is None or not (is_inside(lexical, top) or is_inside(lexical, Path(os.path.abspath(Path.cwd())))):
        return None
    why = refusal(path, top)
    return None if why is None else f"named, but {why}; not read"


class MissingPathError(Exception):
    pass


# Folders no one means to lint, as ruff's defaults: tools' caches, virtualenvs, build output.
DEFAULT_EXCLUDES = (
    "node_modules", "venv", ".venv", "__pypackages__", "build", "dist", "_build", "buck-out",
    ".git", ".hg", ".svn", ".tox", ".nox", ".direnv", ".eggs", ".mypy_cache", ".ruff_cache",
)


@dataclass(frozen=True)
class ExcludeGlob:
    """A glob of paths not to lint. With a `/` it matches the path relative to base (`*` crosses
    folders); without, the name of any file or folder below base."""

    glob: str
    base: Path  # absolute
    origin: str  # where it was written, for messages: `--exclude`, `.kubelint-svc.yaml:12`

    def matches(self, path: Path, is_dir: bool) -> bool:
        glob = self.glob.rstrip("/")
        if "/" not in glob:  # a name: the cheap test first (a walk asks this of every file)
            if (self.glob.endswith("/") and not is_dir) or not fnmatch.fnmatch(path.name, glob):
                return False
            return path != self.base and is_inside(path, self.base)
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        if relative == ".":
            return False
        return fnmatch.fnmatch(relative, glob) or (is_dir and fnmatch.fnmatch(relative + "/", self.glob))


@dataclass
class Exclusions:
    """What a walk leaves out: the globs (defaults, configuration, flags) and, unless told not
    to, what `.gitignore` and `.ignore` files ignore. Files named explicitly are judged apart."""

    globs: Sequence[ExcludeGlob] = ()
    respect_gitignore: bool = True
    # the `exclude` globs of the configuration governing the entries of a folder (absolute,
    # normalised): a front end knows configurations
    configured: Callable[[str], Sequence[ExcludeGlob]] | None = None
    names: FolderNames = field(default_factory=FolderNames)  # what the walk listed: looked up before a stat
    _ignore_files: dict[Path, IgnoreFiles] = field(default_factory=dict)
    _tops: dict[tuple[str, str | None], Path] = field(default_factory=dict)  # by text: no Path hashed a file
    _top_paths: dict[str, Path] = field(default_factory=dict)
    _git_folders: dict[str, str | None] = field(default_factory=dict)  # a folder -> the nearest holding .git
    _screen: tuple[re.Pattern[str] | None, bool] | None = None
    _folders: dict[tuple[str, str | None], FolderScreen] = field(default_factory=dict)

    def why(self, path: Path | str, is_dir: bool, walked: Path | None = None) -> str | None:
        """Why path itself is left out (`excluded by --exclude (vendor)`), or None. walked: the
        folder a walk started from, whose ignore files apply below it outside a repository."""
        folder, name = os.path.split(os.path.abspath(path))
        return self.in_folder(folder, walked).why(name, is_dir)

    def in_folder(self, folder: str, walked: Path | None = None) -> FolderScreen:
        """Exclusions.why for the entries of folder (absolute, normalised), made once a folder."""
        key = (folder, None if walked is None else os.fspath(walked))
        screen = self._folders.get(key)
        if screen is None:
            screen = self._folders[key] = FolderScreen(self, folder, walked)
        return screen

    def _may_be_globbed(self, name: str) -> bool:
        """Can any glob leave out an entry of this name? The globs naming a file or folder (the
        defaults among them) are tried at once, as one regex, on its name: a walk asks this of
        every file, and almost every answer is no. A glob with a `/` is tried one by one."""
        if self._screen is None:
            names = [each.glob.rstrip("/") for each in self.globs if "/" not in each.glob.rstrip("/")]
            either = re.compile("|".join(f"(?:{fnmatch.translate(name)})" for name in names)) if names else None
            self._screen = (either, len(names) < len(self.globs))
        either, slashed = self._screen
        return slashed or (either is not None and either.match(name) is not None)

    def ignore_files(self, folder: str, walked: Path | None) -> IgnoreFiles:
        """The ignore files that apply to the entries of folder (absolute, normalised): those from
        its repository's top (repository_top) down."""
        top = self._top_of(folder, walked)
        files = self._ignore_files.get(top)
        if files is None:
            files = self._ignore_files[top] = IgnoreFiles(top, self.names)
        return files

    def _top_of(self, folder: str, walked: Path | None) -> Path:
        """repository_top(folder, walked), with the folders holding `.git` looked for once each."""
        key = (folder, None if walked is None else os.fspath(walked))
        top = self._tops.get(key)
        if top is None:
            holding = self._holding_git(folder)
            top = self._tops[key] = self._top_path(holding) if holding is not None \
                else top_outside_repositories(Path(folder), walked)  # no `.git` up to `/`: no climb again
        return top

    def _top_path(self, holding: str) -> Path:
        """holding as a Path, made once a repository, not once a folder."""
        found = self._top_paths.get(holding)
        if found is None:
            found = self._top_paths[holding] = Path(holding)
        return found

    def _holding_git(self, folder: str) -> str | None:
        """The nearest folder from folder (absolute, normalised) upward that holds `.git`."""
        climbed: list[str] = []
        found: str | None = None
        while True:
            if folder in self._git_folders:
                found = self._git_folders[folder]
                break
            climbed.append(folder)
            if not self.names.lacks(folder, GIT_DIRECTORY) and os.path.exists(os.path.join(folder, GIT_DIRECTORY)):
                found = folder
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for each in climbed:
            self._git_folders[each] = found
        return found

    def unread(self) -> list[str]:
        """The ignore files met that were too large to read whole, one line each."""
        return [line for files in self._ignore_files.values() for line in files.unread]

    def why_named(self, path: Path) -> str | None:
        """Why a path named on the command line would be left out: itself or a folder it is in
        (below the working directory or its repository's top) is."""
        absolute = Path(os.path.abspath(path))
        stop = repository_top(absolute.parent) if self.respect_gitignore else Path.cwd()
        folders = [folder for folder in reversed(absolute.parents) if is_inside(folder, stop) and folder != stop]
        for folder in folders:
            reason = self.why(folder, True)
            if reason is not None:
                return reason
        return self.why(absolute, absolute.is_dir())


class FolderScreen:
    """Exclusions.why for the entries of one folder, with what depends on the folder alone found
    once (a walk asks of every entry): the globs of the configuration governing it, and whether
    any ignore file applies below its repository's top. An entry then costs a regex test of its
    name, unless a glob or pattern may apply to it. Each is found when first asked: a folder
    whose entries are all hidden reads no ignore file and no configuration."""

    def __init__(self, exclusions: Exclusions, folder: str, walked: Path | None) -> None:
        self._exclusions = exclusions
        self._folder = folder
        self._prefix = folder if folder.endswith(os.sep) else folder + os.sep  # `/` ends with it
        self._walked = walked
        self._found = False
        self._configured: Sequence[ExcludeGlob] = ()
        self._ignore_files: IgnoreFiles | None = None  # None: no pattern of any applies here (most folders)

    def _find(self) -> None:
        exclusions, folder = self._exclusions, self._folder
        if exclusions.configured is not None:
            self._configured = exclusions.configured(folder)
        if exclusions.respect_gitignore:
            files = exclusions.ignore_files(folder, self._walked)
            self._ignore_files = None if files.quiet_in(folder) else files
        self._found = True

    def why(self, name: str, is_dir: bool, virtualenv: bool = True) -> str | None:
        """Why the entry name (no `/`) is left out, or None. virtualenv: whether to look for
        `pyvenv.cfg` in a folder; a walk that looks in the folder's listing says False."""
        if not self._found:
            self._find()
        exclusions = self._exclusions
        absolute = self._prefix + name
        if exclusions._may_be_globbed(name):
            absolute_path = Path(absolute)
            for each in exclusions.globs:
                if each.matches(absolute_path, is_dir):
                    return f"excluded by {each.origin} ({each.glob})"
        if self._configured:
            absolute_path = Path(absolute)
            for glob in self._configured:
                if glob.matches(absolute_path, is_dir):
                    return f"excluded by {glob.origin} ({glob.glob})"
        if is_dir and virtualenv and not exclusions.names.lacks(absolute, VIRTUALENV_MARK) \
                and os.path.isfile(os.path.join(absolute, VIRTUALENV_MARK)):
            return VIRTUALENV_EXCLUDED
        files = self._ignore_files
        if files is not None:
            pattern = files.match_text(absolute, is_dir)
            if pattern is not None:
                return f"ignored by {pattern.source} ({pattern.text})"
        return None


VIRTUALENV_MARK = "pyvenv.cfg"  # a folder holding it is a virtualenv
VIRTUALENV_EXCLUDED = "excluded as a virtualenv"


def default_exclusions() -> list[ExcludeGlob]:
    return [ExcludeGlob(name, Path(os.path.abspath(os.sep)), "the default excludes") for name in DEFAULT_EXCLUDES]


def discover(paths: list[str], exclusions: Exclusions | None = None) -> list[InputFile]:
    """Files named directly are read unless, named inside the repository, they lead out of it or
    into a git directory; directories are walked for *.yaml, *.yml, *.json,
    skipping hidden files and directories and what exclusions leave out, and never entering the same real
    directory twice."""
    found: list[InputFile] = []
    seen_files: set[Path] = set()
    top_of = functools.cache(working_top)  # git is asked only when a named path needs it
    for given in paths:
        if given == STDIN:
            found.append(InputFile(STDIN, None))
            continue
        path = Path(given)
        if not path.exists():
            raise MissingPathError(f"{given}: no such file or directory")
        refused = _named_refusal(path, top_of)
        if refused is not None:
            found.append(InputFile(given, path, refused))
            continue
        if path.is_dir():
            for file, refused, known, unlinked in _walk(path, exclusions):
                if refused is not None:
                    found.append(InputFile(str(file), file, refused))
                    continue
                real = known or resolved(file)
                if (real or file) not in seen_files:
                    seen_files.add(real or file)
                    found.append(InputFile(str(file), file, real=real, normal=known if unlinked else None))
        else:
            real = resolved(path) or path
            if real not in seen_files:
                seen_files.add(real)
                found.append(InputFile(str(path), path))
    return found


def _walk(top: Path, exclusions: Exclusions | None = None) -> list[tuple[Path, str | None, Path | None, bool]]:
    """(file, None, its real path, whether that is its absolute path too: no link on the way) for
    each manifest under top; (link, why, None, False) for each symbolic link that leads out of top,
    which is never followed: a committed `root -> /` must not walk the machine. Folders are walked
    as os.walk walks them (top down, links followed), each listed once: what a folder entry is, is
    known from the listing, so a file that is no link costs no system call, and its real path is
    its folder's with its name."""
    found: list[tuple[Path, str | None, Path | None, bool]] = []
    real = resolved(top)
    real_top = real or top.absolute()
    walked = Path(os.path.abspath(top))
    visited: set[tuple[int, int]] = set()
    real_folders: dict[str, str | None] = {os.fspath(top): None if real is None else str(real)}
    top_text = os.fspath(top)
    pending = [top_text]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError:
            continue  # as os.walk: a folder that cannot be listed is passed over
        if exclusions is not None and directory != top_text and _holds_virtualenv_mark(entries):
            continue  # excluded as a virtualenv (Exclusions.why), seen in its own listing: no stat a folder
        info = os.stat(directory)
        identity = (info.st_dev, info.st_ino)
        if identity in visited:  # a symlink loop, or a second link to a walked folder
            continue
        visited.add(identity)
        absolute = os.path.abspath(directory)
        screen = None
        if exclusions is not None:  # its configuration, ignore files and `.git` looked for in the listing
            exclusions.names.listed(absolute, frozenset(entry.name for entry in entries))
            screen = exclusions.in_folder(absolute, walked)
        real_folder = real_folders.get(directory)
        unlinked = real_folder == absolute  # no link from `/` to here: each file's real path is its absolute one
        kept = []
        for entry in entries:
            if not _is_dir(entry) or entry.name.startswith("."):
                continue
            is_link = entry.is_symlink()
            # a link's target is judged as a folder before it is listed: a virtualenv elsewhere too
            if screen is not None and screen.why(entry.name, True, virtualenv=is_link) is not None:
                continue
            path = os.path.join(directory, entry.name)
            refused = _link_out_of(Path(path), real_top) if is_link else None
            if refused is None:
                kept.append(path)
                real_folders[path] = None if is_link or real_folder is None else os.path.join(real_folder, entry.name)
            else:
                found.append((Path(path), refused, None, False))
        pending += reversed(kept)
        for entry in entries:
            name = entry.name
            if not name.endswith(MANIFEST_SUFFIXES) or name.startswith(".") or _is_dir(entry):
                continue  # hidden: a tool's configuration
            if screen is not None and screen.why(name, False) is not None:
                continue
            file = Path(os.path.join(directory, name))
            if entry.is_symlink():
                refused = _link_out_of(file, real_top)
                if refused is not None:
                    found.append((file, refused, None, False))
                elif file.is_file():
                    found.append((file, None, None, False))
            elif entry.is_file(follow_symlinks=False):
                found.append((file, None, Path(real_folder, name) if real_folder is not None else None, unlinked))
    return found


_NAME = operator.attrgetter("name")  # a folder entry's


def _holds_virtualenv_mark(entries: list[os.DirEntry[str]]) -> bool:
    """Does a folder's listing hold the file that makes it a virtualenv (Exclusions.why)?"""
    for entry in entries:
        if entry.name == VIRTUALENV_MARK:
            try:
                return entry.is_file()  # as os.path.isfile: a link to a file counts
            except OSError:
                return False
    return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """As os.walk sorts an entry: a folder, or a link to one."""
    try:
        return entry.is_dir()
    except OSError:
        return False


# A pull request may commit a folder that looks like a bare git repository, with a config of its
# own (core.fsmonitor runs a command; core.worktree moves the top anywhere): git is told to use
# no repository it was not pointed at, and never to run a monitor.
_GIT = ("git", "-c", "safe.bareRepository=explicit", "-c", "core.fsmonitor=false")


def _git(*args: str) -> str | None:
    import subprocess

    try:
        return subprocess.run(
            [*_GIT, *args], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL, timeout=60,
        ).stdout
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


# the work tree tops git gave this run, by the folder holding `.git` that git's search from a
# folder meets first (git_asked_once): the replay, the context and the plan each ask
_ASKED: ContextVar[dict[str, Path | None] | None] = ContextVar("kubelint_svc_git_tops", default=None)


@contextlib.contextmanager
def git_asked_once() -> Iterator[None]:
    """Within it (a run), git_toplevel starts `git rev-parse` once for each folder holding a
    `.git`: every folder below one, with no other on the way, has its answer. Made anew each
    run: a repository may come or go between an editor's runs."""
    token = _ASKED.set({})
    try:
        yield
    finally:
        _ASKED.reset(token)


def git_toplevel(folder: Path) -> Path | None:
    """The root of the git work tree holding folder, or None (no git, or not in a work tree).
    Only a top with a `.git` of its own that holds folder is trusted."""
    asked = _ASKED.get()
    real = resolved(folder)
    key = _asked_as(str(real)) if asked is not None and real is not None else None
    if key is None or asked is None:
        top = _toplevel_of(folder)
    elif key in asked:
        top = asked[key]
    else:
        top = asked[key] = _toplevel_of(folder)
    if top is None or not is_inside(real, top):
        return None
    return top


def _toplevel_of(folder: Path) -> Path | None:
    output = _git("-C", str(folder), "rev-parse", "--show-toplevel")
    top = resolved(Path(output.strip())) if output and output.strip() else None
    return top if top is not None and (top / GIT_DIRECTORY).exists() else None


# set, they make git's answer depend on more than the folders climbed (a hook's GIT_DIR: the
# work tree is then the folder asked from)
_GIT_SEARCH_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
                           "GIT_COMMON_DIR")


def _asked_as(real: str) -> str | None:
    """Which answer of git's a real folder shares: its `.git` holder's (_git_holder), or its
    own when git's search depends on the environment; None: asked anew."""
    if any(name in os.environ for name in _GIT_SEARCH_ENVIRONMENT):
        return real
    return _git_holder(real)


def _git_holder(real: str) -> str | None:
    """The folder holding `.git` where git's search up from real (a real folder) stops, when
    git would find it from there as from real: none of the folders climbed is in a git
    directory, looks like one (a `HEAD`: git asks whether it is a bare repository), or is on
    another file system (where git's search stops); else None (git is asked for real itself)."""
    folder = real
    try:
        device = os.stat(folder).st_dev
        while not os.path.lexists(os.path.join(folder, GIT_DIRECTORY)):
            parent = os.path.dirname(folder)
            if parent == folder or os.path.basename(folder).casefold() == GIT_DIRECTORY \
                    or os.path.lexists(os.path.join(folder, "HEAD")) or os.stat(parent).st_dev != device:
                return None
            folder = parent
    except (OSError, ValueError):
        return None
    return folder


def git_tracked_manifests(paths: list[str]) -> list[InputFile]:
    """Every *.yaml, *.yml and *.json file git tracks in the repositories holding paths (outside
    hidden folders): the context that makes a one-file run see what the whole repository sees."""
    found: list[InputFile] = []
    tops: set[Path] = set()
    real_folders = RealPaths()
    for given in paths or ["."]:
        start = Path(given) if given != STDIN else Path(".")
        top = git_toplevel(start if start.is_dir() else start.parent)
        if top is None or top in tops:
            continue  # not in a git work tree (no extra context), or already listed
        tops.add(top)
        listed = _git("-C", str(top), "ls-files", "-z", "--", *(f"*{suffix}" for suffix in MANIFEST_SUFFIXES))
        if listed is None:
            continue
        for name in sorted(filter(None, listed.split("\0"))):
            if any(part.startswith(".") for part in name.split("/")[:-1]):  # git's names: `/` between
                continue
            file = top / name
            try:  # one lstat a file: what is no link is read when it is a file (a repository's 1,600)
                mode = os.lstat(file).st_mode
            except (OSError, ValueError):
                continue
            refused = _link_out_of(file, top) if stat.S_ISLNK(mode) else None
            if refused is not None:
                found.append(InputFile(str(file), file, refused))
            elif stat.S_ISLNK(mode) and file.is_file():
                found.append(InputFile(str(file), file))
            elif stat.S_ISREG(mode):  # its real path: its real folder's entry (one lookup a folder)
                folder = real_folders.of(file.parent)
                # a folder of the work tree made a link since it was committed (k8s -> /elsewhere, -> .git)
                why = refusal(file.parent, top, real_folders.of)
                found.append(InputFile(str(file), file, None if why is None else f"its folder is {why}; not read",
                                       real=folder / file.name if folder is not None else None))
    return found
