"""A graph drawn as text, Mermaid, Graphviz DOT or JSON. Node ids in Mermaid and DOT are ours
(n0, n1, ...); every name, label and message from input is escaped for its destination, so a
hostile name cannot end a label, start a directive, add a click callback or a new statement."""

from __future__ import annotations

import re
from typing import Any

from kubelint_svc.graph import Edge, Graph, Node
from kubelint_svc.reporters.escaping import json_text, not_a_command, visible

GRAPH_FORMAT_VERSION = 1
SUMMARY_EDGES = 40  # the Action's job summary draws at most this many edges ...
SUMMARY_CHARACTERS = 30_000  # ... and at most this much Mermaid text (GitHub's limit is 50,000)
SUMMARY_LINE = 100  # ... each label line cut to this many characters, and at most this many findings an edge:
SUMMARY_PROBLEMS = 5  # one edge and its two nodes then fit in SUMMARY_CHARACTERS whatever the names
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ./:_=,()?+-]")


def _cut(lines: list[str], width: int | None) -> list[str]:
    if width is None:
        return lines
    return [line if len(line) <= width else line[:width - 3] + "..." for line in lines]


def _node_lines(node: Node, width: int | None = None) -> list[str]:
    lines = [node.title()]
    if node.missing:
        lines.append("not among the files read")
    lines += list(node.ports[:6]) + ([f"... {len(node.ports) - 6} more ports"] if len(node.ports) > 6 else [])
    return _cut(lines, width)


def _edge_lines(edge: Edge, width: int | None = None, most: int | None = None) -> list[str]:
    lines = [edge.label]
    shown = edge.problems if most is None else edge.problems[:most]
    lines += [f"{'✗' if p.severity != 'info' else '?'} {p.rule} {p.file}:{p.line}" for p in shown]
    if len(shown) < len(edge.problems):
        lines.append(f"... {len(edge.problems) - len(shown)} more findings")
    return _cut(lines, width)


def text(graph: Graph) -> str:
    """Each node once, with the edges leaving it; broken edges marked ✗ with their findings."""
    out = []
    leaving: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        leaving.setdefault(edge.source, []).append(edge)
    for node in graph.nodes.values():
        where = f"{node.file}:{node.line}" if not node.missing else "not among the files read"
        ports = f"  ports: {', '.join(node.ports)}" if node.ports and node.kind != "Service" else ""
        # a line starts with the kind, which a custom resource's file chooses: never a workflow command
        out.append(not_a_command(visible(f"{node.title()} ({where}){ports}")))
        for edge in leaving.get(node.id, []):
            target = graph.nodes[edge.target]
            mark = "✗" if edge.broken else "→"
            out.append(visible(f"  {mark} {edge.kind} {target.title()}: {edge.label}"))
            out += [visible(f"      {p.severity}[{p.rule}] {p.file}:{p.line}: {p.message}") for p in edge.problems]
    broken = len(graph.broken_edges())
    nodes, edges = len(graph.nodes), len(graph.edges)
    out.append(f"{nodes} node{'' if nodes == 1 else 's'}, {edges} edge{'' if edges == 1 else 's'}, {broken} broken.")
    return "\n".join(out) + "\n"


def mermaid_text(value: str) -> str:
    """Text inside a quoted Mermaid label: anything but plain letters, digits and a little
    punctuation becomes an entity code (`#34;`), so no quote, bracket, backtick, `%%`, `<` or
    line break from input reaches Mermaid's parser."""
    return "".join(c if _MERMAID_SAFE.match(c) else f"#{ord(c)};" for c in visible(value))


