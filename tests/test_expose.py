"""`kubelint-svc expose`: the Service `kubectl expose --dry-run=client -o yaml` writes, offline.

Each expected Service is written from kubectl's source (pkg/cmd/expose/expose.go createService
and RunExpose; pkg/polymorphichelpers: MapBasedSelectorForObject, PortsForObject,
MultiProtocolsForObject): the selector from matchLabels, ports from the regular containers'
containerPorts (duplicates dropped), named `port-N` only when there are several, targetPort equal
to the port unless --target-port, protocols per port, labels copied from the object's metadata.
kubectl leaves out nothing else but `creationTimestamp: null` and `status: {loadBalancer: {}}`,
which a manifest does not need."""

from __future__ import annotations

import json

import pytest
from conftest import cli_in_process

from kubelint_svc.app import Options
from kubelint_svc.app import lint as run_lint

HELLO = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld-deployment
spec:
  replicas: 3
  selector:
    matchLabels:
      app: helloworld
  template:
    metadata:
      labels:
        app: helloworld
    spec:
      containers:
      - name: k8s-demo
        image: wardviaene/k8s-demo
        ports:
        - name: nodejs-port
          containerPort: 3000
"""

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, team: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - {name: http, containerPort: 8080}
        - {name: metrics, containerPort: 9090}
      - name: sidecar
        image: envoy
        ports:
        - {name: http-again, containerPort: 8080}
"""

DNS = """\
apiVersion: v1
kind: Pod
metadata:
  name: dns
  labels: {app: dns}
spec:
  containers:
  - name: dns
    image: coredns
    ports:
    - {containerPort: 53, protocol: UDP}
    - {containerPort: 53, protocol: TCP}
    - {containerPort: 9153}
"""


def expose(monkeypatch, capsys, tmp_path, manifest: str, *args: str) -> tuple[int, str, str]:
    """The command line in this process, on one file holding manifest."""
    (tmp_path / "app.yaml").write_text(manifest)
    return cli_in_process(monkeypatch, capsys, "expose", *args, cwd=tmp_path)


def service(monkeypatch, capsys, tmp_path, manifest: str, *args: str) -> dict:
    code, out, err = expose(monkeypatch, capsys, tmp_path, manifest, *args, "-o", "json")
    assert code == 0, err
    return json.loads(out)


def test_the_tutorial_nodeport_service_in_front_of_helloworld(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment",
                            "--type", "NodePort", "--port", "31001", "--target-port", "nodejs-port",
                            "--node-port", "31001", "--name", "helloworld-service")
    assert (code, err) == (0, "")
    assert out == """\
apiVersion: v1
kind: Service
metadata:
  name: helloworld-service
spec:
  ports:
  - nodePort: 31001
    port: 31001
    protocol: TCP
    targetPort: nodejs-port
  selector:
    app: helloworld
  type: NodePort
"""


def test_defaults_name_selector_labels_and_one_unnamed_port(monkeypatch, capsys, tmp_path):
    # kubectl: name from the object, selector from matchLabels, labels from metadata.labels (none
    # here), the one containerPort as port and targetPort, protocol TCP, no port name
    assert service(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment") == {
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "helloworld-deployment"},
        "spec": {"ports": [{"protocol": "TCP", "port": 3000, "targetPort": 3000}],
                 "selector": {"app": "helloworld"}},
    }


def test_several_container_ports_become_port_n_and_repeats_are_dropped(monkeypatch, capsys, tmp_path):
    # getPorts drops the sidecar's second 8080; several ports are named port-1, port-2 whatever
    # the containers call them; labels are the Deployment's own, not its template's
    found = service(monkeypatch, capsys, tmp_path, WEB, "deploy/web")
    assert found["metadata"] == {"name": "web", "labels": {"app": "web", "team": "shop"}}
    assert found["spec"]["ports"] == [
        {"name": "port-1", "protocol": "TCP", "port": 8080, "targetPort": 8080},
        {"name": "port-2", "protocol": "TCP", "port": 9090, "targetPort": 9090},
    ]
    assert found["spec"]["selector"] == {"app": "web"}


