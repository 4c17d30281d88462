"""`kubelint-svc graph`: the wiring of Services, workloads, Ingresses and StatefulSets, each
broken edge carrying the finding that breaks it; text, Mermaid, DOT and JSON, the last checked
against its schema, DOT by Graphviz and Mermaid by mermaid's own flowchart parser where installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, cli_in_process, has, needs, require

from kubelint_svc.app import Options, graph
from kubelint_svc.reporters import graph_formats
from kubelint_svc.units.helm_sdk import sdk_present

EXAMPLES = str(REPO / "examples")
SCHEMA = json.loads((REPO / "kubelint_svc" / "graph.schema.json").read_text())
MERMAID_HOME = Path(os.environ.get("KUBELINT_SVC_MERMAID", Path.home() / ".cache" / "kubelint-svc" / "mermaid"))

WIRED = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {name: http}}}
      - path: /old
        pathType: Prefix
        backend: {service: {name: gone, port: {number: 80}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 5353, protocol: TCP}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: postgres, ports: [{name: pg, containerPort: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: pg, port: 5432, targetPort: pg}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: external-1
  namespace: shop
  labels: {kubernetes.io/service-name: external}
addressType: IPv4
endpoints: [{addresses: [192.0.2.10]}]
ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: shop}
spec:
  ports: [{port: 443}]
"""


def edges_by_ends(drawn) -> dict[tuple[str, str], object]:
    return {(edge.source, edge.target): edge for edge in drawn.edges}


@pytest.mark.slow  # 0.3 s of CPU
def test_the_examples_graph():
    drawn, _ = graph(Options(paths=(EXAMPLES,)))
    edges = edges_by_ends(drawn)
    frontend = edges[("Service/shop/frontend", "Deployment/shop/frontend")]
    assert frontend.label == "80 → http (8080/TCP)"
    assert not frontend.broken
    checkout = edges[("Service/shop/checkout", "Deployment/shop/checkout")]
    assert checkout.broken
    assert checkout.label == "9000 → grpc (?/TCP)"
    assert [(p.rule, p.file, p.line) for p in checkout.problems] == [
        ("service-target-port-undefined", str(Path(EXAMPLES) / "shop" / "checkout.yaml"), 13)]
    catalog = edges[("Service/catalog/catalog", "Deployment/catalog/catalog")]  # built by kustomize
    assert catalog.label == "9000 → grpc (9000/TCP)"
    db = edges[("Service/default/db", "Pods/default/app=db")]  # an info doubts the edge, does not break it
    assert not db.broken
    assert [p.rule for p in db.problems] == ["service-selector-no-match"]
    assert drawn.nodes["Deployment/shop/legacy-worker"].ports == ()  # no Service: drawn alone


def test_ingress_statefulset_and_endpointslice_edges(tmp_path):
    (tmp_path / "app.yaml").write_text(WIRED)
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    edges = edges_by_ends(drawn)
    route = edges[("Ingress/shop/web", "Service/shop/web")]
    assert (route.kind, route.label, route.broken) == ("routes", "shop.example/ → http", False)
    dangling = edges[("Ingress/shop/web", "Service/shop/gone")]
    assert dangling.broken
    assert [(p.rule, p.line) for p in dangling.problems] == [("ingress-backend-service", 14)]
    assert drawn.nodes["Service/shop/gone"].missing
    web = edges[("Service/shop/web", "Deployment/shop/web")]
    assert web.label == "80 → http (8080/TCP), 53 → dns (?/UDP)"
    assert web.broken  # dns names a TCP port: the protocol mismatch breaks the edge
    assert "service-port-protocol-mismatch" in [p.rule for p in web.problems]
    governs = edges[("StatefulSet/shop/db", "Service/shop/db")]
    assert (governs.kind, governs.broken) == ("governs", False)
    assert edges[("EndpointSlice/shop/external-1", "Service/shop/external")].kind == "endpoints"
    assert drawn.nodes["Deployment/shop/web"].ports == ("http 8080/TCP", "dns 5353/TCP")


