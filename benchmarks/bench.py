"""Benchmark: lint time against the floor of a bare C-backed ruamel.yaml safe load of the same bytes.

    python benchmarks/bench.py [--repeat 3] [--corpus ../shared/corpus/real-world] [--only SECTION]
        [--kubeconform-schemas DIR]

Each measurement runs in a fresh child process (so peak memory is that step's own); the
median of --repeat runs is reported. Two inputs: the real-world corpus and a generated tree
of 10,000 Service+Deployment pairs in 1,000 files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PAIR = """\
apiVersion: v1
kind: Service
metadata:
  name: svc-{n}
  namespace: team-{ns}
  labels:
    app: app-{n}
spec:
  type: {type}
  selector:
    app: app-{n}
    tier: backend
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
  - name: metrics
    port: 9090
    targetPort: 9090
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: team-{ns}
  labels:
    app: app-{n}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: app-{n}
      tier: backend
  template:
    metadata:
      labels:
        app: app-{n}
        tier: backend
    spec:
      containers:
      - name: app
        image: registry.example.com/app-{n}:1.{n}
        ports:
        - name: http
          containerPort: 8080
        - name: metrics
          containerPort: 9090
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
---
"""


def generate_tree(root: Path, pairs: int = 10_000, files: int = 1_000) -> None:
    per_file = pairs // files
    for f in range(files):
        folder = root / f"team-{f % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            PAIR.format(n=f * per_file + i, ns=f % 50, type=("ClusterIP", "NodePort")[i % 2], replicas=1 + i % 3)
            for i in range(per_file)
        )
        (folder / f"apps-{f:04d}.yaml").write_text(body)


def generate_kustomize_tree(root: Path, apps: int = 40, pairs: int = 25) -> None:
    """apps kustomize apps, each a base of `pairs` Service+Deployment pairs and a prod overlay
    (namePrefix, commonLabels, a replicas patch): 40 roots, 2,000 built objects by default."""
    for app in range(apps):
        base, overlay = root / f"app-{app:02d}" / "base", root / f"app-{app:02d}" / "overlays" / "prod"
        base.mkdir(parents=True)
        overlay.mkdir(parents=True)
        body = "".join(PAIR.format(n=app * pairs + i, ns=app, type="ClusterIP", replicas=1) for i in range(pairs))
        (base / "apps.yaml").write_text(body)
        (base / "kustomization.yaml").write_text("resources: [apps.yaml]\n")
        (overlay / "replicas.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app * pairs}\n"
            f"  namespace: team-{app}\nspec:\n  replicas: 3\n")
        (overlay / "kustomization.yaml").write_text(
            "resources: [../../base]\nnamePrefix: prod-\ncommonLabels: {env: prod}\npatches:\n- path: replicas.yaml\n")


OVERLAYS = ("dev", "staging", "prod")


def generate_kustomize_heavy(root: Path, apps: int = 200, pairs: int = 2) -> None:
    """The kustomize-heavy tree of issue 20: `apps` small apps, each a base of `pairs`
    Service+Deployment pairs and three overlays (dev, staging, prod) with a namespace, labels,
    an image and a replicas patch: 600 roots, 200 bases, 2,400 built objects by default."""
    for app in range(apps):
        base = root / f"app-{app:03d}" / "base"
        base.mkdir(parents=True)
        body = "".join(PAIR.format(n=app * pairs + i, ns=app, type="ClusterIP", replicas=1) for i in range(pairs))
        (base / "apps.yaml").write_text(body)
        (base / "kustomization.yaml").write_text("resources:\n- apps.yaml\n")
        for number, overlay in enumerate(OVERLAYS):
            folder = base.parent / "overlays" / overlay
            folder.mkdir(parents=True)
            (folder / "replicas.yaml").write_text(
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app * pairs}\n"
                f"  namespace: team-{app}\nspec:\n  replicas: {number + 1}\n")
            (folder / "kustomization.yaml").write_text(
                f"resources:\n- ../../base\nnamespace: app-{app:03d}-{overlay}\n"
                f"commonLabels:\n  env: {overlay}\n"
                f"images:\n- name: registry.example.com/app-{app * pairs}\n  newTag: {overlay}-{app}\n"
                "patches:\n- path: replicas.yaml\n")
    age(root)


CRD_HEAVY = REPO.parent / "shared" / "corpus" / "crd-heavy" / "prometheus-operator__kube-prometheus" / "manifests"


def generate_kubeflow_sized(root: Path, source: Path = CRD_HEAVY, files: int = 900, megabytes: int = 25) -> None:
    """A kubeflow-sized tree from the CRD-heavy one: copies of it, each in its own folder and
    namespace, until it holds `files` files; the first copies carry the CRD files too, as many
    as keep the tree near `megabytes` (real trees install their CRDs once, not per app)."""
    originals = sorted(path for path in source.rglob("*") if path.suffix in (".yaml", ".yml", ".json"))
    texts = {path: path.read_text() for path in originals}
    crds = {path for path, text in texts.items() if "kind: CustomResourceDefinition" in text}
    plain_bytes = sum(len(text) for path, text in texts.items() if path not in crds)
    crd_bytes = sum(len(texts[path]) for path in crds)
    copies = -(-files // (len(texts) - len(crds)))  # enough copies without CRDs, rounded up
    with_crds = max(1, (megabytes * 1_000_000 - copies * plain_bytes) // max(crd_bytes, 1))
    for copy in range(copies):
        for path, text in texts.items():
            if path in crds and copy >= with_crds:
                continue
            target = root / f"app-{copy:02d}" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.replace("namespace: monitoring", f"namespace: monitoring-{copy:02d}"))
    age(root)


def age(root: Path, seconds: int = 3600) -> None:
    """Files as a checkout an hour old has them (a tree written a moment ago would have every
    file read again by the cache, which trusts a file's stamp only once it has settled)."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def child(mode: str, target: str) -> None:
    """Runs in a child process: time one step, print JSON with seconds, documents and peak RSS."""
    start = time.perf_counter()
    if mode in ("floor", "compose"):
        from ruamel.yaml import YAML

        from kubelint_svc.inputs import discover

        documents = 0
        for item in discover([target]):
            yaml = YAML(typ="safe", pure=False)
            parse = yaml.load_all if mode == "floor" else yaml.compose_all
            with contextlib.suppress(Exception):
                documents += sum(1 for doc in parse(item.path.read_bytes()) if doc is not None)
    elif mode in ("lint-cold", "lint-warm"):
        from kubelint_svc.app import Options, lint

        # lint-warm: the cache named by $KUBELINT_SVC_CACHE_DIR, filled by an earlier run; replay as
        # `kubelint-svc lint` asks (cli.py): a run kept whole answers while nothing it read changed
        documents = lint(Options(paths=(target,), no_cache=mode == "lint-cold"), replay=True).report.objects
    else:
        import os

        from kubelint_svc.engine import Registry
        from kubelint_svc.inputs import discover
        from kubelint_svc.runner import Settings, lint_files
        from kubelint_svc.schemas import bundled_versions

        # "lint", or "lint:ENGINE" (kustomize auto/fallback/off); "lint:serial" builds one root at a time
        engine = mode.partition(":")[2] or "auto"
        if engine == "serial":
            engine, os.environ["KUBELINT_SVC_JOBS"] = "auto", "1"
        settings = Settings(bundled_versions()[-1], kustomize=engine)
        report = lint_files(discover([target]), settings, Registry.builtin())
        documents = report.objects
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "documents": documents, "peak_mib": peak_kib / 1024}))


