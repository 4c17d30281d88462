"""The cache: what a file gave is read back only when nothing it depends on changed, and a
cache that is damaged, foreign, shared by two runs at once or committed by a pull request never
changes a report."""

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, has_fork, require

import kubelint_svc
from kubelint_svc import cache, identity, pool, reading
from kubelint_svc.app import Options, lint
from kubelint_svc.cache import CACHE_FOLDER, Cache
from kubelint_svc.engine import Registry
from kubelint_svc.inputs import discover
from kubelint_svc.reporters import json as json_reporter
from kubelint_svc.reporters import text as text_reporter
from kubelint_svc.runner import lint_files as run_lint
from kubelint_svc.schemas import bundled_versions
from kubelint_svc.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - {name: http, containerPort: 8080}
"""


@pytest.fixture(autouse=True)
def own_secret(tmp_path, monkeypatch):
    """Each test signs with a secret of its own (never the user's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KUBELINT_SVC_CACHE_DIR", raising=False)


def rendered(outcome_report) -> tuple[str, str]:
    return json_reporter.render(outcome_report), text_reporter.render(outcome_report)


def run(paths, cache_dir: Path | None, **settings) -> tuple[object, Cache | None]:
    store = Cache.open(cache_dir) if cache_dir is not None else None
    settings.setdefault("kubernetes_version", bundled_versions()[-1])
    report = run_lint(discover([str(p) for p in paths]), Settings(**settings), Registry.builtin(), cache=store)
    return report, store


@pytest.mark.slow  # 4.3 s of CPU in 3 cases
@pytest.mark.parametrize(
    "tree",
    [REPO / "examples", CORPUS / "real-world", CORPUS / "crd-heavy"],
    ids=["examples", "real-world", "crd-heavy"],
)
def test_cached_and_uncached_runs_give_byte_identical_reports(tree, tmp_path):
    require(f"{tree} (the shared corpus beside the checkout)", tree.is_dir())
    uncached, _ = run([tree], None, kustomize="fallback")
    cold, store = run([tree], tmp_path / "cache", kustomize="fallback")
    assert store is not None
    assert store.hits == 0
    warm, store = run([tree], tmp_path / "cache", kustomize="fallback")
    assert store is not None
    assert store.misses == 0
    assert store.hits > 0
    assert rendered(uncached) == rendered(cold) == rendered(warm)
    assert (uncached.objects, uncached.files) == (warm.objects, warm.files)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "service.yaml").write_text(SERVICE)
    (tmp_path / "app" / "deployment.yaml").write_text(DEPLOYMENT)
    return tmp_path / "app"


def test_an_edited_file_is_read_again_and_its_neighbours_are_not(tree, tmp_path):
    first, _ = run([tree], tmp_path / "cache")
    assert [f.rule for f in first.findings] == []
    deployment = tree / "deployment.yaml"
    deployment.write_text(DEPLOYMENT.replace("name: http, containerPort", "name: web, containerPort"))
    second, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert (store.hits, store.misses) == (1, 1)
    # the Service did not change, but what the index says about it did: cross-object rules always run
    assert [(f.rule, f.file.endswith("service.yaml"), f.line) for f in second.findings] == [
        ("service-target-port-undefined", True, 10)
    ]


def test_a_changed_setting_reads_every_file_again(tree, tmp_path):
    run([tree], tmp_path / "cache")
    _, store = run([tree], tmp_path / "cache", node_port_range=(30000, 30100))
    assert store is not None
    assert (store.hits, store.misses) == (0, 2)
    _, store = run([tree], tmp_path / "cache", kubernetes_version=bundled_versions()[0])
    assert store is not None
    assert store.hits == 0


def test_a_new_tool_version_reads_every_file_again(tree, tmp_path, monkeypatch):
    run([tree], tmp_path / "cache")
    monkeypatch.setattr(kubelint_svc, "__version__", "999.0.0")
    identity.tool_fingerprint.cache_clear()
    try:
        _, store = run([tree], tmp_path / "cache")
    finally:
        monkeypatch.undo()
        identity.tool_fingerprint.cache_clear()
    assert store is not None
    assert (store.hits, store.misses) == (0, 2)


