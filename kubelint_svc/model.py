"""Model: YAML documents -> Kubernetes objects, each knowing where the user wrote it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.nodes import Node

from kubelint_svc.composing import Document, child_node, locate, locate_span
from kubelint_svc.findings import FieldPath, ObjectRef
from kubelint_svc.kinds import api_group, builtin_kind
from kubelint_svc.loader import DocumentTrees

POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Change:
    """One change a fix makes to an object, at a path of it (the engine finds the file and the
    node that wrote it there): replace the value, delete the entry, or insert key with value
    into the mapping at path."""

    action: str  # "replace" | "delete" | "insert"
    path: FieldPath
    value: Any = None
    key: str = ""


@dataclass(frozen=True)
class FixProposal:
    """How a check would fix what it reports: a title (`set protocol to 'TCP'`) and the changes.
    Whether it is safe is the rule's word (`fix:` in rules/*.yaml), not the check's."""

    title: str
    changes: tuple[Change, ...]


def replaced(path: FieldPath, value: Any, title: str) -> FixProposal:
    """The fix that sets the value at path."""
    return FixProposal(title, (Change("replace", path, value),))


def removed(path: FieldPath, title: str) -> FixProposal:
    """The fix that deletes the entry at path."""
    return FixProposal(title, (Change("delete", path),))


class NodeSource:
    """Composes a file's node trees again when a position is first asked for, so a run need not
    hold every node of every file in memory: positions are needed only for findings, and only
    the document that holds the finding is composed. The text may be given as a function that
    reads it, called only then."""

    def __init__(self, text: str | Callable[[], str]) -> None:
        self._text = text
        self._trees: DocumentTrees | None = None

    def _documents(self) -> DocumentTrees:
        if self._trees is None:
            self._trees = DocumentTrees(self._text if isinstance(self._text, str) else self._text())
        return self._trees

    def root(self, document_index: int) -> Node | None:
        return self._documents().by_index(document_index)

    def root_at(self, first_line: int, header_only: bool = False) -> tuple[Node | None, int]:
        return self._documents().at(first_line, header_only)

    def data_at(self, first_line: int) -> tuple[Any, str | None]:
        return self._documents().data_at(first_line)

    def text_at(self, first_line: int) -> str:
        return self._documents().text_at(first_line)


@dataclass(eq=False)  # one object of the run: compared and hashed by identity
class Resource:
    """One Kubernetes object of the run, as kubectl would send it, plus its origin."""

    api_version: str
    kind: str
    body: dict[str, Any]
    file: str
    node: Node | None = None
    line_offset: int = 0
    unit: str = "-"  # the apply unit: the real path of the file read, or "-" for the stdin stream
    is_patch: bool = False
    # the file's text contains "${": worth looking for unrendered placeholders
    may_hold_placeholders: bool = False
    # where to find the node tree when `node` was not kept: (source, the document's first line,
    # List item index)
    node_origin: tuple[NodeSource, int, int | None] | None = None
    node_shift: int = 0  # lines before the text the node tree was composed from
    header_only: bool = False  # only apiVersion, kind and metadata were read (see loader.parse_stream)
    rendered_from: str | None = None  # the template of committed helm output (its `# Source:`)

    @property
    def group(self) -> str:
        return api_group(self.api_version)

    @property
    def builtin_kind(self) -> str:
        """The kind when the object is the built-in kind of that name (a `v1` Service), else ""
        (a Knative Service, a custom resource): what every Kubernetes rule asks before judging."""
        return builtin_kind(self.api_version, self.kind)

    @property
    def name(self) -> str | None:
        value = _get(self.body, ("metadata", "name"))
        return value if isinstance(value, str) else None

    @property
    def namespace(self) -> str | None:
        value = _get(self.body, ("metadata", "namespace"))
        return value if isinstance(value, str) else None

    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)

    def get(self, path: FieldPath) -> Any:
        return _get(self.body, path)

    def position(self, path: FieldPath, at_key: bool = True) -> tuple[int, int]:
        """1-based line and column of path as the user wrote it (its closest ancestor if absent)."""
        line, column, _ = locate(self._tree(), path, at_key)
        return max(1, line + self.node_shift - self.line_offset), column

    def span(self, path: FieldPath, at_key: bool = True) -> tuple[int, int, int, int]:
        """position() plus where the marked key or value ends (end column exclusive)."""
        line, column, end_line, end_column = locate_span(self._tree(), path, at_key)
        shift = self.node_shift - self.line_offset
        return max(1, line + shift), column, max(1, end_line + shift), end_column

    def locate(self, path: FieldPath, at_key: bool = True) -> tuple[str, int, int, int, int]:
        """(file, line, column, end line, end column) of path: where a finding about it points.
        A built object's fields may have been written in several files."""
        return (self.file, *self.span(path, at_key))

    def fix_refusal(self) -> str:
        """Why a fix may not edit the files this object was read from, or "": what a stream read
        from standard input or helm's output says was generated, not written there."""
        if self.unit == "-":
            return "it was read from standard input"
        if self.rendered_from is not None or self.line_offset:
            return "it is generated output (helm template); fix the chart instead"
        return ""

    def fix_location(self, path: FieldPath, at_key: bool) -> tuple[str, int, int] | str:
        """(file, line, column) of the node a fix edits at path (its key, or its value), or why
        none may be edited there: where the value was written, for an object read from a file."""
        file, line, column, _, _ = self.locate(path, at_key)
        return file, line, column

    def whole_body(self) -> dict[str, Any] | str:
        """The object as written, all of it, for one read for its header: composed again from its
        file's text; or why that cannot be done (a limit of the loader). Its header stays as read
        (a kustomization's namespace and labels merged)."""
        if not self.header_only:
            return self.body
        if self.node_origin is None:
            return "only its header was kept"
        source, first_line, item_index = self.node_origin
        data, problem = source.data_at(first_line)
        if item_index is not None:
            items = data.get("items") if isinstance(data, dict) else None
            data = items[item_index] if isinstance(items, list) and item_index < len(items) else None
        if not isinstance(data, dict) or data.get("kind") != self.kind:
            return problem or "the file changed while it was read"
        return {**data, **{key: value for key, value in self.body.items() if key in ("apiVersion", "kind", "metadata")}}

    def written_as(self) -> str | None:
        """The text the object was read from (its document's; with its place in a List), to key
        what is derived from it; None when it was not read from a file's text (a built object)."""
        if self.node_origin is None:
            return None
        source, first_line, item_index = self.node_origin
        return f"{item_index}\n{source.text_at(first_line)}"

    def read_whole(self) -> str | None:
        """Make an object read for its header one read whole (body and positions), for a check
        that needs all of it only when another object of the run says so; or why it cannot be."""
        body = self.whole_body()
        if isinstance(body, str):
            return body
        if self.header_only:
            self.body, self.header_only, self.node = body, False, None
        return None

    def _tree(self) -> Node | None:
        """The node tree; one found again from its origin is not kept (the source keeps the
        few most recent), so objects with findings do not hold their documents' trees."""
        if self.node is None and self.node_origin is not None:
            source, first_line, item_index = self.node_origin
            # an item of a List is cut to its header after the List was read whole
            root, self.node_shift = source.root_at(first_line, self.header_only and item_index is None)
            return root if item_index is None else _item_node(root, item_index)
        return self.node


