"""Issue 20, the pre-commit run after an edit: what a run keeps of its kustomize planning (which
folders are roots, and the builds) is taken again only while everything it rests on is as it
was, and a change reads again only the part that rests on it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kubelint_svc import cache
from kubelint_svc.cache import Cache
from kubelint_svc.units.kustomize import scan
from kubelint_svc.units.kustomize.scan import KUSTOMIZATION_NAMES, PathFacts, find_roots
from kubelint_svc.units.stored import StoredOutputs

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n  - port: 80\n"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cache:
    # a file is taken unread once it had not changed for SETTLED_NS before it was read: these
    # trees are a moment old, and each step changes a file's size
    monkeypatch.setattr(cache, "SETTLED_NS", 0)
    (tmp_path / "cache").mkdir()
    return Cache(tmp_path / "cache", b"k" * 32)


@pytest.fixture
def top(tmp_path: Path) -> Path:
    """Two apps, each a base and two overlays; a folder `extra` no kustomization includes."""
    top = tmp_path / "repo"
    for app in ("shop", "blog"):
        write(top / app / "base" / "kustomization.yaml", "resources:\n- service.yaml\n")
        write(top / app / "base" / "service.yaml", SERVICE.format(name=app))
        for env in ("dev", "prod"):
            write(top / app / env / "kustomization.yaml", f"resources:\n- ../base\nnamespace: {env}\n")
    write(top / "extra" / "kustomization.yaml", "resources:\n- service.yaml\n")
    write(top / "extra" / "service.yaml", SERVICE.format(name="extra"))
    return top


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    time.sleep(0.02)  # a file changed while the scan read it is not kept: no write in the scan's clock tick


def folders(top: Path) -> list[Path]:
    return sorted({path.parent for path in top.rglob("*") if path.name in KUSTOMIZATION_NAMES})


def kept_roots(top: Path, store: Cache, monkeypatch: pytest.MonkeyPatch, named: list[Path] | None = None
               ) -> tuple[list[Path], list[Path]]:
    """The roots of named (else every folder holding a kustomization) through a run's kept entry,
    and the folders whose kustomization was read again; checked against those found without a
    cache."""
    named = named or folders(top)
    read: list[Path] = []
    real = scan.inclusions  # stored.py imports it where it asks

    def counted(folder: Path, *args: object, **kwargs: object) -> object:
        read.append(folder)
        return real(folder, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "inclusions", counted)
    roots = StoredOutputs(store, "tool").roots(named, top, PathFacts())
    monkeypatch.setattr(scan, "inclusions", real)
    assert roots == find_roots(named, top)
    return roots, read


def test_the_roots_are_kept_while_no_kustomization_changed(top, store, monkeypatch):
    roots, read = kept_roots(top, store, monkeypatch)
    assert roots == [top / "blog" / "dev", top / "blog" / "prod", top / "extra", top / "shop" / "dev",
                     top / "shop" / "prod"]
    assert len(read) == 7
    assert kept_roots(top, store, monkeypatch) == (roots, [])
    # another run's folders (a run of one app) are kept apart: neither entry is the other's
    assert StoredOutputs(store, "tool").roots([top / "shop" / "base"], top, PathFacts()) == [top / "shop" / "base"]
    assert kept_roots(top, store, monkeypatch) == (roots, [])


def test_a_kustomization_that_adds_or_removes_a_resource_is_read_again_alone(top, store, monkeypatch):
    kept_roots(top, store, monkeypatch)
    dev = top / "shop" / "dev"
    write(dev / "kustomization.yaml", "resources:\n- ../base\n- ../../extra\nnamespace: dev\n")
    roots, read = kept_roots(top, store, monkeypatch)
    assert read == [dev]
    assert top / "extra" not in roots  # now a base of shop's dev
    write(dev / "kustomization.yaml", "resources:\n- ../base\nnamespace: dev\n")
    roots, read = kept_roots(top, store, monkeypatch)
    assert read == [dev]
    assert top / "extra" in roots


def test_an_edited_manifest_reads_no_kustomization_again(top, store, monkeypatch):
    """The pre-commit run after an edit: a base's manifest is no name the roots rest on but by
    its existence."""
    kept_roots(top, store, monkeypatch)
    write(top / "shop" / "base" / "service.yaml", SERVICE.format(name="shop-edited"))
    assert kept_roots(top, store, monkeypatch)[1] == []


def test_a_new_kustomization_that_makes_a_root_a_base_is_seen(top, store, monkeypatch):
    kept_roots(top, store, monkeypatch)
    write(top / "all" / "kustomization.yaml", "resources:\n- ../shop/dev\n- ../extra\n")
    roots, _ = kept_roots(top, store, monkeypatch)
    assert top / "all" in roots
    assert top / "shop" / "dev" not in roots
    assert top / "extra" not in roots


def test_a_name_that_comes_or_goes_reads_its_kustomization_again(top, store, monkeypatch):
    extra = top / "extra"
    write(extra / "kustomization.yaml", "resources:\n- service.yaml\n- ../later\n")
    kept_roots(top, store, monkeypatch)
    write(top / "later" / "kustomization.yaml", "resources: []\n")  # named before it existed
    roots, _ = kept_roots(top, store, monkeypatch)
    assert top / "later" not in roots
    write(top / "later" / "service.yaml", SERVICE.format(name="later"))
    assert kept_roots(top, store, monkeypatch)[1] == []  # a file no kustomization names
    (extra / "service.yaml").unlink()
    assert kept_roots(top, store, monkeypatch)[1] == [extra]


def test_a_named_folder_turned_into_a_link_out_of_the_repository_is_judged_again(top, store, monkeypatch, tmp_path):
    """The scan refuses a name leading out of the repository (the kustomization then includes
    nothing: its build fails, saying why); a kept answer is not taken once a name leads
    elsewhere, whatever its files' stamps."""
    named = folders(top)  # as git's index lists them still
    kept_roots(top, store, monkeypatch, named)
    outside = tmp_path / "outside"
    (top / "blog" / "base").rename(outside)  # the same folder, its files' stamps unchanged
    os.symlink(outside, top / "blog" / "base")
    roots, read = kept_roots(top, store, monkeypatch, named)
    assert sorted(read) == [top / "blog" / "base", top / "blog" / "dev", top / "blog" / "prod"]
    assert top / "blog" / "base" in roots  # as found without a cache: neither overlay includes it now


