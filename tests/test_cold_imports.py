"""Issue 20, cold runs: a run whose files hold no kustomization and no chart imports none of what
builds and renders (units/plan.py, kustomize's engines, scan, fallback and YAML 1.2 reader, the
tool runner): units/common.py answers it (`plain_plan`), and gives the plan units/plan.plan gives.
And the brackets of block scalars (a Grafana dashboard's JSON) do not send a document to the
parser's event walk before it is composed (composing.flow_depth_bound), while every bracket that may
open a flow collection is still counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml.error import YAMLError

from kubelint_svc import composing
from kubelint_svc.loader import parse_stream
from kubelint_svc.units import common
from kubelint_svc.units.plan import plan

SERVICE = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n"
           "  ports:\n  - port: 80\n")
KUSTOMIZATION = "resources:\n- service.yaml\n"

# what a run that builds nothing may not import (light_view stays: every file gets the light view)
BUILDING = ("kubelint_svc.units.plan", "kubelint_svc.units.process", "kubelint_svc.units.proven",
            "kubelint_svc.units.helm_sdk", "kubelint_svc.units.kustomize.engines",
            "kubelint_svc.units.kustomize.scan", "kubelint_svc.units.kustomize.fallback",
            "kubelint_svc.units.kustomize.kyaml", "kubelint_svc.units.kustomize.tracing")

PROGRAM = """
import json, sys
from kubelint_svc.app import Options, lint
outcome = lint(Options(paths=(sys.argv[1],), no_cache=True, kustomize=sys.argv[2]), replay=True)
print(json.dumps({"findings": sorted(f.rule for f in outcome.report.findings),
                  "modules": sorted(m for m in sys.modules if m.startswith("kubelint_svc.units"))}))
"""


def run_in_a_new_process(tree: Path, kustomize: str = "auto") -> dict[str, list[str]]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("KUBELINT_SVC_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tree), kustomize], cwd=tree, env=environment,
                          capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def test_a_plain_tree_imports_nothing_that_builds(tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "01-assert.yaml").write_text(SERVICE)  # a KUTTL assertion: set aside, as before
    ran = run_in_a_new_process(tmp_path)
    assert not set(BUILDING) & set(ran["modules"]), ran["modules"]
    assert "kubelint_svc.units.kustomize.light_view" in ran["modules"]  # the light view is still given
    assert "test-fixture-skipped" in ran["findings"]


def test_a_tree_with_a_kustomization_still_builds(tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "kustomization.yaml").write_text(KUSTOMIZATION)
    ran = run_in_a_new_process(tmp_path, "fallback")
    assert {"kubelint_svc.units.plan", "kubelint_svc.units.kustomize.engines"} <= set(ran["modules"])
    assert "kustomize-fallback" in ran["findings"]
    # with kustomize off, the kustomization is read as a file and nothing is built
    assert not set(BUILDING) & set(run_in_a_new_process(tmp_path, "off")["modules"])


def test_a_chart_template_still_plans_the_chart(tmp_path):
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "service.yaml").write_text(SERVICE)
    files = [chart / "Chart.yaml", chart / "templates" / "service.yaml"]
    assert common.plain_plan(files, "off") is None
    assert common.plain_plan(files[:1], "auto") is not None


def fixture_tree(root: Path, shape: int) -> list[Path]:
    """Plain trees of several shapes: KUTTL assertions, a chainsaw test naming its files, a
    `templates` folder that is no chart's, hidden and nested folders."""
    files = [root / "app" / "service.yaml", root / "app" / "templates" / "service.yaml"]
    if shape & 1:
        files += [root / "e2e" / "01-assert.yaml", root / "e2e" / "02-errors.yml", root / "e2e" / "00-install.yaml"]
    if shape & 2:
        (root / "chainsaw").mkdir(parents=True)
        (root / "chainsaw" / "chainsaw-test.yaml").write_text(
            "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nspec:\n  steps:\n  - try:\n"
            "    - apply:\n        file: install.yaml\n    - assert:\n        file: expected.yaml\n")
        files += [root / "chainsaw" / "install.yaml", root / "chainsaw" / "expected.yaml"]
    if shape & 4:
        files += [root / ".hidden" / "deep" / "er" / "03-assert.yaml"]
    for file in files:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(SERVICE)
    return [common.normal(file) for file in files]


@pytest.mark.parametrize("shape", range(8))
@pytest.mark.parametrize("kustomize", ["auto", "off"])
def test_the_plain_plan_is_the_plan(tmp_path, shape, kustomize):
    files = fixture_tree(tmp_path, shape)
    plain = common.plain_plan(files, kustomize)
    assert plain is not None
    assert plain == plan(files, kustomize)


