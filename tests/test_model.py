"""From documents to objects: Lists, non-objects, templates, one bad file among good ones."""

from conftest import brief
from manifests import SERVICE_TEMPLATE as SERVICE


def test_list_items_are_linted_as_objects_at_their_own_positions(lint_text):
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: ok
  spec:
    ports:
    - port: 80
- apiVersion: v1
  kind: Service
  metadata:
    name: bad
  spec:
    ports:
    - port: http
"""
    report = lint_text(text)
    assert report.objects == 2
    assert brief(report) == [("schema", 17, 13, "spec.ports[0].port")]
    assert [f.object.name for f in report.findings if f.rule == "schema"] == ["bad"]


def test_empty_documents_and_non_kubernetes_yaml_are_skipped(lint_text):
    text = "---\n---\n# only a comment\n---\nfoo: bar\n---\n- 1\n---\n" + SERVICE.format(name="web", port=80)
    report = lint_text(text)
    assert report.objects == 1
    assert brief(report) == []


def test_objects_of_other_kinds_are_read_but_never_schema_errors(lint_text):
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: [1, 2]}\n"
    report = lint_text(text)
    assert report.objects == 1
    assert report.findings == []


def test_placeholders_give_one_note_instead_of_type_errors(lint_text):
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${IMAGE}
        ports:
        - containerPort: ${PORT:-8080}
"""
    assert brief(lint_text(text)) == [("unrendered-placeholder", 6, 13, "spec.replicas")]
    assert "and 2 more" in lint_text(text).findings[0].message


def test_a_broken_file_does_not_stop_its_neighbours(tmp_path, lint_paths):
    (tmp_path / "a-broken.yaml").write_text("apiVersion: v1\nkind: Service\nspec: [\n")
    (tmp_path / "b-binary.yaml").write_bytes(b"\x00\x01\x02")
    (tmp_path / "c-good.yaml").write_text(SERVICE.format(name="web", port='"80"'))
    report = lint_paths(tmp_path)
    assert [(f.file.rsplit("/", 1)[-1], f.rule, f.line) for f in report.findings if f.severity == "error"] == [
        ("a-broken.yaml", "yaml-syntax", 4),
        ("b-binary.yaml", "yaml-encoding", 1),
        ("c-good.yaml", "schema", 7),
    ]
    assert report.files == 3


def test_findings_are_sorted_by_file_line_column_rule(lint_paths, tmp_path):
    (tmp_path / "b.yaml").write_text(SERVICE.format(name="b", port='"1"'))
    (tmp_path / "a.yaml").write_text(SERVICE.format(name="a", port='"1"') + "  - port: x\n")
    report = lint_paths(tmp_path)
    keys = [(f.file, f.line, f.column, f.rule) for f in report.findings if f.rule != "service-no-endpoints"]
    assert keys == sorted(keys)
    assert [(k[0].rsplit("/", 1)[-1], k[1], k[3]) for k in keys] == [
        ("a.yaml", 7, "service-port-name"),  # two ports, both unnamed: column 5
        ("a.yaml", 7, "schema"),  # the quoted port: column 11
        ("a.yaml", 8, "service-port-name"),
        ("a.yaml", 8, "schema"),
        ("b.yaml", 7, "schema"),
    ]


def test_removed_api_names_the_release_and_the_replacement(lint_text):
    text = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: nightly\nspec: {}\n"
    report = lint_text(text)
    assert brief(report) == [("removed-api", 1, 13, "apiVersion")]
    assert "removed in Kubernetes 1.25" in report.findings[0].message
    assert "batch/v1" in report.findings[0].message


def test_version_selection_follows_the_api_of_that_version(lint_text):
    pod = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  hostnameOverride: web-0
  containers:
  - name: c
    image: nginx
"""
    # PodSpec.hostnameOverride first appears in the 1.34 API
    assert brief(lint_text(pod, version="1.33")) == [("schema", 6, 3, "spec.hostnameOverride")]
    assert brief(lint_text(pod, version="1.34")) == []


def test_an_unreadable_file_is_a_finding(tmp_path, lint_paths, monkeypatch):
    import os

    (tmp_path / "a.yaml").write_text(SERVICE.format(name="a", port=80))
    (tmp_path / "b.yaml").write_text(SERVICE.format(name="b", port='"80"'))
    real_open = os.open

    def refuse_a(path, *args, **kwargs):  # as for a file without read permission (tests run as root)
        if str(path).endswith("a.yaml"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_a)
    report = lint_paths(tmp_path)
    assert [(f.rule, f.file.rsplit("/", 1)[-1], f.line) for f in report.findings if f.severity == "error"] == [
        ("file-unreadable", "a.yaml", 1),
        ("schema", "b.yaml", 7),
    ]
    assert "Permission denied" in report.findings[0].message
