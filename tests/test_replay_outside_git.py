"""Issue 20, warm runs outside a git work tree (a checkout's copy, a shared folder): a `lint` of
paths in no work tree is replayed whole (replay.outside_git) while nothing it depends on changed,
and made anew when anything did: a file under the named paths added, removed or changed (its
bytes, its times set back), a configuration or ignore file that would apply (below the paths, or
in a folder above them), a kustomization above them (the light view reads it), a link moved, a
folder above swapped for a link. A run that builds what lies outside the working directory (its
builds are confined to nothing) and a path named through a link are never replayed. A replayed
run has no objects (Outcome.run is None): that is how these tests tell one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_front_door import PROBE
from test_warm_runs import BASE_OBJECTS

from kubelint_svc.app import LOOKED_FOR_ABOVE, Options, lint
from kubelint_svc.config import CONFIG_NAMES
from kubelint_svc.ignore_files import IGNORE_FILE_NAMES
from kubelint_svc.units.kustomize.scan import KUSTOMIZATION_NAMES

pytestmark = pytest.mark.slow  # each test waits 2 s for its tree to settle (cache.SETTLED_NS)

BROKEN = BASE_OBJECTS.replace("targetPort: 8080", "targetPort: http")
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: extra}\nspec: {ports: [{port: 70000}]}\n"


def settle() -> None:
    """Past cache.SETTLED_NS: a run is kept whole only once what it read has settled."""
    time.sleep(2.1)


def aged(path: Path) -> None:
    """Every file and folder under path an hour old, as a copied checkout's."""
    past = time.time() - 3600
    for each in [path, *path.rglob("*")]:
        os.utime(each, (past, past), follow_symlinks=False)


@pytest.fixture
def shared(tmp_path: Path, monkeypatch) -> Path:
    """manifests/ in a folder no git work tree holds; the working directory elsewhere."""
    tree = tmp_path / "shared" / "manifests"
    (tree / "setup").mkdir(parents=True)
    (tree / "objects.yaml").write_text(BASE_OBJECTS)
    (tree / "setup" / "more.yaml").write_text(BASE_OBJECTS.replace("web", "api"))
    aged(tmp_path / "shared")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every read in this process, where the audit hook sees it
    settle()
    return tree


def options(tmp_path: Path, *paths: str, **more) -> Options:
    return Options(paths=paths, cache_dir=str(tmp_path / "cache"), **more)


def findings(outcome) -> list[tuple[str, int, str]]:
    return [(finding.file, finding.line, finding.rule) for finding in outcome.report.findings]


def kept_then(tmp_path: Path, *paths: str, **more):
    """Lint, and lint again: the second run replayed. Returns the first outcome."""
    first = lint(options(tmp_path, *paths, **more), replay=True)
    assert first.run is not None  # made, and kept
    again = lint(options(tmp_path, *paths, **more), replay=True)
    assert again.run is None  # replayed
    assert again.report == first.report
    return first


def test_paths_in_no_work_tree_are_replayed_opening_no_manifest(shared, tmp_path):
    first = lint(options(tmp_path, str(shared)), replay=True)
    assert first.run is not None
    opened: list[str] = []
    watching = [True]

    def hook(event: str, arguments: tuple[object, ...]) -> None:
        named = arguments[0] if event in ("open", "subprocess.Popen") else None
        if watching[0] and isinstance(named, str | bytes | os.PathLike):
            opened.append(os.fsdecode(named))

    sys.addaudithook(hook)  # hooks stay for the process: this one goes quiet at the end
    try:
        again = lint(options(tmp_path, str(shared)), replay=True)
    finally:
        watching[0] = False
    assert again.run is None  # replayed
    assert [path for path in opened if path.endswith(".yaml") or os.path.basename(path) == "git"] == []
    assert (again.report, again.warnings, again.read) == (first.report, first.warnings, first.read)


@pytest.mark.parametrize("change", ["edit", "same-size-edit", "time-set-back", "new-file", "new-folder-file",
                                    "removed", "renamed-folder", "ignore-file", "configuration-inside"])
