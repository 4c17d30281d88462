"""The editor server: the Language Server Protocol over stdio (pygls, the `lsp` extra). Each
open file is judged as `lint --git-context FILE` judges it, with the editor's unsaved texts read
instead of the disk; hover and go to definition follow a Service's wiring (navigation.py)."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from kubelint_svc import __version__
from kubelint_svc.app import Options, Outcome, Reuse, UsageError, lint
from kubelint_svc.findings import Finding
from kubelint_svc.inputs import MANIFEST_SUFFIXES, git_toplevel
from kubelint_svc.navigation import Place, Pointed, pointed_at
from kubelint_svc.paths import confined, is_inside, refusal, resolved
from kubelint_svc.suppressions import ignore_here

SOURCE = "kubelint-svc"
DOCS = "https://github.com/kubelint-svc/kubelint-svc/blob/main/docs/rules.md#"
DEBOUNCE_SECONDS = 0.05  # after a change: typing coalesces, and a run queued behind another waits its turn
CONFIG_NAMES = (".kubelint-svc.yaml", ".kubelint-svc.yml", "pyproject.toml")
_SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
               "info": types.DiagnosticSeverity.Information}


@dataclass
class Judged:
    """One run for one open file: what it found and read, and how its files are named."""

    top: Path  # the repository the run was confined to; findings name files relative to it
    version: int | None
    outcome: Outcome | None = None
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    _real: dict[str, Path | None] = field(default_factory=dict)

    def real_of(self, name: str) -> Path | None:
        """The real path of a file as the run's findings name it."""
        if name not in self._real:
            self._real[name] = resolved(self.top / name)
        return self._real[name]