def test_a_port_with_two_protocols_gets_one_service_port_each(monkeypatch, capsys, tmp_path):
    # createService: a port listed with several protocols is named port-N-<protocol>
    found = service(monkeypatch, capsys, tmp_path, DNS, "pod/dns")
    assert found["spec"]["ports"] == [
        {"name": "port-1-udp", "protocol": "UDP", "port": 53, "targetPort": 53},
        {"name": "port-1-tcp", "protocol": "TCP", "port": 53, "targetPort": 53},
        {"name": "port-2", "protocol": "TCP", "port": 9153, "targetPort": 9153},
    ]
    assert found["spec"]["selector"] == {"app": "dns"}  # a Pod's own labels


def test_protocol_flag_wins_over_the_containers(monkeypatch, capsys, tmp_path):
    found = service(monkeypatch, capsys, tmp_path, DNS, "pod/dns", "--protocol", "UDP", "--port", "53")
    assert found["spec"]["ports"] == [{"protocol": "UDP", "port": 53, "targetPort": 53}]


def test_port_flag_takes_the_protocol_of_the_container_port_it_names(monkeypatch, capsys, tmp_path):
    udp_only = DNS.replace("    - {containerPort: 53, protocol: TCP}\n", "")
    found = service(monkeypatch, capsys, tmp_path, udp_only, "pod/dns", "--port", "53")
    assert found["spec"]["ports"] == [{"protocol": "UDP", "port": 53, "targetPort": 53}]


def test_several_ports_in_the_port_flag(monkeypatch, capsys, tmp_path):
    found = service(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment", "--port", "80,443",
                    "--target-port", "3000")
    assert found["spec"]["ports"] == [
        {"name": "port-1", "protocol": "TCP", "port": 80, "targetPort": 3000},
        {"name": "port-2", "protocol": "TCP", "port": 443, "targetPort": 3000},
    ]


@pytest.mark.parametrize(("given", "expected"), [("8080", 8080), ("http", "http")])
def test_target_port_is_a_number_or_kept_by_name(monkeypatch, capsys, tmp_path, given, expected):
    found = service(monkeypatch, capsys, tmp_path, WEB, "deploy/web", "--port", "80", "--target-port", given)
    assert found["spec"]["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": expected}]


@pytest.mark.parametrize(("flags", "spec_part"), [
    (("--type", "LoadBalancer"), {"type": "LoadBalancer"}),
    (("--type", "ClusterIP"), {"type": "ClusterIP"}),
    (("--cluster-ip", "None"), {"clusterIP": "None"}),
    (("--cluster-ip", "10.0.0.10"), {"clusterIP": "10.0.0.10"}),
    (("--external-ip", "192.0.2.7"), {"externalIPs": ["192.0.2.7"]}),
    (("--session-affinity", "ClientIP"), {"sessionAffinity": "ClientIP"}),
    (("--session-affinity", "None"), {"sessionAffinity": "None"}),
    (("--selector", "app=helloworld,track=stable"), {"selector": {"app": "helloworld", "track": "stable"}}),
])
def test_spec_flags(monkeypatch, capsys, tmp_path, flags, spec_part):
    tracked = HELLO.replace("      labels:\n        app: helloworld\n",
                            "      labels:\n        app: helloworld\n        track: stable\n")
    found = service(monkeypatch, capsys, tmp_path, tracked, "deployment/helloworld-deployment", *flags)
    for key, value in spec_part.items():
        assert found["spec"][key] == value


def test_metadata_flags(monkeypatch, capsys, tmp_path):
    found = service(monkeypatch, capsys, tmp_path, WEB, "deploy/web", "--name", "web-public", "--labels",
                    "app=web,exposed=yes", "-n", "default")
    assert found["metadata"] == {"name": "web-public", "namespace": "default",
                                 "labels": {"app": "web", "exposed": "yes"}}


def test_a_long_name_is_cut_to_63_characters(monkeypatch, capsys, tmp_path):
    name = "a" * 70
    found = service(monkeypatch, capsys, tmp_path, HELLO.replace("helloworld-deployment", name), f"deploy/{name}")
    assert found["metadata"]["name"] == "a" * 63