def test_any_change_under_the_paths_is_linted_anew(shared, tmp_path, change):
    kept_then(tmp_path, str(shared))
    objects = shared / "objects.yaml"
    if change == "edit":
        objects.write_text(BROKEN)
    elif change == "same-size-edit":  # `808x` for `8080`, the times set back: only ctime and the bytes say so
        info = objects.stat()
        objects.write_text(BASE_OBJECTS.replace("targetPort: 8080", "targetPort: 808x"))
        os.utime(objects, ns=(info.st_atime_ns, info.st_mtime_ns))
    elif change == "time-set-back":
        past = objects.stat().st_mtime_ns
        objects.write_text(BROKEN)
        os.utime(objects, ns=(past, past))
    elif change == "new-file":
        (shared / "extra.yaml").write_text(SERVICE)
    elif change == "new-folder-file":
        (shared / "setup" / "extra.yaml").write_text(SERVICE)
    elif change == "removed":
        (shared / "setup" / "more.yaml").unlink()
    elif change == "renamed-folder":
        (shared / "setup").rename(shared / "install")
    elif change == "ignore-file":
        (shared / ".gitignore").write_text("setup/\n")
    else:
        (shared / ".kubelint-svc.yaml").write_text("rules:\n  service-selector-no-match: off\n")
    again = lint(options(tmp_path, str(shared)), replay=True)
    assert again.run is not None  # linted anew
    assert findings(again) == findings(lint(options(tmp_path, str(shared), no_cache=True)))


@pytest.mark.parametrize("name", [".kubelint-svc.yaml", "pyproject.toml", "kustomization.yaml", ".gitignore"])
def test_a_file_that_would_apply_from_a_folder_above_is_linted_anew(shared, tmp_path, name):
    """The configuration is sought from the paths upward to `/`, and the light view reads the
    kustomizations above a file: one written (or edited) above the named folder is seen."""
    above = shared.parent / name
    texts = {".kubelint-svc.yaml": "rules:\n  service-selector-no-match: off\n",
             "pyproject.toml": "[tool.kubelint-svc]\nfail-on = 'info'\n",
             "kustomization.yaml": "namespace: moved\nresources:\n- manifests/objects.yaml\n",
             ".gitignore": "*.yaml\n"}
    kept_then(tmp_path, str(shared))
    above.write_text(texts[name])
    again = lint(options(tmp_path, str(shared)), replay=True)
    assert again.run is not None
    aged(above)
    settle()
    kept_then(tmp_path, str(shared))  # kept again with it there
    above.write_text(texts[name] + "\n")  # edited: the name was there already
    assert lint(options(tmp_path, str(shared)), replay=True).run is not None


def test_a_configuration_above_removed_while_the_run_reads_is_not_kept(shared, tmp_path, monkeypatch):
    """The folders above are not stamped by their times (`/tmp`'s change every moment): the names
    looked for there are recorded before the run reads any and again after it, and a run during
    which one went is not kept (its output was made with it)."""
    from kubelint_svc import runner

    (shared / "objects.yaml").write_text(BROKEN)
    above = shared.parent / ".kubelint-svc.yaml"
    above.write_text("rules:\n  service-target-port-undefined: off\n")
    aged(shared.parent)
    settle()
    original = runner.lint_with_objects

    def removing(*arguments, **named):
        above.unlink(missing_ok=True)  # after the configuration was read, before the stamps are taken
        return original(*arguments, **named)

    monkeypatch.setattr(runner, "lint_with_objects", removing)
    made = lint(options(tmp_path, str(shared)), replay=True)
    monkeypatch.setattr(runner, "lint_with_objects", original)
    assert "service-target-port-undefined" not in {rule for _, _, rule in findings(made)}
    again = lint(options(tmp_path, str(shared)), replay=True)
    assert again.run is not None  # not replayed: made anew, without the configuration
    assert findings(again) == findings(lint(options(tmp_path, str(shared), no_cache=True)))
    assert "service-target-port-undefined" in {rule for _, _, rule in findings(again)}


def test_a_folder_above_swapped_for_a_link_is_linted_anew(shared, tmp_path):
    kept_then(tmp_path, str(shared))
    holder = shared.parent
    copy = tmp_path / "copy"
    shutil.copytree(holder, copy, symlinks=True)
    (copy / "manifests" / "objects.yaml").write_text(BROKEN)
    aged(copy)
    holder.rename(tmp_path / "old")
    holder.symlink_to(copy)
    again = lint(options(tmp_path, str(shared)), replay=True)
    assert again.run is not None
    assert "service-target-port-undefined" in {rule for _, _, rule in findings(again)}


