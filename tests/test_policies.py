"""Configuration, suppressions and rule packs, as docs/configuration.md and docs/policies.md show them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from kubelint_svc.config import Config, ConfigError, find_config, load_config
from kubelint_svc.engine import Registry, RuleError
from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint_files

POLICIES = REPO / "examples" / "policies"
SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
    "spec:\n  selector: {app: web}\n  ports:\n  - port: 80\n"
)


def cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "kubelint_svc", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env=env, check=False)


def rules_and_lines(stdout: str) -> list[tuple[str, int]]:
    found = []
    for line in stdout.splitlines()[:-1]:
        if not re.match(r"\S+:\d+:\d+: ", line):
            continue  # a finding's source line, caret span, help or note
        location, rest = line.split(": ", 1)
        found.append((rest.split("]")[0].split("[")[1], int(location.split(":")[1])))
    return sorted(found)


# --- the example rule pack (examples/policies) -------------------------------------------

@pytest.mark.slow  # 0.3 s of CPU
def test_example_policies_fail_the_staging_manifest_at_each_field():
    result = cli("lint", "manifests/staging.yaml", cwd=POLICIES)
    assert result.returncode == 1
    assert rules_and_lines(result.stdout) == [
        ("security-load-balancer-open", 7),
        ("team-app-name-label", 4),
        ("team-app-name-label", 28),
        ("team-load-balancer-only-in-prod", 8),
        ("team-node-port-window", 13),
        ("team-service-ports-named", 12),
    ]


@pytest.mark.slow  # 0.3 s of CPU
def test_example_policies_pass_the_prod_manifest():
    result = cli("lint", "manifests/prod.yaml", cwd=POLICIES)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("No problems found")


def test_example_pack_rules_have_working_examples():
    registry = Registry.configured(load_config(POLICIES / ".kubelint-svc.yaml"))
    team_rules = [rule for rule in registry.sorted_rules() if rule.id.startswith("team-")]
    assert len(team_rules) == 4
    for rule in team_rules:
        def found(text: str) -> set[str]:
            report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=text.encode)
            return {f.rule for f in report.findings}

        assert rule.id in found(rule.failing_example), rule.id
        assert rule.id not in found(rule.passing_example), rule.id


# --- configuration ----------------------------------------------------------------------

@pytest.mark.slow  # 0.9 s of CPU
def test_config_is_found_upward_and_flags_win(tmp_path):
    (tmp_path / ".kubelint-svc.yaml").write_text("fail-on: info\nnamespace: shop\n")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    assert find_config(tmp_path / "deep" / "er") == tmp_path / ".kubelint-svc.yaml"
    clean_but_info = SERVICE  # selector with no workload: one info
    assert cli("lint", "-", cwd=tmp_path / "deep", stdin=clean_but_info).returncode == 1  # file: fail-on info
    assert cli("lint", "-", "--fail-on", "error", cwd=tmp_path / "deep", stdin=clean_but_info).returncode == 0
    assert "namespace shop" in cli("lint", "-", cwd=tmp_path, stdin=clean_but_info).stdout
    assert "namespace other" in cli("lint", "-", "-n", "other", cwd=tmp_path, stdin=clean_but_info).stdout


@pytest.mark.slow  # 0.2 s of CPU
def test_defaults_apply_without_a_config(tmp_path):
    result = cli("lint", "-", cwd=tmp_path, stdin=SERVICE)
    assert result.returncode == 0
    assert "namespace default" in result.stdout


@pytest.mark.slow  # 0.2 s of CPU
def test_pyproject_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n'
                                             '[tool.kubelint-svc]\nkubernetes-version = "1.33"\n'
                                             'rules = { service-selector-no-match = "off" }\n')
    config = load_config(find_config(tmp_path))
    assert config.kubernetes_version == "1.33"
    assert config.rules == {"service-selector-no-match": "off"}
    assert cli("lint", "-", cwd=tmp_path, stdin=SERVICE).stdout.startswith("No problems found")


@pytest.mark.slow  # 0.2 s of CPU
def test_kubernetes_version_written_as_a_yaml_number_means_what_was_written(tmp_path):
    (tmp_path / ".kubelint-svc.yaml").write_text("kubernetes-version: 1.30\nnamespace: 10\n")
    config = load_config(tmp_path / ".kubelint-svc.yaml")
    assert config.kubernetes_version == "1.30"  # not "1.3", the float YAML reads
    assert config.namespace == "10"
    assert cli("lint", "-", cwd=tmp_path, stdin=SERVICE).returncode == 0


def test_kubernetes_version_written_as_a_toml_number_is_asked_to_be_quoted(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kubelint-svc]\nkubernetes-version = 1.30\n')
    result = cli("lint", "-", cwd=tmp_path, stdin=SERVICE)
    assert result.returncode == 2
    expected = (f"kubelint-svc: error: {tmp_path / 'pyproject.toml'}:2: kubernetes-version is the number 1.3 in "
                'TOML, where 1.30 and 1.3 are the same; quote it: kubernetes-version = "1.30"')
    assert result.stderr.splitlines() == [expected]


@pytest.mark.slow  # 0.5 s of CPU
def test_rules_can_be_turned_off_on_and_given_severities(tmp_path):
    (tmp_path / ".kubelint-svc.yaml").write_text(
        "rules:\n  service-selector-no-match: error\n  security-node-port: on\n  service-no-endpoints: off\n"
    )
    node_port = SERVICE.replace("spec:\n", "spec:\n  type: NodePort\n")
    result = cli("lint", "-", cwd=tmp_path, stdin=node_port)
    assert rules_and_lines(result.stdout) == [("security-node-port", 6), ("service-selector-no-match", 7)]
    # a check's own, lower verdict stays lower: the "no workloads here" note is not raised to an error
    assert "info[service-selector-no-match]" in result.stdout
    listing = cli("rules", cwd=tmp_path).stdout
    assert "[off]" in next(line for line in listing.splitlines() if line.startswith("service-no-endpoints"))
    assert "[off: pack conventions]" in listing


@pytest.mark.slow  # 2.6 s of CPU in 9 cases
@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("fail-on: fatal\n", ":1: fail-on must be one of"),
        ("selecter: x\n", ":1: unknown key 'selecter'"),
        ("namespace: shop\nrules:\n  no-such-rule: off\n", ":3: unknown rule id 'no-such-rule'"),
        ("rules:\n  schema: loud\n", ":2: rules.schema must be one of"),
        ("policy-packs: [paranoid]\n", ":1: unknown policy pack 'paranoid'"),
        ("kubernetes-version: '1.12'\n", ":1: kubernetes-version '1.12' is not bundled"),
        ("node-port-range: 30000\n", ":1: node-port-range '30000' must be LOW-HIGH"),
        ("context: k8s\n", ":1: context must be a list of strings"),
        ("rules: [\n", "YAML syntax error"),
    ],
)
def test_a_bad_config_is_a_usage_error_naming_the_key_and_line(tmp_path, text, complaint):
    (tmp_path / ".kubelint-svc.yaml").write_text(text)
    result = cli("lint", "-", cwd=tmp_path, stdin=SERVICE)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert ".kubelint-svc.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # 0.2 s of CPU
def test_exclude_and_context_resolve_relative_to_the_config(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(SERVICE)
    (tmp_path / "apps" / "generated.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec: [\n")
    (tmp_path / "base" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}\n"
    )
    (tmp_path / ".kubelint-svc.yaml").write_text("exclude: [apps/generated.yaml]\ncontext: [base]\n")
    result = cli("lint", "apps", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0
    summary = __import__("json").loads(result.stdout)["summary"]
    assert (summary["files"], summary["objects"], summary["errors"] + summary["infos"]) == (1, 1, 0)


@pytest.mark.slow  # 0.7 s of CPU
def test_a_file_named_on_the_command_line_is_linted_even_if_excluded_unless_force_exclude(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "generated.yaml").write_text(SERVICE)
    (tmp_path / "apps" / "web.yaml").write_text(SERVICE)
    (tmp_path / ".kubelint-svc.yaml").write_text("namespace: shop\nexclude: [apps/generated.yaml]\n")
    walked = cli("lint", "apps", "-f", "json", cwd=tmp_path)
    assert __import__("json").loads(walked.stdout)["summary"]["files"] == 1  # excluded quietly in a walk
    assert walked.stderr == ""
    named = cli("lint", "apps/generated.yaml", cwd=tmp_path)
    assert named.stdout.splitlines()[-1].endswith("(1 object in 1 file read).")
    assert named.stderr == ""
    forced = cli("lint", "apps/generated.yaml", "apps/web.yaml", "--force-exclude", cwd=tmp_path)
    assert forced.stderr.splitlines() == [
        ("kubelint-svc: warning: apps/generated.yaml is excluded by .kubelint-svc.yaml:2 (apps/generated.yaml); "
         "not linted"),
    ]
    assert forced.stdout.splitlines()[-1].endswith("(1 object in 1 file read).")


@pytest.mark.slow  # 0.6 s of CPU in 3 cases
@pytest.mark.parametrize(("config", "message"), [
    ("fail_on: error\n", ":1: unknown key 'fail_on'; did you mean 'fail-on'? (known keys: kubernetes-version, "),
    ("rules:\n  service-node-port-rang: off\n",
     ":2: unknown rule id 'service-node-port-rang'; did you mean 'service-node-port-range'? (`kubelint-svc rules`"),
    # a pull request's 200,000-character rule id: quoted short, the message stays one short line
    ("rules:\n  ? service-node-port-rang" + "e" * 200_000 + "\n  : off\n",
     ":2: unknown rule id 'service-node-port-rang" + "e" * 35 + "...' (`kubelint-svc rules`"),
])
def test_config_mistakes_suggest_the_closest_name(tmp_path, config, message):
    (tmp_path / ".kubelint-svc.yaml").write_text(config)
    result = cli("lint", "-", cwd=tmp_path, stdin=SERVICE)
    assert result.returncode == 2
    assert result.stderr.startswith(f"kubelint-svc: error: {tmp_path / '.kubelint-svc.yaml'}{message}")
    assert len(result.stderr.splitlines()) == 1
    assert len(result.stderr) < 400


@pytest.mark.slow  # 0.5 s of CPU in 2 cases
@pytest.mark.parametrize("written", ["  ports:\n  - port: 80  # kubelint-svc: ignore[service-node-port-rang]\n",
                                     "  ports:\n  - port: 80\n"])
def test_a_suppression_naming_an_unknown_rule_suggests_the_closest(tmp_path, written):
    annotation = "" if "ignore[" in written else "  annotations:\n    kubelint-svc.io/ignore: service-node-port-rang\n"
    manifest = f"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n{annotation}spec:\n{written}"
    result = cli("lint", "-", cwd=tmp_path, stdin=manifest)
    assert "is unused (no such rule; did you mean 'service-node-port-range'?): remove it" in result.stdout


def test_the_pre_commit_hook_forces_the_excludes():
    hook = __import__("yaml").safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    assert hook["entry"] == "kubelint-svc lint --git-context --force-exclude --"


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("rule-packs", "/etc", "must be a relative path inside the repository"),
        ("context", "../outside", "must be a relative path inside the repository"),
        ("rule-packs", "https://example.com/pack", "must be a relative path inside the repository"),
        ("context", "escape", "leads outside the repository"),
        ("exclude", "../*.yaml", "must be relative to the config file"),
    ],
)
def test_config_paths_may_not_leave_the_repository(tmp_path, key, value, complaint):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (tmp_path / "outside").mkdir()
    (repo / "escape").symlink_to(tmp_path / "outside", target_is_directory=True)
    (repo / ".kubelint-svc.yaml").write_text(f"# untrusted\n{key}: [{value!r}]\n")
    with pytest.raises(ConfigError, match=complaint) as raised:
        load_config(repo / ".kubelint-svc.yaml")
    assert f".kubelint-svc.yaml:2: {key}" in str(raised.value)


@pytest.mark.slow  # 0.4 s of CPU
def test_init_writes_a_starter_that_loads_and_refuses_to_overwrite(tmp_path):
    assert cli("init", cwd=tmp_path).returncode == 0
    assert load_config(tmp_path / ".kubelint-svc.yaml").rules == {}
    assert "# rules:" in (tmp_path / ".kubelint-svc.yaml").read_text()
    again = cli("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr


@pytest.mark.slow  # 0.5 s of CPU
def test_init_creates_the_folders_of_its_path_and_refuses_a_folder_in_one_line(tmp_path):
    result = cli("init", "sub/dir/x.yaml", cwd=tmp_path)
    assert result.returncode == 0
    assert load_config(tmp_path / "sub" / "dir" / "x.yaml").rules == {}
    (tmp_path / "file").write_text("")
    for target, complaint in (("sub", "sub is a directory; name the file to write, e.g. sub/.kubelint-svc.yaml"),
                              ("file/x.yaml", "file/x.yaml: cannot write it: ")):
        refused = cli("init", target, cwd=tmp_path)
        assert refused.returncode == 2
        assert len(refused.stderr.splitlines()) == 1
        assert refused.stderr.startswith(f"kubelint-svc: error: {complaint}")


def test_init_starter_names_no_file_of_the_users_repository(tmp_path):
    assert cli("init", cwd=tmp_path).returncode == 0
    starter = (tmp_path / ".kubelint-svc.yaml").read_text()
    assert "docs/" not in starter
    assert '"Configuration"' in starter


# --- rule packs ---------------------------------------------------------------------------

def pack(tmp_path: Path, rule: str, extra: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    (folder / "rules.yaml").write_text(rule)
    for name, text in (extra or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


RULE = """\
rules:
  - id: team-rule
    severity: warning
    summary: s
    kinds: [Service]
    check:
      message: m
      json-schema: {schema}