def test_a_governing_service_that_is_missing_breaks_the_edge(tmp_path):
    (tmp_path / "app.yaml").write_text(WIRED.replace("serviceName: db", "serviceName: postgres"))
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    edge = edges_by_ends(drawn)[("StatefulSet/shop/db", "Service/shop/postgres")]
    assert edge.broken
    assert [p.rule for p in edge.problems] == ["statefulset-service-name"]


@pytest.mark.slow  # 0.6 s of CPU
def test_filters(tmp_path):
    (tmp_path / "app.yaml").write_text(WIRED)
    broken, _ = graph(Options(paths=(str(tmp_path),)), only_broken=True)
    assert {(e.source, e.target) for e in broken.edges} == {
        ("Ingress/shop/web", "Service/shop/gone"), ("Service/shop/web", "Deployment/shop/web")}
    assert set(broken.nodes) == {"Ingress/shop/web", "Service/shop/gone", "Service/shop/web", "Deployment/shop/web"}
    focused, _ = graph(Options(paths=(str(tmp_path),)), focus="statefulset/db")
    assert set(focused.nodes) == {"StatefulSet/shop/db", "Service/shop/db"}
    examples, _ = graph(Options(paths=(EXAMPLES,)), namespace="catalog")
    assert set(examples.nodes) == {"Service/catalog/catalog", "Deployment/catalog/catalog"}


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return cli_in_process(monkeypatch, capsys, "graph", *args, cwd=REPO)


@pytest.fixture(scope="module")
def example_outputs() -> dict[str, str]:
    drawn, _ = graph(Options(paths=(EXAMPLES,)))
    return {"text": graph_formats.text(drawn), "mermaid": graph_formats.mermaid(drawn),
            "dot": graph_formats.dot(drawn), "json": graph_formats.json(drawn)}


@pytest.mark.slow  # 0.5 s of CPU in 4 cases
@pytest.mark.parametrize("output_format", ["text", "mermaid", "dot", "json"])
def test_every_format_on_the_command_line(monkeypatch, capsys, output_format):
    code, out, err = run_cli(monkeypatch, capsys, "examples", "--format", output_format)
    assert (code, err) == (0, "")
    assert "checkout" in out
    if output_format == "text":
        assert "  ✗ selects Deployment shop/checkout: 9000 → grpc (?/TCP)" in out
        assert "      error[service-target-port-undefined] examples/shop/checkout.yaml:13: " in out
        # examples/helm/web adds its Service, its Deployment and the edge when the helm extra renders it
        assert out.endswith("\n17 nodes, 7 edges, 1 broken.\n" if sdk_present() else "\n15 nodes, 6 edges, 1 broken.\n")


def test_json_validates_against_its_schema(example_outputs, tmp_path):
    jsonschema.validate(json.loads(example_outputs["json"]), SCHEMA)
    (tmp_path / "app.yaml").write_text(WIRED)
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    document = json.loads(graph_formats.json(drawn))
    jsonschema.validate(document, SCHEMA)
    ids = {node["id"] for node in document["nodes"]}
    assert all(edge["source"] in ids and edge["target"] in ids for edge in document["edges"])


@pytest.mark.slow  # 0.3 s of CPU
def test_an_unknown_focus_is_a_usage_error(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "examples", "--focus", "service/frontnd")
    assert (code, out) == (2, "")
    assert err == ("kubelint-svc: error: --focus 'service/frontnd' names nothing in the graph; did you mean "
                   "'service/frontend'?\n")
    code, _, err = run_cli(monkeypatch, capsys, "examples", "--format", "svg")
    assert code == 2
    assert err.count("\n") == 1


HOSTILE = [
    'web"] --> evil["pwned',
    "web\n  click n0 call alert(1)",
    "%%{init: {'securityLevel': 'loose'}}%%",
    "<img src=x onerror=alert(1)>",
    "`**bold**`",
    'a\\" ; evil -> n0 [label="x',
    "#quot;#35;;",
]


