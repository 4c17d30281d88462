"""Issue 20, the start of a cold run (before the first kustomization is parsed): the walk judges
what it leaves out once a folder (the configuration governing the folder, whether any ignore file
applies there, the virtualenv mark seen in the folder's own listing), and an entry then costs a
test of its name; a walked file that no link leads to carries its normal path, which the runner
takes instead of making it again. tests/test_cold_imports.py holds what a run imports."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from kubelint_svc.app import Options, exclusions_for, plan_run, run_configuration
from kubelint_svc.config_tree import ConfigTree
from kubelint_svc.inputs import Exclusions, discover
from kubelint_svc.units.common import normal

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"


def app_tree(root: Path, apps: int) -> int:
    """apps folders of a base and two overlays, two manifests each; the number of folders."""
    for index in range(apps):
        for folder in ("base", "overlays/dev", "overlays/prod"):
            here = root / f"app-{index}" / folder
            here.mkdir(parents=True)
            (here / "kustomization.yaml").write_text("resources: []\n")
            (here / "service.yaml").write_text(SERVICE)
    return 1 + apps * 5  # the top, and app, base, overlays, dev and prod of each


def walked(root: Path, **options: object) -> list[str]:
    """The files `lint root` reads, as the run's walk finds them (the displays, in order)."""
    found = plan_run(Options(paths=(str(root),), **options))  # type: ignore[arg-type]
    return [source.display for source in found.inputs]


def exclusions_of(root: Path) -> Exclusions:
    options = Options(paths=(str(root),))
    return exclusions_for(options, ConfigTree(run_configuration(options), explicit=False))


def calls_of_a_walk(root: Path, apps: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Counter[str]]:
    """(folders, the stats and abspaths the walk of a tree of apps made)."""
    folders = app_tree(root, apps)
    exclusions = exclusions_of(root)
    calls: Counter[str] = Counter()
    for module, name in ((os, "stat"), (os.path, "abspath")):
        original = getattr(module, name)

        def counting(*args: object, _original: object = original, _name: str = name, **kwargs: object) -> object:
            calls[_name] += 1
            return _original(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(module, name, counting)
    found = discover([str(root)], exclusions)
    monkeypatch.undo()
    assert len(found) == apps * 3 * 2
    return folders, calls


def test_what_is_left_out_is_looked_up_once_a_folder(tmp_path, monkeypatch):
    """A folder more costs the walk one stat (its identity: links are followed once, loops
    stopped), not a stat of each subfolder for a virtualenv's mark; and two absolute paths (the
    folder's, and the configuration's lookup), where each entry cost three."""
    small = calls_of_a_walk(tmp_path / "small", 4, monkeypatch)
    large = calls_of_a_walk(tmp_path / "large", 12, monkeypatch)
    folders = large[0] - small[0]
    more = large[1] - small[1]
    assert more["stat"] == folders, more
    assert more["abspath"] <= 2 * folders, more


def test_a_file_no_link_leads_to_carries_its_normal_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app_tree(tmp_path / "repo", 1)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "linked.yaml").write_text(SERVICE)
    os.symlink(tmp_path / "elsewhere" / "linked.yaml", tmp_path / "repo" / "app-0" / "base" / "file-link.yaml")
    (tmp_path / "repo" / ".shared" / "dev").mkdir(parents=True)  # hidden: walked only through the link
    (tmp_path / "repo" / ".shared" / "dev" / "service.yaml").write_text(SERVICE)
    os.symlink(tmp_path / "repo" / ".shared", tmp_path / "repo" / "folder-link")
    found = {source.display: source for source in discover(["repo"], exclusions_of(tmp_path / "repo"))}
    for display, source in found.items():
        assert source.path is not None
        through_a_link = "link" in display
        assert (source.normal is None) == through_a_link, display
        if source.normal is not None:
            assert source.normal == normal(source.path) == source.real
    assert "repo/folder-link/dev/service.yaml" in found
    assert "repo/app-0/base/file-link.yaml" in found


def test_a_linked_working_directory_gives_no_normal_path_from_the_real_one(tmp_path, monkeypatch):
    app_tree(tmp_path / "real", 1)
    os.symlink(tmp_path / "real", tmp_path / "link")
    monkeypatch.chdir(tmp_path / "link")
    for source in discover(["."], exclusions_of(Path("."))):
        assert source.path is not None
        assert source.normal in (None, normal(source.path))


def test_the_runner_makes_no_normal_path_for_a_walked_file(tmp_path, monkeypatch):
    from kubelint_svc import runner
    from kubelint_svc.app import lint

    app_tree(tmp_path, 3)
    monkeypatch.chdir(tmp_path)
    made: list[Path] = []
    original = runner.normal
    monkeypatch.setattr(runner, "normal", lambda path: made.append(path) or original(path))

    class Planned(Exception):
        pass

    def stop(*args: object, **kwargs: object) -> None:
        raise Planned

    monkeypatch.setattr(runner, "_plan_of", stop)
    with pytest.raises(Planned):
        lint(Options(paths=(".",), no_cache=True))
    assert made == []


