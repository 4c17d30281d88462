"""The house's one rule, kept by a test: a module imports only from its own layer or the layers
below it (docs/architecture.md draws them). Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "kubelint_svc"

# Lowest first: each layer may import from itself and from every layer listed before it.
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"kubelint_svc", "findings", "settings", "k8s_syntax", "kinds", "nested", "paths", "outputs",
              "suggestions"}),
    ("inputs", {"inputs", "ignore_files"}),
    ("loader", {"loader", "cache"}),
    ("model", {"model", "defaults", "schemas", "placeholders"}),
    ("units", {"kustomize", "units"}),
    ("index", {"index", "targets"}),
    ("checks", {"checks"}),
    ("engine", {"engine", "suppressions"}),
    ("run", {"reading", "runner", "replay"}),
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


# The checks meet through their API and the JSON Schema machinery the `json-schema:` rules share;
# a check module never imports another concern's (it moves what both need below, into model or api).
SHARED_CHECK_MODULES = {"kubelint_svc.checks.api", "kubelint_svc.checks.json_schema", "kubelint_svc.checks.safe_schema"}


def sibling_check_imports(path: Path, source: str | None = None) -> list[str]:
    own = module_name(path)
    return [f"{path.relative_to(REPO)}:{line}: imports {name}" for line, name in imports_of(path, source)
            if name.startswith("kubelint_svc.checks.") and name not in SHARED_CHECK_MODULES and name != own]


def test_check_modules_never_import_each_other():
    wrong = []
    for path in sorted((PACKAGE / "checks").glob("*.py")):
        if module_name(path) not in SHARED_CHECK_MODULES:
            wrong += sibling_check_imports(path)
    assert wrong == []
    conventions = PACKAGE / "checks" / "conventions.py"
    planted = conventions.read_text() + "\nfrom kubelint_svc.checks.pod_specs import containers\n"
    assert sibling_check_imports(conventions, planted) != []  # the test above can fail


def test_modules_are_imported_by_name_not_by_string():
    """import_module with a string escapes the layer test: only the engine resolves a rule's
    `function: module.name`, and only inside kubelint_svc.checks."""
    found = [f"{path.relative_to(REPO)}" for path in sorted(PACKAGE.rglob("*.py"))
             if "import_module(" in path.read_text() and path != PACKAGE / "engine.py"]
    assert found == []
    assert 'importlib.import_module(f"kubelint_svc.checks.{module_name}")' in (PACKAGE / "engine.py").read_text()
