"""The static checks CI runs through this suite: mypy --strict on the package, ruff on all the Python.
Both read their settings from pyproject.toml and nothing else, so a run here and in CI agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False)


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(map(str, result.args[2:]))} failed:\n{result.stdout}{result.stderr}"


@pytest.mark.slow  # 2-3 s from a clean clone (no .mypy_cache), and the fast set is near its budget
def test_mypy_strict_passes_on_the_package():
    assert_clean(run_tool("mypy", "--config-file", "pyproject.toml"))


def test_ruff_passes_on_all_python():
    # --config: the project's settings, never merged with a user-level ruff configuration
    assert_clean(run_tool("ruff", "check", "--config", "pyproject.toml", "kubelint_svc", "tests", "scripts",
                          "benchmarks"))