def hostile_graph(tmp_path: Path):
    documents = []
    for i, name in enumerate(HOSTILE):
        documents.append(json.dumps({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "n"},
            "spec": {"selector": {"app": f"x{i}"}, "ports": [{"name": name, "port": 80, "targetPort": name}]}}))
        documents.append(json.dumps({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"d{i}", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": f"x{i}"}}, "template": {
                "metadata": {"labels": {"app": f"x{i}"}},
                "spec": {"containers": [{"name": "c", "image": "i",
                                         "ports": [{"name": name, "containerPort": 81}]}]}}}}))
    (tmp_path / "hostile.yaml").write_text("\n---\n".join(documents) + "\n")
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    assert len(drawn.edges) == len(HOSTILE)
    return drawn


MERMAID_LINE = re.compile(
    r'^(flowchart LR|  n\d+\["[^"`<>%\n]*"\]|  n\d+ (-->|-\.->)\|"[^"`<>%\n]*"\| n\d+'
    r"|  classDef (missing|broken) [a-z:#0-9 ,-]+|  class (n\d+,?)+ (missing|broken)"
    r"|  linkStyle [\d,]+ [a-z:#0-9 ,-]+)$"
)


def test_hostile_names_stay_inside_their_mermaid_labels(tmp_path):
    drawn = hostile_graph(tmp_path)
    text = graph_formats.mermaid(drawn)
    for line in text.splitlines():
        assert MERMAID_LINE.match(line.replace("<br/>", "")), line
    assert "%%" not in text
    assert not re.search(r"^\s*click\b", text, re.M)


def test_hostile_names_stay_inside_their_dot_strings(tmp_path):
    drawn = hostile_graph(tmp_path)
    text = graph_formats.dot(drawn)
    statements = text.splitlines()[4:-1]
    assert len(statements) == len(drawn.nodes) + len(drawn.edges)  # one statement a line, none injected
    for line in statements:
        assert re.match(r'^  n\d+( -> n\d+)? \[label="([^"\\\n]|\\.)*"[^"]*("[^"]*"[^"]*)*\];$', line), line
    if has("Graphviz's dot", shutil.which("dot") is not None, system=True):
        parsed = json.loads(subprocess.run(["dot", "-Tjson0"], input=text, capture_output=True, text=True,
                                           check=True, timeout=30).stdout)
        assert len(parsed["objects"]) == len(drawn.nodes)
        assert len(parsed["edges"]) == len(drawn.edges)
        labels = {o["label"] for o in parsed["objects"]}
        assert any(HOSTILE[0] in label for label in labels)  # the name as written, quotes and all


def test_text_and_json_keep_hostile_names_on_one_line(tmp_path):
    drawn = hostile_graph(tmp_path)
    out = graph_formats.text(drawn)
    assert "\nclick" not in out
    assert "\\n  click n0" in out
    document = json.loads(graph_formats.json(drawn))
    assert {n["name"] for n in document["nodes"]} >= set(HOSTILE)


@needs("Graphviz's dot", shutil.which("dot") is not None, system=True)
def test_dot_parses_with_graphviz(example_outputs):
    result = subprocess.run(["dot", "-Tjson0"], input=example_outputs["dot"], capture_output=True, text=True,
                            check=False, timeout=30)
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    drawn = json.loads(example_outputs["json"])
    assert len(parsed["objects"]) == len(drawn["nodes"])
    assert len(parsed["edges"]) == len(drawn["edges"])


