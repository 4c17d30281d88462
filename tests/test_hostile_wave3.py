"""A third attack from a pull request's side, after issue #19's fixes: variants of its cases that
still got through. Each asserts the safe outcome (nothing read from a git directory or outside
the repository)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from test_hostile_builds import LEAK, NEEDS_KUBECTL, SERVICE, TOKEN, report, repository, rules_at
from test_hostile_pr import run

# every form kustomize cleans to .git/config that a check of the name as written missed
LONG = "./" * 520 + ".git/config"  # over 1,000 characters
LINKED_AS = {
    "long": (None, LONG),
    "long-keyed": (None, f"config={LONG}"),
    "newline": ("a\nb", "config=a\nb"),
    "key-like": ("x=y", "x=y"),  # a file whose name holds '=': kustomize reads it whole in crds
}


@NEEDS_KUBECTL
@pytest.mark.parametrize("form", sorted(LINKED_AS))
def test_a_generator_cannot_reach_the_git_config_through_an_odd_name(tmp_path, form):
    link, entry = LINKED_AS[form]
    text = LEAK.format(field="files", name=json.dumps(entry))
    if form == "key-like":
        text = f"resources: [svc.yaml]\ncrds: [{json.dumps(entry)}]\n"
    repo = repository(tmp_path / "repo", {"kustomization.yaml": text, "svc.yaml": SERVICE.format(name="web", port=0)})
    if link is not None:
        os.symlink(".git/config", repo / link)
    code, findings, output = report(repo)
    assert TOKEN.encode() not in output
    [failed] = [finding for finding in findings if finding["rule"] == "kustomize-build-failed"]
    assert "inside a git directory" in failed["message"]
    assert ("svc.yaml", "service-port-number") in rules_at(findings)  # linted as written
    assert code == 1



# a/b/c/base -> ../../../real: the scan climbed from a/b/c/base, kustomize from real
CLIMBS = {
    "one level": {"real/kustomization.yaml": "resources: [../../outside/other]\n",
                  "a/b/outside/other/kustomization.yaml": "resources: []\n"},
    "two levels": {"real/kustomization.yaml": "resources: [../sub]\n",
                   "sub/kustomization.yaml": "resources: [../../outside/other]\n",
                   "a/b/c/sub/kustomization.yaml": "resources: []\n"},
}


@NEEDS_KUBECTL
@pytest.mark.parametrize("layout", sorted(CLIMBS))
def test_a_linked_kustomization_folder_cannot_climb_out_from_where_it_leads(tmp_path, layout):
    """kustomize reads a folder's entries from its real path: from real, `..` reaches another
    checkout past the repository, where the scan, climbing from the link's own place, found a
    harmless folder of the same name."""
    outside = tmp_path / "outside" / "other"
    outside.mkdir(parents=True)
    (outside / "kustomization.yaml").write_text("resources: [svc.yaml]\n")
    (outside / "svc.yaml").write_text(SERVICE.format(name="from-another-checkout", port=80))
    repo = repository(tmp_path / "repo", {**CLIMBS[layout], "a/b/c/kustomization.yaml": "resources: [base]\n"})
    (repo / "a/b/c/base").symlink_to("../../../real")
    code, findings, output = report(repo, "a/b/c")
    assert b"from-another-checkout" not in output
    [failed] = [finding for finding in findings if finding["rule"] == "kustomize-build-failed"]
    assert "names other files from there" in failed["message"]
    assert code == 1


def test_a_linked_kustomization_folder_that_names_the_same_files_is_built(tmp_path):
    repo = repository(tmp_path / "repo", {
        "shared/base/kustomization.yaml": "resources: [svc.yaml]\n",
        "shared/base/svc.yaml": SERVICE.format(name="web", port=0),
        "app/kustomization.yaml": "resources: [base]\n",
    })
    (repo / "app/base").symlink_to("../shared/base")
    code, findings, _ = report(repo, ".", "--kustomize", "fallback")
    assert "kustomize-build-failed" not in {finding["rule"] for finding in findings}
    assert "service-port-number" in {finding["rule"] for finding in findings}
    assert code == 1


# helm parses its arguments as cobra does: one starting with `-` before a `--` is a flag
COBRA_HELM = """
arguments = sys.argv[1:]
flags = arguments[:arguments.index("--")] if "--" in arguments else arguments
if any(flag.startswith("--post-renderer") for flag in flags):
    open({pwned!r}, "w").write("the render went through sh")