def _get(data: Any, path: FieldPath) -> Any:
    for part in path:
        if type(data) is dict and type(part) is str:  # the common step, tested first: checks ask often
            data = data.get(part)
        elif isinstance(part, int):
            if not isinstance(data, list) or not 0 <= part < len(data):
                return None
            data = data[part]
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def is_object(data: Any) -> bool:
    """A Kubernetes object names its apiVersion and kind; anything else is skipped quietly
    (kustomize's own files name them too, but never reach the API server). A document that is
    clearly meant as one (a kind and metadata) but names no apiVersion is an object too, with
    apiVersion "": unknown-kind reports it, as kubectl refuses it."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not data["kind"]:
        return False
    api_version = data.get("apiVersion")
    if api_version is None:
        return isinstance(data.get("metadata"), dict) and data["kind"] not in _KUSTOMIZE_KINDS
    return isinstance(api_version, str) and not api_version.startswith("kustomize.config.k8s.io/")


_KUSTOMIZE_KINDS = ("Kustomization", "Component")  # a kustomization may name no apiVersion


def resources_of(
    document: Document, file: str, origin: NodeSource | None = None, attribute_to_template: bool = True
) -> Iterator[Resource]:
    """The objects of one document: itself, or the items of a `kind: List` / `*List`.

    With an origin (the file's NodeSource), nodes are not kept but found again on demand (a
    document read for its header only keeps its small tree). A document of helm template
    output is attributed to its template (`# Source:`), or, without attribute_to_template,
    kept in file and told where it came from.
    """
    data = document.data
    if not is_object(data):
        return
    to_template = attribute_to_template and document.helm_source is not None
    display = document.helm_source if to_template and document.helm_source else file
    offset = document.line_offset if to_template else 0
    rendered_from = None if attribute_to_template else document.helm_source
    items = data.get("items")
    if data["kind"].endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if is_object(item):
                resource = Resource(item.get("apiVersion", ""), item["kind"], item, display, None, offset,
                                    rendered_from=rendered_from, header_only=document.partial)
                resource.node = _item_node(document.node, index)
                if origin is not None:
                    resource.node_origin = (origin, document.first_line, index)
                yield resource
        return
    resource = Resource(data.get("apiVersion", ""), data["kind"], data, display, None, offset,
                        rendered_from=rendered_from, header_only=document.partial)
    resource.node = document.node
    if origin is not None:
        resource.node_origin = (origin, document.first_line, None)
    yield resource


def _item_node(root: Node | None, index: int) -> Node | None:
    if root is None:
        return None
    items = child_node(root, "items")
    if items is None:
        return None
    found = child_node(items[1], index)
    return found[1] if found else None


# built-in kind -> where its Pods' spec is: a Pod's own, or a workload's template's
POD_SPEC_PATHS = {"Pod": ("spec",), **{kind: (*template, "spec") for kind, template in POD_TEMPLATE_PATHS.items()}}


def pod_spec_path(resource: Resource) -> tuple[str, ...] | None:
    """Where a Pod's spec is in the object: a Pod's own, or a built-in workload's template's."""
    return POD_SPEC_PATHS.get(resource.builtin_kind)


def containers(
    resource: Resource, lists: tuple[str, ...] = ("containers",)
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """(path, container) for each container mapping of the object's pod spec."""
    base = pod_spec_path(resource)
    if base is None:
        return
    spec = _get(resource.body, base)
    if not isinstance(spec, dict):
        return
    for list_name in lists:
        items = spec.get(list_name)
        for index, container in enumerate(items if isinstance(items, list) else []):
            if isinstance(container, dict):
                yield (*base, list_name, index), container


def container_ports(resource: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for path, container in containers(resource):
        ports = container.get("ports")
        for index, port in enumerate(ports if isinstance(ports, list) else []):
            if isinstance(port, dict):
                yield (*path, "ports", index), port
