"""Which files a run reads, as ruff chooses them: `.gitignore` and `.ignore` respected, default
excludes, --exclude / --extend-exclude, files named explicitly linted unless --force-exclude."""

import json
import os

import pytest
from test_cli import CLEAN, in_process

from kubelint_svc.ignore_files import IgnoreFiles, glob_regex, parse_ignore_file

# (pattern, path, is it a folder, ignored): what git says, checked against `git check-ignore` by
# test_the_suite.py wherever git is installed
PATTERN_TABLE = [
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
    # read as git's wildmatch reads them
    ("[!]]*.yaml", "a.yaml", False, True),  # a `]` right after `[!` is a member, not the end
    ("[!]]*.yaml", "].yaml", False, False),
    ("[]a]", "]", False, True),
    ("[\\]]x", "]x", False, True),  # escaped inside a bracket
    ("[[:digit:]].yaml", "7.yaml", False, True),
    ("[[:digit:]].yaml", "a.yaml", False, False),
    ("[a-c].yaml", "b.yaml", False, True),
    ("[/[ab]", "b", False, True),  # a bracket holding `/`: anchored, never matches a `/`
    ("a\\/*.yaml", "a/x.yaml", False, True),  # an escaped `/` is a `/`
    ("a**/x.yaml", "ab/c/x.yaml", False, True),  # git's literal-prefix quirk: `**` after it spans folders
    ("a**/x.yaml", "a/x.yaml", False, True),
    ("*//", "a", True, False),  # one trailing `/` only: `*/` is left, which matches nothing
    ("[abc", "[abc", False, False),  # an unclosed `[`: wildmatch gives up, nothing matches
    ("[abc", "a", False, False),
    ("x\\", "x\\", False, False),  # a trailing backslash: nothing matches
    ("[[:nope:]]", "a", False, False),  # an unknown class: nothing matches
    ("[z-a]", "z", False, True),  # a reversed range matches nothing, its first member still does
]


@pytest.mark.parametrize(("pattern", "path", "is_dir", "ignored"), PATTERN_TABLE)
def test_gitignore_patterns_match_as_git_matches_them(pattern, path, is_dir, ignored):
    compiled = parse_ignore_file(pattern + "\n", ".gitignore")
    matched = any(c.regex.fullmatch(path) is not None and (is_dir or not c.directory_only) for c in compiled)
    assert matched is ignored, glob_regex(pattern.rstrip("/"))


def test_a_file_name_that_is_not_utf8_is_matched_without_a_crash(tmp_path, monkeypatch, capsys):
    """A non-UTF-8 file name beside any .gitignore was an internal error (RE2 takes UTF-8)."""
    tree(tmp_path, "a.yaml")
    (tmp_path / os.fsdecode(b"\xff.yaml")).write_text(CLEAN)
    (tmp_path / os.fsdecode(b"x\xfe.yaml")).write_text(CLEAN)
    (tmp_path / ".gitignore").write_text("x?.yaml\n")
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["a.yaml", "\\xff.yaml"]


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


@pytest.mark.slow  # 0.6 s of CPU
def test_thousands_of_patterns_are_tried_in_groups_not_one_by_one(tmp_path, monkeypatch):
    """10,000 patterns against 2,000 files was 20 million regex runs (a minute): a pull request's
    .gitignore must not make CI crawl. Groups of patterns are tried together, last first."""
    from kubelint_svc import ignore_files

    runs = []

    class Counting:
        def __init__(self, regex):
            self.regex = regex

        def fullmatch(self, text):
            runs.append(text)
            return self.regex.fullmatch(text)

    compile_regex = ignore_files._compile
    monkeypatch.setattr(ignore_files, "_compile", lambda text: Counting(compile_regex(text)))
    patterns = [f"**/n{n}*[a-z]?/**" for n in range(9_990)] + ["!keep.yaml", "*.yaml", "!keep.yaml", "x/"]
    (tmp_path / ".gitignore").write_text("\n".join(patterns) + "\n")
    files = IgnoreFiles(tmp_path)
    assert files.match(tmp_path / "a.yaml", False).text == "*.yaml"
    assert files.match(tmp_path / "keep.yaml", False) is None
    assert files.match(tmp_path / "k" / "n5ab" / "c", True).text == "**/n5*[a-z]?/**"
    runs.clear()
    for number in range(100):
        files.match(tmp_path / f"sub{number}", True)
    assert len(runs) < 100 * 200  # one by one: 100 * 9,994


def test_outside_a_repository_and_the_working_directory_the_walked_folders_ignore_files_apply(
        tmp_path, monkeypatch, capsys):
    """`lint /elsewhere/proj` outside git read each folder's own .gitignore only: proj's `gen/`
    did not reach proj/sub/gen."""
    tree(tmp_path, "proj/sub/gen/x.yaml", "proj/sub/y.yaml")
    (tmp_path / "proj" / ".gitignore").write_text("gen/\n")
    (tmp_path / "elsewhere").mkdir()
    shown = files_read(monkeypatch, capsys, tmp_path / "elsewhere", str(tmp_path / "proj"))
    assert shown == [str(tmp_path / "proj" / "sub" / "y.yaml")]


def test_show_files_leaves_out_links_that_are_not_followed(tmp_path, monkeypatch, capsys):
    tree(tmp_path, "a.yaml")
    (tmp_path / "out.yaml").symlink_to("/etc/hostname")
    (tmp_path / "outdir").symlink_to("/etc")
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["a.yaml"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_an_invisible_line_separator_does_not_split_a_pattern(tmp_path, monkeypatch, capsys, separator):
    """`*<U+2028>` is one pattern to git, matching no file; split there it read as `*` and hid
    every manifest from the linter behind a .gitignore line a reviewer sees as harmless."""
    tree(tmp_path, "a.yaml")
    (tmp_path / ".gitignore").write_text(f"*{separator}\nb.yaml\r\n", newline="")
    assert files_read(monkeypatch, capsys, tmp_path, ".") == ["a.yaml"]
    [star, crlf] = parse_ignore_file(f"*{separator}\nb.yaml\r\n", ".gitignore")
    assert (star.text, crlf.text) == (f"*{separator}", "b.yaml")


@pytest.mark.slow  # 0.7 s of CPU
def test_an_ignore_file_too_large_to_read_whole_is_named_on_stderr(tmp_path, monkeypatch, capsys):
    """A .gitignore over 256 KiB was passed over without a word: what it ignores was linted."""
    tree(tmp_path, "a.yaml", "sub/b.yaml", "big/c.yaml")
    (tmp_path / "sub" / ".gitignore").write_text("\n".join(f"n{n}" for n in range(10_000)) + "\n")  # exactly the limit
    (tmp_path / "big" / ".gitignore").write_text("c.yaml\n" + "#" * 300_000 + "\n")
    (tmp_path / ".gitignore").write_text("\n".join(f"n{n}" for n in range(10_000)) + "\na.yaml\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = in_process(monkeypatch, capsys, "lint", "--show-files", ".")
    assert (code, out.splitlines()) == (0, ["a.yaml", "big/c.yaml", "sub/b.yaml"])
    assert err.splitlines() == [
        "kubelint-svc: warning: .gitignore has more than 10,000 lines; those past it are not read",
        "kubelint-svc: warning: big/.gitignore is larger than 256 KiB; not read, so nothing it ignores is left out",
    ]
