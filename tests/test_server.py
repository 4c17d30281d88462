"""The editor server driven as an editor drives it: `kubelint-svc server` in a process of its own,
JSON-RPC over its pipes through pygls's client: initialize, open, change, diagnostics, code
action, hover, definition, shutdown; hostile files never stop it."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GIT, needs

HAS_LSP = importlib.util.find_spec("pygls") is not None
pytestmark = [needs("the lsp extra (pygls)", HAS_LSP), needs("git", GIT is not None)]
if HAS_LSP:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0
        ports:
        - name: http
          containerPort: 8080
"""
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: web
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: db
        image: registry.example.com/db:1.0
"""
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
"""
HTTPROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  rules:
  - backendRefs:
    - name: web
      port: 80
"""
TIMEOUT = 30.0


def git_repository(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(folder)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "files"], check=True)
    return folder


class Editor:
    """A client as an editor is one: it opens, edits and asks, and keeps what is published."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.client = LanguageClient("test-editor", "1")
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.changed = asyncio.Event()
        self.versions: dict[str, int] = {}
        self.env = {**os.environ, "KUBELINT_SVC_CACHE_DIR": str(cache)}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params)
            self.changed.set()

    async def start(self, options: dict | None = None) -> types.InitializeResult:
        await self.client.start_io(sys.executable, "-m", "kubelint_svc", "server", cwd=str(self.root), env=self.env,
                                   start_new_session=True)  # its own process group: killed whole if it hangs
        capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=False)))
        result = await self.client.initialize_async(types.InitializeParams(
            capabilities, process_id=os.getpid(), root_uri=self.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(self.root.as_uri(), "root")],
            initialization_options=options or {"debounceMs": 10}))
        self.client.initialized(types.InitializedParams())
        return result

    async def stop(self) -> int | None:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        server = self.client._server
        if server is not None:
            await asyncio.wait_for(server.wait(), TIMEOUT)
        await self.client.stop()
        return server.returncode if server is not None else None

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str | None = None) -> str:
        uri = self.uri(name)
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri, "yaml", 1, (self.root / name).read_text() if text is None else text)))
        return uri

    def change(self, name: str, text: str) -> str:
        uri = self.uri(name)
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(self.versions[uri], uri),
            [types.TextDocumentContentChangeWholeDocument(text)]))
        return uri

    async def diagnostics(self, uri: str, wanted: Callable[[list[types.Diagnostic]], bool] = lambda _: True,
                          version: int | None = None) -> list[types.Diagnostic]:
        """The first diagnostics published for uri (of version, when given) that wanted accepts."""
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while True:
            for params in self.published.get(uri, [])[seen:]:
                seen += 1
                if (version is None or params.version == version) and wanted(params.diagnostics):
                    return params.diagnostics
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no diagnostics as wanted for {uri}: {self.published.get(uri)}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return await asyncio.wait_for(self.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(line, character))), TIMEOUT)

    async def definition(self, uri: str, line: int, character: int) -> list[types.Location]:
        found = await asyncio.wait_for(self.client.text_document_definition_async(types.DefinitionParams(
            types.TextDocumentIdentifier(uri), types.Position(line, character))), TIMEOUT)
        return list(found or []) if not isinstance(found, types.Location) else [found]

    async def actions(self, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
        found = await asyncio.wait_for(self.client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), diagnostics[0].range, types.CodeActionContext(diagnostics))), TIMEOUT)
        return [action for action in found or [] if isinstance(action, types.CodeAction)]


def session(root: Path, tmp_path: Path, scenario: Callable[[Editor], object], options: dict | None = None,
            env: dict[str, str] | None = None) -> None:
    async def run() -> None:
        editor = Editor(root, tmp_path / "cache")
        editor.env.update(env or {})
        await editor.start(options)
        try:
            await scenario(editor)  # type: ignore[misc]
        except BaseException:
            if editor.client._server is not None:  # a server that hangs is not left behind, nor its children
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(editor.client._server.pid, signal.SIGKILL)
            raise
        assert await editor.stop() == 0  # shut down as asked, not crashed
    asyncio.run(run())


