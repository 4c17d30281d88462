"""The built-in fallback builds as kubectl kustomize does where the differential test found it did
not: a patch's namespace, the namespace a patch names, and text YAML 1.1 reads otherwise than
kustomize's YAML 1.2. Each layout is built by both engines and the builds compared; each failed
before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KUBECTL, needs
from test_kustomize_verdicts import layout, verdict

from kubelint_svc.units.kustomize.engines import build

NEEDS_KUBECTL = needs("kubectl", KUBECTL is not None)

CONFIG_MAPS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: a}
data: {mode: slow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: b}
data: {mode: slow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
data: {mode: slow}
"""


def patch(namespace: str | None, name: str = "settings", api_version: str = "v1") -> str:
    where = f", namespace: {namespace}" if namespace is not None else ""
    return f"apiVersion: {api_version}\nkind: ConfigMap\nmetadata: {{name: {name}{where}}}\ndata: {{mode: fast}}\n"


def alike(tmp_path: Path, files: dict[str, str], root: str = "top") -> tuple[str, list[str]]:
    """The verdict of both engines on the layout's root, asserted equal."""
    top = layout(tmp_path, files, git=False).resolve()
    real = build(top / root, "kubectl", confine=top)
    fallback = build(top / root, "fallback", confine=top)
    assert verdict(fallback) == verdict(real), (real.error, fallback.error)
    return verdict(real)


def modes(built: tuple[str, list[str]]) -> list[str]:
    """Each object's namespace/name=mode, as built (the verdict's objects are JSON text)."""
    import json

    bodies = [json.loads(text) for text in built[1]]
    return sorted(f"{b['metadata'].get('namespace', '')}/{b['metadata']['name']}={b['data']['mode']}" for b in bodies)


# --- 1. a patch's metadata.namespace only finds the object: kustomize keeps the object's ---------------

MOVED = {
    "base/all.yaml": CONFIG_MAPS,
    "base/kustomization.yaml": "resources: [all.yaml]\n",
    "middle/kustomization.yaml": "resources: [../base]\nnamespace: shop\n",
}


