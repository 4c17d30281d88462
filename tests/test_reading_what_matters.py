"""Read only what matters: documents of kinds no rule reads are read for their header only (or,
in context files, not at all), yet every position and every syntax error stays where it was."""

from pathlib import Path

import pytest
from conftest import needs

from kubelint_svc.header_only import FULL, HEADER, HEADER_KEYS, SKIP
from kubelint_svc.loader import parse_stream

REAL_WORLD = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-world"

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  labels:
    app: widgets
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  dup: 1
  dup: 2
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""


def by_kind(decisions):
    return lambda kind, api_version: decisions.get(kind, FULL)


def test_a_document_no_rule_reads_is_read_for_its_header_only():
    text = SERVICE + "---\n" + CRD + "---\n" + SERVICE
    stream = parse_stream(text, keep_nodes=False, wants=by_kind({"CustomResourceDefinition": HEADER}))
    service, crd, again = stream.documents
    assert (service.partial, crd.partial, again.partial) == (False, True, False)
    assert crd.data == {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                        "metadata": {"name": "widgets.example.com", "labels": {"app": "widgets"}}}
    assert crd.problems == []  # the duplicate key is in the body, which is never composed
    assert service.data == again.data
    assert "spec" in service.data
    assert [d.first_line for d in stream.documents] == [0, 9, 22]
    # the header's tree is kept (it is small): its positions are the file's
    assert crd.node is not None
    assert crd.node.start_mark.line == 10


def test_skipped_documents_give_nothing_and_the_others_keep_their_lines():
    text = CRD + "---\n" + SERVICE
    stream = parse_stream(text, keep_nodes=False, wants=by_kind({"CustomResourceDefinition": SKIP}))
    objects = [d for d in stream.documents if d.data is not None]
    assert [d.data["kind"] for d in objects] == ["Service"]
    assert objects[0].first_line == 12


def test_a_syntax_error_in_a_document_read_for_its_header_is_reported_at_its_line():
    broken = CRD.replace("  scope: Namespaced\n", "  scope: [Namespaced\n")
    text = SERVICE + "---\n" + broken
    lazy = parse_stream(text, keep_nodes=False, wants=by_kind({"CustomResourceDefinition": HEADER}))
    whole = parse_stream(text, keep_nodes=False)
    assert [(p.rule, p.line) for p in lazy.problems] == [(p.rule, p.line) for p in whole.problems]
    assert lazy.problems
    assert lazy.problems[0].rule == "yaml-syntax"
    assert lazy.problems[0].line > 10


@pytest.mark.parametrize(
    "layout",
    [
        # a quoted scalar continued at column 0: the cheap reading cannot see where metadata ends
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    a: "one\nkind: two"\ndata: {}\n',
        # a merge key at the top: the header may come from elsewhere
        "apiVersion: v1\nkind: ConfigMap\n<<: {metadata: {name: merged}}\n",
        # JSON
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}\n',
        # the kind quoted, a tag on the document
        'apiVersion: v1\nkind: "ConfigMap"\nmetadata: {name: q}\n',
        "--- !!map\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\n",
        # a quoted scalar of the body continued at column 0, with lines that look like a header
        'apiVersion: example.com/v1\nkind: Widget\nspec: "it\nmetadata:\n  labels: {bad key: v}\nzz: q"\n',
        "apiVersion: example.com/v1\nspec: 'it\nkind: Widget\nmetadata:\n  name: fake\nzz: q'\n",
        # a flow collection of the body continued at column 0
        "apiVersion: example.com/v1\nkind: Widget\nspec: [1,\nmetadata: {name: fake}, 2,\nzz: 3]\n",
        # the header's last value goes on past the next key; a quote opened in one body, closed in the next
        ('apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  annotations: {a: "x\nspec: y"}\n'
        "  labels: {bad key: v}\n"),
        ('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\nspec: "open\n---\n'
        'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: b}\nspec: close"\n'),
        # an alias in the body: only composing it finds whether its anchor is defined
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: *missing\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: &one 1, y: [*one]}\n",
        # an indented node before the first key
        "---\n  just text\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    ],
)
def test_a_layout_the_cheap_reading_cannot_vouch_for_is_read_whole(layout):
    lazy = parse_stream(layout, keep_nodes=False, wants=lambda kind, api: HEADER)
    whole = parse_stream(layout, keep_nodes=False)
    assert [d.data for d in lazy.documents] == [d.data for d in whole.documents]
    assert [(p.rule, p.line) for p in lazy.problems] == [(p.rule, p.line) for p in whole.problems]