def test_exposing_a_service_copies_its_selector_and_port_numbers(monkeypatch, capsys, tmp_path):
    existing = HELLO + """\
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  selector: {app: helloworld}
  ports:
  - {name: web, port: 80, targetPort: nodejs-port}
"""
    code, out, err = expose(monkeypatch, capsys, tmp_path, existing, "svc/hello", "--name", "hello-2", "-o", "json")
    assert code == 0
    # kubectl's targetPort is the port (80), not the Service's own targetPort: the self-check says so
    assert json.loads(out)["spec"] == {"ports": [{"protocol": "TCP", "port": 80, "targetPort": 80}],
                                       "selector": {"app": "helloworld"}}
    assert "service-target-port-not-exposed" in err


def test_yaml_quotes_what_yaml_1_1_would_misread(monkeypatch, capsys, tmp_path):
    code, out, _ = expose(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment", "--labels",
                          "on=yes,v=1.0,x=")
    assert code == 0
    assert '  labels:\n    "on": "yes"\n    v: "1.0"\n    x: ""\n' in out


def test_output_file_and_append(monkeypatch, capsys, tmp_path):
    target = tmp_path / "services.yaml"
    code, out, _ = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--output-file",
                          str(target))
    assert (code, out) == (0, "")
    first = target.read_text()
    code, _, _ = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--name", "two",
                        "--output-file", str(target), "--append")
    assert code == 0
    assert target.read_text() == first + "---\n" + first.replace("name: helloworld-deployment", "name: two")


@pytest.mark.parametrize(("manifest", "args", "message"), [
    (HELLO.replace("    matchLabels:\n      app: helloworld\n",
                   "    matchExpressions:\n    - {key: app, operator: In, values: [helloworld]}\n"),
     ("deploy/helloworld-deployment",),
     ("couldn't retrieve selectors via --selector flag or introspection: invalid deployment: no selectors, "
     "therefore cannot be exposed")),
    (HELLO.replace("    matchLabels:\n      app: helloworld\n",
                   "    matchLabels: {app: helloworld}\n"
                   "    matchExpressions:\n    - {key: tier, operator: In, values: [a, b]}\n"),
     ("deploy/helloworld-deployment",),
     ("couldn't retrieve selectors via --selector flag or introspection: couldn't convert expressions - "
     '"[{Key:tier Operator:In Values:[a b]}]" to map-based selector format')),
    (DNS.replace("  labels: {app: dns}\n", ""), ("pod/dns",),
     ("couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be "
     "exposed")),
    (HELLO.replace("        ports:\n        - name: nodejs-port\n          containerPort: 3000\n", ""),
     ("deploy/helloworld-deployment",), "couldn't find port via --port flag or introspection"),
    (HELLO, ("deploy/helloworld-deployment", "--type", "NodePort", "--node-port", "80"),
     "--node-port 80 is outside the node port range 30000-32767 (--node-port-range)"),
    (HELLO, ("deploy/helloworld-deployment", "--type", "NodePort", "--node-port", "31001", "--node-port-range",
             "20000-30000"), "--node-port 31001 is outside the node port range 20000-30000"),
    (HELLO, ("deploy/helloworld-deployment", "--node-port", "31001"), "--node-port needs --type NodePort"),
    (HELLO, ("deploy/helloworld-deployment", "--type", "ExternalName"), "--type 'ExternalName' must be one of"),
    (HELLO, ("deploy/helloworld-deployment", "--session-affinity", "Sticky"), "unknown session affinity: Sticky"),
    (HELLO, ("deploy/helloworld-deployment", "--labels", "a"), "--labels: unexpected label spec: a"),
    (HELLO, ("deploy/helloworld-deployment", "--port", "http"), "--port 'http' must be a port number"),
    (HELLO, ("job/helloworld-deployment",), "cannot expose a 'job'"),
    (HELLO, ("helloworld-deployment",), "must be KIND/NAME"),
    (HELLO, ("deploy/helloworld",),
     ("Deployment helloworld not found; did you mean 'deployment/helloworld-deployment'?; found: "
     "deployment/helloworld-deployment")),
    (HELLO + "---\n" + HELLO.replace("metadata:\n  name: helloworld-deployment\n",
                                     "metadata:\n  name: helloworld-deployment\n  namespace: prod\n"),
     ("deploy/helloworld-deployment",), "choose one with -n NAMESPACE"),
])
def test_what_kubectl_refuses_is_one_line_and_exit_code_2(monkeypatch, capsys, tmp_path, manifest, args, message):
    code, out, err = expose(monkeypatch, capsys, tmp_path, manifest, *args)
    assert (code, out) == (2, "")
    assert err.startswith("kubelint-svc: error: ")
    assert err.count("\n") == 1
    assert message in err


