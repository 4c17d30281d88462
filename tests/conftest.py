from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from kubelint_svc.engine import Registry
from kubelint_svc.inputs import InputFile, discover
from kubelint_svc.runner import Report, Settings, lint_files
from kubelint_svc.schemas import bundled_versions

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # beside the checkout, not in it: CI lays a copy there
CORPUS = SHARED / "corpus" / "real-world"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


def in_ci() -> bool:
    """Is CI set (.ci/run sets CI=1)? There every tool and folder the tests use is present."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def require(what: str, present: bool, *, system: bool = False) -> None:
    """The one way a test stops for want of something of the machine's (a tool, an extra, the
    shared corpus, git, fork): failed under CI, which installs all of it (.ci/run), so a missing
    piece never passes as green; skipped elsewhere, saying what is missing. `system`: a program
    .ci/run cannot install (Graphviz, node: only Python's packages are at its hand), whose test
    only checks our output further with it: skipped even under CI, saying so."""
    if present:
        return
    if system:
        pytest.skip(f"{what} is missing (a system program .ci/run cannot install)")
    if in_ci():
        pytest.fail(f"{what} is missing, and CI is set, where the tests need it (.ci/run)", pytrace=False)
    pytest.skip(f"{what} is missing")


def has(what: str, present: bool, *, system: bool = False) -> bool:
    """present, for a test that does one more check where something is there (Graphviz parsing
    its output): under CI a missing one fails the test, as with require (not a `system` one)."""
    if not present and in_ci() and not system:
        require(what, present)
    return present


def needs(what: str, present: bool, *, system: bool = False) -> pytest.MarkDecorator:
    """require() as a marker, for a whole test, class or module: `@needs("kubectl", KUBECTL is not None)`."""
    return pytest.mark.needs(what=what, present=present, system=system)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        require(mark.kwargs["what"], mark.kwargs["present"], system=mark.kwargs.get("system", False))


def require_shared(path: Path) -> Path:
    """`path` under ../shared, or the test stops (see require)."""
    require(f"{path} (the shared/ folder beside the checkout)", path.exists())
    return path


def kubectl() -> str | None:
    """kubectl as the linter finds it: on PATH, else beside this Python, where the kustomize
    extra's wheel puts it (a venv's bin need not be on PATH: .ci/run does not activate it)."""
    from kubelint_svc.identity import find_tool

    return find_tool("kubectl")


def has_fork() -> bool:
    return "fork" in __import__("multiprocessing").get_all_start_methods()


KUBECTL = kubectl()
GIT = shutil.which("git")
LINUX = sys.platform.startswith("linux")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.builtin()


@pytest.fixture(scope="session")
def full_registry() -> Registry:
    """Every rule on, the built-in policy packs included."""
    from kubelint_svc.config import BUILTIN_POLICY_PACKS, Config

    return Registry.configured(Config(policy_packs=list(BUILTIN_POLICY_PACKS)))


@pytest.fixture
def lint_text(registry):
    """Lint YAML text as if piped to `kubelint-svc lint -`."""

    def run(text: str | bytes, version: str | None = None) -> Report:
        raw = text.encode() if isinstance(text, str) else text
        settings = Settings(kubernetes_version=version or bundled_versions()[-1])
        return lint_files([InputFile("-", None)], settings, registry, stdin=lambda: raw)

    return run


@pytest.fixture
def lint_paths(registry):
    def run(*paths: str | Path, version: str | None = None) -> Report:
        settings = Settings(kubernetes_version=version or bundled_versions()[-1])
        return lint_files(discover([str(p) for p in paths]), settings, registry)

    return run


# Most test manifests are lone Services without a selector; the cross-object warning that
# nothing provides their endpoints is true but beside the point of those tests.
BESIDE_THE_POINT = ("service-no-endpoints",)


def brief(report: Report, ignore: tuple[str, ...] = BESIDE_THE_POINT) -> list[tuple[str, int, int, str | None]]:
    """(rule, line, column, field) of each finding: what most tests assert."""
    return [(f.rule, f.line, f.column, f.field) for f in report.findings if f.rule not in ignore]


def cli_in_process(monkeypatch, capsys, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """The command line run in this process, as a user runs it (no colour, not in GitHub
    Actions, empty stdin): (exit code, stdout, stderr), without a subprocess's start-up cost."""
    import io
    import sys

    from kubelint_svc.cli import main

    for name in ("FORCE_COLOR", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["kubelint-svc", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err