@pytest.mark.slow  # 0.3 s of CPU
@needs("the shared corpus beside the checkout", REAL_WORLD.is_dir())
def test_headers_read_alone_equal_the_headers_of_whole_documents_across_the_corpus():
    checked = 0
    for path in sorted(REAL_WORLD.rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        whole = parse_stream(text, keep_nodes=False)
        lazy = parse_stream(text, keep_nodes=False, wants=lambda kind, api: HEADER)
        expected = [
            {key: value for key, value in d.data.items() if key in HEADER_KEYS} if partial else d.data
            for d, partial in zip(whole.documents, [d.partial for d in lazy.documents], strict=True)
        ]
        assert [d.data for d in lazy.documents] == expected, path
        assert [d.first_line for d in lazy.documents] == [d.first_line for d in whole.documents], path
        checked += sum(d.partial for d in lazy.documents)
    assert checked > 500


def read_whole(monkeypatch):
    import kubelint_svc.reading

    monkeypatch.setattr(kubelint_svc.reading, "wants_of", lambda registry, pod_templates=(): None)


def test_a_finding_on_a_header_read_object_points_at_its_line(lint_text, monkeypatch):
    text = SERVICE + "---\n" + CRD.replace("    app: widgets", "    app: -bad-")
    [finding] = [f for f in lint_text(text).findings if f.rule == "label-syntax"]
    assert (finding.line, finding.column, finding.field) == (16, 10, "metadata.labels.app")
    read_whole(monkeypatch)
    assert [f for f in lint_text(text).findings if f.rule == "label-syntax"] == [finding]


def test_a_finding_after_a_large_document_is_placed_by_composing_its_own_document_only(lint_text, monkeypatch):
    text = CRD + "---\n" + SERVICE.replace("port: 80", "port: 0")
    lazy = lint_text(text).findings
    [finding] = [f for f in lazy if f.rule == "service-port-number"]
    assert (finding.line, finding.column, finding.end_column) == (21, 11, 12)
    read_whole(monkeypatch)
    whole = lint_text(text).findings
    assert [f for f in lazy if f.file] == [f for f in whole if f.rule != "yaml-duplicate-key"]


def test_a_rule_pack_that_reads_every_kind_makes_every_document_read_whole(tmp_path, lint_paths):
    from kubelint_svc.engine import Registry
    from kubelint_svc.reading import wants_of

    assert wants_of(Registry.builtin()) is not None
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "rules.yaml").write_text(
        "rules:\n- id: everything-has-spec\n  severity: warning\n  summary: s\n  rationale: r\n"
        "  check:\n    json-schema: {required: [spec]}\n"
        "  examples: {failing: 'kind: X', passing: 'kind: X'}\n"
    )
    assert wants_of(Registry.load([pack])) is None


def test_items_of_a_list_no_rule_reads_keep_their_header_only(tmp_path):
    from kubelint_svc.engine import Registry
    from kubelint_svc.inputs import discover
    from kubelint_svc.runner import lint_with_objects
    from kubelint_svc.schemas import bundled_versions
    from kubelint_svc.settings import Settings

    (tmp_path / "dashboards.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: example.com/v1\n  kind: Dashboard\n  metadata:\n    name: big\n    labels: {app: -bad-}\n"
        "  data:\n    dashboard.json: |\n      {\"panels\": []}\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: web}\n  spec:\n    ports: [{port: 80}]\n"
    )
    report, run = lint_with_objects(discover([str(tmp_path)]), Settings(bundled_versions()[-1]), Registry.builtin())
    dashboard, service = run.resources
    assert dashboard.body == {"apiVersion": "example.com/v1", "kind": "Dashboard",
                              "metadata": {"name": "big", "labels": {"app": "-bad-"}}}
    assert service.get(("spec", "ports", 0, "port")) == 80  # a kind rules read keeps its body
    [finding] = [f for f in report.findings if f.rule == "label-syntax"]
    assert (finding.line, finding.column) == (8, 19)


@pytest.mark.parametrize("line_break", ["\r", "\x85", "\u2028", "\u2029"], ids=["CR", "NEL", "LS", "PS"])
def test_a_line_break_other_than_newline_cannot_hide_a_second_kind(line_break, lint_text, monkeypatch):
    # libyaml ends a line at each of these: the second `kind` is a key, and kubectl keeps it
    text = f"apiVersion: apps/v1\nkind: ConfigMap\nmetadata: {{}}\ndata:\n  a: x{line_break}kind: Deployment\n"
    stream = parse_stream(text, keep_nodes=False, wants=lambda kind, api: HEADER)
    assert [d.data["kind"] for d in stream.documents] == ["Deployment"]
    lazy = [(f.rule, f.line) for f in lint_text(text).findings]
    assert "workload-name" in [rule for rule, _ in lazy]
    read_whole(monkeypatch)
    assert lazy == [(f.rule, f.line) for f in lint_text(text).findings]


def test_lines_inside_a_quoted_scalar_of_the_body_are_not_taken_for_a_header(lint_text, monkeypatch):
    text = 'apiVersion: example.com/v1\nkind: Widget\nspec: "it\nmetadata:\n  labels: {bad key: v}\nzz: q"\n'
    lazy = lint_text(text).findings
    assert "label-syntax" not in [f.rule for f in lazy]
    read_whole(monkeypatch)
    assert lazy == lint_text(text).findings


def test_an_undefined_alias_in_a_body_no_rule_reads_is_still_an_error(lint_text, monkeypatch):
    text = SERVICE + "---\n" + CRD.replace("  scope: Namespaced", "  scope: *undefined")
    lazy = [(f.line, f.column, f.message) for f in lint_text(text).findings if f.rule == "yaml-syntax"]
    assert lazy == [(20, 10, "YAML syntax error: found undefined alias")]  # kubectl refuses it too
    read_whole(monkeypatch)
    assert lazy == [(f.line, f.column, f.message) for f in lint_text(text).findings if f.rule == "yaml-syntax"]