def test_namespace_picks_one_of_two(monkeypatch, capsys, tmp_path):
    prod = HELLO.replace("metadata:\n  name: helloworld-deployment\n",
                         "metadata:\n  name: helloworld-deployment\n  namespace: prod\n")
    staging = prod.replace("namespace: prod", "namespace: staging")
    found = service(monkeypatch, capsys, tmp_path, staging + "---\n" + prod, "deploy/helloworld-deployment",
                    "-n", "prod")
    assert found["metadata"]["namespace"] == "prod"


TEMPLATE_SPEC = """\
    metadata:
      labels: {app: NAME}
    spec:
      containers:
      - name: main
        image: example/app:1
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 5353, protocol: UDP}"""
WORKLOADS = {
    "deployment": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: NAME, labels: {app: NAME}}\n"
                  "spec:\n  selector: {matchLabels: {app: NAME}}\n  template:\n" + TEMPLATE_SPEC,
    "replicaset": "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: NAME}\n"
                  "spec:\n  selector: {matchLabels: {app: NAME}}\n  template:\n" + TEMPLATE_SPEC,
    "replicationcontroller": "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: NAME}\n"
                             "spec:\n  selector: {app: NAME}\n  template:\n" + TEMPLATE_SPEC,
    "statefulset": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: NAME}\n"
                   "spec:\n  serviceName: NAME\n  selector: {matchLabels: {app: NAME}}\n  template:\n"
                   + TEMPLATE_SPEC,
    "daemonset": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: NAME}\n"
                 "spec:\n  selector: {matchLabels: {app: NAME}}\n  template:\n" + TEMPLATE_SPEC,
    "pod": "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME, labels: {app: NAME}}\nspec:\n"
           + "\n".join(line[4:] for line in TEMPLATE_SPEC.split("\n")[3:]),
}


@pytest.mark.slow  # 2.5 s of CPU in 24 cases
@pytest.mark.parametrize("kind", sorted(WORKLOADS))
@pytest.mark.parametrize("flags", [(), ("--type", "NodePort"), ("--port", "80", "--target-port", "http"),
                                   ("--cluster-ip", "None")])
def test_what_expose_writes_lints_clean_beside_its_workload(monkeypatch, capsys, tmp_path, kind, flags):
    workload = WORKLOADS[kind].replace("NAME", "app") + "\n"
    services = []
    if kind == "statefulset" and flags and flags[0] != "--cluster-ip":  # beside its governing (headless) Service
        code, out, err = expose(monkeypatch, capsys, tmp_path, workload, f"{kind}/app")
        assert (code, err) == (0, "")
        assert "clusterIP: None" in out
        services.append(out)
        flags = (*flags, "--name", "app-public")
    code, out, err = expose(monkeypatch, capsys, tmp_path, workload, f"{kind}/app", *flags)
    assert (code, err) == (0, "")
    services.append(out)
    (tmp_path / "service.yaml").write_text("---\n".join(services))
    outcome = run_lint(Options(paths=(str(tmp_path),)))
    assert [f"{f.file}:{f.line} {f.rule}: {f.message}" for f in outcome.report.findings] == []
    assert outcome.report.objects == 1 + len(services)