@pytest.fixture(scope="module")
def mermaid_parser(tmp_path_factory) -> Path:
    """mermaid's flowchart parser, run by node: from KUBELINT_SVC_MERMAID or the user cache, else
    installed there from npm; the tests skip where node, npm or the registry is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require("node", node is not None, system=True)
    if not (MERMAID_HOME / "node_modules" / "mermaid").is_dir():
        require("npm", npm is not None, system=True)
        MERMAID_HOME.mkdir(parents=True, exist_ok=True)
        try:
            result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(MERMAID_HOME),
                                     "mermaid@11"], capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            require("mermaid from npm (npm install timed out)", False, system=True)
        if result.returncode != 0:
            require(f"mermaid from npm (npm install failed: {result.stderr.strip()[-200:]})", False, system=True)
    script = MERMAID_HOME / "kubelint-svc-check.mjs"  # beside node_modules, so `import "mermaid"` resolves
    script.write_text((REPO / "tests" / "mermaid_check.mjs").read_text())
    return script


def parse_mermaid(script: Path, text: str, tmp_path: Path) -> dict:
    source = tmp_path / "graph.mmd"
    source.write_text(text)
    result = subprocess.run(["node", str(script), str(source)], capture_output=True, text=True, timeout=60,
                            check=False)
    if "Cannot find" in result.stderr or "ERR_MODULE_NOT_FOUND" in result.stderr:
        require(f"mermaid's parser ({result.stderr.strip()[-200:]})", False, system=True)
    return json.loads(result.stdout)


@pytest.mark.slow  # node starts mermaid once a test (about a second), after an npm install on first use
def test_mermaid_parses_with_mermaids_own_parser(mermaid_parser, example_outputs, tmp_path):
    parsed = parse_mermaid(mermaid_parser, example_outputs["mermaid"], tmp_path)
    assert parsed["ok"], parsed
    drawn = json.loads(example_outputs["json"])
    assert len(parsed["vertices"]) == len(drawn["nodes"])
    assert len(parsed["edges"]) == len(drawn["edges"])
    broken = [e for e in parsed["edges"] if e["stroke"] == "dotted"]
    assert len(broken) == 1
    assert "service-target-port-undefined " + str(Path(EXAMPLES, "shop", "checkout.yaml")) + ":13" in broken[0]["text"]
    bad = parse_mermaid(mermaid_parser, "flowchart LR\n  a --> \n", tmp_path)
    assert not bad["ok"]  # the parser does reject what is not a flowchart


@pytest.mark.slow
def test_hostile_mermaid_parses_to_the_same_graph(mermaid_parser, tmp_path):
    drawn = hostile_graph(tmp_path)
    parsed = parse_mermaid(mermaid_parser, graph_formats.mermaid(drawn), tmp_path)
    assert parsed["ok"], parsed
    assert len(parsed["vertices"]) == len(drawn.nodes)
    assert len(parsed["edges"]) == len(drawn.edges)
    assert parsed["interactions"] == []
    assert parsed["directives"] == 0
    assert set(parsed["classes"]) <= {"missing", "broken"}


def test_the_job_summary_draws_the_broken_part_bounded(tmp_path):
    documents = [json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"},
                             "spec": {"selector": {"app": f"nothing{i}"}, "ports": [{"port": 80}]}})
                 for i in range(120)]
    documents.append(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "p"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}))
    (tmp_path / "many.yaml").write_text("\n---\n".join(documents) + "\n")
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    assert len(drawn.broken_edges()) == 120
    summary = graph_formats.summary_markdown(drawn)
    assert summary.startswith("### Broken wiring\n\n```mermaid\nflowchart LR\n")
    drawn_edges = summary.count("-.->|")
    assert drawn_edges == graph_formats.SUMMARY_EDGES
    assert len(summary) < graph_formats.SUMMARY_CHARACTERS + 500
    assert f"{drawn_edges} of 120 broken edges drawn" in summary
    clean, _ = graph(Options(paths=(EXAMPLES + "/kustomize",)))
    assert graph_formats.summary_markdown(clean) == ""


@needs("the helm extra (examples/helm is drawn rendered)", sdk_present())
def test_the_readme_picture_is_drawn_from_the_current_output(monkeypatch):
    """docs/graph-examples.svg is drawn from docs/graph-examples.dot: regenerate both with
    `python scripts/gen_graph_picture.py` when this fails."""
    monkeypatch.chdir(REPO)
    drawn, _ = graph(Options(paths=("examples",)))
    assert graph_formats.dot(drawn) == (REPO / "docs" / "graph-examples.dot").read_text()
    assert (REPO / "docs" / "graph-examples.svg").read_text().count("<g id=\"edge") == len(drawn.edges)


def test_custom_resources_that_may_create_pods_are_nodes(tmp_path):
    (tmp_path / "app.yaml").write_text(
        "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg, namespace: db}\nspec: {instances: 3}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: pg-rw, namespace: db}\n"
        "spec:\n  selector: {cnpg.io/cluster: pg}\n  ports: [{port: 5432}]\n")
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    assert "Cluster/db/pg" in drawn.nodes
    edge = edges_by_ends(drawn)[("Service/db/pg-rw", "Pods/db/cnpg.io/cluster=pg")]
    assert not edge.broken  # the operator may create them: an info, not a break


def test_the_action_summary_gets_the_broken_wiring(monkeypatch):
    from kubelint_svc.app import lint
    from kubelint_svc.github_action import broken_wiring

    monkeypatch.chdir(REPO)
    summary = broken_wiring(lint(Options(paths=("examples/shop",))))
    assert "```mermaid\nflowchart LR\n" in summary
    assert "service-target-port-undefined examples/shop/checkout.yaml:13" in summary
    assert broken_wiring(lint(Options(paths=("examples/kustomize",)))) == ""


def test_a_port_finding_breaks_only_the_edge_to_the_workload_it_misses(tmp_path):
    deployment = WIRED.split("---\n")[2]
    other = deployment.replace("name: web, namespace", "name: web-canary, namespace").replace(
        "- {name: http, containerPort: 8080}", "- {name: web, containerPort: 8080}")
    service = ("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
               "spec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: http}]\n")
    (tmp_path / "app.yaml").write_text("---\n".join([service, deployment, other]))
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    edges = edges_by_ends(drawn)
    assert not edges[("Service/shop/web", "Deployment/shop/web")].broken
    missed = edges[("Service/shop/web", "Deployment/shop/web-canary")]
    assert missed.label == "80 → http (?/TCP)"
    assert missed.broken
    assert [(p.rule, p.severity, p.field) for p in missed.problems] == [
        ("service-selector-ambiguous", "info", "spec.selector"),  # about the Service: on every edge
        ("service-target-port-undefined", "warning", "spec.ports[0].targetPort")]


def test_a_custom_resources_kind_cannot_start_a_workflow_command_in_the_text(tmp_path):
    (tmp_path / "cr.yaml").write_text('apiVersion: example.com/v1\nkind: "::error file=x,line=1::forged"\n'
                                      "metadata: {name: cr1, namespace: ns}\n")
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    out = graph_formats.text(drawn)
    assert "forged ns/cr1" in out
    assert not any(line.lstrip().startswith(("::", "##[")) for line in out.splitlines()), out


@pytest.mark.slow  # 0.3 s of CPU
def test_the_text_of_thousands_of_objects_is_drawn_in_linear_time():
    from kubelint_svc.graph import Edge, Graph, Node

    nodes = {f"Service/n/s{i}": Node(f"Service/n/s{i}", "Service", "n", f"s{i}", "f.yaml", i) for i in range(20_000)}
    edges = [Edge(f"Service/n/s{i}", f"Service/n/s{i + 1}", "selects", "80 → 80/TCP") for i in range(19_999)]
    import time

    started = time.perf_counter()
    out = graph_formats.text(Graph(nodes, edges))
    assert time.perf_counter() - started < 2  # one pass over the edges, not one a node (20,000² steps)
    assert out.endswith("20000 nodes, 19999 edges, 0 broken.\n")


def test_the_same_name_in_two_folders_is_two_nodes_each_with_its_own_findings(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    app = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i, ports: [{name: PORT, containerPort: 8080}]}]}
"""
    (tmp_path / "a" / "app.yaml").write_text(app.replace("PORT", "http"))
    (tmp_path / "b" / "app.yaml").write_text(app.replace("PORT", "www"))
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    services = [n for n in drawn.nodes.values() if n.kind == "Service"]
    assert [Path(n.file).parent.name for n in services] == ["a", "b"]
    assert services[1].id == f"Service/default/web@{services[1].file}:1"
    edges = {Path(drawn.nodes[e.source].file).parent.name: e for e in drawn.edges}
    assert not edges["a"].broken
    assert edges["a"].problems == ()
    assert edges["b"].broken
    assert [Path(p.file).parent.name for p in edges["b"].problems] == ["b"]
    assert Path(drawn.nodes[edges["b"].target].file).parent.name == "b"  # to its own Deployment
    document = json.loads(graph_formats.json(drawn))
    jsonschema.validate(document, SCHEMA)
    assert len({n["id"] for n in document["nodes"]}) == 4