def test_an_edited_bundled_schema_reads_every_file_again(tree, tmp_path, monkeypatch):
    from kubelint_svc import schemas

    copy = tmp_path / "schemas"
    shutil.copytree(schemas.data_dir("schemas"), copy)
    real_data_dir = schemas.data_dir
    monkeypatch.setattr(schemas, "data_dir", lambda name: copy if name == "schemas" else real_data_dir(name))
    identity.tool_fingerprint.cache_clear()
    try:
        run([tree], tmp_path / "cache")
        newest = copy / f"v{bundled_versions()[-1]}.json"
        newest.write_text(newest.read_text().replace('"', '"', 1) + " ")  # as an edited checkout would
        identity.tool_fingerprint.cache_clear()
        _, store = run([tree], tmp_path / "cache")
    finally:
        monkeypatch.undo()
        identity.tool_fingerprint.cache_clear()
    assert store is not None
    assert store.hits == 0


def test_a_changed_rule_setting_reads_every_file_again(tree, tmp_path):
    store = Cache.open(tmp_path / "cache")
    settings = Settings(bundled_versions()[-1])
    registry = Registry.builtin()
    run_lint(discover([str(tree)]), settings, registry, cache=store)
    quieter = Registry([dataclasses.replace(rule, severity="info") if rule.id == "service-port-name" else rule
                        for rule in registry.rules.values()])
    store = Cache.open(tmp_path / "cache")
    run_lint(discover([str(tree)]), settings, quieter, cache=store)
    assert store is not None
    assert store.hits == 0


def entries(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and not path.name.startswith(".")]


