"""The cache kept tidy (issue 21): each version of the tool has a folder of its own in the cache
folder; at most once a day the other versions' folders, entries unused for 30 days and, past a
bound, the least recently used are removed; `kubelint-svc clean` removes the project's cache
folders, and never anything a pull request or a mistyped --cache-dir points it at."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import cli_in_process

from kubelint_svc.cache import CACHE_FOLDER, Cache
from kubelint_svc.cache_folders import (
    MAX_MIB_VARIABLE,
    STAMP,
    UNUSED_S,
    max_bytes_from_environment,
    open_kept,
    prune,
)

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
DAY = 24 * 3600
MIB = 1 << 20


@pytest.fixture(autouse=True)
def own_secret(tmp_path, monkeypatch):
    """Each test signs with a secret of its own, in a user cache folder clean must never touch."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KUBELINT_SVC_CACHE_DIR", raising=False)
    monkeypatch.delenv(MAX_MIB_VARIABLE, raising=False)


def entries(folder: Path) -> set[str]:
    """The entries of a cache folder, as `version/key`."""
    return {f"{path.parent.parent.name}/{path.parent.name}{path.name}" for path in folder.glob("*/??/*")}


def kept(folder: Path, generation: str, now: float, *keys: str, size: int = 10) -> Cache:
    store = open_kept(folder, generation, max_bytes=1 << 40, now=now)
    assert store is not None
    for key in keys:
        store.put(key, b"x" * size)
    return store


def last_used(folder: Path, generation: str, key: str, when: float) -> None:
    os.utime(folder / generation / key[:2] / key[2:], (when, when))


def test_each_version_keeps_its_own_folder_and_the_others_go_at_the_daily_pruning(tmp_path):
    folder, now = tmp_path / CACHE_FOLDER, time.time()
    kept(folder, "0.1.0-aaaa", now, "aa" * 20)
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    kept(folder, "0.2.0-bbbb", now + 60, "bb" * 20)  # pruned less than a day ago: nothing scanned
    assert entries(folder) == {f"0.1.0-aaaa/{'aa' * 20}", f"0.2.0-bbbb/{'bb' * 20}"}
    kept(folder, "0.2.0-bbbb", now + DAY + 60)
    assert entries(folder) == {f"0.2.0-bbbb/{'bb' * 20}"}
    assert not (folder / "0.1.0-aaaa").exists()


def test_entries_unused_for_thirty_days_are_removed(tmp_path):
    folder, now = tmp_path / CACHE_FOLDER, time.time()
    old, recent = "01" * 20, "02" * 20
    kept(folder, "v", now, old, recent)
    last_used(folder, "v", old, now - UNUSED_S - DAY)
    last_used(folder, "v", recent, now - UNUSED_S + DAY)
    stale_temporary = folder / "v" / "01" / ".tmp-abandoned"
    stale_temporary.write_bytes(b"half an entry")
    os.utime(stale_temporary, (now - DAY, now - DAY))
    os.utime(folder / STAMP, (now - DAY - 1, now - DAY - 1))
    kept(folder, "v", now)
    assert entries(folder) == {f"v/{recent}"}


def test_the_cache_is_bounded_and_the_least_recently_used_go_first(tmp_path, monkeypatch):
    folder, now = tmp_path / CACHE_FOLDER, time.time()
    keys = [f"{i:02x}" * 20 for i in range(6)]
    kept(folder, "v", now, *keys, size=MIB)
    for age, key in enumerate(reversed(keys)):  # the first key is the least recently used
        last_used(folder, "v", key, now - age * 3600)
    pruned = prune(folder, "v", 3 * MIB + 1024 * 6, now)
    assert entries(folder) == {f"v/{key}" for key in keys[3:]}
    assert (pruned.removed, pruned.freed // MIB) == (3, 3)
    assert max_bytes_from_environment() == 1024 * MIB  # the default
    monkeypatch.setenv(MAX_MIB_VARIABLE, "64")
    assert max_bytes_from_environment() == 64 * MIB
    monkeypatch.setenv(MAX_MIB_VARIABLE, "lots")
    assert max_bytes_from_environment() == 1024 * MIB


@pytest.mark.slow  # 0.2 s of CPU
def test_the_cli_prunes_its_cache_and_clean_removes_the_projects_cache_folders(tmp_path, monkeypatch, capsys):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "service.yaml").write_text(SERVICE)
    (tmp_path / "app" / ".kubelint-svc.yaml").write_text("fail-on: error\n")
    (tmp_path / "service.yaml").write_text(SERVICE)
    cli_in_process(monkeypatch, capsys, "lint", ".", cwd=tmp_path)
    cli_in_process(monkeypatch, capsys, "lint", ".", cwd=tmp_path / "app")
    [generation] = [path.name for path in (tmp_path / CACHE_FOLDER).iterdir() if path.is_dir()]
    assert (tmp_path / CACHE_FOLDER / STAMP).is_file()
    assert entries(tmp_path / "app" / CACHE_FOLDER)
    secret = tmp_path / "xdg" / "kubelint-svc" / "secret"
    assert secret.is_file()
    code, out, err = cli_in_process(monkeypatch, capsys, "clean", cwd=tmp_path)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"Removed {CACHE_FOLDER}", f"Removed app/{CACHE_FOLDER}"]
    assert not (tmp_path / CACHE_FOLDER).exists()
    assert not (tmp_path / "app" / CACHE_FOLDER).exists()
    assert secret.is_file()
    assert generation
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app", "service.yaml", "xdg"]
    assert cli_in_process(monkeypatch, capsys, "clean", cwd=tmp_path)[1] == "No cache folder to remove.\n"