def test_a_kustomization_name_read_before_another_reads_the_folder_again(top, store, monkeypatch):
    extra = top / "extra"
    (extra / "kustomization.yaml").rename(extra / "Kustomization")
    kept_roots(top, store, monkeypatch)
    # beside `Kustomization`, the scan reads `kustomization.yaml`: a file the entry never named
    write(extra / "kustomization.yaml", "resources:\n- ../shop/dev\n")
    roots, read = kept_roots(top, store, monkeypatch)
    assert read == [extra]
    assert top / "shop" / "dev" not in roots


def test_each_kustomization_counts_against_the_file_limit_alone(tmp_path):
    """The roots were found with one scan's file limit (2,000) for all kustomizations together:
    past 1,000 of them, each later one was taken to include nothing, and its bases were built
    as roots of their own."""
    many = [tmp_path / f"app-{number:04}" for number in range(1001)]
    for folder in many:
        folder.mkdir()
        (folder / "kustomization.yaml").write_text("resources: []\n")
    write(tmp_path / "overlay" / "kustomization.yaml", "resources:\n- ../base\n")
    write(tmp_path / "base" / "kustomization.yaml", "resources: []\n")
    roots = find_roots([*many, tmp_path / "overlay", tmp_path / "base"], tmp_path)
    assert roots == [*many, tmp_path / "overlay"]