def test_a_statefulsets_governing_service_is_headless(monkeypatch, capsys, tmp_path):
    workload = WORKLOADS["statefulset"].replace("NAME", "db") + "\n"
    assert service(monkeypatch, capsys, tmp_path, workload, "sts/db")["spec"]["clusterIP"] == "None"
    code, _, err = expose(monkeypatch, capsys, tmp_path, workload, "sts/db", "--type", "NodePort")
    assert code == 2
    assert "governing Service (spec.serviceName), which must be headless" in err


@pytest.mark.slow  # 0.2 s of CPU
def test_a_kustomize_build_is_exposed_as_the_lint_sees_it(monkeypatch, capsys):
    # examples/kustomize/base: the selector and labels come from commonLabels, the namespace
    # from the kustomization; none of them is written in deployment.yaml
    from conftest import REPO

    code, out, err = cli_in_process(monkeypatch, capsys, "expose", "deployment/catalog", "examples/kustomize",
                                    "-o", "json", cwd=REPO)
    assert (code, err) == (0, ("kubelint-svc: warning: Service catalog is already defined in namespace catalog "
                              "(examples/kustomize/base/service.yaml:1): kubectl expose would fail with AlreadyExists "
                              '(services "catalog" already exists); give this one another --name, or change that '
                              "Service\n"))
    assert json.loads(out) == {
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "catalog", "namespace": "catalog", "labels": {"app": "catalog"}},
        "spec": {"ports": [{"protocol": "TCP", "port": 9000, "targetPort": 9000}], "selector": {"app": "catalog"}},
    }


def test_hostile_labels_cannot_add_documents_or_keys(monkeypatch, capsys, tmp_path):
    from ruamel.yaml import YAML

    hostile = HELLO.replace("metadata:\n  name: helloworld-deployment\n",
                            'metadata:\n  name: helloworld-deployment\n  labels:\n'
                            '    "a: b\\n---\\nkind: Secret\\n#": "x\\n  evil: true"\n    "on": "\\u202e"\n')
    code, out, err = expose(monkeypatch, capsys, tmp_path, hostile, "deployment/helloworld-deployment")
    assert (code, out) == (2, "")  # labels the API server rejects: the Service is not written ...
    assert err.count("\n") == 1
    assert "error[label-syntax]" in err
    from kubelint_svc.reporters import manifest

    labels = {"a: b\n---\nkind: Secret\n#": "x\n  evil: true", "on": "\u202e"}
    out = manifest.yaml_text({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "labels": labels}})
    documents = list(YAML(typ="safe").load_all(out))  # ... and, were it written, they stay values
    assert len(documents) == 1
    assert documents[0]["metadata"]["labels"] == {"a: b\n---\nkind: Secret\n#": "x\n  evil: true", "on": "\u202e"}
    assert out.isascii()


def test_output_file_never_replaces_a_manifest_read(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--output-file",
                            "app.yaml")
    assert (code, out) == (2, "")
    assert err == ("kubelint-svc: error: --output-file app.yaml is one of the manifests read; writing would replace "
                   "it (--append adds the Service to it)\n")
    assert (tmp_path / "app.yaml").read_text() == HELLO
    (tmp_path / "link.yaml").symlink_to("app.yaml")  # the same file by another name
    code, _, _ = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--output-file",
                        "link.yaml")
    assert code == 2
    assert (tmp_path / "app.yaml").read_text() == HELLO
    code, _, _ = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--output-file",
                        "app.yaml", "--append")
    assert code == 0
    assert (tmp_path / "app.yaml").read_text().startswith(HELLO + "---\napiVersion: v1\nkind: Service\n")


