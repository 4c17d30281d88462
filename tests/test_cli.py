"""The command line as users meet it: exit codes, text and JSON reports, stdin, rules, explain."""

import io
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import KUBECTL, REPO, has

from kubelint_svc.units.helm_sdk import sdk_present

BROKEN = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: "80"
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80}]
"""
CLEAN = BROKEN.replace('"80"', "80")
PLACEHOLDER = CLEAN.replace("port: 80", "port: ${PORT}")


def cli(*args: str, stdin: str | None = None, cwd=None, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "GITHUB_ACTIONS")} | environment
    return subprocess.run(
        [sys.executable, "-m", "kubelint_svc", *args],
        input=stdin, capture_output=True, text=True, cwd=cwd or REPO, env=env, check=False,
    )


def in_process(monkeypatch, capsys, *args: str, stdin: str = "", **environment: str) -> tuple[int, str, str]:
    """The command line run in this process: what a subprocess shows, without its start-up cost
    (the fast set is near its budget)."""
    from kubelint_svc.cli import main

    for name in ("FORCE_COLOR", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["kubelint-svc", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kubelint-svc ")


@pytest.mark.slow  # 0.3 s of CPU
def test_text_report_reads_like_a_compiler(tmp_path):
    (tmp_path / "svc.yaml").write_text(BROKEN)
    result = cli("lint", str(tmp_path / "svc.yaml"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'svc.yaml'}:8:11: error[schema] expected an integer, got a string ('80') (Service web)",
        "  |",
        '8 |   - port: "80"',
        "  |           ^^^^",
        "",
        "Found 1 error in 1 file (2 objects in 1 file read).",
    ]
    assert "\033[" not in result.stdout  # no colour in a pipe


def test_concise_keeps_one_line_per_finding(tmp_path, monkeypatch, capsys):
    (tmp_path / "svc.yaml").write_text(BROKEN.replace("  selector: {app: web}", "  selecter: {app: web}"))
    monkeypatch.chdir(tmp_path)
    for flag in ("--output-format", "--format", "-f"):
        code, out, _ = in_process(monkeypatch, capsys, "lint", "svc.yaml", flag, "concise")
        assert (code, out.splitlines()[1]) == (
            1, "svc.yaml:6:3: error[schema] unknown field 'selecter' in spec; did you mean 'selector'? (Service web)")


def test_a_finding_is_framed_with_help_and_a_note_at_the_related_workload(monkeypatch, capsys):
    """Issue 12, item 9: no stacked parentheses; the hint is a help line, the Deployment a note."""
    monkeypatch.chdir(REPO / "examples")
    code, out, _ = in_process(monkeypatch, capsys, "lint", "shop/checkout.yaml", COLUMNS="80")
    assert code == 1
    assert out.splitlines()[:7] == [
        ("shop/checkout.yaml:13:17: error[service-target-port-undefined] targetPort 'grpc' is not a port name of "
         "any container of the selected Pods: the port gets no endpoints (Service shop/checkout)"),
        "   |",
        "13 |     targetPort: grpc",
        "   |                 ^^^^",
        "   = help: declared port names: grpc-api",
        "   = help: set targetPort to a declared name or number, or name the container port",
        "   = note: shop/checkout.yaml:29:7: Deployment checkout: the selected Pods' ports are declared here",
    ]
    assert ") (" not in out


@pytest.mark.slow  # 0.2 s of CPU
def test_clean_input_exits_0_with_a_summary():
    result = cli("lint", "-", stdin=CLEAN)
    assert result.returncode == 0
    assert result.stdout.strip() == "No problems found in 2 objects in 1 file."


@pytest.mark.parametrize("content", [None, "on: push\njobs: {}\n"], ids=["empty folder", "no Kubernetes YAML"])
def test_nothing_linted_is_a_warning_on_stderr_and_exit_0(tmp_path, content, monkeypatch, capsys):
    if content is not None:
        (tmp_path / "ci.yaml").write_text(content)
        (tmp_path / "values.yaml").write_text("replicas: 2\n")
    count = 0 if content is None else 2
    warning = f"kubelint-svc: warning: no Kubernetes objects found in {count} files\n"
    assert in_process(monkeypatch, capsys, "lint", str(tmp_path)) == (0, "", warning)
    code, out, _ = in_process(monkeypatch, capsys, "lint", str(tmp_path), "-f", "json")
    assert (code, json.loads(out)["summary"]["files"]) == (0, count)


def test_the_summary_counts_files_read_as_json_does(tmp_path, monkeypatch, capsys):
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text(CLEAN)
    assert in_process(monkeypatch, capsys, "lint", str(tmp_path))[1] == "No problems found in 6 objects in 3 files.\n"
    (tmp_path / "b.yaml").write_text(BROKEN)
    out = in_process(monkeypatch, capsys, "lint", str(tmp_path))[1]
    assert out.splitlines()[-1] == "Found 1 error in 1 file (6 objects in 3 files read)."
    summary = json.loads(in_process(monkeypatch, capsys, "lint", str(tmp_path), "-f", "json")[1])["summary"]
    assert summary == {"files": 3, "objects": 6, "errors": 1, "warnings": 0, "infos": 0}


def test_statistics_replace_the_listing(monkeypatch, capsys):
    assert in_process(monkeypatch, capsys, "lint", "-", "--statistics", stdin=BROKEN) == (
        1, "    1  error    schema\nFound 1 error in 1 file (2 objects in 1 file read).\n", ""
    )
    assert in_process(monkeypatch, capsys, "lint", "-", "--statistics", "-q", stdin=BROKEN)[1] == (
        "    1  error    schema\n"
    )
    assert in_process(monkeypatch, capsys, "lint", "-", "--statistics", stdin=CLEAN)[1] == (
        "No problems found in 2 objects in 1 file.\n"
    )


def test_exit_zero_prints_the_findings_and_exits_0(monkeypatch, capsys):
    code, out, _ = in_process(monkeypatch, capsys, "lint", "-", "--exit-zero", stdin=BROKEN)
    assert code == 0
    assert out.startswith("-:8:11: error[schema] expected an integer")
    assert in_process(monkeypatch, capsys, "lint", "-", "--exit-zero", "--fail-on", "nope", stdin=BROKEN)[0] == 2


@pytest.mark.slow  # 1.1 s of CPU
def test_stdin_filename_is_reported_and_finds_the_configuration_beside_it(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".kubelint-svc.yaml").write_text("fail-on: info\nexclude: [generated.yaml]\n")
    assert cli("lint", "-", stdin=PLACEHOLDER, cwd=tmp_path).returncode == 0  # no configuration above tmp_path
    result = cli("lint", "-", "--stdin-filename", "sub/svc.yaml", stdin=PLACEHOLDER, cwd=tmp_path)
    assert result.returncode == 1  # sub/.kubelint-svc.yaml's fail-on applies
    assert result.stdout.startswith("sub/svc.yaml:8:")
    named = cli("lint", "-", "--stdin-filename", "sub/generated.yaml", stdin=PLACEHOLDER, cwd=tmp_path)
    assert named.stdout.startswith("sub/generated.yaml:8:")  # named explicitly: linted, as ruff does
    forced = cli("lint", "-", "--stdin-filename", "sub/generated.yaml", "--force-exclude", stdin=PLACEHOLDER,
                 cwd=tmp_path)
    assert forced.returncode == 0
    assert forced.stdout == ""
    assert forced.stderr.splitlines()[0] == (
        "kubelint-svc: warning: sub/generated.yaml is excluded by sub/.kubelint-svc.yaml:2 (generated.yaml); not linted"
    )


def test_explain_suggests_the_closest_rule_id(monkeypatch, capsys):
    listed = "(`kubelint-svc rules` lists them)"
    hint = "did you mean 'service-node-port-range'?"
    assert in_process(monkeypatch, capsys, "explain", "service-node-port-rang") == (
        2, "", f"kubelint-svc: error: unknown rule 'service-node-port-rang'; {hint} {listed}\n"
    )
    assert in_process(monkeypatch, capsys, "explain", "zzzz") == (
        2, "", f"kubelint-svc: error: unknown rule 'zzzz' {listed}\n"
    )


@pytest.mark.slow  # 0.4 s of CPU
def test_json_report_has_exactly_the_documented_shape():
    result = cli("lint", "-", "--format", "json", stdin=BROKEN)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) == {"tool", "findings", "summary"}
    assert report["tool"]["name"] == "kubelint-svc"
    assert report["tool"]["version"]
    assert report["summary"] == {"files": 1, "objects": 2, "errors": 1, "warnings": 0, "infos": 0}
    assert report["findings"] == [
        {
            "rule": "schema",
            "severity": "error",
            "message": "expected an integer, got a string ('80')",
            "file": "-",
            "line": 8,
            "column": 11,
            "object": {"apiVersion": "v1", "kind": "Service", "namespace": None, "name": "web"},
            "field": "spec.ports[0].port",
            "help": [],
            "notes": [],
        }
    ]


@pytest.mark.slow  # 1.0 s of CPU
def test_fail_on_sets_the_threshold():
    assert cli("lint", "-", stdin=PLACEHOLDER).returncode == 0
    assert cli("lint", "-", "--fail-on", "info", stdin=PLACEHOLDER).returncode == 1
    assert cli("lint", "-", "--fail-on", "warning", stdin=PLACEHOLDER).returncode == 0


@pytest.mark.slow  # 0.7 s of CPU
def test_kubernetes_version_is_selectable_and_checked():
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
           "spec:\n  hostnameOverride: x\n  containers: [{name: c, image: i}]\n")
    assert cli("lint", "-", "--kubernetes-version", "1.33", stdin=pod).returncode == 1
    assert cli("lint", "-", "--kubernetes-version", "v1.34", stdin=pod).returncode == 0
    result = cli("lint", "-", "--kubernetes-version", "1.12", stdin=pod)
    assert result.returncode == 2
    assert "1.30" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # 0.3 s of CPU
def test_missing_path_is_a_usage_error_on_one_line(tmp_path):
    result = cli("lint", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    expected = f"kubelint-svc: error: {tmp_path / 'nope.yaml'}: no such file or directory"
    assert result.stderr.strip().splitlines() == [expected]


def test_unknown_option_is_a_usage_error():
    assert cli("lint", "--no-such-flag").returncode == 2


COMMANDS = ((), ("lint",), ("rules",), ("explain",), ("init",))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "app")
def test_help_is_plain_at_80_columns_and_h_is_help(command, monkeypatch, capsys):
    code, text, _ = in_process(monkeypatch, capsys, *command, "--help", COLUMNS="80")
    assert code == 0
    assert in_process(monkeypatch, capsys, *command, "-h", COLUMNS="80") == (0, text, "")
    assert text.startswith(f"Usage: kubelint-svc {' '.join(command)}".rstrip())
    assert "-h, --help" in text
    for noise in ("\u256d", "\u2502", "<bool>", "<str>", "list[str]", "\u2026"):  # boxes, Python types, cut words
        assert noise not in text
    for line in text.splitlines():
        assert len(line) <= 80
        assert not re.search(r"[A-Za-z]-$", line), f"a word broken at its hyphen: {line!r}"
        assert not re.search(r"\[default: [^\]]*$", line), f"a default cut: {line!r}"


def test_lint_help_shows_defaults_and_metavars_that_read_well(monkeypatch, capsys):
    text = " ".join(in_process(monkeypatch, capsys, "lint", "--help", COLUMNS="80")[1].split())
    for shown in ("this severity [default: error]", "[default: text]", "[default: 30000-32767]", "[default: auto]",
                  "-k, --kubernetes-version VERSION", "--node-port-range LOW-HIGH", "-o, --output FILE",
                  "--config FILE", "--context PATH", "[OPTIONS] [PATH]...", "--kustomize <auto|kubectl|kustomize|",
                  "--fail-on <error|warning|info>",
                  "-f, --output-format, --format <text|concise|json|sarif|github|junit>",
                  ".kubelint-svc.yaml or pyproject.toml"):
        assert shown in text


@pytest.mark.parametrize(("command", "usage"), [
    ("expose", "Usage: kubelint-svc expose [OPTIONS] KIND/NAME [PATH]...\n"),
    ("graph", "Usage: kubelint-svc graph [OPTIONS] [PATH]...\n"),
    ("explain", "Usage: kubelint-svc explain [OPTIONS] RULE\n"),
])
def test_usage_lines_say_which_arguments_repeat_and_have_no_braces(monkeypatch, capsys, command, usage):
    # typer wrote `expose [OPTIONS] {KIND/NAME} [PATH]`: braces read as a choice, and one PATH only
    assert in_process(monkeypatch, capsys, command, "--help", COLUMNS="80")[1].startswith(usage)


@pytest.mark.parametrize(("args", "message"), [
    (("lint", "--fail-on", "critical"),
     "Invalid value for '--fail-on': 'critical' is not one of 'error', 'warning', 'info'."),
    (("lint", "-f", "xml"),
     ("Invalid value for '--output-format' / '--format' / '-f': 'xml' is not one of 'text', 'concise', 'json', "
      "'sarif', 'github', 'junit'.")),
    (("lint", "--no-such-flag"), "No such option: --no-such-flag"),
    (("lint", "-k"), "Option '-k' requires an argument."),
    (("no-such-command",), "No such command 'no-such-command'."),
    (("explain",), "Missing argument 'RULE'."),
])
def test_usage_errors_from_the_parser_are_one_line_with_exit_code_2(args, message, monkeypatch, capsys):
    assert in_process(monkeypatch, capsys, *args) == (2, "", f"kubelint-svc: error: {message}\n")


@pytest.mark.slow  # 0.2 s of CPU
def test_helm_template_output_on_stdin_names_the_template():
    stream = "---\n# Source: chart/templates/svc.yaml\n" + BROKEN
    result = cli("lint", "-", stdin=stream)
    assert result.stdout.startswith("chart/templates/svc.yaml:8:11: error[schema]")


@pytest.mark.slow  # 0.2 s of CPU
def test_rules_lists_every_rule_with_severity_and_summary(registry):
    lines = cli("rules").stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(registry.rules)
    assert any(line.split()[:2] == ["schema", "error"] for line in lines)


@pytest.mark.slow  # 0.4 s of CPU
def test_explain_shows_rationale_and_both_examples(registry):
    result = cli("explain", "schema")
    assert result.returncode == 0
    assert "Failing example:" in result.stdout
    assert "Fixed example:" in result.stdout
    assert "    selecter:" in result.stdout


@pytest.mark.slow  # 0.4 s of CPU
def test_explain_unknown_rule_is_a_usage_error():
    result = cli("explain", "no-such-rule")
    assert result.returncode == 2
    assert "no-such-rule" in result.stderr


@pytest.mark.slow  # 0.8 s of CPU
def test_lint_the_examples_shows_findings_from_any_directory(tmp_path):
    result = cli("lint", str(REPO / "examples"), cwd=tmp_path)
    assert result.returncode == 1
    rules = {line.split()[1] for line in result.stdout.splitlines()[:-1] if re.match(r"\S+:\d+:\d+: ", line)}
    assert rules == {
        "error[schema]",
        "error[removed-api]",
        "info[unrendered-placeholder]",
        "warning[service-no-endpoints]",  # the misspelt `selecter` leaves the cart Service without a selector
        "error[service-target-port-undefined]",  # checkout: targetPort grpc, the container says grpc-api
        "info[service-selector-no-match]",  # templated/db.yaml: no workload of its namespace was read
        # examples/policies/manifests obey examples/policies/.kubelint-svc.yaml (issue 12, item 11)
        "error[team-app-name-label]", "error[team-load-balancer-only-in-prod]", "error[team-node-port-window]",
        "warning[team-service-ports-named]", "warning[security-load-balancer-open]",
        # examples/helm: its ci/ values file sets a nodePort out of range (rendered with the helm extra)
        "error[service-node-port-range]" if sdk_present() else "info[helm-chart-not-rendered]",
    }


def test_docs_rules_md_is_generated_from_the_rules(registry):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_rule_docs", REPO / "scripts" / "gen_rule_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REPO / "docs" / "rules.md").read_text() == module.render(registry), (
        "docs/rules.md is stale: run python scripts/gen_rule_docs.py"
    )


@pytest.mark.slow  # 0.3 s of CPU
def test_json_manifests_are_read_too(tmp_path):
    (tmp_path / "svc.json").write_text(
        '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},\n "spec": {"ports": [{"port": "80"}]}}\n'
    )
    result = cli("lint", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'svc.json'}:2:30: error[schema]" in result.stdout


@pytest.mark.slow  # 0.9 s of CPU
def test_colour_only_when_forced_or_on_a_terminal():
    env = dict(os.environ, FORCE_COLOR="1")
    forced = subprocess.run(
        [sys.executable, "-m", "kubelint_svc", "lint", "-"], input=BROKEN, capture_output=True, text=True, env=env,
        check=False,
    )
    assert "\033[1;31merror[schema]" in forced.stdout
    env = dict(os.environ, FORCE_COLOR="1", NO_COLOR="1")
    plain = subprocess.run(
        [sys.executable, "-m", "kubelint_svc", "lint", "-"], input=BROKEN, capture_output=True, text=True, env=env,
        check=False,
    )
    assert "\033[" not in plain.stdout
    json_out = subprocess.run(
        [sys.executable, "-m", "kubelint_svc", "lint", "-", "--format", "json"],
        input=BROKEN, capture_output=True, text=True, env=dict(os.environ, FORCE_COLOR="1"), check=False,
    )
    assert "\033[" not in json_out.stdout


def test_term_dumb_gets_no_colour_in_auto_mode(monkeypatch):
    import io

    from kubelint_svc.cli import ColourChoice, _use_colour

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert _use_colour(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not _use_colour(Terminal())
    assert _use_colour(Terminal(), ColourChoice.always)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert _use_colour(Terminal())


@pytest.mark.slow  # 0.7 s of CPU
def test_node_port_range_option():
    svc = ("apiVersion: v1\nkind: Service\nmetadata: {name: w}\n"
           "spec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 8080\n")
    assert cli("lint", "-", stdin=svc).returncode == 1
    assert cli("lint", "-", "--node-port-range", "8000-9000", stdin=svc).returncode == 0
    bad = cli("lint", "-", "--node-port-range", "9000", stdin=svc)
    assert bad.returncode == 2
    assert "LOW-HIGH" in bad.stderr


# The exit code of each line of the README's "On the command line" block, run in a folder
# whose k8s/ holds BROKEN: 1 when a finding is at or above --fail-on, else 0.
README_EXIT_CODES = {
    "kubelint-svc lint k8s/": 1,
    "helm template . | kubelint-svc lint -": None,  # not run: there is no chart here to render
    "kubectl kustomize overlays/prod | kubelint-svc lint -": 0,  # examples/kustomize/base is clean
    "kubelint-svc lint --format json k8s/": 1,
    "kubelint-svc lint -k 1.31 k8s/": 1,
    "kubelint-svc rules": 0,
    "kubelint-svc explain schema": 0,
    "kubelint-svc init": 0,
    "kubelint-svc clean": 0,  # the cache the lint runs above made here
    "kubelint-svc expose pod/web k8s/": 0,
    "kubelint-svc graph k8s/ -f mermaid": 0,
    "kubelint-svc --version": 0,
}


@pytest.mark.slow  # every README command line in its own process, kubectl's included
def test_the_readme_command_line_examples_run(tmp_path):
    import re

    readme = (REPO / "README.md").read_text()
    block = re.search(r"## On the command line\n\n```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert [command for command in commands if command] == list(README_EXIT_CODES)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "svc.yaml").write_text(BROKEN)
    # kubectl as the linter finds it: beside this Python too (the kustomize extra's, in a venv not activated)
    path = os.pathsep.join([*([os.path.dirname(KUBECTL)] if KUBECTL else []), os.environ.get("PATH", "")])
    for command, expected in README_EXIT_CODES.items():
        if expected is None or (command.startswith("kubectl ") and not has("kubectl", KUBECTL is not None)):
            continue
        # the tool's name first: a checkout folder may be called kubelint-svc too
        shell = command.replace("kubelint-svc", f"{sys.executable} -m kubelint_svc")
        shell = shell.replace("overlays/prod", str(REPO / "examples" / "kustomize" / "base"))
        if command == "kubelint-svc init":
            shell += " " + str(tmp_path / "starter.yaml")
        result = subprocess.run(shell, shell=True, cwd=tmp_path, capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO), "PATH": path}, check=False)
        assert result.returncode == expected, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    command = next(line for line in readme.splitlines() if "pytest" in line and line.startswith("python3 -m venv"))
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


def test_the_readme_example_report_is_what_the_command_prints(monkeypatch, capsys):
    readme = (REPO / "README.md").read_text()
    command, shown = re.search(r"```\n\$ (kubelint-svc lint [^\n]*)\n(.*?)```", readme, re.S).groups()
    monkeypatch.chdir(REPO)
    code, out, _ = in_process(monkeypatch, capsys, *command.split()[1:])
    assert (code, out) == (1, shown)


def test_shell_completion_is_typers(monkeypatch, capsys):
    code, out, _ = in_process(monkeypatch, capsys, _KUBELINT_SVC_COMPLETE="complete_bash", SHELL="/bin/bash",
                              COMP_WORDS="kubelint-svc lint --output-f", COMP_CWORD="2")
    assert (code, out.split()) == (0, ["--output-format"])
    monkeypatch.delenv("_KUBELINT_SVC_COMPLETE")
    code, out, _ = in_process(monkeypatch, capsys, "--help", COLUMNS="80")
    assert "--install-completion" in out
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands  # every command's summary whole


def test_the_coming_from_table_names_only_flags_that_exist(monkeypatch, capsys):
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Coming from kube-linter, kubeconform or kube-score", 1)[1].split("\n## ", 1)[0]
    ours = [row.split(" | ")[1] for row in table.splitlines() if row.startswith("| ") and " | " in row]
    flags = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", " ".join(ours)))
    assert {"--format", "-k", "--extend-exclude", "--fail-on", "--exit-zero"} <= flags
    lint_help = in_process(monkeypatch, capsys, "lint", "--help", COLUMNS="200")[1]
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", lint_help), flag


def test_the_readme_json_example_has_the_keys_of_a_real_report(monkeypatch, capsys):
    readme = (REPO / "README.md").read_text()
    example = json.loads(re.search(r"### JSON output\n\n```json\n(.*?)```", readme, re.S).group(1))
    _, out, _ = in_process(monkeypatch, capsys, "lint", "-", "--format", "json", stdin=BROKEN)
    real = json.loads(out)
    assert set(example) == set(real)
    assert set(example["findings"][0]) == set(real["findings"][0])
    assert set(example["summary"]) == set(real["summary"])


@pytest.mark.parametrize("columns", ["40", "120", "200"])
def test_help_loses_nothing_at_any_width(columns, monkeypatch, capsys):
    for command in COMMANDS:
        wide = " ".join(in_process(monkeypatch, capsys, *command, "--help", COLUMNS="500")[1].split())
        text = in_process(monkeypatch, capsys, *command, "--help", COLUMNS=columns)[1]
        assert " ".join(text.split()) == wide, command  # the same words, only wrapped otherwise


@pytest.mark.parametrize("newline", ["\r", "\u2028", "\x85"], ids=["CR", "LS", "NEL"])
def test_frames_and_suppressions_count_lines_as_yaml_does(newline, tmp_path, monkeypatch, capsys):
    """A file whose lines end in CR alone (or NEL, LS) had no frames and its suppression
    comments were read on line 1: YAML counts those as line ends, so findings do too."""
    text = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n"
            "  selector: {app: web}\n  ports:\n  - {name: a, port: 80, nodePort: 99999}"
            "  # kubelint-svc: ignore[service-node-port-range]\n  - {name: b, port: 81, nodePort: 99998}\n")
    (tmp_path / "svc.yaml").write_text(text.replace("\n", newline), newline="")
    monkeypatch.chdir(tmp_path)
    code, out, _ = in_process(monkeypatch, capsys, "lint", "svc.yaml")
    framed = [line for line in out.splitlines() if line.startswith("10 |")]
    assert "svc.yaml:10:35: error[service-node-port-range]" in out
    assert code == 1
    assert framed[:1] == ["10 |   - {name: b, port: 81, nodePort: 99998}"]
    assert "unused-suppression" not in out