def path_of(uri: str) -> Path | None:
    """A file: URI's path; None for any other scheme (an unsaved buffer, a remote file)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path, errors="surrogateescape"))  # a name's bytes that are no UTF-8, as os names them


def repository_of(file: Path, folders: Sequence[Path]) -> Path:
    """What a run for file is confined to: its git work tree, else the workspace folder holding
    it (the deepest), else its own folder (judged alone)."""
    folder = resolved(file.parent) or file.parent
    top = git_toplevel(folder)
    if top is not None:
        return top
    holding = [real for real in (resolved(each) for each in folders) if real is not None and is_inside(folder, real)]
    return max(holding, key=lambda real: len(real.parts)) if holding else folder


def judge(file: Path, texts: dict[Path, str], folders: Sequence[Path], version: int | None,
          reuse: Reuse | None = None) -> Judged:
    """The run for one open file, with the open files' texts (by path) read instead of the disk:
    only those inside its repository, as every file the run reads. reuse: this file's last run's
    planning, taken while nothing on disk changed since (app.Reuse)."""
    top = repository_of(file, folders)
    judged = Judged(top, version)
    why = refusal(file, top)
    if why is not None:
        judged.diagnostics = [_message_at_top(f"not linted: {file.name}: {why}", "path-outside-tree")]
        return judged
    if not _is_file(file) or file.suffix.lower() not in MANIFEST_SUFFIXES:
        return judged  # not saved yet, or no manifest (pyproject.toml): nothing to say
    buffers, others = [], []
    for path, text in texts.items():
        real = confined(path, top)
        if real is not None:
            buffers.append((real, _bytes_of(text)))
            if real != resolved(file) and path.suffix.lower() in MANIFEST_SUFFIXES and _is_file(path):
                others.append(str(path))  # judged with the open file, tracked by git or not yet
    os.chdir(top)  # findings name files relative to it, as a run from the repository's top does
    try:
        judged.outcome = lint(Options(paths=(str(file),), git_context=True, context=tuple(others),
                                      buffers=tuple(buffers)), reuse=reuse)
    except UsageError as error:  # a configuration or rule pack the user can fix: said on the file
        judged.diagnostics = [_message_at_top(str(error), "configuration")]
    except Exception as error:  # our bug: said on the file, and the server goes on
        judged.diagnostics = [_message_at_top(f"internal error: {type(error).__name__}: {error} (please report this)",
                                              "internal-error")]
    return judged


def _is_file(path: Path) -> bool:
    """Whether path is a file on disk; a name the system refuses (too long) is none."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _bytes_of(text: str) -> bytes:
    """A buffer's bytes: a byte the editor could not decode comes back as it was; a lone surrogate
    the protocol can carry (JSON's "\\ud800") has no UTF-8, and is read as the file's bad bytes."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _message_at_top(message: str, code: str) -> types.Diagnostic:
    return types.Diagnostic(types.Range(types.Position(0, 0), types.Position(0, 1)), message,
                            types.DiagnosticSeverity.Error, code, source=SOURCE)


class KubelintServer(LanguageServer):
    """The open files' runs, one at a time in a worker thread: the protocol keeps answering."""

    def __init__(self) -> None:
        super().__init__(SOURCE, __version__)
        self.debounce = DEBOUNCE_SECONDS
        self.judged: dict[str, Judged] = {}  # uri -> its last run
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="kubelint-svc-run")
        self._waiting: dict[str, asyncio.Task[None]] = {}  # uri -> a run not yet started
        self.reused: dict[str, Reuse] = {}  # uri -> its last run's planning (touched by the worker only)

    def folders(self) -> list[Path]:
        found = [path_of(folder.uri) for folder in self.workspace.folders.values()]
        root = path_of(self.workspace.root_uri) if self.workspace.root_uri else None
        return [path for path in [*found, root] if path is not None]

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Judge uri after delay; a run scheduled before and not yet started is replaced."""
        waiting = self._waiting.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self._waiting[uri] = asyncio.get_running_loop().create_task(self._judge_later(uri, delay))

    async def _judge_later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self._waiting.get(uri) is asyncio.current_task():
            del self._waiting[uri]
        await self.judge_now(uri)

    async def judge_now(self, uri: str) -> None:
        file = path_of(uri)
        if file is None or uri not in self.workspace.text_documents:
            return
        document = self.workspace.get_text_document(uri)
        texts = {path: each.source for each in self.workspace.text_documents.values()
                 if (path := path_of(each.uri)) is not None}
        judged = await asyncio.get_running_loop().run_in_executor(
            self._worker, judge, file, texts, self.folders(), document.version, self.reused.setdefault(uri, Reuse()))
        if uri not in self.workspace.text_documents:
            return  # closed meanwhile
        if judged.outcome is not None:
            judged.diagnostics = self.diagnostics_of(judged, file)
        self.judged[uri] = judged
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, judged.diagnostics,
                                                                              judged.version))

    def rejudge_open(self, but: str | None = None) -> None:
        """Every open file judged again (a configuration changed, another file was saved)."""
        for uri in list(self.workspace.text_documents):
            if uri != but and path_of(uri) is not None:
                self.schedule(uri, self.debounce)

    def diagnostics_of(self, judged: Judged, file: Path) -> list[types.Diagnostic]:
        assert judged.outcome is not None
        real = resolved(file)
        return [self.diagnostic(finding, judged) for finding in judged.outcome.report.findings
                if judged.real_of(finding.file) == real]

    def diagnostic(self, finding: Finding, judged: Judged) -> types.Diagnostic:
        rule = judged.outcome.registry.rules.get(finding.rule) if judged.outcome is not None else None
        href = types.CodeDescription(DOCS + finding.rule) if rule is not None and rule.pack is None else None
        related = [types.DiagnosticRelatedInformation(
            types.Location(self.uri_of(note.file, judged), self.range_of(note.file, judged, note.line, note.column)),
            note.message) for note in finding.notes]
        return types.Diagnostic(
            self.range_of(finding.file, judged, finding.line, finding.column, finding.end_line, finding.end_column),
            "\n".join((finding.message, *finding.help)), _SEVERITIES.get(finding.severity),
            finding.rule, href, SOURCE, related_information=related or None)

    def uri_of(self, name: str, judged: Judged) -> str:
        return (judged.top / name).as_uri()

    def range_of(self, name: str, judged: Judged, line: int, column: int, end_line: int | None = None,
                 end_column: int | None = None) -> types.Range:
        """1-based code points -> the client's units, through the open document's text when the
        file is open (the disk's lines may be other than the buffer's)."""
        document = self.open_document(judged.real_of(name))
        lines = document.lines if document is not None else ()
        start = types.Position(max(0, line - 1), max(0, column - 1))
        if end_line is None or end_column is None:
            text = lines[start.line] if start.line < len(lines) else ""
            end = types.Position(start.line, max(start.character + 1, len(text.rstrip("\r\n"))))
        else:
            end = types.Position(max(0, end_line - 1), max(0, end_column - 1))
        if document is None:
            return types.Range(start, end)
        codec = document.position_codec
        return types.Range(codec.position_to_client_units(lines, start), codec.position_to_client_units(lines, end))

    def open_document(self, real: Path | None) -> TextDocument | None:
        if real is None:
            return None
        for uri in list(self.workspace.text_documents):
            path = path_of(uri)
            if path is not None and resolved(path) == real:
                return self.workspace.get_text_document(uri)
        return None

    def pointed(self, uri: str, position: types.Position) -> tuple[Judged, Pointed] | None:
        judged, file = self.judged.get(uri), path_of(uri)
        if judged is None or judged.outcome is None or judged.outcome.run is None or file is None:
            return None
        document = self.workspace.get_text_document(uri)
        at = document.position_codec.position_from_client_units(document.lines, position)
        real = resolved(file)

        def is_file(name: str) -> bool:
            return judged.real_of(name) == real

        def shown(name: str) -> str:
            found = judged.real_of(name)
            return str(found.relative_to(judged.top)) if found is not None and is_inside(found, judged.top) else name

        found = pointed_at(judged.outcome.run, is_file, at.line + 1, at.character + 1, shown)
        return None if found is None else (judged, found)

    def location(self, place: Place, judged: Judged) -> types.Location:
        return types.Location(self.uri_of(place.file, judged),
                              self.range_of(place.file, judged, place.line, place.column, place.end_line,
                                            place.end_column))


def ignore_action(document: TextDocument, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """"Ignore RULE here": the suppression comment written where it silences the diagnostic's line."""
    rule = diagnostic.code
    if diagnostic.source != SOURCE or not isinstance(rule, str) or rule in ("configuration", "internal-error"):
        return None
    line = diagnostic.range.start.line
    edit = ignore_here(document.source, line + 1, rule)
    if edit is None:
        return None
    number, text = edit
    old = document.lines[number - 1] if number - 1 < len(document.lines) else ""
    old_end = document.position_codec.position_to_client_units(
        document.lines, types.Position(number - 1, len(old.rstrip("\r\n"))))
    change = types.TextEdit(types.Range(types.Position(number - 1, 0), old_end), text)
    return types.CodeAction(f"Ignore {rule} here", types.CodeActionKind.QuickFix, [diagnostic],
                            edit=types.WorkspaceEdit({document.uri: [change]}))


