"""Cross-object rules: Services against the Pods their selectors really reach, workloads against
their own templates, StatefulSets and Ingresses against the Services they name."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.checks.api import Hit, NoParams, Related, RunContext, cross_object
from kubelint_svc.findings import FieldPath, listed_briefly
from kubelint_svc.index import (
    CONTROL_PLANE_COMPONENTS,
    CONTROLLER_LABEL_KEYS,
    PodSource,
    label_selector_matches,
    selector_is_empty,
    service_selector,
)
from kubelint_svc.k8s_syntax import iana_svc_name, is_int
from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource, replaced
from kubelint_svc.suggestions import clipped


def _show(selector: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in selector.items()) + "}"


def _pods_of(sources: list[PodSource], why: str, limit: int = 3) -> tuple[Related, ...]:
    """Notes pointing at the containers of each workload (the first few; the last says how
    many more there are)."""
    notes = [Related(s.resource, (*s.spec_path, "containers"), f"{s.describe()}: {why}") for s in sources[:limit]]
    if len(sources) > limit:
        last = notes[-1]
        notes[-1] = Related(last.resource, last.path, f"{last.message} (and {len(sources) - limit} more workloads)")
    return tuple(notes)


def _where(resource: Resource) -> str:
    return f"{resource.file}:{resource.position(())[0]}"


def selected_pods(resource: Resource, run: RunContext) -> list[PodSource]:
    return run.index.selection_of(resource).serving


def _closest(
    selector: dict[str, str], sources: list[PodSource]
) -> tuple[list[str], FieldPath | None, list[PodSource]]:
    """Descriptions of the workloads that miss the selector by the fewest labels, the selector
    key to point at, and those workloads."""
    scored = []
    for source in sources:
        misses = [(k, v) for k, v in selector.items() if not source.label_for(k, v)]
        shared_keys = sum(1 for k in selector if k in source.labels)
        if shared_keys:  # same keys, other values: the likely intended target
            scored.append(((len(selector) - len(misses), shared_keys), source, misses))
    if not scored:
        return [], None, []
    best = max(score for score, _, _ in scored)
    described, first_key, nearest = [], None, []
    for score, source, misses in scored:
        if score != best:
            continue
        nearest.append(source)
        diffs = []
        for key, wanted in misses:
            have = source.labels.get(key)
            diffs.append(f"{key}: {have!r} instead of {wanted!r}" if have is not None else f"no label {key}")
            first_key = first_key or key
        described.append(f"{source.describe()} ({', '.join(diffs)})")
    more = [f"and {len(described) - 3} more"] if len(described) > 3 else []
    return described[:3] + more, ("spec", "selector", first_key) if first_key else None, nearest


def _near_misses(selector: dict[str, str], sources: list[PodSource]) -> list[PodSource]:
    """Workloads whose labels all but match the selector: every key there, each value equal or
    a near-spelling (`payment` for `payments`): the likely intended target of a typo."""
    found = []
    for source in sources:
        values = [(wanted, source.labels.get(key)) for key, wanted in selector.items()]
        if all(have is not None and _close(have, wanted) for wanted, have in values):
            found.append(source)
    return found


def _close(have: str, wanted: str) -> bool:
    """Equal, or a likely misspelling: at most two letters apart (a swap counts as one), or
    mostly the same letters."""
    return have == wanted or _typos(have, wanted) <= 2 or difflib.SequenceMatcher(None, have, wanted).ratio() >= 0.8


def _typos(first: str, second: str) -> int:
    """Edits (insert, delete, replace, swap of neighbours) from one to the other; 3 means "more"."""
    if abs(len(first) - len(second)) > 2:
        return 3
    rows: list[list[int]] = [list(range(len(second) + 1))]  # optimal string alignment, row by row
    for i, a in enumerate(first, 1):
        row = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return min(rows[-1][-1], 3)


def _explanations(resource: Resource, run: RunContext, selector: dict[str, str], namespace: str) -> list[str]:
    index = run.index
    reasons = []
    custom = index.custom_resources_near(resource, namespace)
    if custom:
        names = listed_briefly([f"{cr.kind} {cr.name}" for cr in custom])
        reasons.append(f"its Pods may be created by an operator from {names} in the same folder")
    controller_keys = [key for key in selector if key in CONTROLLER_LABEL_KEYS]
    if controller_keys:
        reasons.append(f"{', '.join(controller_keys)} is set by a controller on the Pods it creates, and no "
                       "workload read here creates such Pods")
    foreign = sorted({key.rpartition("/")[0] for key in selector if "/" in key} - index.label_prefixes)
    if foreign:
        reasons.append(f"no workload read here sets a label under {', '.join(foreign)}: such labels are "
                       "usually put on Pods by the operator that creates them")
    if namespace == "kube-system" and selector.get("component") in CONTROL_PLANE_COMPONENTS:
        reasons.append(f"{selector['component']} runs as a static Pod of the control plane")
    if resource.unit != "-" and not index.unit_pods(resource, namespace):
        reasons.append(f"no workload applied with it runs in namespace {namespace}: the Pods may come from a "
                       "Helm chart, an operator or another repository (add it with --context to check)")
    elif not index.unit_is_own_folder(resource, namespace) and not _near_misses(
        selector, index.unit_pods(resource, namespace)
    ):
        reasons.append(f"no workload in its own folder runs in namespace {namespace}, and none applied with it "
                       "comes close to the selector: the Pods may come from a Helm chart, an operator or another "
                       "repository (add it with --context to check)")
    return reasons


@cross_object
def selector_no_match(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    index = run.index
    selection = index.selection_of(resource)
    selector, namespace = selection.selector, selection.namespace
    if not selector or selection.in_unit:
        return
    path = ("spec", "selector")
    in_unit = index.unit_pods(resource, namespace)
    slips = [source for source in index.unit_pods_elsewhere(resource, namespace)
             if all(source.label_for(k, v) for k, v in selector.items())]
    slipped = listed_briefly([f"{s.describe()} ({_where(s.resource)}) in namespace {s.namespace}" for s in slips])
    slip = (f"; it matches {slipped}, applied with it, but a Service selects Pods only in its own namespace")
    slip_help = ("is its namespace missing or wrong?",) if slips else ()
    if slips and not in_unit:
        yield Hit(f"selector {_show(selector)} matches no Pod template in namespace {namespace}{slip}", path,
                  severity="warning", help=slip_help)
        return
    if not index.pods_in(namespace):
        if run.once(_first_selecting_services).get(namespace) is resource:
            yield Hit(f"namespace {namespace} has no workloads in the files read, so Services selecting Pods there "
                      "are not checked against them", path, severity="info",
                      help=("lint the workloads too, or add them with --context",))
        return
    message = f"selector {_show(selector)} matches no Pod template in namespace {namespace}"
    folder = os.path.dirname(resource.unit) if resource.unit != "-" else None
    unreadable = [f"{file}:{line}" for file, line, where in run.unreadable if folder is None or where == folder]
    if unreadable:
        yield Hit(f"{message}; it may match a workload in a document that could not be read", path,
                  severity="warning", help=(f"could not be read: {listed_briefly(unreadable)}",))
        return
    near_misses = _near_misses(selector, in_unit)
    reasons = [] if slips else _explanations(resource, run, selector, namespace)
    if reasons:  # a namespace slip is an error whatever else may explain it
        yield Hit(f"{message}, which may be fine: {'; '.join(reasons)}", path, severity="info")
        return
    added = None if near_misses else _run_time_keys(selector, in_unit)
    if added is not None:
        source, keys = added
        yield Hit(f"{message} as written: {source.describe()} carries every other label of it, and no template "
                  f"applied with it sets {', '.join(keys)}: its Pods get {'that label' if len(keys) == 1 else 'those'}"
                  " at run time (an operator's leader label), or never", ("spec", "selector", keys[0]),
                  severity="warning", related=(Related(source.resource, (*source.spec_path[:-1], "metadata", "labels"),
                                                       f"{source.describe()}: its Pods' labels"),))
        return
    unit = {id(source) for source in in_unit}
    sharing = [s for s in index.pods_sharing_keys(selector, namespace) if id(s) in unit]
    closest, key_path, nearest = _closest(selector, sharing)
    relabel = _one_label_away(selector, in_unit)
    labels = [Related(s.resource, (*s.spec_path[:-1], "metadata", "labels"), f"{s.describe()}: its Pods' labels")
              for s in nearest[:3]]
    hooks = index.hooks_selected_by(selector, namespace)
    if hooks:  # they carry the application's labels, and exist only while their hook runs
        named = listed_briefly([source.describe() for source in hooks])
        message += f" (only Helm hooks match it: {named}, whose Pods exist while `helm test` or an install hook runs)"
    yield Hit(f"{message}: the Service gets no endpoints{slip if slips else ''}", key_path or path,
              help=(*(f"closest: {described}" for described in closest), *slip_help), related=tuple(labels),
              fix=None if relabel is None or slips else
              replaced(("spec", "selector", relabel[0]), relabel[1], f"select {relabel[0]}: {relabel[1]}"))


def _one_label_away(selector: dict[str, str], sources: list[PodSource]) -> tuple[str, str] | None:
    """(key, value) when exactly one workload's Pods carry every label of the selector but one,
    whose value they spell one letter otherwise (a typo, not another component's name): the one
    edit that makes the Service select them."""
    found: list[tuple[str, str]] = []
    for source in sources:
        misses = [key for key, value in selector.items() if not source.label_for(key, value)]
        have = source.labels.get(misses[0]) if len(misses) == 1 else None
        if isinstance(have, str) and _typos(have, selector[misses[0]]) == 1:
            found.append((misses[0], have))
    return found[0] if len(set(found)) == 1 and len(found) == 1 else None


def _run_time_keys(selector: dict[str, str], sources: list[PodSource]) -> tuple[PodSource, list[str]] | None:
    """A workload whose template matches every selector key it sets, and the selector's other
    keys, which no template among sources sets: labels an operator puts on its Pods at run time
    (a leader election's `role: leader`), or a label forgotten on the template."""
    set_anywhere = {key for source in sources for key in source.labels}
    extra = [key for key in selector if key not in set_anywhere]
    if not extra or len(extra) == len(selector):
        return None
    for source in sources:
        if all(source.label_for(key, value) for key, value in selector.items() if key not in extra):
            return source, extra
    return None


def _first_selecting_services(run: RunContext) -> dict[str, Resource]:
    """The first Service of each namespace that selects Pods: it alone carries the note that the
    namespace has no workloads in the files read."""
    first: dict[str, Resource] = {}
    for service in run.resources:
        if service.builtin_kind == "Service" and not service.is_patch and service_selector(service):
            first.setdefault(run.index.namespace_of(service), service)
    return first


@cross_object
def selector_ambiguous(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    sources = selected_pods(resource, run)
    if len(sources) > 1:
        yield Hit(f"selector {_show(service_selector(resource))} matches Pods of {len(sources)} workloads",
                  ("spec", "selector"), help=("intended for a canary? otherwise make the selector more specific",),
                  related=_pods_of(sources, "its Pods are selected"))


def _target_port_path(index: int, port: dict[str, Any]) -> FieldPath:
    if port.get("targetPort") not in (None, 0, ""):
        return ("spec", "ports", index, "targetPort")
    return ("spec", "ports", index, "port")


@dataclass
class PortVerdicts:
    """What the Pods a Service selects say about its targetPorts, one list per rule."""

    undefined: list[Hit] = field(default_factory=list)  # a named targetPort no selected container declares
    not_exposed: list[Hit] = field(default_factory=list)  # a numeric targetPort no container declares
    protocol: list[Hit] = field(default_factory=list)  # the name is declared, for another protocol


def _port_verdicts(run: RunContext, resource: Resource) -> PortVerdicts:
    """Each Service port checked against the Pods it selects, once for the three rules."""
    verdicts = PortVerdicts()
    sources = selected_pods(resource, run)
    for index, port in defaults.ports_of(defaults.spec_of(resource.body)) if sources else []:
        target, protocol = defaults.effective_target_port(port), defaults.port_protocol(port)
        path = _target_port_path(index, port)
        if isinstance(target, str) and iana_svc_name(target) is None:  # invalid names: service-target-port
            _named_port(verdicts, target, protocol, sources, path)
        elif is_int(target):
            _numeric_port(verdicts, target, protocol, sources, path)
    return verdicts


def _named_port(verdicts: PortVerdicts, name: str, protocol: Any, sources: list[PodSource], path: FieldPath) -> None:
    resolving, other_protocol, missing = [], [], []
    for source in sources:
        declared = [(n, p, proto) for n, p, proto in source.declared_ports if n == name]
        if any(proto == protocol for _, _, proto in declared):
            resolving.append(source)
        elif declared:
            other_protocol.append((source, declared[0][2]))
        else:
            missing.append(source)
    if not resolving and other_protocol:
        source, theirs = other_protocol[0]
        verdicts.protocol.append(Hit(
            f"targetPort {name!r} names a {theirs} port in {source.describe()}, but this Service port is "
            f"{protocol}: the endpoints controller matches name and protocol, so the port gets no endpoints",
            path, at_key=False, severity="error"))
        return
    if not resolving:
        named = sorted({n for s in missing for n, _, _ in s.declared_ports if isinstance(n, str)})
        known = f"declared port names: {', '.join(named)}" if named else "the selected Pods declare no named ports"
        fix = "set targetPort to a declared name or number, or name the container port"
        meant = _one_edit_away(name, protocol, missing)
        verdicts.undefined.append(Hit(
            f"targetPort {name!r} is not a port name of any container of the selected Pods: "
            "the port gets no endpoints", path, at_key=False, severity="error",
            help=(f"did you mean {meant!r}?", known) if meant else (known, fix),
            related=_pods_of(missing, "the selected Pods' ports are declared here"),
            fix=replaced(path, meant, f"set targetPort to {meant!r}") if meant else None))
        return
    lacking = list(missing) + [s for s, _ in other_protocol]
    if lacking:
        verdicts.undefined.append(Hit(
            f"targetPort {name!r} is declared by {listed_briefly([s.describe() for s in resolving])} but not by "
            f"{listed_briefly([s.describe() for s in lacking])}: Pods of the latter get no traffic on this port",
            path, at_key=False, severity="warning", related=_pods_of(lacking, "declares no such port")))


def _one_edit_away(name: str, protocol: Any, sources: list[PodSource]) -> str | None:
    """The one port name (of the Service port's protocol) a single typo away from name that every
    selected workload declares, or None when there is none, or more than one."""
    near = {n for source in sources for n, _, proto in source.declared_ports
            if isinstance(n, str) and proto == protocol and _typos(n, name) == 1}
    if len(near) != 1:
        return None
    meant = near.pop()
    every = all(any(n == meant and proto == protocol for n, _, proto in s.declared_ports) for s in sources)
    return meant if every else None


def _numeric_port(
    verdicts: PortVerdicts, number: int, protocol: Any, sources: list[PodSource], path: FieldPath
) -> None:
    declared = [entry for source in sources for entry in source.declared_ports]
    if not declared:  # declaring is optional: nothing to compare, but say the port went unchecked
        verdicts.not_exposed.append(Hit(
            f"targetPort {number} cannot be checked: the selected Pods declare no container ports",
            path, at_key=False, severity="info",
            help=("make sure the application listens on it (declaring the port documents it)",),
            related=_pods_of(sources, "the selected Pods are declared here")))
        return
    if any(p == number and proto == protocol for _, p, proto in declared):
        return
    other = sorted({proto for _, p, proto in declared if p == number and isinstance(proto, str)})
    if other:
        verdicts.protocol.append(Hit(
            f"targetPort {number} is declared as {'/'.join(other)} by the selected Pods, but this Service port "
            f"is {protocol}", path, at_key=False, severity="warning"))
        return
    numbers = sorted({p for _, p, _ in declared if isinstance(p, int)})
    verdicts.not_exposed.append(Hit(
        f"targetPort {number} is not a containerPort of the selected Pods", path, at_key=False, severity="warning",
        help=(f"declared container ports: {listed_briefly([str(n) for n in numbers], 8)}",
              "check the port the application listens on"),
        related=_pods_of(sources, "the selected Pods' ports are declared here")))


@cross_object
def target_port_undefined(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    yield from run.once_per(_port_verdicts, resource).undefined


@cross_object
def target_port_not_exposed(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    yield from run.once_per(_port_verdicts, resource).not_exposed


@cross_object
def port_protocol_mismatch(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    yield from run.once_per(_port_verdicts, resource).protocol


def workload_selector_mismatch(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    kind = resource.builtin_kind
    template = POD_TEMPLATE_PATHS.get(kind)
    if kind == "CronJob":
        yield from _cronjob_selector(resource)
        return
    if template is None:
        return
    selector = resource.get(("spec", "selector"))
    labels_path = (*template, "metadata", "labels")
    raw_labels = resource.get(labels_path)
    labels = {str(k): v for k, v in raw_labels.items()} if isinstance(raw_labels, dict) else {}
    if kind == "ReplicationController":
        if isinstance(selector, dict) and selector and any(labels.get(k) != v for k, v in selector.items()):
            yield Hit(f"selector {_show(selector)} does not match the template labels {_show(labels)}: the "
                      "ReplicationController would not own its own Pods", labels_path)
        return
    if kind == "Job" and resource.get(("spec", "manualSelector")) is not True:
        if selector is not None:  # the API server generates it from the Job's uid, and refuses any other
            yield Hit(f"spec.selector: Invalid value: {_shown(selector)}: `selector` not auto-generated: the API "
                      "server generates a Job's selector itself unless spec.manualSelector is true",
                      ("spec", "selector"), help=("remove spec.selector, or set spec.manualSelector: true",))
        return
    if selector is None:
        return  # missing: the schema rule reports it
    if selector_is_empty(selector):
        yield Hit(f"an empty selector is invalid for a {resource.kind}: it would select every Pod of the "
                  "namespace", ("spec", "selector"))
        return
    if label_selector_matches(selector, labels) is False:
        yield Hit(f"spec.selector does not match the template labels {_show(labels)}: the API server rejects "
                  "it (\"selector does not match template labels\")", labels_path)


def _shown(value: Any) -> str:
    """A written value, short, as one line."""
    return clipped(json.dumps(value, sort_keys=True, default=str), 120)


def _cronjob_selector(resource: Resource) -> Iterator[Hit]:
    """A CronJob's Jobs get generated selectors: the API server refuses one written in the template."""
    job_spec = ("spec", "jobTemplate", "spec")
    selector = resource.get((*job_spec, "selector"))
    if selector is not None:
        yield Hit(f"spec.jobTemplate.spec.selector: Invalid value: {_shown(selector)}: `selector` will be "
                  "auto-generated", (*job_spec, "selector"), help=("remove spec.jobTemplate.spec.selector",))
    if resource.get((*job_spec, "manualSelector")) is True:
        yield Hit("spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", "
                  "\"false\"", (*job_spec, "manualSelector"), at_key=False)


_SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@cross_object
def service_no_endpoints(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    if defaults.service_type(spec) == "ExternalName" or defaults.has_selector(spec) or not resource.name:
        return
    namespace = run.index.namespace_of(resource)
    if (namespace, resource.name) not in run.index.endpoints:
        yield Hit("this Service has no selector and no Endpoints or EndpointSlice was read for it: it has no "
                  "endpoints unless something else manages them", ("spec", "selector"),
                  help=(f"give it a selector, or an EndpointSlice labelled {_SERVICE_NAME_LABEL}: {resource.name}",))


@cross_object
def statefulset_service_name(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    name = resource.get(("spec", "serviceName"))
    if not isinstance(name, str) or not name:
        return
    namespace = run.index.namespace_of(resource)
    path = ("spec", "serviceName")
    service = run.index.service(namespace, name, near=resource)
    if service is None:
        yield Hit(f"serviceName {name!r} names no Service in namespace {namespace}: the Pods get no stable DNS "
                  "names (<pod>.<service>)", path, at_key=False)
        return
    spec = defaults.spec_of(service.body)
    if not defaults.is_headless(spec):
        yield Hit(f"Service {name} ({_where(service)}) is not headless (clusterIP: None): per-Pod DNS names "
                  f"(<pod>.{name}) are guaranteed only for a headless Service (kube-dns serves none for a cluster "
                  "IP; CoreDNS answering them anyway is not portable)", path, at_key=False,
                  help=(f"set clusterIP: None on Service {name}, or name a headless Service here",))
    elif not any(source.resource is resource for source in selected_pods(service, run)):
        yield Hit(f"Service {name} ({_where(service)}) does not select this StatefulSet's Pods: they get no "
                  "per-Pod DNS names", path, at_key=False, severity="info")


def ingress_backends(resource: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    default = resource.get(("spec", "defaultBackend", "service"))
    if isinstance(default, dict):
        yield ("spec", "defaultBackend", "service"), default
    rules = resource.get(("spec", "rules"))
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        paths = (rule.get("http", {}).get("paths") if isinstance(rule, dict) and isinstance(rule.get("http"), dict)
                 else None)
        for j, entry in enumerate(paths if isinstance(paths, list) else []):
            service = entry.get("backend", {}).get("service") if isinstance(entry, dict) else None
            if isinstance(service, dict):
                yield ("spec", "rules", i, "http", "paths", j, "backend", "service"), service


@dataclass(frozen=True)
class ControllerConventions:
    # ingress controllers that read a backend from an annotation of the Ingress instead of a
    # Service: each entry is {controller, port_name, annotations}, where a backend whose
    # `port.name` is port_name names an action that an annotation `<prefix><service name>` of
    # one of the prefixes defines (rules/cross-object.yaml holds the table)
    annotation_backends: list[dict[str, Any]]


def _annotation_backend(resource: Resource, backend: dict[str, Any], name: str,
                        params: ControllerConventions) -> tuple[str, list[str], bool] | None:
    """(controller, the annotations that would define it, whether one does) for a backend that
    names a controller's action rather than a Service; None for an ordinary backend."""
    port = backend.get("port")
    port_name = port.get("name") if isinstance(port, dict) else None
    annotations = resource.get(("metadata", "annotations"))
    given = annotations if isinstance(annotations, dict) else {}
    for convention in params.annotation_backends:
        if not isinstance(convention, dict) or port_name != convention.get("port_name"):
            continue
        prefixes = convention.get("annotations")
        wanted = [f"{prefix}{name}" for prefix in (prefixes if isinstance(prefixes, list) else [])
                  if isinstance(prefix, str)]
        return str(convention.get("controller", "the ingress controller")), wanted, any(a in given for a in wanted)
    return None


@cross_object
def ingress_backend_service(resource: Resource, run: RunContext, params: ControllerConventions) -> Iterator[Hit]:
    """A backend's Service must be there and expose the port named; a backend that names an
    ingress controller's action (`use-annotation`) needs the annotation defining it instead."""
    if resource.api_version != "networking.k8s.io/v1":
        return
    namespace = run.index.namespace_of(resource)
    for path, backend in ingress_backends(resource):
        name = backend.get("name")
        if not isinstance(name, str):
            continue
        action = _annotation_backend(resource, backend, name, params)
        if action is not None:
            controller, wanted, defined = action
            if not defined:
                yield Hit(f"backend {name!r} on port name {backend['port']['name']!r} names an action of the "
                          f"{controller}, but no annotation {' or '.join(wanted) or 'of the controller'} of this "
                          "Ingress defines it", (*path, "port", "name"), at_key=False,
                          help=(f"add the annotation {wanted[0]}, or name a Service here",) if wanted else ())
            continue
        service = run.index.service(namespace, name, near=resource)
        if service is None:
            yield Hit(f"backend Service {name!r} is not among the objects read for namespace {namespace}",
                      (*path, "name"), at_key=False)
            continue
        port = backend["port"] if isinstance(backend.get("port"), dict) else {}
        ports = [p for _, p in defaults.ports_of(defaults.spec_of(service.body))]
        number, port_name = port.get("number"), port.get("name")
        if number is not None and number not in [p.get("port") for p in ports]:
            exposed = ", ".join(str(p.get("port")) for p in ports)
            yield Hit(f"Service {name} does not expose port {number} (it exposes {exposed or 'none'})",
                      (*path, "port", "number"), at_key=False)
        elif isinstance(port_name, str) and port_name not in [p.get("name") for p in ports]:
            names = ", ".join(str(p.get("name")) for p in ports if p.get("name"))
            yield Hit(f"Service {name} has no port named {port_name!r} (its port names: {names or 'none'})",
                      (*path, "port", "name"), at_key=False)


def route_backend_refs(resource: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """A Gateway API route's backendRefs that name a core Service (group "" and kind Service,
    the defaults)."""
    rules = resource.get(("spec", "rules"))
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        refs = rule.get("backendRefs") if isinstance(rule, dict) else None
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, dict) and ref.get("group", "") == "" and ref.get("kind", "Service") == "Service":
                yield ("spec", "rules", i, "backendRefs", j), ref


@cross_object
def route_backend_service(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    """A backendRef's Service must be there, and expose the port named: a route's port is the
    Service's port, not the container's."""
    own = run.index.namespace_of(resource)
    for path, ref in route_backend_refs(resource):
        name, namespace = ref.get("name"), ref.get("namespace", own)
        if not isinstance(name, str) or not isinstance(namespace, str):
            continue
        service = run.index.service(namespace, name, near=resource)
        if service is None:
            yield Hit(f"backendRef Service {name!r} is not among the objects read for namespace {namespace}: the "
                      "route's traffic to it fails (the Gateway answers 500)", (*path, "name"), at_key=False)
            continue
        number = ref.get("port")
        ports = [p.get("port") for _, p in defaults.ports_of(defaults.spec_of(service.body))]
        if number is not None and number not in ports:
            exposed = ", ".join(str(p) for p in ports)
            yield Hit(f"Service {name} does not expose port {number} (it exposes {exposed or 'none'}): a backendRef's "
                      "port is the Service's port, not the container's", (*path, "port"), at_key=False)