def test_the_job_summary_stays_bounded_whatever_the_names_and_the_findings(tmp_path):
    ports = [{"name": f"p{i}", "port": 1000 + i, "targetPort": f"x{i}"} for i in range(300)]
    documents = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": '"' * 20_000},
         "spec": {"selector": {"app": "a"}, "ports": ports}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p" * 5000, "labels": {"app": "a"}},
         "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 1}]}]}},
    ]
    (tmp_path / "x.yaml").write_text("\n---\n".join(json.dumps(d) for d in documents) + "\n")
    drawn, _ = graph(Options(paths=(str(tmp_path),)))
    assert len(drawn.broken_edges()) == 1
    assert len(drawn.edges[0].problems) == 300
    summary = graph_formats.summary_markdown(drawn)
    assert len(summary) < graph_formats.SUMMARY_CHARACTERS
    assert summary.count("-.->|") == 1
    assert "... 295 more findings" in summary.replace("#46;", ".")
    for line in summary.split("```mermaid\n")[1].split("```")[0].splitlines():
        assert MERMAID_LINE.match(line.replace("<br/>", "")), line[:200]


@pytest.mark.parametrize("focus", ["svc/checkout", "deploy/checkout", "Deployments/checkout", "service/checkout"])
def test_focus_takes_kubectls_names_for_kinds(focus):
    drawn, _ = graph(Options(paths=(EXAMPLES,)), focus=focus)
    assert sorted(n.id for n in drawn.nodes.values()) == ["Deployment/shop/checkout", "Service/shop/checkout"]


