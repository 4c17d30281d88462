"""The house's one rule, kept by a test: a module imports only from its own layer or the layers
below it (docs/architecture.md draws them). Imports inside functions count too."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "kubelint_svc"

# Lowest first: each layer may import from itself and from every layer listed before it.
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"kubelint_svc", "findings", "settings", "k8s_syntax", "kinds", "nested", "paths", "outputs",
              "suggestions", "pool"}),
    ("inputs", {"inputs", "ignore_files"}),
    ("loader", {"file_reads", "composing", "header_only", "loader", "cache", "cache_folders"}),
    ("model", {"model", "defaults", "schemas", "placeholders", "identity"}),
    ("units", {"units"}),
    ("index", {"index", "targets"}),
    ("checks", {"checks"}),
    ("engine", {"engine", "suppressions"}),
    ("run", {"reading", "settling", "runner", "fixes", "replay"}),
    ("views", {"expose", "graph", "navigation"}),
    ("reporters", {"reporters"}),
    ("app", {"app", "config", "config_tree"}),
    ("front ends", {"cli", "front_door", "lint_command", "github_action", "server", "__main__"}),
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
    return _imports_in(path, path.read_text() if source is None else source)


@functools.cache  # each file is parsed once however many tests read its imports
def _imports_in(path: Path, source: str) -> list[tuple[int, str]]:
    found = []
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(source, str(path))):
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


def diagram(doc: str) -> list[tuple[str, set[str]]]:
    """The layers the code block under "## Layers" in docs/architecture.md draws, lowest first:
    (name, modules), a module as its dotted name under the package (`findings`, `units.plan`)
    or a whole package (`checks.*`). A layer starts at column 0 (its name, then two spaces),
    goes on indented, and ends at a line holding only the arrow `|`."""
    block = doc.split("## Layers", 1)[1].split("```\n", 2)[1]
    layers: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.strip() == "|":
            assert layers, "an arrow with no layer above it"
            assert layers[-1][1], "an arrow with no layer above it"
            layers.append(("", []))
        elif line[:1].strip():
            name, _, text = line.partition("  ")
            assert not layers or layers[-1] == ("", []), f"no arrow above the layer {name}"
            layers[-1:] = [(name.strip(), [text])]
        elif layers:
            layers[-1][1].append(line)
    return [(name, _modules_named(name, " ".join(text))) for name, text in layers]


MODULE = re.compile(r"(?<![\w./-])(?:([a-z_]+(?:/[a-z_]+)*)/)?([a-z0-9_]+|<concern>)\.py\b")
WHOLE_PACKAGE = re.compile(r"(?<![\w./-])([a-z_]+(?:/[a-z_]+)*)/(?=[:\s,;)]|$)")


def _modules_named(layer: str, text: str) -> set[str]:
    """The modules a layer's text names: `x.py` (the package's, else one of a package the layer
    names: `manifest.py` beside `reporters/`), `units/x.py`, and whole packages (`reporters/`,
    `checks/<concern>.py`); a path outside the package (tests/test_layers.py) is prose."""
    def ours(folder: str) -> bool:
        return (PACKAGE / folder / "__init__.py").is_file()

    whole = {folder for folder in WHOLE_PACKAGE.findall(text) if ours(folder)}
    mentioned = [(folder, module) for folder, module in MODULE.findall(text) if not folder or ours(folder)]
    folders = whole | {folder for folder, _ in mentioned if folder}
    def dotted(folder: str) -> str:
        return folder.replace("/", ".")

    named = {f"{dotted(folder)}.*" for folder in whole}
    for folder, module in mentioned:
        if module == "<concern>":
            named.add(f"{dotted(folder)}.*")
        elif folder:
            assert (PACKAGE / folder / f"{module}.py").is_file(), f"{layer}: {folder}/{module}.py does not exist"
            named.add(f"{dotted(folder)}.{module}")
        elif (PACKAGE / f"{module}.py").is_file():
            named.add(module)
        else:
            owners = [package for package in sorted(folders) if (PACKAGE / package / f"{module}.py").is_file()]
            assert owners, f"{layer}: {module}.py does not exist"
            named.add(f"{dotted(owners[0])}.{module}")
    return named


def drawn_layer_of(layers: list[tuple[str, set[str]]], module: str) -> int:
    """`kubelint_svc.units.plan` -> the index of the drawn layer naming it, or its package as a
    whole; a package itself (`kubelint_svc.units`) is where its modules are."""
    relative = module.split(".", 1)[1] if "." in module else ""
    if not relative:
        return 0  # the package itself: base
    def names_it(named: str) -> bool:
        if named == relative or named.startswith(f"{relative}."):  # the module, or a package by its modules
            return True
        return named.endswith(".*") and relative.startswith(named[:-1])  # inside a package named whole

    found = [index for index, (_, named) in enumerate(layers) if any(map(names_it, named))]
    assert len(found) == 1, f"{module} is drawn in {len(found)} layers of docs/architecture.md, not one"
    return found[0]


def test_the_drawing_names_every_module_in_one_layer_and_agrees_with_the_list():
    layers = diagram((REPO / "docs" / "architecture.md").read_text())
    assert [name for name, _ in layers] == [name for name, _ in LAYERS]
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        if path.name != "__init__.py":
            assert drawn_layer_of(layers, module) == layer_of(module), module


def upward_imports(layers: list[tuple[str, set[str]]]) -> list[str]:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = drawn_layer_of(layers, module_name(path))
        for line, imported in imports_of(path):
            if drawn_layer_of(layers, imported) > own:
                wrong.append(f"{path.relative_to(REPO)}:{line}: imports {imported}")
    return wrong


def test_every_import_points_down_the_drawing():
    assert upward_imports(diagram((REPO / "docs" / "architecture.md").read_text())) == []


def test_the_drawing_test_can_fail():
    """A drawing with engine above checks: the engine's imports of checks point up; a module
    missing from the drawing, or a name of none, is named."""
    doc = (REPO / "docs" / "architecture.md").read_text()
    block = doc.split("## Layers", 1)[1].split("```\n", 2)[1]
    chunks = block.split("  |\n")
    names = [chunk.split()[0] for chunk in chunks]
    checks, engine = names.index("checks"), names.index("engine")
    chunks[checks], chunks[engine] = chunks[engine], chunks[checks]
    swapped = diagram(doc.replace(block, "  |\n".join(chunks)))
    assert any(": imports kubelint_svc.checks." in wrong for wrong in upward_imports(swapped))
    without_cache = diagram(doc.replace("cache.py:", "the cache:"))
    with pytest.raises(AssertionError, match=r"kubelint_svc\.cache is drawn in 0 layers"):
        drawn_layer_of(without_cache, "kubelint_svc.cache")
    with pytest.raises(AssertionError, match=r"nothing\.py does not exist"):
        diagram(doc.replace("cache.py:", "nothing.py:"))


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


# A library's private names may change in any release, and a pin does not say which ones the code
# leans on. Each entry is one we cannot avoid, with its reason: (file, private name) -> why.
PRIVATE_NAMES_ALLOWED = {
    ("kubelint_svc/composing.py", "_ruamel_yaml"):
        "ruamel.yaml.clib's C parser has no public name; ruamel.yaml's own cyaml imports it so",
    ("kubelint_svc/checks/safe_schema.py", "_Validator"):
        "types-jsonschema's type of a validator made by create/extend (for type checking only): "
        "jsonschema.protocols.Validator lacks `descend`, which keyword functions call",
    ("kubelint_svc/cli.py", "_completion_shared"):
        "typer 0.28's completion scripts and their installation are public in none of its modules",
    ("kubelint_svc/cli.py", "_completion_classes"):
        "typer 0.28's completion classes, registered when a shell asks for completions: no public name",
    ("kubelint_svc/units/helm_sdk.py", "_native"):
        "helm-python-sdk's Chart.render does not pass capabilities on: its native call does",
    ("kubelint_svc/units/helm_sdk.py", "_raw"):
        "the chart handle the native call takes (helm-python-sdk has no public accessor)",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _names_we_define(trees: list[ast.AST]) -> set[str]:
    """Every name our code binds (functions, classes, variables, attributes, arguments, aliases):
    `self._cache` is ours; `pool._processes` names nothing we define."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                names.add(node.id if isinstance(node, ast.Name) else node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
    return names


