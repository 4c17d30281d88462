"""The one confinement rule every reader and writer of input paths follows."""

from __future__ import annotations

import os

from kubelint_svc.paths import confined, refusal


def test_a_file_of_the_work_tree_is_admitted(tmp_path):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "svc.yaml").write_text("a: 1\n")
    assert refusal(tmp_path / "k8s" / "svc.yaml", tmp_path) is None
    assert confined(tmp_path / "k8s" / ".." / "k8s" / "svc.yaml", tmp_path) == tmp_path / "k8s" / "svc.yaml"


def test_the_git_directory_is_never_inside(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[http]\nextraheader = AUTHORIZATION: basic secret\n")
    (tmp_path / "sub" / ".GIT").mkdir(parents=True)  # a nested repository's, whatever the case
    (tmp_path / "innocent").symlink_to(tmp_path / ".git" / "config")
    for path in (tmp_path / ".git" / "config", tmp_path / "sub" / ".GIT", tmp_path / "innocent",
                 tmp_path / "k8s" / ".." / ".git" / "config"):
        assert refusal(path, tmp_path) == "inside a git directory, which holds credentials", path
        assert confined(path, tmp_path) is None


def test_a_link_out_of_the_work_tree_is_named(tmp_path):
    top, outside = tmp_path / "repo", tmp_path / "other"
    top.mkdir()
    outside.mkdir()
    (top / "k8s").symlink_to(outside)
    assert refusal(top / "k8s" / "x.yaml", top) == f"a link to {outside / 'x.yaml'}, outside the repository ({top})"
    assert refusal(top / ".." / "other", top) == f"outside the repository ({top})"


def test_a_link_loop_is_refused_without_an_exception(tmp_path):
    os.symlink("loop", tmp_path / "loop")
    assert refusal(tmp_path / "loop", tmp_path) == "a symbolic link that loops, or a name that cannot be resolved"