def measure(mode: str, target: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(target)],
            check=True, capture_output=True, text=True, cwd=REPO,
        ).stdout
        runs.append(json.loads(out))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "documents": runs[0]["documents"],
        "peak_mib": statistics.median(r["peak_mib"] for r in runs),
    }


def report(name: str, target: Path, repeat: int) -> None:
    floor = measure("floor", target, repeat)
    compose = measure("compose", target, repeat)
    linted = measure("lint", target, repeat)
    ratio = linted["seconds"] / floor["seconds"]
    print(f"## {name}")
    print(f"- objects linted: {linted['documents']}")
    print(f"- floor (C-backed ruamel.yaml safe load): {floor['seconds']:.3f} s median, "
          f"peak {floor['peak_mib']:.0f} MiB")
    print(f"- C-backed ruamel.yaml compose_all (nodes with positions, no objects): {compose['seconds']:.3f} s median")
    print(f"- kubelint-svc lint: {linted['seconds']:.3f} s median, peak {linted['peak_mib']:.0f} MiB")
    print(f"- documents per second: {linted['documents'] / linted['seconds']:.0f}")
    print(f"- ratio lint / floor: {ratio:.2f} (lint / compose_all: {linted['seconds'] / compose['seconds']:.2f})")
    print()


def report_cached(name: str, target: Path, repeat: int) -> None:
    """Cold (no cache) and warm (cache filled, nothing changed) runs against the floor, with
    kubeconform's and kubernetes-validate's times where they are installed."""
    import os
    import shutil

    floor = measure("floor", target, repeat)
    cold = measure("lint-cold", target, repeat)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["KUBELINT_SVC_CACHE_DIR"] = cache
        measure("lint-warm", target, 1)  # fills the cache
        warm = measure("lint-warm", target, repeat)
        del os.environ["KUBELINT_SVC_CACHE_DIR"]
    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    files = sum(1 for path in target.rglob("*") if path.is_file())
    print(f"## {name}: {files} files, {size / 1e6:.1f} MB, {cold['documents']} objects linted")
    print(f"- floor (C-backed ruamel.yaml safe load): {floor['seconds']:.3f} s median, "
          f"peak {floor['peak_mib']:.0f} MiB")
    for label, row in (("cold (--no-cache)", cold), ("warm (cache filled, nothing changed)", warm)):
        print(f"- kubelint-svc lint, {label}: {row['seconds']:.3f} s median, peak {row['peak_mib']:.0f} MiB, "
              f"ratio to floor {row['seconds'] / floor['seconds']:.2f}")
    for schemas, reference in kubeconform_references(target, repeat):
        print(f"- kubeconform ({schemas}): " + (
            f"{reference:.3f} s median (whole process), ratio to floor {reference / floor['seconds']:.2f}; "
            f"cold {cold['seconds'] / reference:.2f}x kubeconform, warm {warm['seconds'] / reference:.2f}x"
            if reference else "not installed here, not measured"))
    validate = ["kubernetes-validate", "--strict", *map(str, sorted(target.rglob("*.yaml")))]
    if shutil.which(validate[0]) is None:
        print("- kubernetes-validate: not installed here, not measured")
    else:
        seconds = whole_process(validate, repeat)[0]
        print(f"- kubernetes-validate: {seconds:.3f} s median (whole process), "
              f"ratio to floor {seconds / floor['seconds']:.2f}")
    print()


