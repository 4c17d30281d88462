"""Start-up: `--version` and a one-file run import only what they use (every import is paid on
every pre-commit run)."""

import json
import subprocess
import sys

import pytest

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"""

PROBE = """
import json, sys
from kubelint_svc.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.write("\\n" + json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str, cwd) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                            check=False)
    return set(json.loads(result.stdout.rsplit("\n", 1)[1]))


def test_version_imports_no_linting_machinery(tmp_path):
    loaded = modules_after("--version", cwd=tmp_path)
    assert "kubelint_svc.cli" in loaded
    assert not loaded & {"kubelint_svc.app", "kubelint_svc.loader", "kubelint_svc.engine", "ruamel.yaml",
                         "jsonschema", "jsonschema_rs"}


@pytest.mark.slow  # 0.2 s of CPU
def test_a_clean_one_file_run_imports_neither_jsonschema_nor_the_pool_nor_the_views(tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE)
    loaded = modules_after("lint", "--no-cache", "service.yaml", cwd=tmp_path)
    assert "kubelint_svc.runner" in loaded
    assert "jsonschema_rs" in loaded  # valid objects are confirmed by the compiled validator only
    assert not loaded & {"jsonschema", "multiprocessing", "kubelint_svc.graph", "kubelint_svc.expose",
                         "kubelint_svc.reporters.sarif", "kubelint_svc.reporters.junit"}
