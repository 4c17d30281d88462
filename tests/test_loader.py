"""The loader: YAML as kubectl reads it, every value traceable to its line and column."""

import pytest

from kubelint_svc.composing import locate, resolve_plain_scalar
from kubelint_svc.file_reads import decode
from kubelint_svc.loader import parse_stream


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("80", 80), ("0x1F", 31), ("0777", 511), ("-3", -3), ("1.5", 1.5), ("1e3", 1000.0),
        ("yes", True), ("on", True), ("True", True), ("no", False), ("off", False),
        ("~", None), ("null", None), ("", None),
        ("http", "http"), ("1.2.3", "1.2.3"), ("8080/tcp", "8080/tcp"), ("${PORT}", "${PORT}"),
    ],
)
def test_plain_scalars_resolve_as_kubectl_reads_them(text, value):
    assert resolve_plain_scalar(text) == value


def test_quoted_scalars_stay_strings():
    data = parse_stream('a: "80"\nb: \'yes\'\nc: |\n  80\n').documents[0].data
    assert data == {"a": "80", "b": "yes", "c": "80\n"}


def test_custom_tags_construct_nothing():
    data = parse_stream("a: !!python/object/apply:os.system ['echo hacked']\nb: !custom 1\n").documents[0].data
    assert data == {"a": ["echo hacked"], "b": "1"}


def test_merge_keys_fill_in_missing_keys_only():
    data = parse_stream("base: &b {x: 1, z: 2}\nc:\n  <<: *b\n  z: 3\n").documents[0].data
    assert data["c"] == {"x": 1, "z": 3}


def test_yaml_1_1_boolean_keys_become_true_and_false_as_in_kubectl():
    assert parse_stream("y: 1\nn: 2\n").documents[0].data == {"true": 1, "false": 2}


def test_locate_points_at_keys_and_values_1_based():
    node = parse_stream("spec:\n  ports:\n  - port: 80\n    name: web\n").documents[0].node
    assert locate(node, ("spec", "ports", 0, "name")) == (4, 5, True)
    assert locate(node, ("spec", "ports", 0, "name"), at_key=False) == (4, 11, True)
    # an absent field: the closest ancestor that exists, flagged as inexact
    assert locate(node, ("spec", "ports", 0, "nodePort")) == (3, 5, False)


def test_syntax_error_keeps_the_documents_before_and_after():
    text = "a: 1\n---\nb: [\n---\nc: 2\n"
    stream = parse_stream(text)
    assert [d.data for d in stream.documents] == [{"a": 1}, {"c": 2}]
    assert [(p.rule, p.line) for p in stream.problems] == [("yaml-syntax", 4)]


def test_duplicate_key_is_a_problem_at_the_second_key():
    stream = parse_stream("spec:\n  selector: {a: b}\n  ports: []\n  selector: {c: d}\n")
    problems = stream.documents[0].problems
    assert [(p.rule, p.line, p.column, p.severity) for p in problems] == [("yaml-duplicate-key", 4, 3, None)]
    assert problems[0].message == (
        "duplicate key 'selector' (first at line 2) with a different value: kubectl keeps this later value "
        "and drops the one at line 2 without a word; kustomize refuses the file")
    assert stream.documents[0].data["spec"]["selector"] == {"c": "d"}  # as kubectl reads it


def test_a_duplicate_with_the_same_value_is_a_warning(lint_text):
    text = "apiVersion: v1\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1', a: '2'}\n"
    assert [(f.rule, f.severity, f.line, f.column) for f in lint_text(text).findings] == [
        ("yaml-duplicate-key", "warning", 2, 1), ("yaml-duplicate-key", "error", 5, 16)]
    assert "with the same value as at line 1" in lint_text(text).findings[0].message


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 12):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    # 10**12 nodes if expanded: the node budget (not a clock) stops the conversion early
    stream = parse_stream("\n".join(lines) + "\n")
    assert [p.rule for p in stream.documents[0].problems] == ["yaml-limit-exceeded"]
    assert "too many nodes" in stream.documents[0].problems[0].message
    assert stream.documents[0].data is None


def test_recursive_alias_is_refused():
    problems = parse_stream("a: &a [*a]\n").documents[0].problems
    assert [p.rule for p in problems] == ["yaml-limit-exceeded"]
    assert "recursive alias" in problems[0].message


