"""Attacks on the session's new features with a fresh eye: the whole-run replay, --fix, the editor
server and a new user's first run. Each test failed on the code before its fix."""

from __future__ import annotations

import importlib.util
import subprocess
import time
from pathlib import Path

import pytest

from kubelint_svc.app import Options, lint

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""
OTHER = SERVICE.replace("name: web", "name: other", 1)


def settle() -> None:
    """Past cache.SETTLED_NS: a tree written a moment ago is never kept."""
    time.sleep(2.1)


def git(top: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=top, check=True)


@pytest.fixture
def fresh_repository(tmp_path: Path, monkeypatch) -> Path:
    """A repository just made by `git init`: no index yet."""
    top = tmp_path / "repo"
    top.mkdir()
    (top / "web.yaml").write_text(SERVICE)
    (top / "other.yaml").write_text(OTHER)
    git(top, "init", "-q")
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settle()
    return top


def git_context(tmp_path: Path) -> Options:
    return Options(paths=("web.yaml",), git_context=True, cache_dir=str(tmp_path / "cache"))


@pytest.mark.slow  # waits past the settling time
def test_the_first_git_add_of_a_repository_is_a_change_of_its_tree(fresh_repository, tmp_path):
    """The stamps covered `.git/index` only where it was: the index the first `git add` made was
    no stamp's, and a --git-context run replayed a context of no file."""
    assert lint(git_context(tmp_path), replay=True).report.context_files == 0
    lint(git_context(tmp_path), replay=True)
    git(fresh_repository, "add", "web.yaml", "other.yaml")
    again = lint(git_context(tmp_path), replay=True)
    assert again.run is not None
    assert again.report.context_files == 1


# ---- the editor server ---------------------------------------------------------------------------