def fix_actions(ls: KubelintServer, document: TextDocument, judged: Judged,
                diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """The fixes `--fix` makes for these diagnostics (fixes.py), safe ones first, then unsafe ones,
    each titled with what it does. A fix is planned against the files as saved, so it is offered
    only while every file it edits reads in the editor as it does on disk."""
    from kubelint_svc.fixes import offered

    if judged.outcome is None:
        return []
    real = resolved(path_of(document.uri) or Path())
    wanted = {(str(d.code), d.range.start.line): d for d in diagnostics}
    findings = [f for f in judged.outcome.report.findings
                if offered(f, unsafe=True) and (f.rule, f.line - 1) in wanted and judged.real_of(f.file) == real]
    actions = []
    for finding in sorted(findings, key=lambda f: f.fix is None or f.fix.safety != "safe"):
        action = _fix_action(ls, judged, finding, wanted[(finding.rule, finding.line - 1)])
        if action is not None:
            actions.append(action)
    return actions


def _fix_action(ls: KubelintServer, judged: Judged, finding: Finding, diagnostic: types.Diagnostic
                ) -> types.CodeAction | None:
    from kubelint_svc.fixes import plan_fixes

    fix = finding.fix
    assert fix is not None
    plan = plan_fixes([finding], unsafe=True, cwd=judged.top)
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in plan.files:
        shown = ls.open_document(edit.path)
        if shown is not None and shown.source != edit.before:
            return None  # unsaved changes: the plan's offsets are the disk's
        starts = _line_starts(edit.before)
        changes[edit.path.as_uri()] = [types.TextEdit(types.Range(
            _position(edit.before, starts, change.start, shown), _position(edit.before, starts, change.end, shown)),
            change.text) for change in edit.edits]
    if not changes:
        return None
    safe = fix.safety == "safe"
    return types.CodeAction(fix.title if safe else f"{fix.title} (unsafe: changes behaviour)",
                            types.CodeActionKind.QuickFix, [diagnostic], is_preferred=safe,
                            edit=types.WorkspaceEdit(changes))


_LINE_BREAK = re.compile("\r\n|\n|\r")  # what ends a line for the protocol


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def _position(text: str, starts: list[int], offset: int, document: TextDocument | None) -> types.Position:
    """An offset of text as a position in the client's units (text is the document's, when open)."""
    line = bisect.bisect_right(starts, offset) - 1
    position = types.Position(line, offset - starts[line])
    if document is None:
        return position
    return document.position_codec.position_to_client_units(document.lines, position)


def build() -> KubelintServer:
    """The server with its features; serve() runs it on stdio."""
    server = KubelintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: KubelintServer, params: types.InitializeParams) -> None:
        _set_debounce(ls, params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: KubelintServer, params: types.InitializedParams) -> None:
        if _can_watch(ls):
            watchers = [types.FileSystemWatcher(f"**/{name}") for name in CONFIG_NAMES]
            with contextlib.suppress(Exception):  # a client that refuses it still gets runs on save
                await ls.client_register_capability_async(types.RegistrationParams([types.Registration(
                    "kubelint-svc-configuration", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    types.DidChangeWatchedFilesRegistrationOptions(watchers))]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: KubelintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: KubelintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: KubelintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)
        ls.rejudge_open(but=params.text_document.uri)  # what other files see of this one changed

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: KubelintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.judged.pop(params.text_document.uri, None)
        ls.reused.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(params.text_document.uri, []))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls: KubelintServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.rejudge_open()  # a configuration changed: read again by every run

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: KubelintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        judged = ls.judged.get(uri)
        if judged is None or uri not in ls.workspace.text_documents:
            return []
        document = ls.workspace.get_text_document(uri)
        ours = [d for d in params.context.diagnostics if d.source == SOURCE]
        actions = fix_actions(ls, document, judged, ours)
        return actions + [action for d in ours if (action := ignore_action(document, d)) is not None]

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: KubelintServer, params: types.HoverParams) -> types.Hover | None:
        found = ls.pointed(params.text_document.uri, params.position)
        if found is None:
            return None
        judged, pointed = found
        return types.Hover(types.MarkupContent(types.MarkupKind.PlainText, "\n".join(pointed.lines)),
                           ls.location(pointed.span, judged).range)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: KubelintServer, params: types.DefinitionParams) -> list[types.Location] | None:
        found = ls.pointed(params.text_document.uri, params.position)
        if found is None or not found[1].places:
            return None
        judged, pointed = found
        return [ls.location(place, judged) for place in pointed.places]

    return server


def _set_debounce(ls: KubelintServer, options: object) -> None:
    """initializationOptions {"debounceMs": N}: how long after a change a run starts."""
    wanted = options.get("debounceMs") if isinstance(options, dict) else None
    if isinstance(wanted, int) and not isinstance(wanted, bool) and 0 <= wanted <= 10_000:
        ls.debounce = wanted / 1000


def _can_watch(ls: KubelintServer) -> bool:
    workspace = ls.client_capabilities.workspace
    watching = workspace.did_change_watched_files if workspace is not None else None
    return bool(watching is not None and watching.dynamic_registration)


def serve() -> None:
    """Serve on stdio. The protocol reads and writes copies of standard input and output: the
    originals become /dev/null and standard error, so that nothing else (a library's print, a
    tool the run starts, a reader process forked while the protocol's thread waits on its
    input, which closes sys.stdin first) can read a message or write into one."""
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, sys.stdin.fileno())
    os.close(null)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    build().start_io(protocol_in, protocol_out)