KUBECONFORM_SCHEMAS: list[Path] = []  # --kubeconform-schemas: a kubernetes-json-schema -local-strict folder


def kubeconform_references(target: Path, repeat: int) -> list[tuple[str, float | None]]:
    """kubeconform's median whole-process time on the raw files of a tree, where it is on PATH,
    offline (kubeconform_schemas.py): with the bundled schemas of the newest version (the same
    kinds against the same strict schemas, descriptions dropped), and, given
    --kubeconform-schemas, with its own standalone schemas as its default location serves them
    (descriptions kept: slower to compile). None where kubeconform is not installed."""
    import shutil

    import kubeconform_schemas

    if shutil.which("kubeconform") is None:
        return [("offline", None)]
    found = []
    with tempfile.TemporaryDirectory() as folder:
        locations = [("the bundled schemas", kubeconform_schemas.write(Path(folder) / "bundled"))]
        locations += [(f"its own schemas, from {source.name}",
                       kubeconform_schemas.write_own(Path(folder) / "own", source)) for source in KUBECONFORM_SCHEMAS]
        for schemas, location in locations:
            command = ["kubeconform", "-strict", "-summary", "-ignore-missing-schemas", "-schema-location", location,
                       str(target)]
            found.append((schemas, whole_process(command, repeat)[0]))
    return found