def private_uses(tree: ast.AST, ours: set[str]) -> list[tuple[int, str]]:
    """(line, private name) of every private name of a library the code imports or reads:
    `from typer._click import x`, `from lib import _y`, `import _lib`, `x._y` and `getattr(x, "_y")`
    where _y is no name of ours."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__" \
                and not (node.module or "").startswith("kubelint_svc"):
            found += [(node.lineno, part) for part in (node.module or "").split(".") if _private(part)]
            found += [(node.lineno, alias.name) for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, part) for alias in node.names if not alias.name.startswith("kubelint_svc")
                      for part in alias.name.split(".") if _private(part)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in ours:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr", "setattr", "delattr") and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                and _private(node.args[1].value) and node.args[1].value not in ours:
            found.append((node.lineno, node.args[1].value))
    return found


@pytest.mark.slow  # 0.7 s of CPU
def test_no_private_name_of_a_library_is_used_but_those_listed_with_their_reason():
    trees = {path: ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}
    ours = _names_we_define(list(trees.values()))
    used = {(str(path.relative_to(REPO)), name): line for path, tree in trees.items()
            for line, name in private_uses(tree, ours)}
    assert [f"{path}:{line}: {name}" for (path, name), line in used.items()
            if (path, name) not in PRIVATE_NAMES_ALLOWED] == []
    assert [entry for entry in PRIVATE_NAMES_ALLOWED if entry not in used] == []  # no stale entry
    planted = ast.parse("from typer._click import formatting\nfrom lib import _hidden\n"
                        "def f(pool):\n    return pool._processes, getattr(pool, '_state')\n")
    assert [name for _, name in private_uses(planted, ours)] == ["_click", "_hidden", "_processes", "_state"]
