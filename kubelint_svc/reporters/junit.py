"""JUnit XML as GitLab and Jenkins show it: a test suite per file, a test case per object;
findings at or above --fail-on are failures, the rest are printed with the test case."""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree

from kubelint_svc.findings import Finding, Report, at_or_above
from kubelint_svc.reporters.escaping import not_a_command, visible, xml_text

FILE_LEVEL = "(file)"


def _safe(text: str) -> str:
    return xml_text(visible(text))


def _line(finding: Finding) -> str:
    return not_a_command(xml_text(
        visible(f"{finding.file}:{finding.line}:{finding.column}: {finding.severity}[{finding.rule}] {finding.text}")
    ))


def render(report: Report, fail_on: str) -> str:
    cases: dict[str, dict[str, list[Finding]]] = defaultdict(dict)
    for file, ref in report.object_refs:
        cases[_safe(file)].setdefault(_safe(ref.describe()), [])
    for finding in report.findings:
        name = _safe(finding.object.describe()) if finding.object else FILE_LEVEL
        cases[_safe(finding.file)].setdefault(name, []).append(finding)
    root = ElementTree.Element("testsuites", name="kubelint-svc")
    total_tests = total_failures = 0
    for file in sorted(cases):
        suite = ElementTree.SubElement(root, "testsuite", name=file)
        failures = 0
        for name, findings in cases[file].items():
            case = ElementTree.SubElement(suite, "testcase", classname=file, name=name, file=file)
            failing = [f for f in findings if at_or_above(f.severity, fail_on)]
            for finding in failing:
                failure = ElementTree.SubElement(
                    case, "failure", type=_safe(finding.rule), message=_safe(finding.text)
                )
                failure.text = _line(finding)
            rest = [f for f in findings if f not in failing]
            if rest:
                ElementTree.SubElement(case, "system-out").text = "\n".join(_line(f) for f in rest)
            failures += bool(failing)
        suite.set("tests", str(len(cases[file])))
        suite.set("failures", str(failures))
        total_tests += len(cases[file])
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