def rules_of(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}


def line_of(text: str, needle: str) -> int:
    """0-based line of the first line holding needle."""
    return next(number for number, line in enumerate(text.splitlines()) if needle in line)


def test_change_diagnostics_code_action_hover_definition(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        first = await editor.diagnostics(uri)
        assert not [d for d in first if d.severity == types.DiagnosticSeverity.Error], first
        broken = SERVICE.replace("targetPort: http", "targetPort: htpp")
        editor.change("svc.yaml", broken)  # unsaved: the disk still says http
        found = await editor.diagnostics(uri, lambda ds: "service-target-port-undefined" in rules_of(ds), version=2)
        diagnostic = next(d for d in found if d.code == "service-target-port-undefined")
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.range.start.line == line_of(broken, "targetPort")
        assert diagnostic.source == "kubelint-svc"
        assert diagnostic.code_description is not None
        assert diagnostic.code_description.href.endswith("rules.md#service-target-port-undefined")
        assert "declared port names: http" in diagnostic.message
        related = diagnostic.related_information or []
        assert related
        assert related[0].location.uri == editor.uri("deploy.yaml")
        assert related[0].location.range.start.line == line_of(DEPLOYMENT, "containers:")

        actions = await editor.actions(uri, [diagnostic])
        ignore = next(a for a in actions if a.title == "Ignore service-target-port-undefined here")
        assert ignore.edit is not None
        assert ignore.edit.changes is not None
        (edit,) = ignore.edit.changes[uri]
        assert edit.range.start.line == line_of(broken, "targetPort")
        assert edit.new_text == "    targetPort: htpp  # kubelint-svc: ignore[service-target-port-undefined]"
        lines = broken.splitlines()
        lines[edit.range.start.line] = edit.new_text
        editor.change("svc.yaml", "\n".join(lines) + "\n")  # the editor applies it: the finding goes
        await editor.diagnostics(uri, lambda ds: not rules_of(ds) & {"service-target-port-undefined",
                                                                     "unused-suppression"}, version=3)

        hover = await editor.hover(uri, line_of(SERVICE, "app: web"), 6)
        assert hover is not None
        text = hover.contents.value if isinstance(hover.contents, types.MarkupContent) else str(hover.contents)
        assert f"Deployment web (deploy.yaml:{line_of(DEPLOYMENT, 'labels:') + 1})" in text, text
        places = await editor.definition(uri, line_of(SERVICE, "selector:"), 4)
        assert [(p.uri, p.range.start.line) for p in places] == [(editor.uri("deploy.yaml"),
                                                                 line_of(DEPLOYMENT, "labels:"))]
        editor.change("svc.yaml", SERVICE)
        await editor.diagnostics(uri, lambda ds: True, version=4)
        hover = await editor.hover(uri, line_of(SERVICE, "targetPort"), 6)
        assert hover is not None
        assert "containerPort 8080/TCP (http)" in str(hover.contents), hover
        places = await editor.definition(uri, line_of(SERVICE, "targetPort"), 6)
        assert [(p.uri, p.range.start.line) for p in places] == [(editor.uri("deploy.yaml"),
                                                                 line_of(DEPLOYMENT, "- name: http"))]
        assert await editor.hover(uri, 0, 0) is None  # apiVersion points nowhere

    session(root, tmp_path, scenario)


def test_the_fixes_of_fix_are_code_actions_safe_first(tmp_path):
    broken = SERVICE.replace("targetPort: http", "targetPort: htpp\n    protocol: tcp").replace("app: web", "app: wbe")
    root = git_repository(tmp_path / "repo", {"svc.yaml": broken, "deploy.yaml": DEPLOYMENT})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        found = await editor.diagnostics(uri, lambda ds: "service-port-protocol" in rules_of(ds))
        actions = await editor.actions(uri, found)
        titles = [action.title for action in actions]
        fixes = [title for title in titles if not title.startswith("Ignore ")]
        assert "set protocol to 'TCP'" in fixes, titles
        unsafe = [title for title in fixes if "(unsafe" in title]
        assert unsafe, titles
        assert fixes == [t for t in fixes if t not in unsafe] + unsafe  # safe ones first
        assert titles[:len(fixes)] == fixes  # then "ignore this rule here"
        protocol = next(a for a in actions if a.title == "set protocol to 'TCP'")
        assert protocol.is_preferred
        assert protocol.edit is not None
        assert protocol.edit.changes is not None
        [edit] = protocol.edit.changes[uri]
        line = line_of(broken, "protocol: tcp")
        assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (line, 14, "TCP")
        assert edit.range.end == types.Position(line, 17)
        editor.change("svc.yaml", broken.replace("app: wbe", "app: wbe2"))  # unsaved: the plan's offsets are the disk's
        found = await editor.diagnostics(uri, lambda ds: "service-port-protocol" in rules_of(ds), version=2)
        titles = [action.title for action in await editor.actions(uri, found)]
        assert all(title.startswith("Ignore ") for title in titles), titles

    session(root, tmp_path, scenario)


def test_changes_in_quick_succession_are_judged_once(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        await editor.diagnostics(uri)
        for port in range(81, 86):  # typed faster than the debounce
            editor.change("svc.yaml", SERVICE.replace("port: 80", f"port: {port}"))
        await editor.diagnostics(uri, version=6)
        assert [params.version for params in editor.published[uri]] == [1, 6]

    session(root, tmp_path, scenario, {"debounceMs": 500})


def test_a_save_judges_the_other_open_files_again(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        assert "service-target-port-undefined" not in rules_of(await editor.diagnostics(uri))
        renamed = DEPLOYMENT.replace("- name: http", "- name: web")
        deployment = editor.open("deploy.yaml")
        await editor.diagnostics(deployment)
        editor.change("deploy.yaml", renamed)
        (root / "deploy.yaml").write_text(renamed)  # the editor saves it
        editor.client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(deployment)))
        await editor.diagnostics(uri, lambda ds: "service-target-port-undefined" in rules_of(ds))

    session(root, tmp_path, scenario)


def test_other_open_files_are_judged_as_their_buffers_say(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT})

    async def scenario(editor: Editor) -> None:
        editor.open("deploy.yaml", DEPLOYMENT.replace("- name: http", "- name: web"))  # renamed, unsaved
        uri = editor.open("svc.yaml")
        await editor.diagnostics(uri, lambda ds: "service-target-port-undefined" in rules_of(ds))
        assert "- name: http" in (root / "deploy.yaml").read_text()  # nothing written to disk
        assert sorted(p.name for p in root.iterdir()) == [".git", "deploy.yaml", "svc.yaml"]

    session(root, tmp_path, scenario)


