"""The `schema` rule: the bundled Kubernetes schema, reported at the field the user wrote."""

from conftest import brief

SERVICE_WITH_TYPO = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selecter:
    app: web
  ports:
  - port: "80"
"""


def test_unknown_field_and_wrong_type_are_reported_at_their_positions(lint_text):
    report = lint_text(SERVICE_WITH_TYPO)
    assert brief(report) == [
        ("schema", 6, 3, "spec.selecter"),
        ("schema", 9, 11, "spec.ports[0].port"),
    ]
    first = next(f for f in report.findings if f.rule == "schema")
    assert first.help == ("did you mean 'selector'?",)
    assert first.object.kind == "Service"
    assert first.object.name == "web"


def test_a_valid_service_has_no_findings(lint_text):
    fixed = SERVICE_WITH_TYPO.replace("selecter", "selector").replace('"80"', "80")
    assert [f for f in lint_text(fixed).findings if f.rule == "schema" or f.severity == "error"] == []