def whole_process(command: list[str], repeat: int, cwd: Path | None = None) -> tuple[float, float]:
    """Median wall time of a command, interpreter start included, and its peak memory in MiB."""
    script = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, cwd=cwd,
                             check=True).stdout.split()
        runs.append((float(out[0]), int(out[1]) / 1024))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def report_precommit(tree: Path, repeat: int) -> None:
    """What pre-commit sees: one changed file, the rest of the git repository as context."""
    import shutil

    if shutil.which("git") is None:
        print("## pre-commit: git is not installed here, not measured\n")
        return
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tree, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], cwd=tree, check=True)
    changed = sorted(tree.rglob("alertmanager-service.yaml"))[0].relative_to(tree)
    command = [sys.executable, "-m", "kubelint_svc", "lint", "--git-context", str(changed)]
    whole_process(command, 1, cwd=tree)  # fills the cache
    time.sleep(2.1)  # a run is kept whole once the tree (git's new index too) has settled (cache.SETTLED_NS)
    whole_process(command, 1, cwd=tree)
    warm, warm_peak = whole_process(command, repeat, cwd=tree)
    edited = []
    for n in range(repeat):
        path = tree / changed
        path.write_text(path.read_text().replace("app.kubernetes.io/part-of", f"app.kubernetes.io/part-of-{n}", 1))
        time.sleep(0.1)  # as a person edits: the run starts after the save
        edited.append(whole_process(command, 1, cwd=tree)[0])
    print(f"## pre-commit: `lint --git-context {changed}` in a git repository of {tree.name}")
    print(f"- cache warm, nothing changed: {warm * 1000:.0f} ms median (whole process), peak {warm_peak:.0f} MiB")
    print(f"- after editing that file: {statistics.median(edited) * 1000:.0f} ms median")
    print()


def report_kustomize_heavy(tree: Path, repeat: int) -> None:
    """Issue 20: the kustomize-heavy tree, whole processes (interpreter start included): cold
    (every root built; kubectl, the fallback, and kustomize off), warm (nothing changed), and the
    pre-commit run of one base file, against the floor and kubeconform where installed."""
    import os

    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tree, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], cwd=tree, check=True)
    lint = [sys.executable, "-m", "kubelint_svc", "lint"]
    floor = measure("floor", tree, repeat)
    rows = {
        "cold (`--no-cache`; auto: roots proven alike built in-process, the rest by kubectl)": whole_process(
            [*lint, "--no-cache", "."], repeat, cwd=tree),
        "cold, `--kustomize kubectl --no-cache` (every root a kubectl process; one run)": whole_process(
            [*lint, "--no-cache", "--kustomize", "kubectl", "."], 1, cwd=tree),
        "cold, `--kustomize fallback --no-cache`": whole_process(
            [*lint, "--no-cache", "--kustomize", "fallback", "."], repeat, cwd=tree),
        "cold, `--kustomize off --no-cache`": whole_process(
            [*lint, "--no-cache", "--kustomize", "off", "."], repeat, cwd=tree),
    }
    changed = "app-000/base/apps.yaml"
    with tempfile.TemporaryDirectory() as cache:
        os.environ["KUBELINT_SVC_CACHE_DIR"] = cache
        whole_process([*lint, "."], 1, cwd=tree)  # fills the cache
        time.sleep(2.1)  # a run is kept whole once the tree has settled (cache.SETTLED_NS)
        whole_process([*lint, "."], 1, cwd=tree)
        rows["warm, nothing changed (replayed whole)"] = whole_process([*lint, "."], repeat, cwd=tree)
        one_file = [*lint, "--git-context", changed]
        whole_process(one_file, 1, cwd=tree)
        rows[f"pre-commit `lint --git-context {changed}`, warm"] = whole_process(one_file, repeat, cwd=tree)
        edited: list[tuple[float, float]] = []
        for n in range(repeat):
            path = tree / changed
            # a value no earlier edit wrote: each run follows a real change of the file
            path.write_text(re.sub(r"cpu: \d+m", f"cpu: {101 + n}m", path.read_text(), count=1))
            time.sleep(0.1)  # as a person edits: the run starts after the save
            edited.append(whole_process(one_file, 1, cwd=tree))
        rows[f"pre-commit `lint --git-context {changed}`, after editing it"] = (
            statistics.median(seconds for seconds, _ in edited), statistics.median(peak for _, peak in edited))
        del os.environ["KUBELINT_SVC_CACHE_DIR"]
    references = kubeconform_references(tree, repeat)
    roots = sum(1 for _ in tree.glob("*/overlays/*"))
    print(f"## kustomize-heavy: {roots} roots over {sum(1 for _ in tree.glob('*/base'))} bases, "
          f"{sum(1 for _ in tree.rglob('*.yaml'))} files, {os.cpu_count()} cores")
    print(f"- floor (C-backed ruamel.yaml safe load of the raw files): {floor['seconds']:.3f} s median")
    for schemas, reference in references:
        print(f"- kubeconform on the raw files ({schemas}): " + (
            f"{reference:.3f} s median" if reference else "not installed here, not measured"))
    for label, (seconds, peak) in rows.items():
        ratios = [f"{seconds / reference:.2f}x kubeconform ({schemas})" for schemas, reference in references
                  if reference]
        print(f"- {label}: {seconds:.3f} s median, peak {peak:.0f} MiB, "
              + ", ".join(ratios or [f"{seconds / floor['seconds']:.2f}x the floor"]))
    print()


