"""Issue 20, the serial work of the cold run's main process: what it no longer does, by counts.

- The command's process is left to the exit: after its one run the interpreter's last collection
  walked every object still alive (modules, rules, schemas and memos) to free memory the exit
  returns anyway; the objects are frozen at exit instead, so it walks none.
- The cross-object rules are shared with the worker the one-object rules fork: each process
  judges its own objects with both, where this process ran every cross-object rule alone after.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from manifests import WEB_DEPLOYMENT, WEB_SERVICE
from test_rules_parallel import everything, pools_of_rules, tree

from kubelint_svc import engine
from kubelint_svc.app import Options, lint

__all__ = ["tree"]  # the fixture, shared

# the objects the collector still tracks once every other exit handler ran (registered before the
# command's own, so run after them)
_AT_EXIT = """\
import atexit, gc, os, sys
atexit.register(lambda: os.write(2, f"tracked at exit: {len(gc.get_objects())}\\n".encode()))
sys.argv = ["kubelint-svc", *sys.argv[1:]]
from kubelint_svc.{module} import main
main()
"""


def _tracked_at_exit(folder: Path, module: str) -> int:
    done = subprocess.run([sys.executable, "-c", _AT_EXIT.replace("{module}", module), "lint", "--no-cache", "."],
                          check=False, cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rpartition("tracked at exit: ")[2].split()[0])


def test_the_command_leaves_nothing_for_the_last_collection(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(WEB_SERVICE + "---\n" + WEB_DEPLOYMENT)
    # the console script (front_door.main, what `kubelint-svc` and `python -m kubelint_svc` run):
    # everything frozen; cli.main alone, as the suite calls it many times a process, is not
    assert _tracked_at_exit(tmp_path, "front_door") < 100
    assert _tracked_at_exit(tmp_path, "cli") > 10_000


def _cross_object_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The objects this process runs the cross-object rules on (a forked worker's calls stay there)."""
    judged: list[str] = []
    real = engine.Registry.check_resource

    def counted(self, resource, run, cross=None, noted=False):  # type: ignore[no-untyped-def]
        if cross:
            judged.append(resource.ref())
        return real(self, resource, run, cross, noted)

    monkeypatch.setattr(engine.Registry, "check_resource", counted)
    return judged


def test_the_cross_object_rules_are_shared_with_the_worker(tree, monkeypatch):
    judged = _cross_object_checks(monkeypatch)
    started = pools_of_rules(monkeypatch)
    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 10_000)
    serial = lint(options)
    assert started == []
    assert len(judged) == serial.report.objects == 36
    judged.clear()
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 4)
    pooled = lint(options)
    assert [workers for workers, _ in started] == [2]
    # this process: the first object of each kind (two kinds), then its slice of the other 34
    assert len(judged) == 2 + 34 - 34 * 9 // 20
    assert everything(pooled) == everything(serial)
    assert "service-selector-no-match" in {finding.rule for finding in pooled.report.findings}