@pytest.mark.parametrize("depth", [500, 200_000])
def test_deep_nesting_is_refused_without_crashing(depth):
    stream = parse_stream("a: 1\n---\n" + "[" * depth + "]" * depth + "\n---\nb: 2\n")
    assert [d.data for d in stream.documents if d.data is not None] == [{"a": 1}, {"b": 2}]
    problems = stream.problems + [p for d in stream.documents for p in d.problems]
    assert [(p.rule, p.line) for p in problems] == [("yaml-limit-exceeded", 3)]


def test_binary_and_non_utf8_bytes_are_problems_with_positions():
    assert decode(b"\x7fELF\x00\x00\x01")[1].rule == "yaml-encoding"
    text, problem = decode("a: 1\nname: caf\xe9\n".encode("latin-1"))
    assert text is None
    assert (problem.rule, problem.line, problem.column) == ("yaml-encoding", 2, 10)


def test_byte_order_marks_are_honoured():
    assert decode(b"\xef\xbb\xbfa: 1\n")[0] == "a: 1\n"
    assert decode("a: 1\n".encode("utf-16"))[0] == "a: 1\n"


def test_helm_source_comments_name_the_template(lint_text):
    stream = (
        "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
        "spec:\n  ports:\n  - port: 80\n    nodePort: x\n"
        "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata:\n  name: web\nspec:\n  selector: {}\n  templat: {}\n"
    )
    report = lint_text(stream)
    assert [(f.file, f.rule, f.line, f.column, f.field) for f in report.findings if f.rule == "schema"] == [
        ("web/templates/deployment.yaml", "schema", 5, 1, "spec.template"),
        ("web/templates/deployment.yaml", "schema", 7, 3, "spec.templat"),
        ("web/templates/service.yaml", "schema", 8, 15, "spec.ports[0].nodePort"),
    ]


LONG_FILLER = "".join(f"---\nk{i}: [a, b, c, d, e, f, g, h, i, j, k, l]\n" for i in range(300))


def test_a_syntax_error_at_the_top_of_a_long_stream_costs_one_document():
    # long enough that the nesting pre-check runs (and meets the error first)
    stream = parse_stream("x: [\n" + LONG_FILLER)
    assert len(stream.documents) == 300
    assert [(p.rule, p.line) for p in stream.problems] == [("yaml-syntax", 2)]


def test_a_too_deep_document_inside_a_long_stream_costs_only_itself():
    text = "a: 1\n" + LONG_FILLER + "---\n" + "[" * 5000 + "]" * 5000 + "\n---\nb: [\n---\nc: 3\n" + LONG_FILLER
    stream = parse_stream(text)
    assert len(stream.documents) == 602
    assert stream.documents[0].data == {"a": 1}
    assert stream.documents[301].data == {"c": 3}
    assert [(p.rule, p.line) for p in stream.problems] == [("yaml-limit-exceeded", 603), ("yaml-syntax", 606)]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\nb: [\n---\nc: 2\n---\nd: {\n---\n# Source: chart/templates/x.yaml\ne: 3\n",
        "x: 1\n---\ny: 2\ny: 3\n---\nz: [1\n---\n" + "[" * 300 + "]" * 300 + "\n---\nw: &a [*a]\n---\nv: 1\nv: 1\n",
        "---\nkey: 'open\n---\nfine: yes\nfine: no\n---\n: bad\n...\n---\nlast: 0x1F\n",
    ],
)
def test_windows_after_an_error_give_the_lines_a_whole_stream_gives(text):
    """After a syntax error, the rest of a stream is read window by window, each counting lines
    from where it starts (not padded, so many broken documents do not cost the square of their
    number): every problem, document and duplicate-key message says the stream's own lines."""
    windows = parse_stream(text, keep_nodes=False)  # unpadded windows
    padded = parse_stream(text, keep_nodes=True)
    assert windows.problems
    assert windows.problems == padded.problems
    assert [(d.first_line, d.data, d.problems, d.helm_source) for d in windows.documents] == [
        (d.first_line, d.data, d.problems, d.helm_source) for d in padded.documents
    ]