def virtualenv_tree(root: Path) -> None:
    app_tree(root, 1)
    for venv in ("env", "app-0/overlays/.venv-like", "app-0/tools"):
        (root / venv).mkdir(parents=True, exist_ok=True)
        (root / venv / "pyvenv.cfg").write_text("home = /usr\n")
        (root / venv / "inside.yaml").write_text(SERVICE)
    (root / "app-0" / "notes").mkdir()
    os.symlink(root / "env" / "pyvenv.cfg", root / "app-0" / "notes" / "pyvenv.cfg")  # a link to the mark counts
    (root / "app-0" / "notes" / "notes.yaml").write_text(SERVICE)
    (root / "app-0" / "almost").mkdir()
    (root / "app-0" / "almost" / "pyvenv.cfg").mkdir()  # a folder named so is no mark
    (root / "app-0" / "almost" / "kept.yaml").write_text(SERVICE)
    os.symlink(root / "env", root / "app-0" / "env-link")  # a link to a virtualenv: judged before it is listed


def test_virtualenvs_are_left_out_as_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    virtualenv_tree(tmp_path)
    found = walked(Path("."))
    assert not [name for name in found if "inside.yaml" in name or "notes" in name], found
    assert "app-0/almost/kept.yaml" in found
    # named alone, as before: the mark is looked for in the folder named and above it
    exclusions = exclusions_of(Path("."))
    assert exclusions.why(Path("app-0/tools"), True) == "excluded as a virtualenv"
    assert exclusions.why_named(Path("app-0/tools/inside.yaml")) == "excluded as a virtualenv"
    assert exclusions.why(Path("app-0/almost"), True) is None


