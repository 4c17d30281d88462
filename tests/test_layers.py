"""The house's one rule, kept by a test: a module imports only from its own layer or the layers
below it (docs/architecture.md draws them). Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "kubelint_svc"

# Lowest first: each layer may import from itself and from every layer listed before it.
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"kubelint_svc", "findings", "settings", "k8s_syntax", "kinds", "paths", "outputs", "suggestions"}),
    ("inputs", {"inputs", "ignore_files"}),
    ("loader", {"loader", "cache"}),
    ("model", {"model", "defaults", "schemas", "placeholders"}),
    ("units", {"kustomize", "units"}),
    ("index", {"index", "targets"}),
    ("checks", {"checks"}),
    ("engine", {"engine", "suppressions"}),
    ("run", {"reading", "runner"}),
    ("views", {"expose", "graph"}),
    ("reporters", {"reporters"}),
    ("app", {"app", "config", "config_tree"}),
    ("front ends", {"cli", "github_action", "__main__"}),
]


def layer_of(module: str) -> int:
    """`kubelint_svc.checks.api` -> the index of the layer holding `checks`."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "kubelint_svc"
    for position, (_, members) in enumerate(LAYERS):
        if name in members:
            return position
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and docs/architecture.md")


def module_name(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every kubelint_svc import in the file, wherever it is written."""
    found = []
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text() if source is None else source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name if _is_module(name) else target) for name in names]
    return [(line, name) for line, name in found if name == "kubelint_svc" or name.startswith("kubelint_svc.")]


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (REPO / relative).with_suffix(".py").is_file() or (REPO / relative / "__init__.py").is_file()


def test_every_import_points_down_the_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of(module_name(path))
        for line, imported in imports_of(path):
            if layer_of(imported) > own:
                wrong.append(f"{path.relative_to(REPO)}:{line}: {LAYERS[own][0]} imports {imported} "
                             f"({LAYERS[layer_of(imported)][0]})")
    assert wrong == []


def test_the_layer_test_catches_an_upward_import():
    """The check above can fail: an engine import inside a check function, or a relative one, is flagged."""
    api = PACKAGE / "checks" / "api.py"
    upward = "\ndef f():\n    from kubelint_svc.engine import Registry\n    from ..app import Options\n"
    source = api.read_text() + upward
    imported = [name for _, name in imports_of(api, source)]
    assert "kubelint_svc.engine" in imported
    assert "kubelint_svc.app" in imported
    assert layer_of("kubelint_svc.engine") > layer_of(module_name(api))


def test_the_architecture_doc_names_every_layer():
    doc = (REPO / "docs" / "architecture.md").read_text()
    for name, members in LAYERS:
        for member in members - {"kubelint_svc", "__main__"}:
            assert member in doc, f"docs/architecture.md does not mention {member} ({name})"