# composing.flow_depth_bound counts the `[` and `{` that may open a flow collection, those in block
# scalars' bodies left out. It must never bound the flow nesting below what libyaml opens, or a
# document nesting thousands of flow collections deep would be composed unmeasured (the C stack).

def flow_depth(text: str) -> int:
    """The most flow collections libyaml's parser holds open at once in text, up to its first
    error (what follows an error is never composed)."""
    open_flows: list[bool] = []  # of every collection open: is it a flow one
    deepest = 0
    try:
        for event in composing._events(text):
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                open_flows.append(bool(event.flow_style))
                deepest = max(deepest, sum(open_flows))
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                open_flows.pop()
    except (YAMLError, ValueError):
        pass
    return deepest


INDENTS = st.sampled_from(["", " ", "  ", "   ", "    ", "      ", "\t", " \t"])
KEYS = st.sampled_from(["", "a: ", "key.json: ", "k:", "- ", "- - ", "- b: ", "? ", ": ", "a b: ", "a#: ", '"q": ',
                        "'q': ", "&x ", "!t ", "--- ", "a: &x ", "-", "x:\t"])
VALUES = st.sampled_from(["", "|", "|-", ">", ">+", "|2", "|1-", "| # c", "|#c", "[", "{", "[a, {b: c}]", "]", "}",
                          '"x [', "'y {'", '"', "'", "a [b] {c}", "a: [", "a # [", "a#[", "*x", "x, [y]", "x\"[",
                          "a: b", ":", "[[[", "{{", "{a: |", "- [", "'", "#", "# [", "--- [", "...", "%YAML 1.1"])
BODIES = st.sampled_from(["", "[", "{", "[{", "{ x", '"[', "'{", "a: [", "- {", "]", "}", "|", "#"])
LINE = st.tuples(INDENTS, KEYS, VALUES, BODIES).map("".join)
BREAKS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\x85"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(LINE, BREAKS), max_size=14))
def test_the_bracket_count_never_bounds_the_flow_nesting_below_libyamls(lines):
    text = "".join(line + end for line, end in lines)
    assert composing.flow_depth_bound(text) >= flow_depth(text)


@pytest.mark.parametrize("text", [
    '[ "a |\n    ", [[[[ ]]]] ]\n',  # a header inside a quoted scalar in a flow collection
    'k: [ "x\n  a: |\n    y", [[[ ]]] ]\n',
    "- key: |\n  other: [[[x]]]\n",  # the line after the header is no body: the key's column holds it
    "key:\n  |\n  [[[x]]]\n",  # a header alone on its line: its holder lies further left
    "a: |\n     \n  [[[x]]]\n",  # a wider blank line first: the body is indented 5, the next line is not in it
    "a: |2\n  [[[x]]]\n",  # an explicit indentation: not read, counted
    "foo#: [[[x]]]\n",  # no comment: `#` after a letter
    "a: x\nb: \"q\n  c: |\n    [[[[\n  \"\n",
    "a: " + "[b: " * 50 + "c" + "]" * 50 + "\n",  # each entry `b: ...` of a flow sequence a mapping in it
])
def test_hostile_layouts_are_counted(text):
    assert composing.flow_depth_bound(text) >= flow_depth(text)


def dashboards(panels: int) -> str:
    """A ConfigMapList of Grafana dashboards: thousands of brackets, every one in a block scalar."""
    panel = '    {\n      "targets": [\n        {"expr": "sum(rate(x{job=\\"a\\"}[5m]))"}\n      ]\n    },\n'
    return ("apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    board.json: |-\n      {\n        \"panels\": [\n"
            + "".join("      " + line + "\n" for line in (panel * panels).splitlines())
            + "        ]\n      }\n  kind: ConfigMap\n  metadata:\n    name: board\nkind: ConfigMapList\n")


def test_a_dashboards_brackets_in_block_scalars_are_not_walked(monkeypatch):
    walked: list[int] = []
    original = composing._events
    monkeypatch.setattr(composing, "_events", lambda text: walked.append(1) or original(text))
    text = dashboards(1000)
    assert text.count("[") + text.count("{") > 4000
    assert composing.flow_depth_bound(text) == 0
    document = parse_stream(text, keep_nodes=False).documents[0]
    assert walked == []
    assert document.data["items"][0]["data"]["board.json"].count('"targets"') == 1000
    # the same brackets as a flow collection's are measured, and refused when too deep
    deep = "a: " + "[" * 2500 + "]" * 2500 + "\n"
    assert parse_stream(deep + text, keep_nodes=False).problems or walked