def mermaid(graph: Graph, max_edges: int | None = None, max_characters: int | None = None) -> str:
    """A `flowchart LR`; with limits, the first edges that fit (and their nodes), every label
    line cut to SUMMARY_LINE characters and every edge's findings to SUMMARY_PROBLEMS."""
    edges = graph.edges if max_edges is None else graph.edges[:max_edges]
    if max_edges is not None:
        graph = graph.subgraph(edges)
    bounded = max_characters is not None
    width, most = (SUMMARY_LINE, SUMMARY_PROBLEMS) if bounded else (None, None)
    ids = {node_id: f"n{i}" for i, node_id in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node_id, node in graph.nodes.items():
        label = "<br/>".join(mermaid_text(line) for line in _node_lines(node, width))
        lines.append(f'  {ids[node_id]}["{label}"]')
    broken_links, broken_nodes = [], set()
    for position, edge in enumerate(edges):
        label = "<br/>".join(mermaid_text(line) for line in _edge_lines(edge, width, most))
        arrow = "-.->" if edge.broken else "-->"
        lines.append(f'  {ids[edge.source]} {arrow}|"{label}"| {ids[edge.target]}')
        if edge.broken:
            broken_links.append(str(position))
            broken_nodes.add(ids[edge.target])
    missing = [ids[i] for i, n in graph.nodes.items() if n.missing]
    lines.append("  classDef missing stroke-dasharray:5 5,fill:#fff4f4")
    lines.append("  classDef broken stroke:#d33,stroke-width:2px")
    if missing:
        lines.append(f"  class {','.join(missing)} missing")
    if broken_nodes:
        lines.append(f"  class {','.join(sorted(broken_nodes))} broken")
    if broken_links:
        lines.append(f"  linkStyle {','.join(broken_links)} stroke:#d33,stroke-width:2px,color:#d33")
    result = "\n".join(lines) + "\n"
    if max_characters is not None and len(result) > max_characters and len(edges) > 1:
        return mermaid(graph, max(1, len(edges) // 2), max_characters)
    return result


MERMAID_MAX_TEXT = 50_000  # mermaid's default maxTextSize, GitHub's too: a longer diagram is not drawn


def too_long_for_mermaid(drawn: str) -> str | None:
    """What to say when a Mermaid text is longer than mermaid draws by default."""
    if len(drawn) <= MERMAID_MAX_TEXT:
        return None
    return (f"the Mermaid text is {len(drawn):,} characters; mermaid (and GitHub) draw at most "
            f"{MERMAID_MAX_TEXT:,}: narrow it with --focus, --namespace or --only-broken, or use --format dot")


def dot_text(value: str) -> str:
    """Text inside a double-quoted DOT string: control characters shown as escapes, then every
    backslash and quote escaped (a label cannot end the string or use DOT's own escapes)."""
    return visible(value).replace("\\", "\\\\").replace('"', '\\"')


def dot(graph: Graph) -> str:
    ids = {node_id: f"n{i}" for i, node_id in enumerate(graph.nodes)}
    lines = ["digraph kubelint_svc {", "  rankdir=LR;", '  node [shape=box, style="rounded", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for node_id, node in graph.nodes.items():
        label = "\\n".join(dot_text(line) for line in _node_lines(node))
        style = ', style="rounded,dashed", color="#cc3333"' if node.missing else ""
        lines.append(f'  {ids[node_id]} [label="{label}"{style}];')
    for edge in graph.edges:
        label = "\\n".join(dot_text(line) for line in _edge_lines(edge))
        style = ', color="#cc3333", fontcolor="#cc3333", style=dashed, penwidth=2' if edge.broken else ""
        lines.append(f'  {ids[edge.source]} -> {ids[edge.target]} [label="{label}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_data(graph: Graph) -> dict[str, Any]:
    """The JSON document kubelint_svc/graph.schema.json describes."""
    return {
        "version": GRAPH_FORMAT_VERSION,
        "nodes": [
            {"id": n.id, "kind": n.kind, "namespace": n.namespace, "name": n.name, "file": n.file, "line": n.line,
             "missing": n.missing, "ports": list(n.ports)}
            for n in graph.nodes.values()
        ],
        "edges": [
            {"source": e.source, "target": e.target, "kind": e.kind, "label": e.label, "broken": e.broken,
             "problems": [{"rule": p.rule, "severity": p.severity, "message": p.message, "file": p.file,
                           "line": p.line, "field": p.field} for p in e.problems]}
            for e in graph.edges
        ],
    }


def json(graph: Graph) -> str:
    return json_text(as_data(graph)) + "\n"


def summary_markdown(graph: Graph) -> str:
    """The broken part of graph as a Mermaid block for a Markdown page (the Action's job
    summary), bounded in edges and characters; "" when nothing is broken."""
    broken = graph.subgraph(graph.broken_edges())
    if not broken.edges:
        return ""
    drawn = mermaid(broken, SUMMARY_EDGES, SUMMARY_CHARACTERS)
    shown = sum(1 for line in drawn.splitlines() if "-->|" in line or "-.->|" in line)
    lines = ["### Broken wiring", "", "```mermaid", drawn.rstrip("\n"), "```", ""]
    if shown < len(broken.edges):
        lines += [(f"{shown} of {len(broken.edges)} broken edges drawn; `kubelint-svc graph --only-broken` "
                  "shows them all."), ""]
    return "\n".join(lines)
