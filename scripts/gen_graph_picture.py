"""Draw the README's picture of the examples from the tool's own output:
`kubelint-svc graph examples --format dot` -> docs/graph-examples.dot -> (Graphviz) docs/graph-examples.svg.

Run from the repository root after changing the examples or the graph's drawing; a test fails
while docs/graph-examples.dot is stale. Without Graphviz's `dot`, only the .dot file is written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def examples_dot() -> str:
    from kubelint_svc.app import Options, graph
    from kubelint_svc.reporters import graph_formats

    drawn, _ = graph(Options(paths=("examples",)))
    return graph_formats.dot(drawn)


def main() -> int:
    dot_file, svg_file = REPO / "docs" / "graph-examples.dot", REPO / "docs" / "graph-examples.svg"
    dot_file.write_text(examples_dot(), encoding="utf-8")
    print(f"wrote {dot_file.relative_to(REPO)}")
    dot = shutil.which("dot")
    if dot is None:
        print("Graphviz's dot is not installed: the SVG was not redrawn", file=sys.stderr)
        return 1
    subprocess.run([dot, "-Tsvg", str(dot_file), "-o", str(svg_file)], check=True)
    print(f"wrote {svg_file.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