def test_an_untracked_open_file_is_judged_with_the_rest(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE.replace("app: web", "app: new")})
    (root / "new.yaml").write_text(DEPLOYMENT.replace("app: web", "app: new"))  # not added to git yet

    async def scenario(editor: Editor) -> None:
        editor.open("new.yaml")
        uri = editor.open("svc.yaml")
        found = await editor.diagnostics(uri)
        assert "service-selector-no-match" not in rules_of(found), found

    session(root, tmp_path, scenario)


def test_configuration_is_read_again_when_it_changes(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE.replace("app: web", "app: nothing")})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        await editor.diagnostics(uri, lambda ds: "service-selector-no-match" in rules_of(ds))
        (root / ".kubelint-svc.yaml").write_text("rules:\n  service-selector-no-match: off\n")
        editor.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([types.FileEvent(
            editor.uri(".kubelint-svc.yaml"), types.FileChangeType.Created)]))
        await editor.diagnostics(uri, lambda ds: "service-selector-no-match" not in rules_of(ds))
        config = editor.open("pyproject.toml", "[tool.kubelint-svc]\n")  # no manifest: nothing said on it
        assert not await editor.diagnostics(config)
        (root / ".kubelint-svc.yaml").write_text("rules:\n  service-selector-no-such-rule: off\n")
        editor.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([types.FileEvent(
            editor.uri(".kubelint-svc.yaml"), types.FileChangeType.Changed)]))
        found = await editor.diagnostics(uri, lambda ds: "configuration" in rules_of(ds))
        assert "unknown rule id" in found[0].message
        assert found[0].range.start.line == 0

    session(root, tmp_path, scenario)