@pytest.mark.slow  # a server process
def test_a_lone_surrogate_in_a_buffer_stops_no_file_being_judged(tmp_path):
    """JSON carries "\\ud800", which has no UTF-8: encoding the open buffers raised before the run,
    and no open file of the repository was judged again until that buffer closed."""
    from conftest import GIT, require

    require("git", GIT is not None)
    require("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None)
    from test_server import SERVICE, Editor, git_repository, rules_of, session

    root = git_repository(tmp_path / "repo", {"svc.yaml": SERVICE, "notes.yaml": SERVICE})

    async def scenario(editor: Editor) -> None:
        odd = editor.open("notes.yaml", SERVICE + "# \ud800\n")
        found = await editor.diagnostics(odd)
        assert "internal-error" not in rules_of(found), found
        uri = editor.open("svc.yaml")
        found = await editor.diagnostics(uri)
        assert "internal-error" not in rules_of(found), found

    session(root, tmp_path, scenario)


@pytest.mark.slow  # a run with git
def test_an_open_buffer_with_a_name_too_long_stops_no_file_being_judged(tmp_path, monkeypatch):
    """Path.is_file raises for a name the system refuses (ENAMETOOLONG): an editor's buffer of such
    a name made the run of every open file of its repository raise, the server judging none."""
    from conftest import GIT, require

    require("git", GIT is not None)
    require("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None)
    from kubelint_svc.server import judge, path_of

    top = tmp_path / "repo"
    top.mkdir()
    (top / "web.yaml").write_text(SERVICE.replace("port: 80", "port: 0"))
    git(top, "init", "-q")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(top)
    web = top / "web.yaml"
    long = path_of((top / ("x" * 300 + ".yaml")).as_uri())
    assert long is not None
    texts = {web: web.read_text(), long: SERVICE}
    judged = judge(web, texts, [top], 1)
    assert judged.outcome is not None
    assert {Path(finding.file).name for finding in judged.outcome.report.findings} == {"web.yaml"}
    assert judge(long, texts, [top], 1).diagnostics == []  # no file on disk: nothing to say


# ---- the tools a run depends on ------------------------------------------------------------------


def test_another_helm_python_sdk_is_another_run(tmp_path, monkeypatch):
    """Without a helm binary, charts are rendered by helm-python-sdk: the tools' identity (in the
    whole run's key and each kept render's) said `helm: none` whichever SDK was installed, so an
    upgraded SDK replayed what the old one rendered."""
    import sys

    from kubelint_svc import identity

    monkeypatch.setattr(identity, "find_tool", lambda name: None)  # no binary on PATH
    package = tmp_path / "site" / "helm_python"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VERSION = '1'\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site"), *sys.path])
    monkeypatch.delitem(sys.modules, "helm_python", raising=False)
    before = identity.tools_identity("helm")
    (package / "__init__.py").write_text("VERSION = '2.0'\n")  # pip install -U: the package written anew
    assert identity.tools_identity("helm") != before


# ---- --fix ---------------------------------------------------------------------------------------

SHARED_BASE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: htpp
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - name: http
          containerPort: 8080
"""
PORT_NAMED_HTPP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        ports:
        - name: htpp
          containerPort: 8080
"""


def test_a_safe_fix_in_a_base_never_breaks_another_overlay(tmp_path, monkeypatch):
    """Overlay a declares the port `http`, overlay b patches it to `htpp`, the shared base's
    Service says `htpp`: the safe fix (`http`, from a's build) was written into the base, and
    b's build then failed the same way; now the base is put back and the fix skipped, saying why."""
    from kubelint_svc.app import lint_and_fix

    tree = {
        "base/objects.yaml": SHARED_BASE, "base/kustomization.yaml": "resources:\n- objects.yaml\n",
        "overlays/a/kustomization.yaml": "resources:\n- ../../base\nnamespace: a\n",
        "overlays/b/kustomization.yaml": "resources:\n- ../../base\nnamespace: b\npatches:\n- path: port.yaml\n",
        "overlays/b/port.yaml": PORT_NAMED_HTPP,
    }
    for name, text in tree.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    outcome, fixed = lint_and_fix(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert (tmp_path / "base/objects.yaml").read_text() == SHARED_BASE
    assert (fixed.fixed, fixed.files) == ([], [])
    assert [s.finding.rule for s in fixed.skipped] == ["service-target-port-undefined"]
    assert "overlays/b" in fixed.skipped[0].reason
    assert [(f.rule, f.file) for f in outcome.report.findings if f.severity == "error"] == [
        ("service-target-port-undefined", "base/objects.yaml")]


LEGACY_JSON = """\
{
  "apiVersion": "extensions/v1beta1",
  "kind": "Deployment",
  "metadata": {"name": "w"},
  "spec": {
    "template": {
      "metadata": {"labels": {"app": "w"}},
      "spec": {"containers": [{"name": "w", "image": "nginx:1.25"}]}
    }
  }
}
"""


def test_a_key_added_to_a_json_manifest_is_written_as_json(tmp_path, monkeypatch):
    """The removed-API fix adds the selector extensions/v1beta1 defaulted: into a JSON file it
    was written as YAML's flow (`selector: {matchLabels: {app: w}}`), which YAML reads and the
    fix's check accepted, but a JSON reader (kubectl, for a file beginning with `{`) does not."""
    import json

    from kubelint_svc.app import lint_and_fix

    (tmp_path / "legacy.json").write_text(LEGACY_JSON)
    monkeypatch.chdir(tmp_path)
    _, fixed = lint_and_fix(Options(paths=(".",), no_cache=True))
    assert "removed-api" in {finding.rule for finding in fixed.fixed}
    written = json.loads((tmp_path / "legacy.json").read_text())
    assert written["apiVersion"] == "apps/v1"
    assert written["spec"]["selector"] == {"matchLabels": {"app": "w"}}


# ---- a new user's first run --------------------------------------------------------------------


def test_a_fix_outside_the_working_directory_of_no_repository_says_so(tmp_path, monkeypatch):
    """Outside a git work tree the working directory is what --fix may write in: the note said
    `outside the repository (/that/folder)`, of a folder that is no repository."""
    from kubelint_svc.app import lint_and_fix

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "legacy.json").write_text(LEGACY_JSON)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    _, fixed = lint_and_fix(Options(paths=("../shop",), no_cache=True))
    assert fixed.skipped
    for skipped in fixed.skipped:
        assert skipped.reason.endswith(f"is outside the working directory ({tmp_path / 'elsewhere'}); "
                                       "run from a folder that holds it"), skipped.reason
    assert (tmp_path / "shop" / "legacy.json").read_text() == LEGACY_JSON


@pytest.mark.slow  # a run with git
def test_a_file_whose_name_is_no_utf_8_is_judged(tmp_path, monkeypatch):
    """An editor names `\\xffweb.yaml` `file:///.../%FFweb.yaml` (as pathlib's as_uri does): the
    server decoded it to U+FFFD, a file that is not there, and said nothing about the file."""
    import os

    from conftest import GIT, require

    require("git", GIT is not None)
    require("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None)
    from kubelint_svc.server import judge, path_of

    top = tmp_path / "repo"
    top.mkdir()
    named = Path(os.fsdecode(os.fsencode(top) + b"/\xffweb.yaml"))
    try:
        named.write_text(SERVICE.replace("port: 80", "port: 0"))
        written = True
    except (OSError, UnicodeError):  # macOS's file systems take only UTF-8 names
        written = False
    require("a file system taking names that are no UTF-8", written, system=True)
    git(top, "init", "-q")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(top)
    file = path_of(named.as_uri())
    assert file == named
    judged = judge(file, {file: named.read_text()}, [top], 1)
    assert judged.outcome is not None
    assert judged.outcome.report.findings
