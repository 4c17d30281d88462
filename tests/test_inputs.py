"""Which files a run reads: directories recursively, hidden folders skipped, each file once."""


import pytest

from kubelint_svc.inputs import MissingPathError, discover


def test_directories_are_walked_for_manifest_suffixes(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.yml").write_text("x: 1\n")
    (tmp_path / "c.json").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text("x: 1\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "e.yaml").write_text("x: 1\n")
    found = [i.path.relative_to(tmp_path).as_posix() for i in discover([str(tmp_path)])]
    assert found == ["a.yaml", "b.yml", "c.json", "sub/d.yaml"]


def test_a_file_named_directly_is_read_whatever_its_suffix(tmp_path):
    manifest = tmp_path / "service.txt"
    manifest.write_text("x: 1\n")
    assert [i.path for i in discover([str(manifest)])] == [manifest]


def test_symlink_loops_are_not_followed_twice(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.yaml").write_text("x: 1\n")
    (tmp_path / "dir" / "loop").symlink_to(tmp_path / "dir", target_is_directory=True)
    (tmp_path / "again").symlink_to(tmp_path / "dir", target_is_directory=True)
    found = discover([str(tmp_path)])
    assert len(found) == 1
    assert found[0].path.name == "a.yaml"


def test_the_same_file_named_twice_is_read_once(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n")
    assert len(discover([str(tmp_path), str(tmp_path / "a.yaml")])) == 1


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(MissingPathError, match=r"no-such\.yaml"):
        discover([str(tmp_path / "no-such.yaml")])


def test_dash_is_standard_input():
    [stdin] = discover(["-"])
    assert stdin.path is None
    assert stdin.display == "-"