def test_a_link_moved_is_linted_anew(shared, tmp_path):
    """A link under the paths is stamped with where it leads: pointed at another file (inside or
    out), it is read anew, or refused."""
    (shared / "other.yaml").write_text(BROKEN)
    link = shared / "setup" / "linked.yaml"
    link.symlink_to(shared / "objects.yaml")
    outside = tmp_path / "outside.yaml"
    outside.write_text(BROKEN)
    aged(shared)
    settle()
    kept_then(tmp_path, str(shared))
    link.unlink()
    link.symlink_to(shared / "other.yaml")
    past = time.time() - 3600
    os.utime(link, (past, past), follow_symlinks=False)
    os.utime(link.parent, (past, past))  # the folder's times put back too: the link's own stamp says it
    again = lint(options(tmp_path, str(shared)), replay=True)
    assert again.run is not None
    assert findings(again) == findings(lint(options(tmp_path, str(shared), no_cache=True)))


def test_a_path_named_through_a_link_is_never_replayed(shared, tmp_path):
    """The link may be moved to another tree while nothing of either changes."""
    named = tmp_path / "work" / "through"
    named.symlink_to(shared)
    settle()
    lint(options(tmp_path, str(named)), replay=True)
    assert lint(options(tmp_path, str(named)), replay=True).run is not None


def test_a_build_outside_the_working_directory_is_never_replayed(shared, tmp_path):
    """Its builds are confined to nothing (the user's own choice): no stamp vouches for what they read."""
    (shared / "kustomization.yaml").write_text("resources:\n- objects.yaml\n")
    aged(shared)
    settle()
    made = lint(options(tmp_path, str(shared), kustomize="fallback"), replay=True)
    assert made.report.objects > 0
    assert lint(options(tmp_path, str(shared), kustomize="fallback"), replay=True).run is not None


def test_in_a_working_directory_without_git_a_new_kustomization_that_includes_the_path_is_seen(
        shared, tmp_path, monkeypatch):
    """Named from a working directory in no work tree, the working directory is stamped whole: a
    kustomization beside the named folder that comes to include its file is read (and built) on
    the next run."""
    monkeypatch.chdir(shared.parent)
    (shared / "kustomization.yaml").write_text("resources:\n- objects.yaml\n")
    overlay = shared.parent / "overlay"
    overlay.mkdir()
    aged(shared.parent)
    settle()
    first = kept_then(tmp_path, "manifests", kustomize="fallback")  # built, confined to the working directory
    assert first.run is not None
    assert first.run.target_roots
    (overlay / "kustomization.yaml").write_text("namespace: moved\nresources:\n- ../manifests\n")
    again = lint(options(tmp_path, "manifests", kustomize="fallback"), replay=True)
    assert again.run is not None
    assert "also read, to build what includes the files named: overlay/kustomization.yaml" in again.warnings
    assert "moved" in {resource.namespace for resource in [*again.run.resources, *again.run.context_resources]}


def test_a_path_in_a_work_tree_below_is_not_outside_git(shared, tmp_path):
    """A `.git` in the named folder makes it a work tree's top: git decides what the run reads."""
    subprocess.run(["git", "init", "-q"], cwd=shared, check=True)
    settle()
    lint(options(tmp_path, str(shared)), replay=True)
    assert lint(options(tmp_path, str(shared)), replay=True).run is not None


def test_the_names_looked_for_above_are_those_the_run_looks_for():
    assert {*CONFIG_NAMES, "pyproject.toml", *IGNORE_FILE_NAMES, *KUSTOMIZATION_NAMES, "Chart.yaml",
            ".git"} <= set(LOOKED_FOR_ABOVE)


def test_the_front_door_answers_outside_git_too(shared, tmp_path):
    """`kubelint-svc lint DIR` of a folder in no work tree: the second run is answered before typer
    is imported, with the same output; after an edit, the run is made anew."""
    import json

    out = tmp_path / "probe.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PROBE_OUT": str(out)}
    for name in ("KUBELINT_SVC_CACHE_DIR", "GITHUB_ACTIONS"):
        env.pop(name, None)
    command = [sys.executable, "-c", PROBE, "lint", "--cache-dir", str(tmp_path / "cache"), str(shared)]

    def run() -> tuple[str, bool]:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        return done.stdout, json.loads(out.read_text())["answered"]

    first, answered = run()
    assert not answered
    again, answered = run()
    assert answered
    assert again == first
    (shared / "objects.yaml").write_text(BROKEN)
    _, answered = run()
    assert not answered
