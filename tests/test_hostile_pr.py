"""A pull request controls the manifests, the config and the rule packs. One test per attack the
review found: each asserts the safe outcome (no forged workflow command, parseable reports,
the neighbour file's finding still there, a finish within seconds, nothing read outside the
repository)."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path
from typing import ClassVar
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports:
  - port: 80
"""
# the port is out of range: one error to find in the good neighbour file
GOOD_WITH_ERROR = SERVICE.format(name="good").replace("port: 80", "port: 0")
FORGED = "x\n::error file=README.md,line=1::forged"
# lines the GitHub runner would run as a command: `::name ...::` or `##[name]`, after white space
COMMAND = re.compile(rb"^\s*(::|##\[)")
OURS = re.compile(rb"^::(error|warning|notice) file=[^,:\n]*,line=\d+,col=\d+,title=[a-z0-9-]+::")


def run(*args: str | bytes, cwd: Path, stdin: bytes | None = None, env: dict | None = None,
        timeout: float = 60, fresh: bool = False) -> subprocess.CompletedProcess:
    """The CLI as a user runs it; in this process (fast) unless it reads stdin or must be a process
    of its own (fresh: a hang would need a timeout, or memory is measured)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "GITHUB_ACTIONS")}
    environment.update(env or {})
    if stdin is not None or fresh:
        return subprocess.run([sys.executable, "-m", "kubelint_svc", *args], input=stdin, capture_output=True,
                              cwd=cwd, env=environment, timeout=timeout, check=False)
    return _in_process([os.fsdecode(a) for a in args], cwd, environment)


def _in_process(args: list[str], cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    from kubelint_svc.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    streams = [io.TextIOWrapper(buffer, encoding="utf-8", write_through=True) for buffer in (out, err)]
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(cwd)
    sys.argv = ["kubelint-svc", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(streams[0]), contextlib.redirect_stderr(streams[1]):
            try:
                main()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.argv = saved_argv
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def assert_no_forged_command(output: bytes) -> None:
    for line in output.splitlines():
        if COMMAND.match(line):
            assert OURS.match(line), f"forged workflow command: {line!r}"


def yaml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


# --- 1. workflow-command injection -----------------------------------------------------------

@pytest.mark.parametrize("field", ["name", "namespace", "label key"])
def test_names_cannot_forge_an_annotation_in_text_or_github_output(tmp_path, field):
    if field == "name":
        text = SERVICE.format(name=yaml_string(FORGED))
    elif field == "namespace":
        text = SERVICE.format(name="web").replace("  name: web\n", f"  name: web\n  namespace: {yaml_string(FORGED)}\n")
    else:
        labelled = f"  name: web\n  labels: {{{yaml_string(FORGED)}: a}}\n"
        text = SERVICE.format(name="web").replace("  name: web\n", labelled)
    (tmp_path / "svc.yaml").write_text(text)
    for args, env in ((("lint", "."), {"GITHUB_ACTIONS": "true"}), (("lint", "--format", "github", "."), {})):
        result = run(*args, cwd=tmp_path, env=env)
        assert result.returncode == 1, result.stderr
        assert_no_forged_command(result.stdout + result.stderr)
        assert b"\\n::error file=README.md" in result.stdout or b"%0A::error file=README.md" in result.stdout


def test_every_annotation_is_escaped_past_the_annotation_cap(tmp_path):
    """The 11th finding of a level is a plain log line, escaped like the first ten."""
    text = "---\n".join(SERVICE.format(name=yaml_string(f"s{i}\n::error file=README.md,line=1::forged"))
                        for i in range(15))
    (tmp_path / "many.yaml").write_text(text)
    result = run("lint", "--format", "github", "--fail-on", "info", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert b"more findings not annotated" in result.stdout
    assert_no_forged_command(result.stdout)
    assert result.stdout.count(b"\\n::error file=README.md,line=1::forged") >= 15


def test_a_file_name_cannot_forge_a_command(tmp_path):
    (tmp_path / "::error file=README.md,line=1::forged.yaml").write_text(GOOD_WITH_ERROR)
    (tmp_path / "##[error]forged.yaml").write_text(GOOD_WITH_ERROR)
    for args in (("lint", "."), ("lint", "--format", "github", "."), ("lint", "--format", "junit", ".")):
        result = run(*args, cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
        assert result.returncode == 1
        assert_no_forged_command(result.stdout + result.stderr)
        assert b"./::error file=README.md" in result.stdout or b"file=%3A%3Aerror" in result.stdout


def test_a_file_name_with_a_line_break_stays_on_its_line(tmp_path):
    (tmp_path / "a\n::error file=README.md::x.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", ".", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert_no_forged_command(result.stdout)
    assert b"a\\n::error file=README.md::x.yaml:7:11: error[service-port-number]" in result.stdout


# --- 2. control characters -------------------------------------------------------------------

TERMINAL_ATTACKS = ["\x1b[2K\x1b[1A", "\x1b]0;pwned\x07", "\x1b[8m", "\x9b31m", "\u202egnp.exe", "a\rb"]


@pytest.mark.parametrize("attack", TERMINAL_ATTACKS)
def test_control_characters_never_reach_the_terminal_or_the_annotations(tmp_path, attack):
    (tmp_path / "svc.yaml").write_text(SERVICE.format(name=yaml_string(f"web{attack}x")))
    controls = {char for char in attack if unicodedata.category(char) in ("Cc", "Cf")}
    for fmt in ("text", "github", "junit"):
        result = run("lint", "--format", fmt, ".", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
        shown = result.stdout.decode()
        assert result.returncode == 1
        assert not controls & set(shown.replace("\n", "")), (fmt, shown)
        assert re.search(r"Service web(\\x1b|\\x9b|\\u202e|a\\r|a%0D)", shown), shown


@pytest.mark.parametrize("name", ["a\x1bb", "a\x00b", "a\x01b", "a\ufffeb"])
def test_junit_is_well_formed_xml_whatever_the_names(tmp_path, name):
    (tmp_path / "svc.yaml").write_text(SERVICE.format(name=yaml_string(name)))
    result = run("lint", "--format", "junit", ".", cwd=tmp_path)
    root = ElementTree.fromstring(result.stdout)
    names = [case.get("name") for case in root.iter("testcase")]
    assert any(n.startswith(("Service a\\x", "Service a\\u")) for n in names), names


def test_a_control_character_in_a_pack_rule_id_is_a_config_error(tmp_path):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "rules.yaml").write_text(
        'rules:\n  - id: "team\\x01rule"\n    severity: error\n    check: {json-schema: {}}\n')
    (tmp_path / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    (tmp_path / "svc.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "--format", "junit", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1
    assert b"rules.yaml:2: rule id 'team\\x01rule'" in result.stderr


# --- 3. one bad file never costs the others their findings -----------------------------------

@pytest.mark.parametrize("fmt", ["sarif", "json", "text", "github", "junit"])
def test_a_file_name_that_is_not_utf8_is_shown_with_escapes_in_every_format(tmp_path, fmt):
    (tmp_path / os.fsdecode(b"x\xff.yaml")).write_text(GOOD_WITH_ERROR)
    (tmp_path / "good.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "--format", fmt, "--output", "report.out", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert b"internal error" not in result.stderr
    report = (tmp_path / "report.out").read_bytes()
    report.decode("utf-8")  # well-formed UTF-8
    if fmt in ("json", "sarif"):
        document = json.loads(report)
        if fmt == "json":
            assert sorted({f["file"] for f in document["findings"]}) == ["good.yaml", "x\\xff.yaml"]
        else:
            uris = sorted({r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                           for r in document["runs"][0]["results"]})
            assert uris == ["good.yaml", "x%FF.yaml"]
    else:
        assert b"x\\xff.yaml" in report
        assert b"good.yaml" in report
    assert b"x\\xff.yaml" in result.stdout or fmt != "text"


@pytest.mark.slow  # 0.2 s of CPU
def test_a_malformed_kustomization_does_not_stop_the_run(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [svc.yaml]\nlabels: 5\ncommonLabels: 7\nnamespace: [x]\n")
    (tmp_path / "svc.yaml").write_text(GOOD_WITH_ERROR)
    (tmp_path / "other.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)["findings"]
    found = [(f["file"], f["rule"], f["line"]) for f in report if f["severity"] == "error"]
    assert found == [  # not built: the kustomization is one error, its files are judged as written
        ("kustomization.yaml", "kustomize-build-failed", 1), ("svc.yaml", "service-port-number", 7)]
    assert b"internal error" not in result.stderr


# --- 4. hangs and memory ---------------------------------------------------------------------

@pytest.mark.slow  # 0.3 s of CPU
def test_a_link_to_a_device_is_not_read(tmp_path):
    (tmp_path / "x.yaml").symlink_to("/dev/zero")
    (tmp_path / "good.yaml").write_text(GOOD_WITH_ERROR)
    started = time.monotonic()
    result = run("lint", "--format", "json", "x.yaml", "good.yaml", cwd=tmp_path, timeout=30, fresh=True)
    assert time.monotonic() - started < 30
    findings = [(f["file"], f["rule"]) for f in json.loads(result.stdout)["findings"]]
    assert ("x.yaml", "file-unreadable") in findings
    assert ("good.yaml", "service-port-number") in findings
    message = next(f["message"] for f in json.loads(result.stdout)["findings"] if f["file"] == "x.yaml")
    assert "a character device, not a regular file" in message


@pytest.mark.slow  # 0.2 s of CPU
def test_endless_stdin_is_cut_at_the_size_limit(tmp_path):
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run([sys.executable, "-m", "kubelint_svc", "lint", "-"], stdin=zero,
                                capture_output=True, cwd=tmp_path, timeout=60,
                                env={**os.environ, "KUBELINT_SVC_MAX_FILE_BYTES": str(1024 * 1024)}, check=False)
    assert result.returncode == 1
    assert b"-:1:1: error[yaml-limit-exceeded] file is larger than 1 MiB" in result.stdout


@pytest.mark.slow  # 0.2 s of CPU
def test_a_fifo_named_on_the_command_line_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "good.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "pipe.yaml", "good.yaml", cwd=tmp_path, timeout=30, fresh=True)
    assert b"pipe.yaml:1:1: error[file-unreadable] cannot read file: a FIFO, not a regular file" in result.stdout
    assert b"good.yaml:7:11: error[service-port-number]" in result.stdout


@pytest.mark.slow  # 0.4 s of CPU
def test_a_link_out_of_the_tree_is_not_followed(tmp_path):
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / "root").symlink_to("/")
    (tree / "passwd.yaml").symlink_to("/etc/passwd")
    (tree / "inside").mkdir()
    (tree / "inside" / "good.yaml").write_text(GOOD_WITH_ERROR)
    (tree / "again").symlink_to(tree / "inside")  # a link that stays inside is followed
    started = time.monotonic()
    result = run("lint", "--format", "json", "repo", cwd=tmp_path, timeout=60, fresh=True)
    assert time.monotonic() - started < 20
    findings = [(f["file"], f["rule"], f["severity"]) for f in json.loads(result.stdout)["findings"]]
    assert sorted(findings) == [  # again/ is inside/ through a link that stays in the tree: read once
        ("repo/again/good.yaml", "service-no-endpoints", "warning"),
        ("repo/again/good.yaml", "service-port-number", "error"),
        ("repo/passwd.yaml", "path-outside-tree", "info"),
        ("repo/root", "path-outside-tree", "info"),
    ]


@pytest.mark.slow  # 2.3 s of CPU in 2 cases
@pytest.mark.parametrize(("api_version", "kind"), [
    ("v1", "Service"), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
])
def test_a_huge_flat_list_is_refused_before_it_fills_memory(tmp_path, api_version, kind):
    items = ",".join(["1"] * 3_000_000)
    (tmp_path / "flat.yaml").write_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\n"
                                        f"items: [{items}]\n")
    (tmp_path / "good.yaml").write_text(GOOD_WITH_ERROR)
    code = (
        "import resource, subprocess, sys;"
        "r = subprocess.run([sys.executable, '-m', 'kubelint_svc', 'lint', '.'], capture_output=True);"
        "sys.stdout.buffer.write(r.stdout);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, timeout=120,
                            env={**os.environ, "KUBELINT_SVC_MAX_NODES": "100000"}, check=False)
    *report, peak_kib = result.stdout.splitlines()
    refused = b"flat.yaml:1:1: error[yaml-limit-exceeded] document holds more than 100,000 nodes"
    # a kind rules read is composed, so it is measured and refused; no rule reads a CRD's body,
    # so that is only checked for being well-formed YAML (by libyaml, with no node made)
    assert (refused in b"\n".join(report)) == (kind == "Service")
    assert b"good.yaml:7:11: error[service-port-number]" in b"\n".join(report)
    assert int(peak_kib) < 400 * 1024  # composed, the three million nodes would need ~1 GiB


def test_a_huge_integer_is_a_finding_at_its_line_and_nothing_else(lint_text):
    text = SERVICE.format(name="web").replace("port: 80", "port: " + "9" * 4300) + "---\n" + GOOD_WITH_ERROR
    report = lint_text(text)
    assert [(f.rule, f.line, f.column) for f in report.findings if f.severity == "error"] == [
        ("yaml-limit-exceeded", 7, 11), ("service-port-number", 15, 11)
    ]
    assert "an integer of 4300 characters" in report.findings[0].message


# --- 5. nothing outside the repository --------------------------------------------------------

def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "svc.yaml").write_text(GOOD_WITH_ERROR)
    return repo


@pytest.mark.parametrize("target", ["/etc/passwd", "/dev/zero"])
def test_a_rule_file_linked_out_of_the_repository_is_refused(tmp_path, target):
    repo = repository(tmp_path)
    (repo / "pack").mkdir()
    (repo / "pack" / "rules.yaml").symlink_to(target)
    (repo / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    result = run("lint", ".", cwd=repo, timeout=30)
    assert result.returncode == 2
    assert b"rules.yaml: rule file leads outside the repository" in result.stderr
    assert b"root:" not in result.stderr


def test_a_config_file_linked_out_of_the_repository_is_refused(tmp_path):
    repo = repository(tmp_path)
    (repo / ".kubelint-svc.yaml").symlink_to("/etc/passwd")
    result = run("lint", ".", cwd=repo, timeout=30)
    assert result.returncode == 2
    assert b"leads outside its repository" in result.stderr


def test_a_context_folder_does_not_follow_links_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                                         "spec:\n  selector: {matchLabels: {app: secret}}\n  template:\n"
                                         "    metadata: {labels: {app: secret}}\n"
                                         "    spec: {containers: [{name: c, image: i}]}\n")
    repo = repository(tmp_path)
    (repo / "svc.yaml").write_text(SERVICE.format(name="web").replace("spec:\n", "spec:\n  selector: {app: secret}\n"))
    (repo / "context").mkdir()
    (repo / "context" / "leak").symlink_to(outside)
    (repo / "context" / "leak.yaml").symlink_to(outside / "deploy.yaml")
    (repo / ".kubelint-svc.yaml").write_text("context: [context]\n")
    result = run("lint", "--format", "json", "svc.yaml", cwd=repo)
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert "service-selector-no-match" in rules  # the Deployment outside was never read


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"type": "object"}')

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(("keyword", "value"), [
    ("$dynamicRef", "http://127.0.0.1:{port}/x.json"),
    ("$ref", "http://127.0.0.1:{port}/x.json"),
    ("$recursiveRef", "#"),
    ("$id", "http://127.0.0.1:{port}/base/"),
    ("$dynamicRef", "file:///etc/passwd"),
    ("$ref", "#anchor"),
])
def test_a_pack_schema_cannot_load_another_resource(tmp_path, keyword, value):
    from kubelint_svc.config import Config
    from kubelint_svc.engine import Registry, RuleError

    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reference = value.format(port=server.server_address[1])
        folder = tmp_path / "pack"
        folder.mkdir()
        (folder / "rules.yaml").write_text(
            "rules:\n  - id: team-rule\n    severity: error\n    check:\n"
            f"      json-schema: {{properties: {{spec: {{{json.dumps(keyword)}: {json.dumps(reference)}}}}}}}\n")
        with pytest.raises(RuleError, match=r"rules.yaml:5: rule 'team-rule': json-schema: "):
            Registry.configured(Config(rule_packs=[folder]))
    finally:
        server.shutdown()
    assert _Recorder.requests == []


def test_the_pack_validator_never_retrieves_even_if_given_a_remote_ref(tmp_path):
    from referencing.exceptions import Unresolvable

    from kubelint_svc.checks.safe_schema import validator_for

    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        validator = validator_for({"$ref": f"http://127.0.0.1:{server.server_address[1]}/x.json"})
        with pytest.raises(Unresolvable):
            validator.is_valid({})
    finally:
        server.shutdown()
    assert _Recorder.requests == []


# --- 6. rule packs that would hang or abort -------------------------------------------------

def pack_registry(tmp_path: Path, schema: str, where: str | None = None):
    from kubelint_svc.config import Config
    from kubelint_svc.engine import Registry

    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    scope = f"    where: {where}\n" if where else ""
    (folder / "rules.yaml").write_text(
        f"rules:\n  - id: team-rule\n    severity: error\n    kinds: [Service]\n{scope}"
        f"    check:\n      json-schema: {schema}\n")
    return Registry.configured(Config(rule_packs=[folder]))


def lint_with(registry, text: str):
    from kubelint_svc.inputs import InputFile
    from kubelint_svc.runner import Settings, lint_files

    return lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=text.encode)


HOSTILE_NAME = "a" * 40 + "!"


@pytest.mark.parametrize("pattern", [
    "^(a|a)*$", "^(a|aa)*$", "^(.*a){20}$", "^a*a*a*a*a*a*a*a*b$", "^(a+){1,1000}$",
])
def test_patterns_match_in_linear_time(tmp_path, pattern):
    registry = pack_registry(tmp_path, json.dumps({"properties": {"metadata": {"properties": {
        "name": {"pattern": pattern}}}}}))
    started = time.monotonic()
    report = lint_with(registry, SERVICE.format(name=HOSTILE_NAME))
    assert time.monotonic() - started < 5
    assert [(f.rule, f.field) for f in report.findings if f.rule == "team-rule"] == [("team-rule", "metadata.name")]


@pytest.mark.parametrize("pattern", ["^(?=(a+)+$)", "(a)\\1"])
def test_patterns_that_need_backtracking_are_refused(tmp_path, pattern):
    from kubelint_svc.engine import RuleError

    with pytest.raises(RuleError, match="cannot be matched in linear time"):
        pack_registry(tmp_path, json.dumps({"properties": {"metadata": {"properties": {
            "name": {"pattern": pattern}}}}}))


@pytest.mark.parametrize("name", ["const", "enum", "default", "examples"])
def test_patterns_under_any_key_run_in_linear_time(tmp_path, name):
    """A $defs entry (or property) named like a data keyword holds a real schema all the same."""
    schema = {"$defs": {name: {"pattern": "^(a|aa)*$"}},
              "properties": {"metadata": {"properties": {"name": {"$ref": f"#/$defs/{name}"}, name: {
                  "pattern": "^(a|a)*$"}}}}}
    registry = pack_registry(tmp_path, json.dumps(schema))
    started = time.monotonic()
    report = lint_with(registry, SERVICE.format(name=HOSTILE_NAME))
    assert time.monotonic() - started < 5
    assert [f.field for f in report.findings if f.rule == "team-rule"] == ["metadata.name"]


@pytest.mark.slow  # 0.2 s of CPU
def test_a_ref_breadth_bomb_is_refused_at_load(tmp_path):
    from kubelint_svc.engine import RuleError

    levels = {f"l{i}": {"allOf": [{"$ref": f"#/$defs/l{i + 1}"}] * 4} for i in range(20)}
    levels["l20"] = {"type": "object"}
    started = time.monotonic()
    with pytest.raises(RuleError, match="expands to more than 100,000 nodes"):
        pack_registry(tmp_path, json.dumps({"$defs": levels, "$ref": "#/$defs/l0"}))
    assert time.monotonic() - started < 5


@pytest.mark.slow  # 1.7 s of CPU
def test_a_ref_breadth_bomb_across_files_is_refused_at_load(tmp_path):
    from kubelint_svc.engine import RuleError

    (tmp_path / "pack").mkdir()
    for i in range(20):
        (tmp_path / "pack" / f"l{i}.json").write_text(json.dumps({"allOf": [{"$ref": f"l{i + 1}.json"}] * 4}))
    (tmp_path / "pack" / "l20.json").write_text('{"type": "object"}')
    with pytest.raises(RuleError, match="expands to more than 100,000 nodes"):
        pack_registry(tmp_path, '{$ref: "l0.json"}')


def test_a_recursive_ref_is_refused(tmp_path):
    from kubelint_svc.engine import RuleError

    with pytest.raises(RuleError, match="refers back to itself"):
        pack_registry(tmp_path, json.dumps({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}))


def test_a_where_with_a_missing_ref_is_a_config_error_not_a_crash(tmp_path):
    from kubelint_svc.engine import RuleError

    with pytest.raises(RuleError, match=r"rules.yaml:5: rule 'team-rule': where: \$ref '#/\$defs/nope': nothing at"):
        pack_registry(tmp_path, "{}", where='{"$ref": "#/$defs/nope"}')


def test_local_refs_in_a_referenced_file_resolve_in_that_file(tmp_path):
    (tmp_path / "pack" / "shared").mkdir(parents=True)
    (tmp_path / "pack" / "shared" / "defs.yaml").write_text(
        "named: {properties: {metadata: {properties: {name: {$ref: '#/short'}}}}}\nshort: {maxLength: 5}\n")
    registry = pack_registry(tmp_path, '{$ref: "shared/defs.yaml#/named"}')
    assert [f.field for f in lint_with(registry, SERVICE.format(name="toolongname")).findings
            if f.rule == "team-rule"] == ["metadata.name"]
    assert [f for f in lint_with(registry, SERVICE.format(name="web")).findings if f.rule == "team-rule"] == []


# --- 7. config values that must be messages, not internal errors -----------------------------

@pytest.mark.parametrize(("config", "complaint"), [
    ("kubernetes-version: '1." + "0" * 100_000 + "'\n", b".kubelint-svc.yaml:1: kubernetes-version"),
    ("node-port-range: " + "9" * 5000 + "-" + "9" * 5000 + "\n", b".kubelint-svc.yaml:1: node-port-range"),
    ('rule-packs: ["a\\0b"]\n', b".kubelint-svc.yaml:1: rule-packs entry 'a\\x00b' holds a control character"),
    ('context: ["a\\nb"]\n', b"context entry 'a\\nb' holds a control character"),
    ("fail-on: " + "x" * 10_000 + "\n", b".kubelint-svc.yaml:1: fail-on"),
    ("namespace: default\n---\nfail-on: info\n", b".kubelint-svc.yaml:3: the configuration is one YAML document"),
])
def test_hostile_config_values_are_one_line_usage_errors(tmp_path, config, complaint):
    repo = repository(tmp_path)
    (repo / ".kubelint-svc.yaml").write_text(config)
    result = run("lint", ".", cwd=repo)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count(b"\n") == 1, result.stderr[:300]
    assert len(result.stderr) < 400, result.stderr[:300]
    assert complaint in result.stderr
    assert b"internal error" not in result.stderr


@pytest.mark.parametrize(("pyproject", "complaint"), [
    ("tool = 5\n[tool2]\n", None),
    ("[tool]\nkubelint-svc = 5\n", b"[tool.kubelint-svc] must be a table"),
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n[tool.kubelint-svc]\n", b"pyproject.toml: "),
])
def test_hostile_pyproject_values_are_handled(tmp_path, pyproject, complaint):
    repo = repository(tmp_path)
    (repo / "pyproject.toml").write_text(pyproject)
    result = run("lint", "--config", "pyproject.toml", ".", cwd=repo)
    assert b"internal error" not in result.stderr
    if complaint is None:
        assert result.returncode == 1
        assert b"svc.yaml:7:11: error[service-port-number]" in result.stdout
    else:
        assert result.returncode == 2
        assert complaint in result.stderr
        assert result.stderr.count(b"\n") == 1


@pytest.mark.parametrize(("entry", "complaint"), [
    ("    examples: [1, 2]\n", b"rules.yaml:5: rule 'team-rule': examples must map"),
    ("    summary: {a: 1}\n", b"rules.yaml:5: rule 'team-rule': summary must be a string"),
    ("    check: {json-schema: {}, message: {a: 1}}\n", b"rules.yaml:4: rule 'team-rule': check.message must be"),
])
def test_hostile_rule_fields_are_one_line_usage_errors(tmp_path, entry, complaint):
    repo = repository(tmp_path)
    (repo / "pack").mkdir()
    check = "" if "check:" in entry else "    check: {json-schema: {}}\n"
    (repo / "pack" / "rules.yaml").write_text(f"rules:\n  - id: team-rule\n    severity: error\n{check}{entry}")
    (repo / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    result = run("lint", ".", cwd=repo)
    assert result.returncode == 2
    assert b"internal error" not in result.stderr
    assert complaint in result.stderr
    assert result.stderr.count(b"\n") == 1



# --- every format, any name: a property ------------------------------------------------------

HOSTILE_ALPHABET = st.characters(codec=None, exclude_categories=()) | st.sampled_from(
    ["\n", "\r", "\x1b", "\x00", "\x07", "\x9b", "\u202e", "\u2028", "\ufffe", "\udcff", "%", ",", ":", "::",
     "::error file=README.md::", "##[error]", "<", "&", "]]>", '"'])
HOSTILE_TEXT = st.lists(HOSTILE_ALPHABET, max_size=12).map("".join)


@pytest.mark.slow  # 1.5 s of CPU
@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT), min_size=1, max_size=14))
def test_any_name_through_every_format_parses_back(registry, names):
    from kubelint_svc.findings import Finding, ObjectRef
    from kubelint_svc.reporters import github, junit, sarif, text
    from kubelint_svc.reporters import json as json_reporter
    from kubelint_svc.runner import Report

    findings = [
        Finding("service-port-number", ("error", "warning", "info")[i % 3], f"port {message} is bad", f"{file}.yaml",
                i + 1, 1, ObjectRef("v1", "Service", name, name), "spec.ports[0].port")
        for i, (file, name, message) in enumerate(names)
    ]
    report = Report(findings=findings, files=len(findings), objects=len(findings),
                    object_refs=[(f.file, f.object) for f in findings if f.object])
    outputs = {
        "text": text.render(report), "github": github.render(report), "junit": junit.render(report, "error"),
        "json": json_reporter.render(report), "sarif": sarif.render(report, registry),
    }
    for fmt, output in outputs.items():
        encoded = output.encode("utf-8")  # strict: no lone surrogate anywhere
        assert_no_forged_command(encoded)
        if fmt in ("text", "github"):  # one line per finding (plus the summary or the overflow note)
            assert not {c for c in output if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")} - {"\n"}
            overflow = fmt == "github" and any(
                sum(f.severity == level for f in findings) > github.ANNOTATIONS_PER_LEVEL
                for level in ("error", "warning", "info")
            )
            assert output.count("\n") == len(findings) + (fmt == "text") + overflow
    ElementTree.fromstring(outputs["junit"].encode("utf-8"))
    assert len(json.loads(outputs["json"])["findings"]) == len(findings)
    assert len(json.loads(outputs["sarif"])["runs"][0]["results"]) == len(findings)


# --- found by the attack review of the first fix ----------------------------------------------

@pytest.mark.slow  # 0.3 s of CPU
def test_a_committed_fake_repository_cannot_run_a_command_through_git(tmp_path):
    repo = repository(tmp_path)
    marker = tmp_path / "PWNED"
    evil = repo / "evil"
    for folder in ("objects", "refs"):
        (evil / folder).mkdir(parents=True)
        (evil / folder / ".keep").write_text("")
    (evil / "HEAD").write_text("ref: refs/heads/main\n")
    (evil / "config").write_text(f'[core]\n\tbare = false\n\tworktree = .\n\tfsmonitor = "touch {marker}; false"\n')
    (evil / "x.yaml").write_text(GOOD_WITH_ERROR)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pr"],
                   check=True)
    result = run("lint", "--git-context", "svc.yaml", "evil/x.yaml", cwd=repo, fresh=True)
    assert not marker.exists()
    assert result.returncode == 1
    assert b"evil/x.yaml:7:11: error[service-port-number]" in result.stdout


def test_a_fake_repository_cannot_move_the_repository_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "s.yaml").write_text("rules: []\n")
    svc = tmp_path / "svc"
    for folder in ("objects", "refs"):
        (svc / folder).mkdir(parents=True)
        (svc / folder / ".keep").write_text("")
    (svc / "HEAD").write_text("ref: refs/heads/main\n")
    (svc / "config").write_text("[core]\n\tbare = false\n\tworktree = /\n")
    (svc / "ext").symlink_to(outside)
    (svc / ".kubelint-svc.yaml").write_text("rule-packs: [ext]\n")
    (svc / "svc.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "svc.yaml", cwd=svc)
    assert result.returncode == 2
    assert b"rule-packs entry 'ext' leads outside the repository" in result.stderr


def test_rules_and_explain_print_a_packs_text_escaped(tmp_path):
    (tmp_path / "pack").mkdir()
    forged = "ok\\n::error file=x.yaml,line=1::forged\\e]0;TITLE\\a"
    (tmp_path / "pack" / "rules.yaml").write_text(
        f'rules:\n  - id: team-rule\n    severity: error\n    summary: "{forged}"\n    rationale: "{forged}"\n'
        f'    kinds: ["{forged}"]\n    examples: {{failing: "a\\n::add-mask::x\\n##[error]y\\n", passing: ""}}\n'
        "    check: {json-schema: {}}\n")
    (tmp_path / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    for args in (("rules",), ("explain", "team-rule")):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert_no_forged_command(result.stdout)
        assert b"\x1b" not in result.stdout
        assert b"\x07" not in result.stdout
        assert b"ok\\n::error file=x.yaml" in result.stdout


@pytest.mark.parametrize("layout", ["pack file", "context folder", "ref files"])
def test_symlink_loops_are_one_line_usage_errors(tmp_path, layout):
    repo = repository(tmp_path)
    (repo / "pack").mkdir()
    if layout == "pack file":
        (repo / "pack" / "loop.yaml").symlink_to("loop.yaml")
        (repo / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    elif layout == "context folder":
        (repo / "ctx").symlink_to("ctx")
        (repo / ".kubelint-svc.yaml").write_text("context: [ctx]\n")
    else:
        (repo / "pack" / "rules.yaml").write_text(
            "rules:\n  - id: team-rule\n    severity: error\n    check: {json-schema: {$ref: refs/l1.json}}\n")
        (repo / "pack" / "refs").mkdir()
        (repo / "pack" / "refs" / "l1.json").symlink_to("l2.json")
        (repo / "pack" / "refs" / "l2.json").symlink_to("l1.json")
        (repo / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    result = run("lint", "svc.yaml", cwd=repo)
    assert result.returncode == 2, result.stderr
    assert b"internal error" not in result.stderr, result.stderr
    assert result.stderr.count(b"\n") == 1
    assert result.stderr.startswith(b"kubelint-svc: error: ")


def test_the_action_step_never_prints_a_traceback(monkeypatch, capsys):
    from kubelint_svc import github_action

    def crash() -> int:
        raise KeyError("boom\n::error file=x::forged")

    monkeypatch.setattr(github_action, "main", crash)
    monkeypatch.delenv("KUBELINT_SVC_DEBUG", raising=False)
    assert github_action.guarded_main() == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "internal error: KeyError" in captured.err
    assert captured.out == "::error title=kubelint-svc::internal error; see the message above\n"
    assert_no_forged_command(captured.err.encode())


@pytest.mark.slow  # 0.5 s of CPU
def test_unique_items_on_a_long_list_of_maps_is_linear(tmp_path):
    registry = pack_registry(tmp_path, "{properties: {spec: {properties: {items: {uniqueItems: true}}}}}")
    items = ", ".join(f"{{a: {i}}}" for i in range(20_000))
    started = time.monotonic()
    text = SERVICE.format(name="web").replace("spec:\n", f"spec:\n  items: [{items}, {{a: 7}}]\n")
    report = lint_with(registry, text)
    assert time.monotonic() - started < 10
    assert [f.field for f in report.findings if f.rule == "team-rule"] == ["spec.items"]


def test_a_schema_that_needs_too_many_steps_gives_up_with_a_warning(tmp_path, monkeypatch):
    from kubelint_svc.checks import safe_schema

    monkeypatch.setattr(safe_schema, "MAX_STEPS", 1000)
    registry = pack_registry(tmp_path, "{properties: {spec: {properties: {items: {items: {type: integer}}}}}}")
    items = ", ".join(str(i) for i in range(5000))
    report = lint_with(registry, SERVICE.format(name="web").replace("spec:\n", f"spec:\n  items: [{items}]\n"))
    assert [(f.severity, f.message) for f in report.findings if f.rule == "team-rule"] == [
        ("warning", "the rule's schema needs more than 1,000 steps on this object; not evaluated")]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_reports_write_bidi_and_c1_characters_as_escapes(tmp_path, fmt):
    (tmp_path / "svc.yaml").write_text(SERVICE.format(name=yaml_string("web\u202egnp\u0085x")))
    result = run("lint", "--format", fmt, ".", cwd=tmp_path)
    assert "\u202e".encode() not in result.stdout
    assert "\u0085".encode() not in result.stdout
    assert b"web\\u202egnp\\u0085x" in result.stdout
    assert "web\u202egnp\u0085x" in json.dumps(json.loads(result.stdout), ensure_ascii=False)