def test_an_entry_judged_in_its_folder_is_judged_as_named_alone(tmp_path, monkeypatch):
    """Every entry of an odd tree (ignore files at several depths, a negation, a configuration's
    exclude below the top, globs with and without `/`) is left out by the walk exactly when
    Exclusions.why, asked of its path alone in a fresh run, leaves it or a folder above it out."""
    monkeypatch.chdir(tmp_path)
    app_tree(tmp_path, 4)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("app-1/\n*.tmp.yaml\n!keep.tmp.yaml\n")
    (tmp_path / "app-2" / "overlays" / ".ignore").write_text("prod\n")
    (tmp_path / "app-3" / ".kubelint-svc.yaml").write_text("exclude:\n  - base/service.yaml\n")
    for name in ("a.tmp.yaml", "keep.tmp.yaml", "vendor/x.yaml", "app-0/build/y.yaml", "app-0/deep/er/z.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(SERVICE)
    options = {"extend_exclude": ("vendor", "app-0/deep/*")}
    found = set(walked(Path("."), **options))
    exclusions = exclusions_for(Options(**options), ConfigTree(run_configuration(Options()), explicit=False))
    expected = set()
    for folder, _, names in os.walk("."):
        for name in names:
            path = Path(folder, name)
            if name.endswith((".yaml", ".yml")) and not any(part.startswith(".") for part in path.parts):
                left_out = [exclusions.why(above, True) for above in list(path.parents)[:-1]]
                if not any(left_out) and exclusions.why(path, False) is None:
                    expected.add(str(path))
    assert found == expected
    assert {"keep.tmp.yaml", "app-0/base/service.yaml", "app-2/overlays/dev/service.yaml"} <= found
    assert not {"a.tmp.yaml", "app-1/base/service.yaml", "app-2/overlays/prod/service.yaml",
                "app-3/base/service.yaml", "vendor/x.yaml", "app-0/build/y.yaml", "app-0/deep/er/z.yml"} & found


# A lint command line of paths and plain flags is read by the front door without typer
# (lint_command.plain_arguments); it must give the run typer would give it, and any other command
# line must still go to typer.

PLAIN = [
    ["lint"], ["lint", "."], ["lint", "--no-cache", "."], ["lint", ".", "--no-cache"], ["lint", "a", "b", "-q"],
    ["lint", "--git-context", "a"], ["lint", "--quiet", "--exit-zero", "a"], ["lint", "--format", "json", "a"],
    ["lint", "--format=concise"], ["lint", "-f", "sarif", "--output-format", "junit"], ["lint", "--kustomize", "off"],
    ["lint", "--kustomize=fallback", "--kustomize", "auto", "x"], ["lint", "--no-cache", "--no-cache"],
]
NOT_PLAIN = [
    [], ["rules"], ["lint", "-"], ["lint", "--help"], ["lint", "-h"], ["lint", "--fix"], ["lint", "-fjson"],
    ["lint", "-f=json"], ["lint", "--format", "xml"], ["lint", "--format"], ["lint", "--"], ["lint", "--quiet=1"],
    ["lint", "--kustomize", "--no-cache"], ["lint", "-o", "report.json"], ["lint", "--show-files"],
    ["lint", "--cache-dir", "c"], ["lint", "--statistics"], ["lint", "-k", "1.30"], ["lint", "--color", "never"],
]


def typer_options(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Options:
    """The Options cli.main (typer) gives app.lint for argv."""
    from kubelint_svc import app, cli

    given: list[Options] = []

    def lint(options: Options, replay: bool = False) -> None:
        given.append(options)
        raise SystemExit(0)

    monkeypatch.setattr(app, "lint", lint)
    monkeypatch.setattr("sys.argv", ["kubelint-svc", *argv])
    with pytest.raises(SystemExit):
        cli.main()
    return given[0]


@pytest.mark.parametrize("argv", PLAIN)
@pytest.mark.parametrize("cache_variable", ["", "/elsewhere/cache"])
def test_a_plain_command_line_is_read_as_typer_reads_it(argv, cache_variable, monkeypatch):
    from kubelint_svc.lint_command import plain_arguments

    monkeypatch.setenv("KUBELINT_SVC_CACHE_DIR", cache_variable)
    plain = plain_arguments(argv)
    assert plain is not None
    assert repr(plain.options()) == repr(typer_options(argv, monkeypatch))  # repr keys the replay


@pytest.mark.parametrize("argv", NOT_PLAIN)
def test_any_other_command_line_is_left_to_typer(argv):
    from kubelint_svc.lint_command import plain_arguments

    assert plain_arguments(argv) is None


COMMAND = """
import atexit, sys
written, watched = sys.argv[1], set(("typer", "kubelint_svc.app"))
atexit.register(lambda: open(written, "w").write(" ".join(sorted(watched & set(sys.modules)))))
sys.argv = ["kubelint-svc", *sys.argv[2:]]
from kubelint_svc.{module} import main
main()
"""


def command(tree: Path, module: str, *argv: str, cache: Path | None = None) -> tuple[str, str, int, str]:
    """A run of the command (the console script's front_door.main, or cli.main) in a new process:
    (stdout, stderr, exit code, which of typer and the app it imported)."""
    import subprocess
    import sys

    from conftest import REPO

    imported = tree.parent / f"imported-{module}"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("KUBELINT_SVC_CACHE_DIR", "GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR"):
        environment.pop(name, None)
    if cache is not None:
        environment["KUBELINT_SVC_CACHE_DIR"] = str(cache)
    done = subprocess.run([sys.executable, "-c", COMMAND.format(module=module), str(imported), *argv], cwd=tree,
                          env=environment, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout, done.stderr, done.returncode, imported.read_text()


def broken_tree(root: Path) -> Path:
    """Findings, a warning and a kustomization: every part of what lint writes."""
    app_tree(root / "tree", 2)
    (root / "tree" / "app-0" / "base" / "kustomization.yaml").write_text("resources:\n- service.yaml\n")
    (root / "tree" / "app-1" / "base" / "service.yaml").write_text(SERVICE.replace("port: 80", "port: 99999"))
    (root / "tree" / "bad.yaml").write_text("a: [\n")
    (root / "tree" / "empty").mkdir()
    return root / "tree"


@pytest.mark.parametrize("argv", [
    ["lint", "--no-cache", "."], ["lint", "--no-cache", "--format", "json", "."], ["lint", "-q", "--no-cache", "app-1"],
    ["lint", "--no-cache", "--exit-zero", "-f", "concise", "."], ["lint", "--no-cache", "empty"],
    ["lint", "--no-cache", "missing"], ["lint", "--no-cache", "--kustomize=off", "."],
])
def test_the_plain_command_writes_what_typers_writes_without_importing_typer(tmp_path, argv):
    tree = broken_tree(tmp_path)
    *plain, plain_imported = command(tree, "front_door", *argv)
    *through_typer, typer_imported = command(tree, "cli", *argv)
    assert plain == through_typer
    assert plain_imported == "kubelint_svc.app"
    assert typer_imported == "kubelint_svc.app typer"


@pytest.mark.slow  # waits 2 s for its tree to settle
def test_a_plain_command_is_kept_and_replayed_as_before(tmp_path):
    from conftest import GIT, require
    from test_front_door import BROKEN, settle
    from test_warm_runs import git_repository, write_tree

    require("git", GIT is not None)
    tree = tmp_path / "repo"
    write_tree(tree, {"shop": ("dev", "prod")})
    (tree / "shop" / "base" / "objects.yaml").write_text(BROKEN)
    git_repository(tree)
    settle()
    cache = tmp_path / "cache"  # outside the work tree, whose every entry the replay stamps
    first = command(tree, "front_door", "lint", ".", cache=cache)
    again = command(tree, "front_door", "lint", ".", cache=cache)
    assert first[:3] == again[:3]
    assert first[2] == 1
    assert (first[3], again[3]) == ("kubelint_svc.app", "")  # answered by the front door from what the first kept
    assert command(tree, "front_door", "lint", "--fix", "--diff", ".", cache=cache)[3] == "kubelint_svc.app typer"