def test_output_file_never_follows_a_link_out_of_the_working_directory(monkeypatch, capsys, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "authorized_keys").write_text("ssh-ed25519 AAAA\n")
    work = tmp_path / "repo"
    work.mkdir()
    (work / "service.yaml").symlink_to(outside / "authorized_keys")  # as a pull request may add it
    code, out, err = expose(monkeypatch, capsys, work, HELLO, "deploy/helloworld-deployment", "--output-file",
                            "service.yaml")
    assert (code, out, err) == (0, "", "")  # the link is replaced by the Service, never written through
    assert not (work / "service.yaml").is_symlink()
    assert (work / "service.yaml").read_text().startswith("apiVersion: v1\nkind: Service\n")
    assert (outside / "authorized_keys").read_text() == "ssh-ed25519 AAAA\n"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("README.md", "# Notes\n\nSome text\n", "README.md:1: a document holds text, not a Kubernetes object"),
    ("x.json", '{"kind": "Service"}\n', "x.json is JSON"),
    ("bad.yaml", "a: [1\n", "bad.yaml:2:1: YAML syntax error"),
    ("list.yaml", "- a\n- b\n", "list.yaml:1: a document holds a list"),
])
def test_append_only_adds_to_a_yaml_file_of_objects(monkeypatch, capsys, tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", "--output-file",
                            name, "--append")
    assert (code, out) == (2, "")
    assert err.startswith(f"kubelint-svc: error: --append: {message}"), err
    assert err.endswith("not appended to\n") or "JSON" in err
    assert (tmp_path / name).read_text() == content


def test_graph_output_never_replaces_a_manifest_read(monkeypatch, capsys, tmp_path):
    (tmp_path / "app.yaml").write_text(HELLO)
    code, out, err = cli_in_process(monkeypatch, capsys, "graph", "app.yaml", "-o", "app.yaml", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "--output app.yaml is one of the manifests read" in err
    assert (tmp_path / "app.yaml").read_text() == HELLO


@pytest.mark.parametrize(("args", "finding"), [
    (("--target-port", "99999"), "error[service-target-port] targetPort 99999 must be between 1 and 65535"),
    (("--target-port", "nodejs"), "error[service-target-port-undefined] targetPort 'nodejs' is not a port name"),
    (("--target-port", "Not_A_Name"), "error[service-target-port] targetPort 'Not_A_Name' is not a valid port name"),
    (("--name", "Bad.Name"), "error[service-name] Service name 'Bad.Name' must be"),
    (("--cluster-ip", "foo"), "error[service-cluster-ip] 'foo' is not a valid IP address"),
    (("--external-ip", "example.com"), "error[service-external-ips] 'example.com' is not a valid IP address"),
    (("--selector", "app=nothing"), "error[service-selector-no-match]"),
])
def test_a_service_that_would_not_lint_clean_is_not_written(monkeypatch, capsys, tmp_path, args, finding):
    target = tmp_path / "services.yaml"
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deploy/helloworld-deployment", *args,
                            "--output-file", str(target))
    assert (code, out) == (2, "")
    assert err.startswith("kubelint-svc: error: the Service written would not lint clean, so it is not written: "
                          + finding), err
    assert err.count("\n") == 1
    assert not target.exists()


def test_a_service_whose_ports_are_not_numbers_gives_no_port(monkeypatch, capsys, tmp_path):
    quoted = """\
apiVersion: v1
kind: Service
metadata: {name: cache}
spec:
  selector: {app: cache}
  ports: [{name: redis, port: "6379"}, {name: none, port: null}]
"""
    code, out, err = expose(monkeypatch, capsys, tmp_path, quoted, "svc/cache", "--name", "cache2")
    assert (code, out) == (2, "")  # was: `port: "6379"` and `port: null` written, exit code 0
    assert err == ("kubelint-svc: error: couldn't find port via --port flag or introspection (ports that are not "
                   "numbers are not ports: '6379', None)\n")


def test_not_found_says_which_documents_could_not_be_read(monkeypatch, capsys, tmp_path):
    broken = HELLO.replace("  replicas: 3\n", "  replicas: [3\n")
    code, out, err = expose(monkeypatch, capsys, tmp_path, broken, "deploy/helloworld-deployment")
    assert (code, out) == (2, "")
    assert err.startswith("kubelint-svc: error: Deployment helloworld-deployment not found; no workload or Service "
                          "was found in the files read (1 document could not be read: app.yaml:"), err
    assert "[yaml-syntax]; not read)\n" in err
