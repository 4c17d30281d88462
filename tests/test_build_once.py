"""Issue 20, cold runs: a base that three overlays include is scanned and built once a process,
not once an overlay (the folder's scan and its objects kept for the run in PathFacts, each overlay
merging the scan into its own and transforming a copy of the objects). Each overlay's Build still
lists exactly the files, inputs and absent names a build without the memo lists (what kubectl's
build reads, which a kept build is validated by), and the same objects, errors and warnings, in
every order the roots are built: a cycle, a chain past the depth limit, a diamond, the file
limit and a file only the fallback reads (replacements) included."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import KUBECTL, needs
from hypothesis import given, settings
from hypothesis import strategies as st
from test_warm_runs import write_tree

from kubelint_svc.app import Options, lint
from kubelint_svc.units import proven
from kubelint_svc.units.kustomize import fallback, kyaml, scan
from kubelint_svc.units.kustomize.engines import Build, build
from kubelint_svc.units.kustomize.scan import PathFacts, linear_pattern


def summary(done: Build) -> tuple[Any, ...]:
    objects = [(item.body, item.origin, sorted(item.patched.items(), key=repr)) for item in done.objects]
    return (done.engine, sorted(done.files), sorted(done.inputs), sorted(done.absent), done.error, done.skipped,
            done.warnings, objects)


def builds_alike(top: Path, roots: list[str], engine: str = "fallback") -> list[Build]:
    """Each root built with one PathFacts for all (the memo, in this order) and with one of its
    own (none): the same Build, field by field."""
    facts = PathFacts()
    shared = [build(top / root, engine, confine=top, facts=facts) for root in roots]
    for root, done in zip(roots, shared, strict=True):
        assert summary(done) == summary(build(top / root, engine, confine=top, facts=PathFacts())), root
    return shared


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter[Path], Counter[Path]]:
    """How often each folder is scanned (scan._scanned_folder) and built by the fallback
    (fallback._kustomize) in this process."""
    scanned: Counter[Path] = Counter()
    built: Counter[Path] = Counter()
    scan_folder, kustomize = scan._scanned_folder, fallback._kustomize

    def counting_scan(into: Any, directory: Path, stack: Any) -> Any:
        scanned[directory] += 1
        return scan_folder(into, directory, stack)

    def counting_build(tree: Any, directory: Path, objects: Any, notes: Any, root: bool = False) -> Any:
        built[directory] += 1
        return kustomize(tree, directory, objects, notes, root)

    monkeypatch.setattr(scan, "_scanned_folder", counting_scan)
    monkeypatch.setattr(fallback, "_kustomize", counting_build)
    return scanned, built


@pytest.mark.parametrize("engine", ["fallback", pytest.param("auto", marks=needs("kubectl", KUBECTL is not None))])
def test_a_base_is_scanned_and_built_once_for_its_three_overlays(tmp_path, monkeypatch, counted, engine):
    """A cold run in this process (auto: the fallback's builds proved alike, no kubectl process)."""
    proved: Counter[Path] = Counter()
    verdict = proven.kustomization_verdict

    def counting_verdict(path: Path, documents: Any) -> Any:
        proved[path] += 1
        return verdict(path, documents)

    monkeypatch.setattr(proven, "kustomization_verdict", counting_verdict)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every build in this process, where the counts are
    write_tree(tmp_path, {"shop": ("dev", "staging", "prod")})
    monkeypatch.chdir(tmp_path)
    done = lint(Options(paths=(str(tmp_path),), kustomize=engine, no_cache=True))
    assert done.report.objects == 6  # two objects an overlay
    scanned, built = counted
    base = tmp_path / "shop" / "base"
    overlays = [tmp_path / "shop" / "overlays" / env for env in ("dev", "staging", "prod")]
    assert (scanned[base], built[base]) == (1, 1)
    assert all(scanned[overlay] == 1 and built[overlay] == 1 for overlay in overlays)
    if engine == "auto":  # the proof of the base's kustomization made once for the three
        assert proved[base / "kustomization.yaml"] == 1
        assert all(proved[overlay / "kustomization.yaml"] == 1 for overlay in overlays)


def test_each_overlay_reads_what_it_would_alone_and_keeps_its_own_objects(tmp_path, counted):
    write_tree(tmp_path, {"shop": ("dev", "staging", "prod")})
    base = tmp_path / "shop" / "base"
    # a name the fallback does not apply (a generator's file: an input) and one that does not exist
    (base / "app.properties").write_text("a=b\n")
    (base / "kustomization.yaml").write_text(
        "resources:\n- objects.yaml\nconfigMapGenerator:\n- name: settings\n  files:\n  - app.properties\n"
        "  - later.properties\n")
    overlays = [f"shop/overlays/{env}" for env in ("dev", "staging", "prod")]
    scanned, built = counted
    failed = builds_alike(tmp_path, overlays)
    assert all(base / "app.properties" in done.inputs and base / "later.properties" in done.absent
               and "later.properties" in str(done.error) for done in failed)
    assert scanned[base] == 1 + 3  # once with the memo (a PathFacts), once a build without it
    assert built[base] == 3 + 3  # a failed build is not kept: each overlay meets the error anew
    scanned.clear()
    built.clear()
    (tmp_path / "shop" / "base" / "later.properties").write_text("c=d\n")
    kept = builds_alike(tmp_path, overlays)
    assert (scanned[base], built[base]) == (1 + 3, 1 + 3)
    namespaces = {item.body["metadata"]["namespace"] for done in kept for item in done.objects}
    assert namespaces == {"shop-dev", "shop-staging", "shop-prod"}  # no overlay's change reached another's
    assert all(done.error is None and len(done.objects) == 2 and done.warnings for done in kept)


def test_a_chain_is_kept_once_at_the_level_its_roots_include(tmp_path):
    """Only the folders a root includes are kept built for the run: a chain kept at each level
    would hold its objects once a level (30 levels of large files, thirty times over)."""
    depth = 6
    write(tmp_path, {f"f{index}": f"resources:\n- ../f{index + 1}\n- cm.yaml\n" for index in range(depth)})
    write(tmp_path, {f"f{depth}": "resources:\n- cm.yaml\n"})
    for index in range(depth + 1):
        (tmp_path / f"f{index}" / "cm.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{index}\n")
    facts = PathFacts()
    for first in (0, 1):
        done = build(tmp_path / f"f{first}", "fallback", confine=tmp_path, facts=facts)
        assert len(done.objects) == depth + 1 - first
    assert sorted(key[0].name for key in facts.folder_builds) == ["f1", "f2"]
    builds_alike(tmp_path, ["f0", "f1"])


def test_a_file_only_the_fallback_reads_is_listed_by_every_overlay(tmp_path):
    """Replacements from a file: the scan names it, the fallback reads it; an overlay whose base
    comes from the memo still reads (and lists) it."""
    write_tree(tmp_path, {"shop": ("dev", "staging")})
    base = tmp_path / "shop" / "base"
    (base / "replacements.yaml").write_text(
        "source:\n  kind: Service\n  name: web\n  fieldPath: metadata.name\n"
        "targets:\n- select:\n    kind: Deployment\n  fieldPaths:\n  - spec.template.metadata.labels.service\n"
        "  options:\n    create: true\n")
    (base / "kustomization.yaml").write_text("resources:\n- objects.yaml\nreplacements:\n- path: replacements.yaml\n")
    for done in builds_alike(tmp_path, ["shop/overlays/dev", "shop/overlays/staging"]):
        assert base / "replacements.yaml" in done.files
        deployment = next(item for item in done.objects if item.body["kind"] == "Deployment")
        assert deployment.body["spec"]["template"]["metadata"]["labels"]["service"] == "web"


def write(top: Path, folders: dict[str, str]) -> None:
    for folder, kustomization in folders.items():
        (top / folder).mkdir(parents=True, exist_ok=True)
        (top / folder / "kustomization.yaml").write_text(kustomization)


def test_a_folder_two_bases_include_is_read_once_by_a_root_that_includes_both(tmp_path):
    """A diamond: the root's second base finds the shared folder scanned already by the first, as a
    scan in place would (its files and patches counted once); kustomize includes its objects twice."""
    write(tmp_path, {"shared": "resources:\n- cm.yaml\n", "a": "resources:\n- ../shared\n",
                     "b": "resources:\n- ../shared\n", "both": "resources:\n- ../a\n- ../b\n",
                     "one": "resources:\n- ../a\n"})
    (tmp_path / "shared" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    one, both = builds_alike(tmp_path, ["one", "both"])
    assert one.error is None
    assert "included twice" in str(both.error)
    builds_alike(tmp_path, ["both", "one"])


def test_a_folder_scanned_by_the_root_already_is_not_merged_again(tmp_path):
    """The shared folder's patch comes once, before the patch of the base that includes it, as in
    place: merged a second time (through the folder naming it as transformers), it would come
    last and seem to have set the field the base's patch set."""
    write(tmp_path, {"shared": "resources:\n- cm.yaml\npatches:\n- path: first.yaml\n",
                     "a": "resources:\n- ../shared\npatches:\n- path: second.yaml\n",
                     "b": "transformers:\n- ../shared\n", "both": "resources:\n- ../a\n- ../b\n"})
    (tmp_path / "shared" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    for folder, value in (("shared", "first"), ("a", "second")):
        (tmp_path / folder / f"{value}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  x: {value}\n")
    (done,) = builds_alike(tmp_path, ["both"])
    assert {origin.file.name for origin in done.objects[0].patched.values()} == {"second.yaml"}


def test_a_cycle_is_found_whichever_root_is_built_first(tmp_path, counted):
    write(tmp_path, {"a": "resources:\n- ../b\n", "b": "resources:\n- ../a\n", "c": "resources:\n- ../b\n"})
    for order in (["b", "a", "c"], ["c", "a", "b"]):
        assert all("includes itself" in str(done.error) for done in builds_alike(tmp_path, order))
    # twelve builds, each scanning its chain of at most three folders twice at most (alone, in place)
    assert sum(counted[0].values()) <= 12 * 2 * 3


def test_a_chain_past_the_depth_limit_is_refused_after_a_shallower_root_kept_its_scan(tmp_path, counted):
    depth = 10 * scan.MAX_INCLUDE_DEPTH  # a chain far past the limit is followed to the limit, no further
    write(tmp_path, {f"f{index}": f"resources:\n- ../f{index + 1}\n" for index in range(depth)})
    write(tmp_path, {f"f{depth}": "resources:\n- cm.yaml\n"})
    (tmp_path / f"f{depth}" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    shallow, deep = builds_alike(tmp_path, [f"f{depth - 5}", "f0"])
    assert shallow.error is None
    assert "levels deep" in str(deep.error)
    assert sum(counted[0].values()) <= 2 * (6 + 2 * (scan.MAX_INCLUDE_DEPTH + 1))


def test_the_file_limit_counts_the_files_of_a_kept_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "MAX_FILES", 6)
    write_tree(tmp_path, {"shop": ("dev",)})
    (tmp_path / "shop" / "big").mkdir()
    for index in range(3):
        (tmp_path / "shop" / "big" / f"cm{index}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{index}\n")
    # the base's scan, once kept, would take the build past the limit when it is merged
    write(tmp_path, {"shop/big": "resources:\n- cm0.yaml\n- cm1.yaml\n- cm2.yaml\n- ../base\n"})
    dev, big = builds_alike(tmp_path, ["shop/overlays/dev", "shop/big"])
    assert dev.error is None
    assert "more than 6 files" in str(big.error)


def test_a_component_two_overlays_share_patches_each_alike(tmp_path):
    write_tree(tmp_path, {"shop": ("dev", "prod")})
    write(tmp_path, {"shop/sidecar": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                     "patches:\n- path: sidecar.yaml\n"})
    (tmp_path / "shop" / "sidecar" / "sidecar.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team\n"
        "spec:\n  template:\n    spec:\n"
        "      containers:\n      - name: proxy\n        image: proxy:1\n")
    for env in ("dev", "prod"):
        kustomization = tmp_path / "shop" / "overlays" / env / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text() + "components:\n- ../../sidecar\n")
    for done in builds_alike(tmp_path, ["shop/overlays/dev", "shop/overlays/prod"]):
        assert done.error is None
        deployment = next(item for item in done.objects if item.body["kind"] == "Deployment")
        assert [c["name"] for c in deployment.body["spec"]["template"]["spec"]["containers"]] == ["proxy", "web"]
        assert any(origin.file.name == "sidecar.yaml" for origin in deployment.patched.values())


@needs("kubectl", KUBECTL is not None)
def test_kubectl_builds_list_the_files_and_inputs_they_list_without_the_memo(tmp_path):
    write_tree(tmp_path, {"shop": ("dev", "staging", "prod")})
    for done in builds_alike(tmp_path, [f"shop/overlays/{env}" for env in ("dev", "staging", "prod")], "kubectl"):
        assert (done.engine, done.error, len(done.objects)) == ("kubectl", None, 2)


# The text checks as Python's re read them before they were searched with RE2 (linear_pattern):
# kyaml's, for a file the fallback may read otherwise than the linter, and the proof's
_SCALAR = (rb"(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|[-+]?0[0-9_]+|[-+]?0[bBxXoO][0-9a-fA-F_]+"
           rb"|[-+]?[0-9][0-9_]*:[0-9:._]*|[-+]?[0-9._]+[eE][-+]?[0-9]+|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\S*"
           rb"|[-+]?[0-9]+_[0-9_]*)")
READ_OTHERWISE = re.compile(
    rb"(?m)(?:^|[\s\[{,])" + _SCALAR + rb"[ \t]*(?:[,}\]]|:(?:\s|$)|#.*$|$)|<<|(?:^|[\s\[{,])[&*!]")
MAY_DIFFER = re.compile(
    r"(?:^|[\s\[{,])(?:(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF)[ \t]*(?:[,}\]#]|:(?:\s|$)|$)"
    r"|[-+]?0[0-9xXbBoO_]|[-+]?[0-9][0-9_]*[.eE]|[-+]?\.[0-9a-zA-Z]|[0-9]{4}-[0-9]"
    r"|(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~|[-+]?[0-9][^\s:]*)[ \t]*:(?:\s|$)|\?(?:\s|$))"
    r"|[\]}][ \t]*:(?:\s|$)",
    re.MULTILINE,
)
_PIECES = ["y", "Yes", "no", "ON", "off", "On", "true", "Null", "~", "0", "07", "0x1F", "0b1", "1_000", "1e3", "1.5",
           ".5", ".inf", "1:20", "2024-01-02", "2024-1-2T10:00", "12", "-3", "+4", "a", "key", "name", "é", "?", ":",
           " ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x85", "\xa0", "\u2000", "\u2028", "\u3000", "[", "]", "{",
           "}", ",", "#", "<<", "&", "*", "!", "-", "'", '"', "\x00"]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
def test_the_text_checks_answer_as_they_did_with_pythons_re(text):
    assert (linear_pattern(kyaml._MAY_DIFFER).search(text) is None) == (MAY_DIFFER.search(text) is None)
    data = text.encode("utf-8")
    assert (linear_pattern(proven._READ_OTHERWISE).search(data) is None) == (READ_OTHERWISE.search(data) is None)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=40))
def test_the_proofs_text_check_reads_any_byte_as_pythons_re_does(data):
    assert (linear_pattern(proven._READ_OTHERWISE).search(data) is None) == (READ_OTHERWISE.search(data) is None)