"""


def test_a_chart_folder_named_like_a_flag_is_not_a_flag_to_helm(tmp_path):
    from test_hostile_processes import CHART, tool, write

    repo = tmp_path / "repo"
    write(repo / "--post-renderer=sh", {path: text.format(name="x") for path, text in CHART.items()})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    pwned = tmp_path / "pwned"
    env, started = tool(tmp_path, "helm", COBRA_HELM.format(pwned=str(pwned)))
    run("lint", ".", cwd=repo, env=env)
    assert started.exists()
    assert not pwned.exists()


@pytest.mark.parametrize("schema", [
    {"properties": {"port": {"$ref": "file:///{repo}/.git/config"}}},
    {"$ref": "http://127.0.0.1:9/schema.json"},
    {"$defs": {"x": {"$ref": "../../outside.json"}}},
    {"$schema": "file:///etc/passwd"},
])
def test_a_values_schema_cannot_make_helm_load_a_file(tmp_path, schema):
    """helm compiles values.schema.json with a loader for `file://` references (older helm fetched
    URLs too): a chart is not rendered while its schema names anything outside itself."""
    from test_hostile_processes import CHART, notes, printing, tool, write

    repo = tmp_path / "repo"
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    text = json.dumps(schema).replace("{repo}", str(repo).lstrip("/"))
    write(repo / "mychart", {"values.schema.json": text})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env, started = tool(tmp_path, "helm", printing("---\n# Source: mychart/templates/service.yaml\n"))
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert "values.schema.json" in note
    assert "loaded by helm" in note
    assert not started.exists()


def test_a_values_schema_with_references_inside_it_is_rendered(tmp_path):
    from test_hostile_processes import CHART, RENDER, notes, printing, tool, write

    repo = tmp_path / "repo"
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {"port": {"type": "integer"}},
              "properties": {"port": {"$ref": "#/$defs/port"}}}
    write(repo / "mychart", {"values.schema.json": json.dumps(schema)})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env, started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart")))
    result = run("lint", ".", cwd=repo, env=env)
    assert notes(result, "helm-chart-not-rendered") == []
    assert started.exists()


def _archive(members: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


LEAKING_SCHEMA = json.dumps({"properties": {"x": {"$ref": "file:///etc/passwd"}}}).encode()
SUBCHART = {"sub/Chart.yaml": b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"}


@pytest.mark.parametrize("nested", [False, True])
def test_a_packaged_subchart_schema_cannot_make_helm_load_a_file(tmp_path, nested):
    from test_hostile_processes import CHART, notes, printing, tool, write

    repo = tmp_path / "repo"
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    archive = _archive({**SUBCHART, "sub/values.schema.json": LEAKING_SCHEMA})
    if nested:
        archive = _archive({**SUBCHART, "sub/charts/inner-0.1.0.tgz": archive})
    (repo / "mychart/charts").mkdir()
    (repo / "mychart/charts/sub-0.1.0.tgz").write_bytes(archive)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env, started = tool(tmp_path, "helm", printing("---\n# Source: mychart/templates/service.yaml\n"))
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert "values.schema.json" in note
    assert not started.exists()


def test_a_packaged_subchart_with_a_schema_of_its_own_is_rendered(tmp_path):
    from test_hostile_processes import CHART, RENDER, notes, printing, tool, write

    repo = tmp_path / "repo"
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    schema = json.dumps({"$defs": {"p": {"type": "integer"}}, "properties": {"p": {"$ref": "#/$defs/p"}}})
    (repo / "mychart/charts").mkdir()
    (repo / "mychart/charts/sub-0.1.0.tgz").write_bytes(
        _archive({**SUBCHART, "sub/values.schema.json": schema.encode()}))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env, started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart")))
    result = run("lint", ".", cwd=repo, env=env)
    assert notes(result, "helm-chart-not-rendered") == []
    assert started.exists()


# helm's --values is a list flag (pflag's StringSlice): it reads each of its comma-separated parts
SLICING_HELM = """
arguments = sys.argv[1:]
for at, argument in enumerate(arguments[:-1]):
    if argument == "--values":
        for part in arguments[at + 1].split(","):
            open({read!r}, "a").write(part + "\\n")
"""


@pytest.mark.parametrize("entry", ["prod.yaml,{outside}", '"prod.yaml,{outside}"'])
def test_a_values_file_name_cannot_be_a_list_of_files(tmp_path, entry):
    from test_hostile_processes import CHART, notes, tool, write

    repo = tmp_path / "repo"
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    write(tmp_path, {"outside/values.yaml": "token: s3cr3t\n"})
    named = entry.format(outside=tmp_path / "outside/values.yaml")
    write(repo, {".kubelint-svc.yaml": f"helm-values: [{json.dumps(named)}]\n", "mychart/prod.yaml": "port: 80\n"})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    read = tmp_path / "read"
    env, started = tool(tmp_path, "helm", SLICING_HELM.format(read=str(read)))
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert "comma" in note
    assert not started.exists()
    assert not read.exists()
