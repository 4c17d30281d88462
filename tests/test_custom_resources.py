"""custom-resource-schema: a custom resource held to the CustomResourceDefinition read in the same
run (linted or context), at the line of the field; silent without one; a hostile CRD stays bounded."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.example.com
spec:
  group: example.com
  names: {kind: Backup, plural: backups}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [schedule]
            properties:
              schedule: {type: string, pattern: "^[0-9*/ ,-]+$"}
              keep: {type: integer}
              method: {type: string, enum: [snapshot, copy]}
              options:
                type: object
                x-kubernetes-preserve-unknown-fields: true
  - name: v1beta1
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
"""

BACKUP = """\
apiVersion: example.com/{version}
kind: Backup
metadata:
  name: nightly
spec:
{spec}"""


def backup(spec: str = '  schedule: "0 3 * * *"\n', version: str = "v1") -> str:
    return BACKUP.format(version=version, spec=spec)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in this process, as a user runs it."""
    from kubelint_svc.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_cwd, saved_argv = os.getcwd(), sys.argv
    os.chdir(cwd)
    sys.argv = ["kubelint-svc", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def findings(*args: str, cwd: Path) -> list[dict]:
    result = run("lint", "--no-cache", "-f", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "custom-resource-schema"]


def where(found: list[dict]) -> list[tuple[int, int, str]]:
    return sorted((f["line"], f["column"], f["field"]) for f in found)


def lint_one(tmp_path: Path, text: str) -> list[dict]:
    (tmp_path / "backup.yaml").write_text(text)
    return findings("backup.yaml", cwd=tmp_path)


def test_unknown_field_is_reported_at_its_key_with_a_suggestion(tmp_path):
    found = lint_one(tmp_path, CRD + "---\n" + backup('  schedule: "0 3 * * *"\n  kepe: 7\n'))
    assert where(found) == [(39, 3, "spec.kepe")]
    assert found[0]["message"].startswith("unknown field 'kepe' in spec")
    assert found[0]["severity"] == "error"
    assert "did you mean 'keep'?" in found[0]["help"]


def test_wrong_type_is_reported_at_the_value(tmp_path):
    found = lint_one(tmp_path, CRD + "---\n" + backup('  schedule: "0 3 * * *"\n  keep: "7"\n'))
    assert where(found) == [(39, 9, "spec.keep")]
    assert "expected an integer" in found[0]["message"]


def test_missing_required_field_is_reported_at_its_parent(tmp_path):
    found = lint_one(tmp_path, CRD + "---\n" + backup("  keep: 7\n"))
    assert where(found) == [(37, 1, "spec.schedule")]
    assert found[0]["message"] == "missing required field 'schedule'"


def test_value_outside_the_enum_is_reported(tmp_path):
    found = lint_one(tmp_path, CRD + "---\n" + backup('  schedule: "0 3 * * *"\n  method: rsync\n'))
    assert where(found) == [(39, 11, "spec.method")]
    assert "'snapshot', 'copy'" in found[0]["message"]


def test_pattern_is_matched(tmp_path):
    found = lint_one(tmp_path, CRD + "---\n" + backup("  schedule: daily\n"))
    assert where(found) == [(38, 13, "spec.schedule")]


@pytest.mark.parametrize(("version", "why"), [("v1beta1", "served: false"), ("v2", "does not list it")])
def test_unserved_version_is_an_error_at_api_version(tmp_path, version, why):
    found = lint_one(tmp_path, CRD + "---\n" + backup(version=version))
    assert where(found) == [(33, 13, "apiVersion")]
    assert why in found[0]["message"]
    assert "(served: v1)" in found[0]["message"]


def test_preserve_unknown_fields_keeps_any_field_below(tmp_path):
    spec = '  schedule: "0 3 * * *"\n  options:\n    compress: true\n    levels: [1, 2]\n'
    assert lint_one(tmp_path, CRD + "---\n" + backup(spec)) == []


def test_valid_resource_server_fields_and_status_are_not_judged_by_the_schema(tmp_path):
    text = CRD + "---\n" + backup('  schedule: "0 3 * * *"\n  keep: null\nstatus:\n  phase: 1\n')
    text = text.replace("  name: nightly\n", "  name: nightly\n  labels: {team: data}\n")
    assert lint_one(tmp_path, text) == []


def test_crd_in_a_context_file(tmp_path):
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "backup-crd.yaml").write_text(CRD)
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  kepe: 7\n'))
    found = findings("backup.yaml", "--context", "crds", cwd=tmp_path)
    assert where(found) == [(7, 3, "spec.kepe")]
    assert found[0]["file"] == "backup.yaml"


def test_crd_from_git_context_as_in_a_pre_commit_run(tmp_path):
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "backup-crd.yaml").write_text(CRD)
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  keep: "7"\n'))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    found = findings("--git-context", "backup.yaml", cwd=tmp_path)
    assert where(found) == [(7, 9, "spec.keep")]


def test_no_crd_read_leaves_custom_resources_silent(tmp_path):
    assert lint_one(tmp_path, backup("  anything: [goes]\n")) == []
    # a CRD of the group that defines another kind says nothing about this one
    other = CRD.replace("kind: Backup", "kind: Restore").replace("backups.", "restores.")
    assert lint_one(tmp_path, other + "---\n" + backup("  anything: [goes]\n")) == []


def test_a_cached_run_finds_the_same_at_the_same_lines(tmp_path):
    (tmp_path / "crd.yaml").write_text(CRD)
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  kepe: 7\n'))
    results = []
    for _ in range(2):
        result = run("lint", "-f", "json", ".", cwd=tmp_path)
        results.append(where([f for f in json.loads(result.stdout)["findings"]
                              if f["rule"] == "custom-resource-schema"]))
    assert results == [[(7, 3, "spec.kepe")]] * 2


def test_items_of_a_list_are_judged_at_their_own_lines(tmp_path):
    items = ("apiVersion: v1\nkind: List\nitems:\n"
             "- apiVersion: example.com/v1\n  kind: Backup\n  metadata: {name: a}\n  spec: {schedule: '1'}\n"
             "- apiVersion: example.com/v1\n  kind: Backup\n  metadata: {name: b}\n  spec:\n    keep: x\n"
             "    schedule: '1'\n")
    (tmp_path / "crd.yaml").write_text(CRD)
    (tmp_path / "list.yaml").write_text(items)
    assert where(findings(".", cwd=tmp_path)) == [(12, 11, "spec.keep")]


def test_crds_are_read_whole_only_when_a_resource_of_their_group_is_read(tmp_path, monkeypatch):
    from kubelint_svc import model

    composed: list[int] = []
    data_at = model.NodeSource.data_at
    monkeypatch.setattr(model.NodeSource, "data_at", lambda self, line: composed.append(line) or data_at(self, line))
    (tmp_path / "crd.yaml").write_text(CRD)
    (tmp_path / "other.yaml").write_text(backup().replace("example.com/", "other.example.org/"))
    assert findings(".", cwd=tmp_path) == []
    assert composed == []
    (tmp_path / "backup.yaml").write_text(backup())
    assert findings(".", cwd=tmp_path) == []
    assert len(composed) == 2  # the CRD once, the Backup once


# --- a CRD comes with the pull request -----------------------------------------------------------

def test_catastrophic_pattern_is_matched_in_linear_time(tmp_path):
    crd = CRD.replace('pattern: "^[0-9*/ ,-]+$"', 'pattern: "^(a+)+$"')
    started = time.monotonic()
    found = lint_one(tmp_path, crd + "---\n" + backup(f"  schedule: {'a' * 40}!\n"))
    assert time.monotonic() - started < 10
    assert where(found) == [(38, 13, "spec.schedule")]


def test_pattern_re2_cannot_match_gives_a_warning_not_a_check(tmp_path):
    crd = CRD.replace('pattern: "^[0-9*/ ,-]+$"', 'pattern: "^(?=a)(a+)+\\\\1$"')
    found = lint_one(tmp_path, crd + "---\n" + backup("  schedule: aaaa\n"))
    assert [(f["severity"], f["line"]) for f in found] == [("warning", 33)]
    assert "not checked against CustomResourceDefinition backups.example.com" in found[0]["message"]


@pytest.mark.slow  # 0.3 s of CPU
def test_a_schema_too_large_says_so_in_a_crds_words(tmp_path):
    """A CRD with no $ref is not told to share less through $ref nor to split a rule."""
    values = ", ".join(f"v{number}" for number in range(120_000))
    crd = CRD.replace('pattern: "^[0-9*/ ,-]+$"', f"enum: [{values}]")
    found = lint_one(tmp_path, crd + "---\n" + backup("  schedule: v1\n"))
    assert [f["severity"] for f in found] == ["warning"]
    assert "its schema is too large to check safely" in found[0]["message"]
    assert "$ref" not in found[0]["message"]


def nested(depth: int) -> tuple[str, str]:
    """A CRD schema and a resource both `depth` objects deep, in flow style."""
    schema = "{type: string}"
    value = "x"
    for _ in range(depth):
        schema = "{type: object, properties: {a: " + schema + "}}"
        value = "{a: " + value + "}"
    crd = CRD.replace("          spec:\n            type: object\n            required: [schedule]\n",
                      f"          deep: {schema}\n          spec:\n            type: object\n"
                      "            required: [schedule]\n")
    return crd, value.replace("x", "1", 1)


@pytest.mark.parametrize("depth", [90, 400])
def test_deeply_nested_crd_and_resource_stay_bounded(tmp_path, depth):
    crd, value = nested(depth)
    text = crd + "---\n" + backup().replace("spec:\n", f"deep: {value}\nspec:\n")
    started = time.monotonic()
    (tmp_path / "backup.yaml").write_text(text)
    result = run("lint", "--no-cache", "-f", "json", "backup.yaml", cwd=tmp_path)
    assert time.monotonic() - started < 20
    everything = json.loads(result.stdout)["findings"]
    assert not [f for f in everything if f["rule"] == "internal-error"]
    found = [f for f in everything if f["rule"] == "custom-resource-schema"]
    if depth == 90:  # within the loader's limits: the type error at the bottom is found
        assert [f["message"] for f in found] == ["expected a string, got an integer (1)"]
    else:  # past them (both were read for their header only): not judged, and the warning says why
        assert [(f["severity"], f["line"]) for f in found] == [("warning", 34)]
        assert "could not be read whole" in found[0]["message"]
        assert "nest" in found[0]["message"]


def test_of_a_groups_many_crds_only_the_kinds_own_is_read_whole(tmp_path, monkeypatch):
    from kubelint_svc import model

    composed: list[int] = []
    data_at = model.NodeSource.data_at
    monkeypatch.setattr(model.NodeSource, "data_at", lambda self, line: composed.append(line) or data_at(self, line))
    others = [CRD.replace("kind: Backup", f"kind: {kind}").replace("backups.", f"{kind.lower()}s.")
              for kind in ("Restore", "Schedule", "Snapshot")]
    (tmp_path / "crds.yaml").write_text("---\n".join([*others, CRD]))
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  kepe: 7\n'))
    assert where(findings(".", cwd=tmp_path)) == [(7, 3, "spec.kepe")]
    assert len(composed) == 2  # the Backup CRD and the Backup


def test_a_copy_of_the_crd_that_accepts_the_resource_wins(tmp_path):
    # two releases of one CRD in the run (an old copy in another folder): a resource either accepts is valid
    newer = CRD.replace("              keep: {type: integer}\n", "              keep: {type: integer}\n"
                        "              compress: {type: boolean}\n")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "crd.yaml").write_text(CRD)
    (tmp_path / "crd.yaml").write_text(newer)
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  compress: true\n'))
    assert findings(".", cwd=tmp_path) == []
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  compress: yes-please\n'))
    assert where(findings(".", cwd=tmp_path)) == [(7, 13, "spec.compress")]


def test_a_warm_run_judges_again_when_the_crd_changed(tmp_path, monkeypatch):
    from kubelint_svc import model

    (tmp_path / "crd.yaml").write_text(CRD)
    (tmp_path / "backup.yaml").write_text(backup('  schedule: "0 3 * * *"\n  compress: true\n'))

    def verdict() -> list[tuple[int, int, str]]:
        result = run("lint", "-f", "json", ".", cwd=tmp_path)
        return where([f for f in json.loads(result.stdout)["findings"] if f["rule"] == "custom-resource-schema"])

    assert verdict() == [(7, 3, "spec.compress")]
    composed: list[int] = []
    data_at = model.NodeSource.data_at
    monkeypatch.setattr(model.NodeSource, "data_at", lambda self, line: composed.append(line) or data_at(self, line))
    assert verdict() == [(7, 3, "spec.compress")]
    assert len(composed) == 1  # the verdict was kept: only the Backup, for the position of its finding
    (tmp_path / "crd.yaml").write_text(CRD.replace("              keep: {type: integer}\n",
                                                   "              keep: {type: integer}\n"
                                                   "              compress: {type: boolean}\n"))
    assert verdict() == []