"""


@pytest.mark.parametrize(
    ("schema", "complaint"),
    [
        ('{$ref: "https://example.com/schema.json"}', "leaves the rule pack's folder"),
        ('{$ref: "file:///etc/passwd"}', "leaves the rule pack's folder"),
        ('{$ref: "/etc/passwd"}', "leaves the rule pack's folder"),
        ('{$ref: "../secret.yaml"}', "leaves the rule pack's folder"),
        ('{$ref: "sub/link.yaml"}', "does not name a file in the rule pack's folder"),
        ('{$ref: "missing.yaml"}', "does not name a file in the rule pack's folder"),
        ('{type: objekt}', "is not a valid JSON Schema"),
    ],
)
def test_a_rule_pack_cannot_read_outside_its_folder(tmp_path, schema, complaint):
    (tmp_path / "secret.yaml").write_text("a: 1\n")
    folder = pack(tmp_path, RULE.format(schema=schema))
    (folder / "sub").mkdir()
    (folder / "sub" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(RuleError, match=complaint) as raised:
        Registry.configured(Config(rule_packs=[folder]))
    assert "rules.yaml:8:" in str(raised.value)


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ("rules:\n  - id: x\n    severity: loud\n    check: {json-schema: {}}\n", "rules.yaml:3: rule 'x': severity"),
        ("rules:\n  - id: x\n    severity: info\n    check: {function: metadata.namespace}\n",
         "rules.yaml:4: rule 'x': a rule pack's checks are declarative"),
        ("rules:\n  - id: x\n    severity: info\n    namespaces: prod\n    check: {json-schema: {}}\n",
         "rules.yaml:4: rule 'x': namespaces must be a list"),
        ("rules:\n  - id: schema\n    severity: info\n    check: {json-schema: {}}\n", "already defined"),
    ],
)
def test_a_malformed_pack_rule_names_file_line_and_problem(tmp_path, rule, complaint):
    with pytest.raises(RuleError, match=complaint):
        Registry.configured(Config(rule_packs=[pack(tmp_path, rule)]))


def test_refs_to_files_beside_the_rule_are_inlined(tmp_path):
    folder = pack(tmp_path, RULE.format(schema='{$ref: "shared/defs.yaml#/no-lb"}'),
                  {"shared/defs.yaml": "no-lb:\n  properties:\n    spec:\n      properties:\n"
                                       "        type: {not: {const: LoadBalancer}}\n"})
    registry = Registry.configured(Config(rule_packs=[folder]))
    text = SERVICE.replace("spec:\n", "spec:\n  type: LoadBalancer\n").encode()
    report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=lambda: text)
    found = [(f.rule, f.line, f.field) for f in report.findings if f.rule == "team-rule"]
    assert found == [("team-rule", 6, "spec.type")]


# --- suppressions -------------------------------------------------------------------------

def test_each_suppression_form(lint_text):
    bad_port = SERVICE.replace("port: 80", "port: 0")
    assert [f.rule for f in lint_text(bad_port).findings] == ["service-selector-no-match", "service-port-number"]
    same_line = bad_port.replace("port: 0", "port: 0  # kubelint-svc: ignore[service-port-number]")
    line_above = bad_port.replace("  - port: 0", "  # kubelint-svc: ignore[service-port-number]\n  - port: 0")
    whole_file = "# kubelint-svc: ignore-file[service-port-number]\n" + bad_port
    annotation = bad_port.replace("  name: web\n", "  name: web\n  annotations:\n    kubelint-svc.io/ignore: "
                                  "service-port-number\n    kubelint-svc.io/ignore-reason: legacy\n")
    for text in (same_line, line_above, whole_file, annotation):
        assert [f.rule for f in lint_text(text).findings] == ["service-selector-no-match"], text


def test_a_suppression_of_another_line_or_object_does_not_apply(lint_text):
    api = SERVICE.replace("name: web", "name: api")
    two = SERVICE.replace("port: 80", "port: 0") + "---\n" + api.replace("port: 80", "port: 0")
    ignore = "  name: web\n  annotations: {kubelint-svc.io/ignore: service-port-number}\n"
    annotated = two.replace("  name: web\n", ignore, 1)
    rules = [(f.rule, f.object.name) for f in lint_text(annotated).findings if f.rule == "service-port-number"]
    assert rules == [("service-port-number", "api")]
    report = lint_text("# kubelint-svc: ignore[service-port-number]\n\n" + SERVICE.replace("port: 80", "port: 0"))
    assert {f.rule for f in report.findings} >= {"service-port-number", "unused-suppression"}


def name_pattern_schema(pattern: str) -> str:
    """A flow-style schema requiring metadata.name to match pattern (quoted for YAML)."""
    return "{properties: {metadata: {properties: {name: {pattern: '" + pattern + "'}}}}}"


@pytest.mark.parametrize("pattern", ["(a+)+$", "^([a-z0-9]+-?)*$", "(x+x+)+y"])
def test_a_pattern_shaped_for_catastrophic_backtracking_matches_in_linear_time(tmp_path, pattern):
    """RE2 matches these without backtracking: the verdict comes, right, on a hostile name."""
    schema = name_pattern_schema(pattern)
    registry = Registry.configured(Config(rule_packs=[pack(tmp_path, RULE.format(schema=schema))]))
    text = SERVICE.replace("name: web", "name: " + "a" * 5000 + "!").encode()
    report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=lambda: text)
    assert [(f.rule, f.field) for f in report.findings if f.rule == "team-rule"] == [("team-rule", "metadata.name")]


def test_ordinary_patterns_are_accepted(tmp_path):
    subdomain = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    schema = name_pattern_schema(subdomain)
    registry = Registry.configured(Config(rule_packs=[pack(tmp_path, RULE.format(schema=schema))]))
    assert "team-rule" in registry


def test_unused_suppression_follows_its_rule_setting(tmp_path):
    stale = SERVICE.replace("port: 80", "port: 80  # kubelint-svc: ignore[service-port-number]")

    def unused(setting: str | None) -> list[str]:
        rules = {"unused-suppression": setting} if setting else {}
        registry = Registry.configured(Config(rules=rules))
        report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=stale.encode)
        return [f.severity for f in report.findings if f.rule == "unused-suppression"]

    assert unused(None) == ["info"]
    assert unused("warning") == ["warning"]
    assert unused("off") == []


def test_suppressions_are_read_from_comments_never_from_scalars(lint_text):
    """Issue 12, item 6: prose inside a block scalar or a quoted string is not a comment."""
    in_scalars = SERVICE.replace("  name: web\n", (
        "  name: web\n  annotations:\n    note: |\n      # kubelint-svc: ignore[service-port-number]\n"
        "    quoted: \"# kubelint-svc: ignore-file[schema]\"\n"
    ))
    assert [f.rule for f in lint_text(in_scalars).findings] == ["service-selector-no-match"]
    bad_port = SERVICE.replace("port: 80", "port: 0")
    flow = bad_port.replace("  - port: 0", "  - {port: 0,  # kubelint-svc: ignore[service-port-number]\n     name: a}")
    assert [f.rule for f in lint_text(flow).findings] == ["service-selector-no-match"]


def test_a_comment_after_a_syntax_error_is_still_read(lint_text):
    broken = "a: : :\n---\n" + SERVICE.replace("port: 80", "port: 0  # kubelint-svc: ignore[service-port-number]")
    assert [f.rule for f in lint_text(broken).findings] == ["yaml-syntax", "service-selector-no-match"]


@pytest.mark.parametrize("text", [
    "rules:\n- id: x\n  doc: |\n    # kubelint-svc: ignore[nothing]\n# kubelint-svc: ignore[schema]\n",
    "# kubelint-svc: ignore-file[schema]\nservices:\n  web: {image: nginx}\n",
    "key: 1\nkey: 2\n",
    "# only a comment: kubelint-svc: ignore[schema]\n",
])
def test_files_that_are_not_manifests_give_no_findings_at_all(lint_text, text):
    """Issue 12, item 6: a rule file, a compose file, Helm values: nothing reported."""
    assert lint_text(text).findings == []


def test_linting_this_repository_reports_nothing_from_its_rule_files(registry):
    from kubelint_svc.inputs import discover

    report = lint_files(discover([str(REPO / "rules")]), Settings("1.37"), registry)
    assert report.findings == []


def test_a_suppression_naming_thousands_of_rules_gives_a_dozen_findings(lint_text):
    """A comment a pull request wrote with 20,000 made-up ids gave 20,000 findings (and as many
    did-you-mean searches): ten are named, the rest counted in one."""
    names = ",".join(f"made-up-{n:05}" for n in range(20_000))
    report = lint_text(SERVICE.replace("port: 80", f"port: 80  # kubelint-svc: ignore[{names}]"))
    unused = [f.message for f in report.findings if f.rule == "unused-suppression"]
    assert len(unused) == 11
    assert unused[0].startswith("suppression of made-up-00000 on this line is unused (no such rule")
    assert unused[-1] == "suppression on this line names 19990 more rules that suppress nothing: remove them"


def test_a_suppression_naming_a_huge_rule_id_is_quoted_short(lint_text):
    report = lint_text(SERVICE.replace("port: 80", "port: 80  # kubelint-svc: ignore[" + "x" * 100_000 + "]"))
    [unused] = [f.message for f in report.findings if f.rule == "unused-suppression"]
    assert unused.startswith("suppression of " + "x" * 57 + "... on this line is unused")


def test_comments_past_many_broken_documents_are_found_in_linear_time(monkeypatch):
    """Each syntax error restarted the comment scan on all the text after it: 40,000 broken
    documents (440 KB) took two minutes. Past an error, documents are now scanned one at a time."""
    import io

    from kubelint_svc import suppressions

    scanned = []

    class CountingIO(io.StringIO):
        def __init__(self, text):
            scanned.append(len(text))
            super().__init__(text)

    monkeypatch.setattr(suppressions.io, "StringIO", CountingIO)
    text = "# kubelint-svc: ignore[x]\n" + "---\na: b: c\n" * 2_000 + "--- # last\nk: v  # kubelint-svc: ignore[y]\n"
    comments = [comment for _, comment in suppressions.yaml_comments(text)]
    assert comments == ["# kubelint-svc: ignore[x]", "# last", "# kubelint-svc: ignore[y]"]
    assert sum(scanned) < 3 * len(text)  # each restart reading the rest: about 1,000 times the text
