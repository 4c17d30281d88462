"""Issue 20, the serial work of the cold run's main process: what it no longer does, by counts.

- The command's process is left to the exit: after its one run the interpreter's last collection
  walked every object still alive (modules, rules, schemas and memos) to free memory the exit
  returns anyway; the objects are frozen at exit instead, so it walks none.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
"""

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
    (tmp_path / "web.yaml").write_text(SERVICE)
    # the console script (front_door.main, what `kubelint-svc` and `python -m kubelint_svc` run):
    # everything frozen; cli.main alone, as the suite calls it many times a process, is not
    assert _tracked_at_exit(tmp_path, "front_door") < 100
    assert _tracked_at_exit(tmp_path, "cli") > 10_000
