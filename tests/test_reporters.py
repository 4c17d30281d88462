"""Every output format, parsed back: positions, rules, escaping, limits."""

import json
import os
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from conftest import REPO, SARIF_SCHEMA, require_shared

from kubelint_svc.reporters import github, sarif

MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: Nodeport
  selector:
    app: web
  ports:
  - port: 80
    targetPort: "8080"
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 8080}]
"""


def cli(*args: str, cwd, env_extra: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "GITHUB_ACTIONS")}
    env.update(PYTHONPATH=str(REPO), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "kubelint_svc", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, input=stdin, check=False)


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(MANIFEST)
    return tmp_path


@pytest.mark.slow  # 0.3 s of CPU
def test_sarif_is_valid_against_the_sarif_2_1_0_schema(workspace):
    from jsonschema import Draft4Validator

    schema = json.loads(require_shared(SARIF_SCHEMA).read_text())
    result = cli("lint", "k8s", "--format", "sarif", cwd=workspace)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["runs"][0]["results"]  # the results too are checked, not an empty run
    assert [error.message for error in Draft4Validator(schema).iter_errors(document)] == []


@pytest.mark.slow  # 0.2 s of CPU
def test_sarif_carries_rules_regions_and_relative_uris(workspace):
    result = cli("lint", "k8s", "--format", "sarif", cwd=workspace)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    run = document["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["service-type"]["shortDescription"]["text"].startswith("spec.type must be")
    assert "Failing example" in rules["service-type"]["help"]["text"]
    assert rules["service-type"]["fullDescription"]["text"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == workspace.resolve().as_uri() + "/"
    results = {(r["ruleId"], r["level"]): r for r in run["results"]}
    assert set(results) == {("service-type", "error"), ("service-target-port", "error")}
    location = results[("service-type", "error")]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "k8s/web.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 6, "startColumn": 9, "endLine": 6, "endColumn": 17}
    for result_ in run["results"]:
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]


@pytest.mark.slow  # 0.5 s of CPU
def test_sarif_fingerprints_survive_unrelated_edits(workspace):
    before = json.loads(cli("lint", "k8s", "--format", "sarif", cwd=workspace).stdout)["runs"][0]["results"]
    (workspace / "k8s" / "web.yaml").write_text("# a comment\n# and another\n" + MANIFEST)
    after = json.loads(cli("lint", "k8s", "--format", "sarif", cwd=workspace).stdout)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in before
    ]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    level, props, message = COMMAND.match(line).groups()
    def unescape(text: str) -> str:
        return (text.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r")
                .replace("%25", "%"))

    properties = dict(part.split("=", 1) for part in props.split(","))
    return level, {k: unescape(v) for k, v in properties.items()}, unescape(message)


@pytest.mark.slow  # 0.2 s of CPU
def test_github_annotations_escape_file_names_and_messages(workspace):
    odd = workspace / "k8s" / "web, v2: 100%.yaml"
    odd.write_text(MANIFEST)
    result = cli("lint", str(odd.relative_to(workspace)), "--format", "github", cwd=workspace)
    lines = result.stdout.splitlines()
    assert all(COMMAND.match(line) for line in lines)
    level, properties, message = parse_command(lines[0])
    assert level == "error"
    assert properties["file"] == "k8s/web, v2: 100%.yaml"
    assert lines[0].startswith("::error file=k8s/web%2C v2%3A 100%25.yaml,line=6,col=9,title=service-type::")
    assert (properties["line"], properties["col"], properties["title"]) == ("6", "9", "service-type")
    assert message.startswith("type 'Nodeport' is not supported")
    assert github.escape_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert github.escape_property("a,b:c") == "a%2Cb%3Ac"


@pytest.mark.slow  # 0.2 s of CPU
def test_github_annotations_stop_at_ten_per_level_and_say_so(tmp_path):
    many = "".join(MANIFEST.replace("name: web", f"name: web{i}", 1) + "---\n" for i in range(7))
    (tmp_path / "many.yaml").write_text(many)
    lines = cli("lint", "many.yaml", "--format", "github", cwd=tmp_path).stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert len([a for a in annotations if a.startswith("::error")]) == 10
    assert any(line.startswith("4 more findings not annotated") and "SARIF" in line for line in lines)
    assert sum(1 for line in lines if line.startswith("  many.yaml:")) == 4


@pytest.mark.slow  # 0.2 s of CPU
def test_text_in_github_actions_adds_annotations(workspace):
    result = cli("lint", "k8s", cwd=workspace, env_extra={"GITHUB_ACTIONS": "true"})
    lines = result.stdout.splitlines()
    assert lines[0].startswith("k8s/web.yaml:6:9: error[service-type]")
    assert sum(1 for line in lines if line.startswith("::error file=k8s/web.yaml,line=")) == 2


@pytest.mark.slow  # 0.2 s of CPU
def test_junit_has_a_test_case_per_object_and_failures_at_the_threshold(workspace):
    result = cli("lint", "k8s", "--format", "junit", cwd=workspace)
    root = ElementTree.fromstring(result.stdout)
    [suite] = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"Service web", "Pod web"}
    assert [f.get("type") for f in cases["Service web"].findall("failure")] == ["service-type", "service-target-port"]
    assert "k8s/web.yaml:6:9: error[service-type]" in cases["Service web"].find("failure").text
    assert cases["Pod web"].findall("failure") == []
    assert (root.get("tests"), root.get("failures")) == ("2", "1")


@pytest.mark.slow  # 0.2 s of CPU
def test_output_file_gets_the_report_and_the_terminal_gets_text(workspace):
    result = cli("lint", "k8s", "--format", "sarif", "--output", "report.sarif", cwd=workspace)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("k8s/web.yaml:6:9: error[service-type]")
    assert json.loads((workspace / "report.sarif").read_text())["version"] == "2.1.0"
    assert "\033[" not in (workspace / "report.sarif").read_text()


@pytest.mark.slow  # 1.0 s of CPU
def test_quiet_statistics_and_colour(workspace):
    quiet = cli("lint", "k8s", "--quiet", "--format", "concise", cwd=workspace).stdout.splitlines()
    assert len(quiet) == 2
    assert not any(line.startswith("Found") for line in quiet)
    stats = cli("lint", "k8s", "--statistics", cwd=workspace).stdout.splitlines()
    assert stats == ["    1  error    service-target-port", "    1  error    service-type",
                     "Found 2 errors in 1 file (2 objects in 1 file read)."]
    assert "\033[" in cli("lint", "k8s", "--color", "always", cwd=workspace).stdout
    assert "\033[" not in cli("lint", "k8s", "--color", "never", cwd=workspace, env_extra={"FORCE_COLOR": "1"}).stdout
    assert "\033[" not in cli("lint", "k8s", "--color", "always", "--format", "json", cwd=workspace).stdout


@pytest.mark.slow  # 0.4 s of CPU
def test_summary_lines(tmp_path):
    (tmp_path / "ok.yaml").write_text(MANIFEST.replace("Nodeport", "NodePort").replace('"8080"', "8080"))
    assert cli("lint", "ok.yaml", cwd=tmp_path).stdout.splitlines()[-1] == "No problems found in 2 objects in 1 file."
    (tmp_path / "bad.yaml").write_text(MANIFEST)
    last = cli("lint", ".", cwd=tmp_path).stdout.splitlines()[-1]
    assert last == "Found 2 errors in 1 file (4 objects in 2 files read)."


def test_fingerprint_ignores_the_line():
    from kubelint_svc.findings import Finding, ObjectRef

    ref = ObjectRef("v1", "Service", None, "web")
    a = Finding("service-type", "error", "m", "f.yaml", 6, 9, ref, "spec.type")
    b = Finding("service-type", "error", "m", "f.yaml", 60, 9, ref, "spec.type")
    assert sarif.fingerprint(a, 1) == sarif.fingerprint(b, 1) != sarif.fingerprint(a, 2)


def test_a_frame_shows_the_source_line_escaped_and_bounded():
    from kubelint_svc.findings import Finding, Note, Report
    from kubelint_svc.reporters import text

    finding = Finding("schema", "error", "m", "f.yaml", 2, 9, None, None, 2, 12, ("did you mean 'x'?",),
                      (Note("see \u202ehere", "g.yaml", 5, 3),))
    line = "  port: \u202e80 ::error::forged"
    report = Report([finding], 1, 1, source_lines={("f.yaml", 2): line})
    shown = text.render(report).splitlines()
    assert shown[:6] == [
        "f.yaml:2:9: error[schema] m",
        "  |",
        "2 |   port: \\u202e80 ::error::forged",
        "  |         ^^^^^^^^",  # the escape is as wide as it is shown
        "  = help: did you mean 'x'?",
        "  = note: g.yaml:5:3: see \\u202ehere",
    ]
    assert not any(row.lstrip().startswith("::") for row in shown)
    concise = text.render(report, concise=True).splitlines()
    assert concise[0] == "f.yaml:2:9: error[schema] m; did you mean 'x'?"


def test_carets_stay_under_the_field_after_wide_and_combining_characters():
    """A CJK character takes two columns, a combining accent none: counting characters put the
    carets two columns left of `nodePort` here."""
    from kubelint_svc.findings import Finding, Report
    from kubelint_svc.reporters import text

    line = '  - {name: "\u4e2d\u6587e\u0301", port: 80, nodePort: 99999}'
    start = line.index("nodePort") + 1
    findings = [Finding("r", "error", "m", "f.yaml", 2, start, None, None, 2, start + 8),
                Finding("s", "error", "m", "f.yaml", 2, 12, None, None, 2, 18)]
    shown = text.render(Report(findings, 1, 1, source_lines={("f.yaml", 2): line})).splitlines()
    assert shown[3] == "  | " + " " * 30 + "^" * 8  # 29 characters before it take 30 columns
    assert shown[8] == "  | " + " " * 11 + "^" * 7  # the quoted value takes 7 columns


def test_a_long_line_is_shown_as_a_window_around_the_span():
    from kubelint_svc.findings import Finding, Report
    from kubelint_svc.reporters import text

    line = "  ports: [" + "{port: 80}, " * 50 + "{nodePort: 99999}]"
    column = line.index("nodePort") + 1
    finding = Finding("r", "error", "m", "f.yaml", 7, column, None, None, 7, column + 8)
    shown = text.render(Report([finding], 1, 1, source_lines={("f.yaml", 7): line})).splitlines()
    source, carets = shown[2], shown[3]
    assert source.startswith("7 | ...")
    assert len(source) < 120
    assert source[carets.index("^"):carets.index("^") + 8] == "nodePort"