@NEEDS_KUBECTL
def test_a_patch_naming_the_namespace_an_object_was_moved_from_does_not_move_it_back(tmp_path):
    """The overlay's namespace stands: the patch's `namespace: a` names where the object was read."""
    files = {**MOVED, "base/all.yaml": CONFIG_MAPS.split("---\n", maxsplit=1)[0],
             "top/kustomization.yaml": "resources: [../middle]\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch("a")}
    assert modes(alike(tmp_path, files)) == ["shop/settings=fast"]


@NEEDS_KUBECTL
def test_a_targeted_patch_keeps_the_objects_name_and_namespace(tmp_path):
    files = {"top/all.yaml": CONFIG_MAPS,
             "top/kustomization.yaml": "resources: [all.yaml]\npatches:\n- path: patch.yaml\n"
                                       "  target: {kind: ConfigMap, name: plain}\n",
             "top/patch.yaml": patch("elsewhere", name="renamed")}
    assert modes(alike(tmp_path, files)) == ["/plain=fast", "a/settings=slow", "b/settings=slow"]


# --- 2. the namespace a patch names: the object's now, or before a namespace moved it ----------------


@NEEDS_KUBECTL
@pytest.mark.parametrize(("named", "expected"), [
    ("a", ["/plain=slow", "a/settings=fast", "b/settings=slow"]),
    ("b", ["/plain=slow", "a/settings=slow", "b/settings=fast"]),
    (None, None),  # `default`: no settings there
    ("c", None),
])
def test_a_patch_changes_only_the_object_in_the_namespace_it_names(tmp_path, named, expected):
    """The fallback patched every ConfigMap named settings, whatever namespace the patch named."""
    files = {"top/all.yaml": CONFIG_MAPS,
             "top/kustomization.yaml": "resources: [all.yaml]\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch(named)}
    built = alike(tmp_path, files)
    assert (modes(built) if built[0] == "built" else None) == expected


@NEEDS_KUBECTL
@pytest.mark.parametrize(("named", "expected"), [
    ("default", ["shop/plain=fast"]),  # the namespace the object had before the middle moved it
    ("shop", ["shop/plain=fast"]),  # the one it has now
    ("b", None),
])
def test_a_patch_finds_an_object_in_the_namespace_it_had_or_has(tmp_path, named, expected):
    files = {**MOVED, "base/all.yaml": CONFIG_MAPS.split("---\n")[2],
             "top/kustomization.yaml": "resources: [../middle]\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch(named, name="plain")}
    built = alike(tmp_path, files)
    assert (modes(built) if built[0] == "built" else None) == expected


@NEEDS_KUBECTL
@pytest.mark.parametrize(("named", "built"), [("a", True), ("shop", False)])
def test_a_patch_beside_a_namespace_names_the_object_before_it_is_moved(tmp_path, named, built):
    """Patches come before the namespace of their own kustomization: `shop` is not yet the object's."""
    files = {"top/all.yaml": CONFIG_MAPS.split("---\n", maxsplit=1)[0],
             "top/kustomization.yaml": "resources: [all.yaml]\nnamespace: shop\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch(named)}
    assert (alike(tmp_path, files)[0] == "built") is built


@NEEDS_KUBECTL
@pytest.mark.parametrize("api_version", ["v2", "apps/v1"])
def test_a_patch_of_another_api_version_finds_nothing(tmp_path, api_version):
    files = {"top/all.yaml": CONFIG_MAPS,
             "top/kustomization.yaml": "resources: [all.yaml]\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch(None, name="plain", api_version=api_version)}
    assert alike(tmp_path, files)[0] == "failed"


@NEEDS_KUBECTL
def test_a_patch_naming_two_objects_by_their_first_namespace_fails(tmp_path):
    """Two ConfigMaps read in `default` and moved apart: a patch naming `default` matches both."""
    files = {"one/cm.yaml": patch(None, name="plain"), "one/kustomization.yaml": "resources: [cm.yaml]\nnamespace: x\n",
             "two/cm.yaml": patch(None, name="plain"), "two/kustomization.yaml": "resources: [cm.yaml]\nnamespace: y\n",
             "top/kustomization.yaml": "resources: [../one, ../two]\npatches:\n- path: patch.yaml\n",
             "top/patch.yaml": patch(None, name="plain")}
    assert alike(tmp_path, files)[0] == "failed"


# --- 3. text YAML 1.1 (the linter) and YAML 1.2 (kustomize's kyaml) read apart -------------------------
# kubectl kustomize reads `on` as text and prints the object through JSON: 1.0 is 1, a date an
# RFC 3339 time, an annotation the text written. Each scalar stands as a value in data, in a
# container's env and args, and as an annotation.

SCALARS = ["on", "yes", "Y", "n", "OFF", "True", "017", "08", "0X1F", "0b101", "1_000", "1.0", "1.5", "1e3",
           "2024-01-02", "2001-12-14 21:59:43.10", "2001-12-14t21:59:43.10-05:00", "2023-02-29", "1:20", "~",
           "9223372036854775809", "1e21", "0.0000001"]


def thing(value: str) -> str:
    return f"""\
apiVersion: example.com/v1
kind: Thing
metadata:
  name: thing
  annotations:
    note: {value}
spec:
  value: {value}
  values:
  - {value}
  - in: {value}
"""


@NEEDS_KUBECTL
@pytest.mark.parametrize("scalar", SCALARS)
def test_a_scalar_is_built_as_kubectl_kustomize_reads_it(tmp_path, scalar):
    files = {"top/thing.yaml": thing(scalar), "top/kustomization.yaml": "resources: [thing.yaml]\n"}
    assert alike(tmp_path, files)[0] == "built"


@NEEDS_KUBECTL
@pytest.mark.parametrize("scalar", ["on", "1.0", "2024-01-02", "yes"])
def test_a_patch_is_read_as_kustomize_reads_it(tmp_path, scalar):
    """A patch file and an inline patch: strategic merges, which kustomize reads as YAML 1.2 too."""
    patch_text = f"apiVersion: example.com/v1\nkind: Thing\nmetadata: {{name: thing}}\nspec: {{patched: {scalar}}}\n"
    inline = "".join(f"    {line}\n" for line in patch_text.replace("patched", "inline").splitlines())
    files = {"top/thing.yaml": thing("x"), "top/patch.yaml": patch_text,
             "top/kustomization.yaml": f"resources: [thing.yaml]\npatches:\n- path: patch.yaml\n- patch: |\n{inline}"}
    assert alike(tmp_path, files)[0] == "built"


@NEEDS_KUBECTL
@pytest.mark.parametrize(("key", "built"), [
    ("on", True), ("y", True), ("1:20", True), ("42", False), ("true", False), ("1.5", False), ("2024-01-02", False),
    ("0x1F", False),
])
def test_a_key_kustomize_reads_as_no_text_fails_both(tmp_path, key, built):
    """`42:` is a number to kyaml, which kustomize cannot write out as JSON: kubectl fails it."""
    files = {"top/thing.yaml": thing("x") + f"  keyed:\n    {key}: x\n",
             "top/kustomization.yaml": "resources: [thing.yaml]\n"}
    assert (alike(tmp_path, files)[0] == "built") is built


@NEEDS_KUBECTL
@pytest.mark.parametrize(("field", "built"), [
    ("commonLabels: {tier: on}", False), ("commonLabels: {tier: 42}", False), ("commonLabels: {tier: ~}", True),
    ("commonAnnotations: {tier: 017}", False), ("labels: [{pairs: {tier: 1}}]", False),
    ("images: [{name: nginx, newTag: 2.0}]", False), ("images: [{name: nginx, newTag: '2.0'}]", True),
])
def test_a_kustomizations_text_fields_take_text_only(tmp_path, field, built):
    """The kustomization is YAML 1.1 to kustomize too, read into text fields: `on` or 42 is its error
    (the fallback wrote "true" and "42"), nothing is the empty text."""
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: "
                  "{app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: "
                  "[{name: web, image: nginx}]}\n")
    files = {"top/app.yaml": deployment, "top/kustomization.yaml": f"resources: [app.yaml]\n{field}\n"}
    assert (alike(tmp_path, files)[0] == "built") is built


def test_a_patch_allowed_to_rename_is_a_note_of_the_fallback(tmp_path):
    """kustomize renames the object to the patch's name there; the fallback keeps the name, and says so."""
    files = {"top/all.yaml": CONFIG_MAPS,
             "top/kustomization.yaml": "resources: [all.yaml]\npatches:\n- path: patch.yaml\n"
                                       "  target: {name: plain}\n  options: {allowNameChange: true}\n",
             "top/patch.yaml": patch(None, name="renamed")}
    top = layout(tmp_path, files, git=False).resolve()
    done = build(top / "top", "fallback", confine=top)
    assert [note.split(": ", 1)[1] for note in done.warnings] == [
        ("patches options allowNameChange and allowKindChange are not applied by the built-in engine "
         "(the object keeps its name and kind)")]


@NEEDS_KUBECTL
def test_a_json6902_patch_writes_through_json_as_kustomize_does(tmp_path):
    """kustomize applies JSON6902 operations to the object as JSON, their values read as YAML 1.1:
    `on` is true, 1.0 is 1, and an annotation written as 42 is read back as text."""
    operations = ("    - {op: add, path: /spec/whole, value: 1.0}\n    - {op: add, path: /spec/switch, value: on}\n"
                  "    - {op: add, path: /metadata/annotations/count, value: 42}\n"
                  "    - {op: add, path: /metadata/annotations/flag, value: true}\n")
    files = {"top/thing.yaml": thing("x"),
             "top/kustomization.yaml": f"resources: [thing.yaml]\npatches:\n- target: {{kind: Thing}}\n  patch: |-\n"
                                       f"{operations}"}
    assert alike(tmp_path, files)[0] == "built"