def test_documents_that_cannot_be_read_are_said_with_their_place(monkeypatch, capsys, tmp_path):
    (tmp_path / "d.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: deep}\nx: " + "[" * 500 + "]" * 500
                                     + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s\n")
    code, out, err = run_cli(monkeypatch, capsys, str(tmp_path))
    assert (code, out) == (0, "0 nodes, 0 edges, 0 broken.\n")  # was: that line alone, not a word on why
    place = f"kubelint-svc: warning: {tmp_path / 'd.yaml'}"
    assert err.splitlines() == [
        f"{place}:4:203: document nests deeper than 200 levels [yaml-limit-exceeded]; not drawn",
        (f"{place}:9:1: YAML syntax error: while parsing a flow mapping did not find expected ',' or '}}' "
         "[yaml-syntax]; not drawn"),
    ]


def test_focus_on_a_long_chain_stays_linear():
    import itertools
    import time

    from kubelint_svc.graph import Edge, Graph, Node, filtered

    ids = [f"StatefulSet/n/s{i}" for i in range(20_000)]
    nodes = {i: Node(i, "StatefulSet", "n", i.rsplit("/", 1)[1], "f.yaml", 1) for i in ids}
    edges = [Edge(a, b, "governs", "serviceName") for a, b in itertools.pairwise(ids)]
    started = time.perf_counter()
    focused = filtered(Graph(nodes, edges), focus="statefulset/s0")
    assert time.perf_counter() - started < 2  # was one scan of every edge a step: 20,000² for this chain
    assert len(focused.nodes) == 20_000


@pytest.mark.slow  # 0.3 s of CPU
def test_a_mermaid_text_too_long_to_be_drawn_is_said(monkeypatch, capsys, tmp_path):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}},
           "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}
    documents = [json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"},
                             "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}) for i in range(800)]
    (tmp_path / "many.yaml").write_text("\n---\n".join([*documents, json.dumps(pod)]) + "\n")
    code, out, err = run_cli(monkeypatch, capsys, str(tmp_path), "-f", "mermaid")
    assert code == 0
    assert len(out) > graph_formats.MERMAID_MAX_TEXT
    assert err == (f"kubelint-svc: warning: the Mermaid text is {len(out):,} characters; mermaid (and GitHub) draw at "
                   "most 50,000: narrow it with --focus, --namespace or --only-broken, or use --format dot\n")
    code, out, err = run_cli(monkeypatch, capsys, str(tmp_path), "-f", "mermaid", "--only-broken")
    assert (code, err) == (0, "")