def test_clean_and_pruning_remove_links_never_what_they_name(tmp_path, monkeypatch, capsys):
    """A committed cache folder whose version folder, entry folder or entry is a link out of it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "service.yaml").write_text(SERVICE)
    cli_in_process(monkeypatch, capsys, "lint", ".", cwd=repo)
    folder = repo / CACHE_FOLDER
    [generation] = [path for path in folder.iterdir() if path.is_dir()]
    (folder / "0.0.1-old").symlink_to(outside)
    (generation / "ff").symlink_to(outside)
    (folder / STAMP).unlink()  # pruning is due, and its stamp a link to a file it would make outside
    (folder / STAMP).symlink_to(outside / "made-through-a-link")
    cli_in_process(monkeypatch, capsys, "lint", ".", cwd=repo)
    assert not os.path.lexists(folder / "0.0.1-old")
    assert not os.path.lexists(generation / "ff")
    assert sorted(path.name for path in outside.iterdir()) == ["precious"]
    assert (folder / STAMP).is_file()
    assert not (folder / STAMP).is_symlink()
    (generation / "ee").mkdir(exist_ok=True)  # the run may have kept an entry there (its key names tmp_path)
    (generation / "ee" / ("e" * 38)).symlink_to(outside / "precious")
    (folder / "a-link").symlink_to(outside)
    code, out, _ = cli_in_process(monkeypatch, capsys, "clean", cwd=repo)
    assert (code, out) == (0, f"Removed {CACHE_FOLDER}\n")
    assert (outside / "precious").read_text() == "keep me"


@pytest.mark.parametrize("where", ["out of the repository", "at the repository", "into .git"])
def test_clean_leaves_a_cache_folder_that_is_a_link_alone(tmp_path, monkeypatch, capsys, where):
    """A pull request commits `.kubelint-svc_cache` as a link, with the marker clean looks for."""
    repo = tmp_path / "repo"
    (repo / ".git" / "objects").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = {"out of the repository": outside, "at the repository": repo, "into .git": repo / ".git"}[where]
    (target / ".gitignore").write_text("# made by kubelint-svc: nothing here belongs in version control\n*\n")
    (target / "precious").write_text("keep me")
    (repo / CACHE_FOLDER).symlink_to(target)
    code, _out, err = cli_in_process(monkeypatch, capsys, "clean", cwd=repo)
    assert code == 2
    assert err.startswith(f"kubelint-svc: error: left {CACHE_FOLDER}: ")
    assert (target / "precious").read_text() == "keep me"
    assert (repo / ".git" / "objects").is_dir()
    assert os.path.islink(repo / CACHE_FOLDER)


@pytest.mark.parametrize("named", [".", "..", "not-a-cache", ".git/cache"])
def test_clean_removes_no_folder_it_did_not_make(tmp_path, monkeypatch, capsys, named):
    """--cache-dir (or KUBELINT_SVC_CACHE_DIR) naming the repository, its parent, a folder of the
    user's or a folder inside .git: left alone, with one line saying why."""
    repo = tmp_path / "repo"
    (repo / ".git" / "cache").mkdir(parents=True)
    (repo / "not-a-cache").mkdir()
    (repo / "not-a-cache" / "notes.txt").write_text("mine")
    (repo / "service.yaml").write_text(SERVICE)
    before = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    monkeypatch.setenv("KUBELINT_SVC_CACHE_DIR", named)
    code, _, err = cli_in_process(monkeypatch, capsys, "clean", cwd=repo)
    assert code == 2
    assert err.startswith("kubelint-svc: error: left ")
    assert err.count("\n") == 1
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")) == before


def test_a_cache_named_elsewhere_is_cleaned_there(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "service.yaml").write_text(SERVICE)
    elsewhere = tmp_path / "caches" / "kubelint"
    cli_in_process(monkeypatch, capsys, "lint", "--cache-dir", str(elsewhere), ".", cwd=repo)
    assert entries(elsewhere)
    code, out, _ = cli_in_process(monkeypatch, capsys, "clean", "--cache-dir", str(elsewhere), cwd=repo)
    assert (code, out) == (0, f"Removed {elsewhere}\n")
    assert not elsewhere.exists()
    assert (tmp_path / "caches").is_dir()