def test_serviceName_and_backends_lead_to_the_service(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT, "db.yaml": STATEFULSET,
                                              "ingress.yaml": INGRESS, "route.yaml": HTTPROUTE})
    service_line = line_of(SERVICE, "name: web")
    port_line = line_of(SERVICE, "port: 80")

    async def scenario(editor: Editor) -> None:
        for name, text, needle, target in (("db.yaml", STATEFULSET, "serviceName", service_line),
                                           ("ingress.yaml", INGRESS, "    name: web", service_line),
                                           ("ingress.yaml", INGRESS, "number: 80", port_line),
                                           ("route.yaml", HTTPROUTE, "- name: web", service_line),
                                           ("route.yaml", HTTPROUTE, "port: 80", port_line)):
            uri = editor.open(name)
            await editor.diagnostics(uri)
            line = line_of(text, needle)
            column = len(text.splitlines()[line]) - 2
            places = await editor.definition(uri, line, column)
            assert [(p.uri, p.range.start.line) for p in places] == [(editor.uri("svc.yaml"), target)], (name, needle)
            hover = await editor.hover(uri, line, column)
            assert hover is not None
            assert "Service default/web (svc.yaml:" in str(hover.contents)

    session(root, tmp_path, scenario)


HOSTILE = {
    "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
        f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(9)),
    "deep.yaml": "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "broken.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: x\n  spec: [\n",
    "odd.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: 5\nspec:\n  ports: {a: [1]}\n  selector: [null]\n"
                "---\n- 1\n---\n!!binary aGk=\n---\nkind: [x]\napiVersion: {}\n",
    "long.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: " + "x" * 2_000_000 + "\n",
    "dup.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  name: y\nspec:\n  ports: []\n",
    "text.yaml": "\x00\x01\ufeff\u202e  ::error::forged\n",
}


