"""Which files a run reads, as ruff chooses them: `.gitignore` and `.ignore` respected, default
excludes, --exclude / --extend-exclude, files named explicitly linted unless --force-exclude."""

import json

import pytest
from test_cli import CLEAN, in_process

from kubelint_svc.ignore_files import IgnoreFiles, glob_regex, parse_ignore_file


@pytest.mark.parametrize(("pattern", "path", "is_dir", "ignored"), [
    ("build/", "build", True, True),
    ("build/", "build", False, False),  # directory only
    ("build/", "k8s/build", True, True),  # no slash before the end: any depth
    ("/build", "k8s/build", True, False),  # anchored
    ("/build", "build", False, True),
    ("k8s/*.yaml", "k8s/a.yaml", False, True),
    ("k8s/*.yaml", "k8s/sub/a.yaml", False, False),  # `*` does not cross a folder
    ("k8s/*.yaml", "x/k8s/a.yaml", False, False),  # a slash in the middle anchors
    ("**/gen", "a/b/gen", True, True),
    ("a/**/b.yaml", "a/b.yaml", False, True),
    ("a/**/b.yaml", "a/x/y/b.yaml", False, True),
    ("a/**", "a/x/y.yaml", False, True),
    ("*.y?ml", "deep/x.yaml", False, True),
    ("[!a]bc.yaml", "abc.yaml", False, False),
    ("[!a]bc.yaml", "xbc.yaml", False, True),
    ("\\#x.yaml", "#x.yaml", False, True),
])
def test_gitignore_patterns_match_as_git_matches_them(pattern, path, is_dir, ignored):
    [compiled] = parse_ignore_file(pattern + "\n", ".gitignore")
    matched = compiled.regex.fullmatch(path) is not None and (is_dir or not compiled.directory_only)
    assert matched is ignored, glob_regex(pattern.rstrip("/"))


def test_the_last_matching_pattern_wins_and_nested_files_override(tmp_path):
    (tmp_path / ".gitignore").write_text("# comment\n*.yaml\n!keep.yaml\n\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!*.yaml\n")
    (tmp_path / "sub" / ".ignore").write_text("secret.yaml\n")
    files = IgnoreFiles(tmp_path)
    assert files.match(tmp_path / "a.yaml", False) is not None
    assert files.match(tmp_path / "keep.yaml", False) is None
    assert files.match(tmp_path / "sub" / "a.yaml", False) is None
    assert files.match(tmp_path / "sub" / "secret.yaml", False).source.endswith(".ignore:1")


def tree(tmp_path, *names: str) -> None:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(CLEAN)


def files_read(monkeypatch, capsys, tmp_path, *args: str) -> list[str]:
    monkeypatch.chdir(tmp_path)
    code, out, err = in_process(monkeypatch, capsys, "lint", "--show-files", *args)
    assert code == 0, err
    return out.splitlines()


def test_gitignore_and_default_excludes_are_respected_in_and_out_of_git(tmp_path, monkeypatch, capsys):
    """Issue 12, item 8: `build/` and `node_modules/` are not linted; --no-respect-gitignore
    brings back what .gitignore ignores."""
    tree(tmp_path, "k8s/web.yaml", "out/gen.yaml", "node_modules/pkg/x.yaml", "build/y.yaml", "env/z.yaml")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("out/\n")
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["k8s/web.yaml"]
    (tmp_path / ".git").mkdir()  # in a repository, the same
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["k8s/web.yaml"]
    assert files_read(monkeypatch, capsys, tmp_path, ".", "--no-respect-gitignore") == ["k8s/web.yaml",
                                                                                        "out/gen.yaml"]


def test_exclude_replaces_the_defaults_and_extend_exclude_adds(tmp_path, monkeypatch, capsys):
    tree(tmp_path, "k8s/web.yaml", "k8s/web.generated.yaml", "build/y.yaml")
    (tmp_path / ".kubelint-svc.yaml").write_text("exclude: [k8s/web.yaml]\n")
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["k8s/web.generated.yaml"]
    assert files_read(monkeypatch, capsys, tmp_path, ".", "--extend-exclude", "*.generated.yaml") == []
    assert files_read(monkeypatch, capsys, tmp_path, ".", "--exclude", "*.generated.yaml") == [
        "build/y.yaml", "k8s/web.yaml"]


def test_a_named_file_is_linted_however_excluded_unless_force_exclude_which_says_so(tmp_path, monkeypatch, capsys):
    """Issue 12, item 5: a file named on the command line never vanishes without a word."""
    tree(tmp_path, "vendor/nodeport.yaml", "out/x.yaml", "build/y.yaml")
    (tmp_path / ".kubelint-svc.yaml").write_text('exclude: ["vendor/*"]\n')
    (tmp_path / ".gitignore").write_text("out/\n")
    monkeypatch.chdir(tmp_path)
    named = ("vendor/nodeport.yaml", "out/x.yaml", "build/y.yaml")
    code, out, err = in_process(monkeypatch, capsys, "lint", *named, "-f", "json")
    assert (code, json.loads(out)["summary"]["files"], err) == (0, 3, "")
    code, out, err = in_process(monkeypatch, capsys, "lint", *named, "--force-exclude")
    assert err.splitlines() == [
        "kubelint-svc: warning: vendor/nodeport.yaml is excluded by .kubelint-svc.yaml:1 (vendor/*); not linted",
        "kubelint-svc: warning: out/x.yaml is ignored by .gitignore:1 (out/); not linted",
        "kubelint-svc: warning: build/y.yaml is excluded by the default excludes (build); not linted",
        "kubelint-svc: warning: no Kubernetes objects found in 0 files",
    ]


def test_an_ignore_file_that_is_not_a_small_regular_file_is_not_read(tmp_path, monkeypatch, capsys):
    import os

    tree(tmp_path, "a.yaml")
    os.mkfifo(tmp_path / ".gitignore")  # a FIFO from a pull request must not block the run
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["a.yaml"]