def _git_repository(tree: Path) -> None:
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tree, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], cwd=tree, check=True)


def server_latency(tree: Path, changed: str, edit: Callable[[str, int], str], repeat: int) -> tuple[float, list[float]]:
    """The editor server over its pipes, as an editor drives it: the first diagnostics of an
    opened file (the cache filled), then, warm, the time from each change sent to its diagnostics
    received (the server's 50 ms debounce included)."""
    import asyncio

    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    async def run() -> tuple[float, list[float]]:
        client = LanguageClient("bench", "1")
        arrived: dict[int, float] = {}
        event = asyncio.Event()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            arrived[params.version or 0] = time.perf_counter()
            event.set()

        async def wait(version: int) -> float:
            while version not in arrived:
                event.clear()
                await asyncio.wait_for(event.wait(), 600)
            return arrived[version]

        await client.start_io(sys.executable, "-m", "kubelint_svc", "server", cwd=str(tree))
        await client.initialize_async(types.InitializeParams(types.ClientCapabilities(), root_uri=tree.as_uri()))
        client.initialized(types.InitializedParams())
        uri, text = (tree / changed).as_uri(), (tree / changed).read_text()
        start = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, text)))
        first = await wait(1) - start
        changes = []
        for version in range(2, repeat + 4):  # two to warm up, then repeat + 1 measured
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri),
                [types.TextDocumentContentChangeWholeDocument(edit(text, version))]))
            changes.append(await wait(version) - sent)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        return first, changes[2:]

    return asyncio.run(run())


def report_server(repeat: int) -> None:
    """Issue 24: diagnostics after a change, through the editor server, on kube-prometheus
    `manifests/` and on the kustomize-heavy tree, each a git repository."""
    try:
        import pygls  # noqa: F401
    except ImportError:
        print("## editor server: the lsp extra is not installed here, not measured\n")
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees = []
        if CRD_HEAVY.is_dir():
            manifests = Path(tmp) / "kube-prometheus"
            shutil.copytree(CRD_HEAVY, manifests)
            age(manifests)
            trees.append(("kube-prometheus manifests/", manifests, "alertmanager-service.yaml", 0.150,
                          lambda text, n: text.replace("port: 9093", f"port: {9000 + n}", 1)))
        heavy = Path(tmp) / "heavy"
        generate_kustomize_heavy(heavy)
        trees.append(("the kustomize-heavy tree (600 roots)", heavy, "app-000/base/apps.yaml", 0.500,
                      lambda text, n: text.replace("cpu: 100m", f"cpu: {100 + n}m", 1)))
        print(f"## editor server: diagnostics after a change (`kubelint-svc server`, {os.cpu_count()} cores)")
        for label, tree, changed, target, edit in trees:
            _git_repository(tree)
            with tempfile.TemporaryDirectory() as cache:
                os.environ["KUBELINT_SVC_CACHE_DIR"] = cache
                first, changes = server_latency(tree, changed, edit, repeat)
                del os.environ["KUBELINT_SVC_CACHE_DIR"]
            median = statistics.median(changes)
            verdict = "within" if median <= target else "over"
            print(f"- {label}, `{changed}`: first diagnostics (cache cold) {first:.3f} s; after a change, warm: "
                  f"{median * 1000:.0f} ms median, {max(changes) * 1000:.0f} ms worst of {len(changes)} "
                  f"({verdict} the {target * 1000:.0f} ms target)")
    print()