def test_hostile_files_never_stop_the_server(tmp_path):
    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "deploy.yaml": DEPLOYMENT, **HOSTILE})
    outside = tmp_path / "secret.yaml"
    outside.write_text(SERVICE.replace("name: web", "name: secret"))
    (root / "link.yaml").symlink_to(outside)

    async def scenario(editor: Editor) -> None:
        for name in HOSTILE:
            uri = editor.open(name)
            found = await editor.diagnostics(uri)
            editor.change(name, HOSTILE[name][: len(HOSTILE[name]) // 2])  # half typed
            found += await editor.diagnostics(uri, version=2)
            assert "internal-error" not in rules_of(found), (name, found)
            assert await editor.hover(uri, 0, 0) is None
        uri = editor.open("link.yaml", SERVICE)
        refused = await editor.diagnostics(uri)
        assert [d.code for d in refused] == ["path-outside-tree"]
        assert "outside the repository" in refused[0].message
        uri = editor.open("svc.yaml")  # and the server still judges the good file
        found = await editor.diagnostics(uri)
        assert not [d for d in found if d.severity == types.DiagnosticSeverity.Error], found

    session(root, tmp_path, scenario)


@pytest.mark.slow  # every hostile-input case through a server process: about 7 s
def test_the_hostile_input_cases_through_the_server(tmp_path):
    """tests/test_hostile_input.py's objects with odd values in every field, then its token soup
    typed into the buffer change after change: every version judged, none an internal error."""
    from test_hostile_input import BASE, FIELDS, KINDS, ODD_VALUES, set_field

    rng = random.Random(24)
    documents = []
    for kind, api_version in KINDS.items():
        for path in FIELDS:
            document = copy.deepcopy(BASE)
            document.update(apiVersion=api_version, kind=kind)
            set_field(document, path, rng.choice(ODD_VALUES))
            documents.append(json.dumps(document))
    tokens = ["apiVersion: v1\n", "kind: Service\n", "metadata:\n", "  name: x\n", "spec:\n", "  ports:\n",
              "  - port: 80\n", "---\n", "...\n", "&a ", "*a ", "[", "]", "{", "}", ": ", "- ", "!!python/object ",
              "? ", "|\n", ">\n", "'", '"', "\t", "%YAML 1.1\n", "<<: ", "#", "\n", "  ", "key", "123", "${X}",
              "\r\n", "\ufeff", "!custom ", "~", ",", "@", "`", "\x01"]
    root = git_repository(tmp_path / "repo", {"odd.yaml": "\n---\n".join(documents), "svc.yaml": SERVICE})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("odd.yaml")
        found = await editor.diagnostics(uri)
        assert found
        assert "internal-error" not in rules_of(found)
        uri = editor.open("svc.yaml")
        await editor.diagnostics(uri)
        for _ in range(25):
            version = editor.versions[uri] + 1
            editor.change("svc.yaml", "".join(rng.choice(tokens) for _ in range(rng.randint(1, 60))))
            found = await editor.diagnostics(uri, version=version)
            assert "internal-error" not in rules_of(found), found

    session(root, tmp_path, scenario, {"debounceMs": 0})


def test_a_cold_run_read_by_forked_processes_answers(tmp_path):
    """A large cold run reads its files in forked processes, which close sys.stdin first: the
    protocol's reader thread must not hold it (it did, and every reader process hung)."""
    big = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big-{n}\ndata:\n  blob: " + "x" * 300_000 + "\n"
    files = {f"big-{n}.yaml": big.replace("{n}", str(n)) for n in range(16)}
    root = git_repository(tmp_path / "repo", {**files, "svc.yaml": SERVICE.replace("port: 80", "port: 0")})

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        found = await editor.diagnostics(uri)
        assert any(d.severity == types.DiagnosticSeverity.Error for d in found), found

    session(root, tmp_path, scenario, env={"KUBELINT_SVC_JOBS": "2"})


def test_a_file_outside_any_repository_is_judged_alone(tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "svc.yaml").write_text(SERVICE.replace("port: 80", "port: 0"))

    async def scenario(editor: Editor) -> None:
        uri = editor.open("svc.yaml")
        found = await editor.diagnostics(uri)
        assert any(d.severity == types.DiagnosticSeverity.Error for d in found), found

    session(folder, tmp_path, scenario)


def test_the_command_says_when_the_extra_is_missing(tmp_path):
    script = ("import sys; sys.modules['pygls'] = None; sys.modules['pygls.lsp'] = None; "
              "sys.modules['pygls.lsp.server'] = None; sys.argv = ['kubelint-svc', 'server']; "
              "from kubelint_svc.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "kubelint-svc: error: the editor server needs the lsp extra: pip install 'kubelint-svc[lsp]'"]


@pytest.mark.parametrize(("text", "line", "expected"), [
    ("a: 1\n", 1, (1, "a: 1  # kubelint-svc: ignore[r]")),  # after the line
    ("a: 1  # why\n", 1, (1, "# kubelint-svc: ignore[r]\na: 1  # why")),  # a comment there: above it
    ("a: 1  # kubelint-svc: ignore[x]\n", 1, (1, "a: 1  # kubelint-svc: ignore[x, r]")),  # added to it
    ("  # kubelint-svc: ignore[x]\n  a: 1\n", 2, (1, "  # kubelint-svc: ignore[x, r]")),
    ("a: 1  # kubelint-svc: ignore[r]\n", 1, None),  # already silenced
    ("b: |\n  text\n", 2, None),  # inside a block scalar a `#` is text: no place silences it
    ("b: |\r\n  text\r\nc: 1\r\n", 1, (1, "# kubelint-svc: ignore[r]\r\nb: |")),
])
def test_ignore_here_writes_the_comment_where_it_silences_the_line(text, line, expected):
    from kubelint_svc.suppressions import comment_suppressions, ignore_here

    assert ignore_here(text, line, "r") == expected
    if expected is not None:
        number, new = expected
        lines = text.splitlines(keepends=True)
        ending = lines[number - 1][len(lines[number - 1].rstrip("\r\n")):]
        lines[number - 1] = new + ending
        target = line + new.count("\n")
        assert any(s.applies_to_line == target and "r" in s.rules for s in comment_suppressions("".join(lines), ""))