@pytest.mark.slow  # 0.5 s of CPU in 5 cases
@pytest.mark.parametrize("damage", ["truncate", "garble", "empty", "foreign-secret", "swap"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(tree, tmp_path, damage, monkeypatch):
    expected, _ = run([tree], tmp_path / "cache")
    found = sorted(entries(tmp_path / "cache"))
    assert len(found) == 2
    if damage == "foreign-secret":  # an entry a pull request committed, signed with another secret
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-user"))
        shutil.rmtree(tmp_path / "cache")
        run([tree], tmp_path / "cache")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for path in found:
        data = path.read_bytes() if path.exists() else b""
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "garble":
            path.write_bytes(data[:-10] + bytes(10))
        elif damage == "empty":
            path.write_bytes(b"")
    if damage == "swap":  # each entry signed, but under the other's key
        first, second = found
        first_bytes, second_bytes = first.read_bytes(), second.read_bytes()
        first.write_bytes(second_bytes)
        second.write_bytes(first_bytes)
    again, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert store.hits == 0
    assert rendered(again) == rendered(expected)
    _, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert store.hits == 2  # rebuilt


def test_a_cache_folder_that_is_a_link_is_not_used(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "cache").symlink_to(outside)
    assert Cache.open(tmp_path / "cache") is None
    (tmp_path / "real").mkdir()
    store = Cache.open(tmp_path / "real")
    assert store is not None
    # a committed cache whose entry folders are links: nothing is read or written through them
    for prefix in "0123456789abcdef":
        for second in "0123456789abcdef":
            (tmp_path / "real" / f"{prefix}{second}").symlink_to(outside)
    run([tree], tmp_path / "real")
    assert list(outside.iterdir()) == []


@pytest.mark.slow  # 1.5 s of CPU
def test_two_runs_at_once_share_a_cache_without_harm(tree, tmp_path):
    env = {**os.environ, "KUBELINT_SVC_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "kubelint_svc", "lint", "-f", "json", str(tree)]
    uncached = subprocess.run([*command, "--no-cache"], capture_output=True, env=env, check=False)
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, env=env) for _ in range(4)]
    outputs = [process.communicate()[0] for process in runs]
    after = subprocess.run(command, capture_output=True, env=env, check=False)
    assert outputs == [uncached.stdout] * 4
    assert after.stdout == uncached.stdout
    assert not list((tmp_path / "cache").rglob(".tmp-*"))  # no half-written entry left


def test_the_cli_keeps_its_cache_at_the_project_root_and_flags_move_or_skip_it(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".kubelint-svc.yaml").write_text("fail-on: error\n")
    lint(Options(paths=(str(tree),)))
    folder = tmp_path / CACHE_FOLDER
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(entries(folder)) == 2
    shutil.rmtree(folder)
    lint(Options(paths=(str(tree),), no_cache=True))
    assert not folder.exists()
    lint(Options(paths=(str(tree),), cache_dir=str(tmp_path / "elsewhere")))
    assert len(entries(tmp_path / "elsewhere")) == 2
    monkeypatch.setenv("KUBELINT_SVC_CACHE_DIR", str(tmp_path / "from-env"))
    lint(Options(paths=(str(tree),)))
    assert len(entries(tmp_path / "from-env")) == 2
    assert not folder.exists()


def test_standard_input_is_never_cached(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = Cache.open(tmp_path / "cache")
    run_lint(discover(["-"]), Settings(bundled_versions()[-1]), Registry.builtin(), stdin=SERVICE.encode,
             cache=store)
    assert entries(tmp_path / "cache") == []


def age(*paths: Path, seconds: int = 60) -> None:
    """Set the files' times in the past, as files a checkout wrote a while ago."""
    past = os.stat(paths[0]).st_mtime - seconds
    for path in paths:
        os.utime(path, (past, past))


def test_a_file_unchanged_since_before_it_was_read_is_not_even_read_again(tree, tmp_path, monkeypatch):
    files = sorted(tree.iterdir())
    age(*files)
    monkeypatch.setattr(cache, "SETTLED_NS", 0)  # a ctime cannot be set back: settled at once
    expected, _ = run([tree], tmp_path / "cache")
    again, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert (store.hits, store.unread, store.misses) == (2, 2, 0)
    assert rendered(again) == rendered(expected)


def test_an_edit_that_keeps_the_size_and_the_time_is_still_seen(tree, tmp_path):
    deployment = tree / "deployment.yaml"
    age(*tree.iterdir())
    run([tree], tmp_path / "cache")
    before = os.stat(deployment)
    deployment.write_text(DEPLOYMENT.replace("name: http, containerPort", "name: htpp, containerPort"))
    os.utime(deployment, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same size and mtime
    report, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert store.misses == 1
    assert [f.rule for f in report.findings] == ["service-target-port-undefined"]


def test_a_file_whose_mtime_was_set_back_is_read_again_until_its_ctime_has_settled(tree, tmp_path):
    # an edit that keeps the size, with the mtime set back (touch -r, rsync -t, os.utime), made in
    # the same tick of a coarse clock (1 s on ext3 and HFS+) as the read before it keeps the whole
    # stamp: only the ctime, which cannot be set back, says the file was changed just now
    age(*tree.iterdir(), seconds=3600)
    run([tree], tmp_path / "cache")
    _, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert store.unread == 0
    assert store.hits == 2  # read again, and found the same


def test_a_file_touched_but_not_changed_is_not_linted_again(tree, tmp_path, monkeypatch):
    expected, _ = run([tree], tmp_path / "cache")
    for path in tree.iterdir():  # touched, or checked out afresh (a CI job): every stamp differs
        path.touch()
    parsed = []
    real_parse = reading.parse_stream
    monkeypatch.setattr(reading, "parse_stream", lambda *a, **k: parsed.append(1) or real_parse(*a, **k))
    again, store = run([tree], tmp_path / "cache")
    assert store is not None
    assert (store.hits, store.misses) == (2, 0)
    assert parsed == []  # read and compared, not parsed nor judged
    assert rendered(again) == rendered(expected)
    force_pool(monkeypatch)  # and so in a pool of workers
    for path in tree.iterdir():
        path.touch()
    pooled, _ = run([tree], tmp_path / "cache")
    assert rendered(pooled) == rendered(expected)


@pytest.mark.slow  # 7.2 s of CPU in 3 cases
@pytest.mark.parametrize(
    "tree",
    [REPO / "examples", CORPUS / "real-world", CORPUS / "crd-heavy"],
    ids=["examples", "real-world", "crd-heavy"],
)
def test_a_pool_of_processes_and_one_process_give_byte_identical_reports(tree, tmp_path, monkeypatch):
    require(f"{tree} (the shared corpus beside the checkout)", tree.is_dir())
    require("fork (files are read in a pool of forked processes)", has_fork())
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    single, _ = run([tree], None, kustomize="fallback")
    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(pool, "POOL_MIN_FILES", 1)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "3")
    sizes = []
    real_in_pool = pool.in_pool

    def in_pool(workers, *rest, **options):
        sizes.append(workers)
        return real_in_pool(workers, *rest, **options)

    monkeypatch.setattr(pool, "in_pool", in_pool)
    pooled, _ = run([tree], None, kustomize="fallback")
    assert sizes
    assert sizes[0] == 3
    assert rendered(pooled) == rendered(single)
    # and through the cache: entries the workers wrote serve the next run
    run([tree], tmp_path / "cache", kustomize="fallback")
    warm, store = run([tree], tmp_path / "cache", kustomize="fallback")
    assert store is not None
    assert store.misses == 0
    assert rendered(warm) == rendered(single)


# --- kustomize builds and Helm renders kept -----------------------------------------------------

KUSTOMIZATION = "resources: [service.yaml, deployment.yaml]\nnamePrefix: prod-\n"


def counting_builds(monkeypatch) -> list[Path]:
    from kubelint_svc.units import plan

    built: list[Path] = []
    real = plan.build

    def counted(root, *args, **kwargs):
        built.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(plan, "build", counted)
    return built


@pytest.mark.slow  # 0.2 s of CPU
def test_a_kustomize_build_is_kept_while_every_file_it_read_is_unchanged(tree, tmp_path, monkeypatch):
    (tree / "kustomization.yaml").write_text(KUSTOMIZATION)
    built = counting_builds(monkeypatch)
    uncached, _ = run([tree], None, kustomize="fallback")
    time.sleep(0.02)  # a file saved within a clock tick of the run's builds (from before the roots) is not kept
    cold, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    warm, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    assert len(built) == 2  # the uncached run and the cold one; the warm run built nothing
    assert rendered(uncached) == rendered(cold) == rendered(warm)
    assert {ref.name for _, ref in warm.object_refs} == {"prod-web"}
    # a file the build read changes: built again, and judged as built now
    (tree / "deployment.yaml").write_text(DEPLOYMENT.replace("containerPort: 8080", "containerPort: 0"))
    edited, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    assert len(built) == 3
    assert [(f.rule, f.file.endswith("deployment.yaml"), f.line) for f in edited.findings
            if f.severity == "error"] == [("container-port-number", True, 16)]
    # the kustomization itself changes
    (tree / "kustomization.yaml").write_text(KUSTOMIZATION.replace("prod-", "stage-"))
    renamed, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    assert len(built) == 4
    assert {ref.name for _, ref in renamed.object_refs} == {"stage-web"}


@pytest.mark.slow  # 0.9 s of CPU
def test_a_kept_build_is_built_again_when_a_generator_file_changes_or_goes(tree, tmp_path, monkeypatch):
    """configMapGenerator files and envs are read by kustomize, not by the chain's reading:
    the kept build named neither, so a deleted env file still served the old, good build."""
    require("kubectl", KUBECTL is not None)
    (tree / "kustomization.yaml").write_text(
        KUSTOMIZATION + "configMapGenerator:\n- name: cfg\n  envs: [cfg.env]\n  files: [conf.txt]\n")
    (tree / "cfg.env").write_text("A=1\n")
    (tree / "conf.txt").write_text("hello\n")
    built = counting_builds(monkeypatch)
    time.sleep(0.02)  # a file saved within a clock tick of the build is not kept on
    run([tree], tmp_path / "cache", kustomize="kubectl")
    run([tree], tmp_path / "cache", kustomize="kubectl")
    assert len(built) == 1
    (tree / "cfg.env").write_text("A=2\n")
    run([tree], tmp_path / "cache", kustomize="kubectl")
    assert len(built) == 2
    (tree / "conf.txt").unlink()
    gone, _ = run([tree], tmp_path / "cache", kustomize="kubectl")
    assert "kustomize-build-failed" in [f.rule for f in gone.findings]
    # a failed build is not kept: the missing file written back, the build is good again
    (tree / "conf.txt").write_text("hello\n")
    back, _ = run([tree], tmp_path / "cache", kustomize="kubectl")
    assert "kustomize-build-failed" not in [f.rule for f in back.findings]
    # a second kustomization file beside the first: kustomize refuses the folder
    (tree / "kustomization.yml").write_text(KUSTOMIZATION)
    both, _ = run([tree], tmp_path / "cache", kustomize="kubectl")
    uncached, _ = run([tree], None, kustomize="kubectl")
    assert rendered(both) == rendered(uncached)
    assert "kustomize-build-failed" in [f.rule for f in both.findings]


def test_a_failed_or_timed_out_build_is_not_kept(tree, tmp_path, monkeypatch):
    (tree / "kustomization.yaml").write_text("resources: [service.yaml, missing.yaml]\n")
    failed, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    assert "kustomize-build-failed" in [f.rule for f in failed.findings]
    (tree / "missing.yaml").write_text(SERVICE.replace("name: web", "name: other"))
    good, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    assert "kustomize-build-failed" not in [f.rule for f in good.findings]


def test_a_build_during_which_a_file_changed_is_not_kept(tree, tmp_path, monkeypatch):
    """The bytes are read for the entry after the tool ran: a file saved while it ran was
    recorded with its new bytes beside the build of its old ones, and served that build."""
    from kubelint_svc.units import plan

    (tree / "kustomization.yaml").write_text(KUSTOMIZATION)
    time.sleep(0.1)
    real = plan.build

    def edited_while_building(root, *args, **kwargs):
        done = real(root, *args, **kwargs)
        if not (tmp_path / "edited").exists():
            (tmp_path / "edited").write_text("")
            (tree / "deployment.yaml").write_text(DEPLOYMENT.replace("containerPort: 8080", "containerPort: 0"))
        return done

    monkeypatch.setattr(plan, "build", edited_while_building)
    run([tree], tmp_path / "cache", kustomize="fallback")
    after, _ = run([tree], tmp_path / "cache", kustomize="fallback")
    uncached, _ = run([tree], None, kustomize="fallback")
    assert "container-port-number" in [f.rule for f in uncached.findings]
    assert rendered(after) == rendered(uncached)


def test_the_tool_identity_names_a_kubectl_beside_this_python(tmp_path, monkeypatch):
    """The build runs a kubectl installed beside this Python (not on PATH); its identity said
    `kubectl: none`, so replacing that kubectl left builds of the old one kept."""
    from kubelint_svc.identity import tools_identity

    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "kubectl").write_text("#!/bin/sh\n")
    (bin_dir / "kubectl").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    before = tools_identity("kubectl")
    assert str(bin_dir / "kubectl") in before
    (bin_dir / "kubectl").write_text("#!/bin/sh\necho another\n")
    assert tools_identity("kubectl") != before


@pytest.mark.slow  # 0.2 s of CPU
def test_a_helm_render_is_kept_while_the_chart_is_unchanged(tmp_path, monkeypatch):
    """A stand-in `helm` (no helm in the reachable registries) that counts its runs."""
    chart = tmp_path / "repo" / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("port: 0\n")
    (chart / "templates" / "service.yaml").write_text("apiVersion: v1\nkind: Service\n")
    render = ("---\n# Source: mychart/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n"
              "  name: mychart\nspec:\n  ports:\n  - port: 0\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "runs"
    (bin_dir / "helm").write_text(f"#!/bin/sh\necho run >> {runs}\ncat <<'EOF'\n{render}EOF\n")
    (bin_dir / "helm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path / "repo")
    time.sleep(0.02)  # a file saved within a clock tick of the render is not kept on
    first, _ = run([Path(".")], tmp_path / "cache")
    second, _ = run([Path(".")], tmp_path / "cache")
    assert runs.read_text().count("run") == 1
    assert rendered(first) == rendered(second)
    assert ("service-port-number", "mychart/templates/service.yaml") in {(f.rule, f.file) for f in second.findings}
    (chart / "values.yaml").write_text("port: 80\n")
    run([Path(".")], tmp_path / "cache")
    assert runs.read_text().count("run") == 2
    (chart / "templates" / "extra.yaml").write_text("# a new template\n")
    run([Path(".")], tmp_path / "cache")
    assert runs.read_text().count("run") == 3


def test_a_helm_render_is_made_again_when_a_linked_subchart_changes_or_it_failed(tmp_path, monkeypatch):
    """A subchart linked into charts/ was not walked (os.walk leaves links), and a failed render was kept."""
    chart = tmp_path / "repo" / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "charts").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "templates" / "service.yaml").write_text("apiVersion: v1\nkind: Service\n")
    sub = tmp_path / "repo" / "shared" / "sub"  # inside the repository: a link out is never rendered
    sub.mkdir(parents=True)
    (sub / "values.yaml").write_text("a: 1\n")
    (chart / "charts" / "sub").symlink_to(sub)
    (chart / "charts" / "loop").symlink_to(chart)  # a link back up is walked once
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "runs"
    (bin_dir / "helm").write_text(f"#!/bin/sh\necho run >> {runs}\n"
                                  f"[ -f {tmp_path}/fail ] && {{ echo boom >&2; exit 1; }}\n"
                                  "echo 'apiVersion: v1'; echo 'kind: ConfigMap'; echo 'metadata: {name: c}'\n")
    (bin_dir / "helm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path / "repo")
    time.sleep(0.02)
    run([Path(".")], tmp_path / "cache")
    run([Path(".")], tmp_path / "cache")
    assert runs.read_text().count("run") == 1
    (sub / "values.yaml").write_text("a: 2\n")
    run([Path(".")], tmp_path / "cache")
    assert runs.read_text().count("run") == 2
    (tmp_path / "fail").write_text("")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.1\n")
    failed, _ = run([Path(".")], tmp_path / "cache")
    assert "helm-chart-not-rendered" in [f.rule for f in failed.findings]
    (tmp_path / "fail").unlink()
    good, _ = run([Path(".")], tmp_path / "cache")
    assert "helm-chart-not-rendered" not in [f.rule for f in good.findings]


def force_pool(monkeypatch, jobs: int = 3) -> None:
    require("fork (files are read in a pool of forked processes)", has_fork())
    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(pool, "POOL_MIN_FILES", 1)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", str(jobs))


@pytest.mark.slow  # 0.3 s of CPU
def test_a_file_a_worker_cannot_read_is_reported_as_in_one_process(tree, tmp_path, monkeypatch):
    fifo = tree / "pipe.yaml"
    os.mkfifo(fifo)
    named = [tree, fifo]
    single, _ = run(named, None)
    assert "file-unreadable" in [f.rule for f in single.findings]
    force_pool(monkeypatch)
    pooled, _ = run(named, None)
    assert rendered(pooled) == rendered(single)
    cold, _ = run(named, tmp_path / "cache")
    warm, _ = run(named, tmp_path / "cache")
    assert rendered(cold) == rendered(warm) == rendered(single)


WORKER_FAILS = """
import os, sys
from kubelint_svc import cache, pool, reading
from kubelint_svc.app import Options, lint
from kubelint_svc.reporters import json
pool.POOL_MIN_BYTES, pool.POOL_MIN_FILES = 0, 1
parent, read = os.getpid(), reading._read_job
def failing(job, *rest):
    if job.source.path.name == "deployment.yaml" and os.getpid() != parent:
        {failure}
    return read(job, *rest)
reading._read_job = failing
try:
    print(json.render(lint(Options(paths=(sys.argv[1],), no_cache=True)).report))
except BaseException as error:
    print("raised", type(error).__name__)
"""


@pytest.mark.slow  # 2.0 s of CPU in 4 cases
@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("os._exit(1)", None),  # a worker killed (out of memory): what it held is read in this process
        ("os.kill(os.getpid(), 9)", None),
        ("raise KeyboardInterrupt", "raised KeyboardInterrupt"),  # stops the run, and every worker
        ("raise RuntimeError('our bug')", "raised RuntimeError"),
    ],
)
def test_a_worker_that_dies_or_fails_never_leaves_the_run_waiting(tree, failure, expected, tmp_path):
    require("fork (files are read in a pool of forked processes)", has_fork())
    env = {**os.environ, "KUBELINT_SVC_JOBS": "2"}
    command = [sys.executable, "-c", WORKER_FAILS.replace("{failure}", failure), str(tree)]
    result = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
    single = subprocess.run([sys.executable, "-m", "kubelint_svc", "lint", "-f", "json", "--no-cache", str(tree)],
                            capture_output=True, env=env, timeout=120, check=False)
    assert result.stdout.decode().strip() == (expected or single.stdout.decode().strip())
    assert b"Traceback" not in result.stderr