def report_units(target: Path, repeat: int) -> None:
    """What building kustomize roots costs, by engine, and what building them in parallel saves."""
    import os

    rows = {mode: measure(mode, target, repeat) for mode in ("lint:off", "lint:fallback", "lint:serial", "lint:auto")}
    roots = sum(1 for _ in target.glob("*/overlays/prod"))
    print(f"## kustomize units: {roots} roots (base + prod overlay each), {os.cpu_count()} cores")
    labels = {
        "lint:off": "kustomize off (files as written)", "lint:fallback": "built-in fallback",
        "lint:serial": "kubectl kustomize, one root at a time", "lint:auto": "kubectl kustomize, roots in parallel",
    }
    for mode, row in rows.items():
        extra = row["seconds"] - rows["lint:off"]["seconds"]
        print(f"- {labels[mode]}: {row['seconds']:.3f} s median, {row['documents']} objects judged, "
              f"peak {row['peak_mib']:.0f} MiB; building: {extra:+.3f} s ({extra / roots * 1000:+.0f} ms per root)")
    print(f"- parallel / serial: {rows['lint:auto']['seconds'] / rows['lint:serial']['seconds']:.2f}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "real-world")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--kubeconform-schemas", type=Path, metavar="DIR",
                        help="a kubernetes-json-schema -local-strict folder (the PyPI package kubernetes-validate "
                             "carries them): kubeconform is measured with its own schemas too")
    parser.add_argument("--only", choices=("corpus", "crd", "generated", "units", "kustomize-heavy", "server"),
                        help="run one section")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        child(*args.child)
        return 0
    KUBECONFORM_SCHEMAS[:] = [args.kubeconform_schemas] if args.kubeconform_schemas else []
    # as an installed copy runs: its modules compiled once (pip compiles them), not at every start
    # (a shell's PYTHONDONTWRITEBYTECODE=1 left a checkout's edited modules to be compiled by each
    # run: about 0.17 s a process)
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(REPO / "kubelint_svc"), quiet=1)
    print(f"python {sys.version.split()[0]}, repeat {args.repeat}, medians\n")
    if args.corpus.is_dir() and args.only in (None, "corpus"):
        report(f"real-world corpus ({args.corpus.name})", args.corpus, args.repeat)
    if args.only in (None, "crd") and CRD_HEAVY.is_dir():
        report_cached("kube-prometheus manifests/ (CRD-heavy)", CRD_HEAVY, args.repeat)
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "kubeflow-sized"
            generate_kubeflow_sized(tree)
            report_cached("a kubeflow-sized tree (kube-prometheus copied)", tree, args.repeat)
            report_precommit(tree, args.repeat)
    if args.only in (None, "kustomize-heavy"):
        with tempfile.TemporaryDirectory() as tmp:
            generate_kustomize_heavy(Path(tmp) / "heavy")
            report_kustomize_heavy(Path(tmp) / "heavy", args.repeat)
    if args.only in (None, "server"):
        report_server(args.repeat)
    if args.only in (None, "units"):
        with tempfile.TemporaryDirectory() as tmp:
            generate_kustomize_tree(Path(tmp) / "apps")
            report_units(Path(tmp) / "apps", args.repeat)
    if args.only not in (None, "generated"):
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        generate_tree(tree)
        report("generated: 10,000 Service+Deployment pairs in 1,000 files", tree, args.repeat)
        # the same objects as one stream, as `helm template` or `kubectl kustomize` would pipe them:
        # one apply unit of 20,000 objects (catches per-unit work that grows quadratically)
        stream = Path(tmp) / "stream.yaml"
        stream.write_text("".join(path.read_text() for path in sorted(tree.rglob("*.yaml"))))
        report("generated: the same 20,000 objects in one stream", stream, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
