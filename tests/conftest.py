from __future__ import annotations

import os
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


def require_shared(path: Path) -> Path:
    """`path` under ../shared, or the test stops: failed under CI, which always has shared/
    (a missing copy must not pass as green), skipped elsewhere, saying what is missing."""
    if not path.exists():
        message = f"{path} not found: these tests need the shared/ folder beside the checkout"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{message}, and CI is set, where it is always present", pytrace=False)
        pytest.skip(message)
    return path


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
