"""The built wheel, installed in a fresh venv, works from any directory: schemas and rules ride
along, and so do the licence and the py.typed marker."""

import os
import subprocess
import sys
import venv
import zipfile

import pytest
from conftest import REPO


@pytest.mark.slow  # builds a wheel and installs it in a fresh venv: about 10 s
def test_installed_wheel_lints_from_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        check=True, capture_output=True,
    )
    [wheel] = dist.glob("kubelint_svc-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "kubelint_svc/py.typed" in names
    assert [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True)

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = lambda *args: subprocess.run(  # noqa: E731
        [str(bin_dir / "kubelint-svc"), *args], cwd=workdir, capture_output=True, text=True, env=env, check=False
    )
    result = run("lint", str(REPO / "examples"))
    assert result.returncode == 1, result.stderr
    assert "error[schema] unknown field 'selecter'" in result.stdout
    assert "error[removed-api]" in result.stdout
    assert run("lint", "-k", "1.30", str(REPO / "examples" / "shop" / "frontend.yaml")).returncode == 0
    listing = run("rules").stdout
    assert "yaml-syntax" in listing
    assert "security-node-port" in listing
    assert "Failing example:" in run("explain", "removed-api").stdout

    # the package really comes from the venv, and it stays small
    site = next((env_dir / "lib").glob("python*/site-packages/kubelint_svc"))
    assert (site / "schemas" / "v1.37.json").is_file()
    assert (site / "rules" / "schema.yaml").is_file()
    assert (site / "py.typed").is_file()  # type checkers read the package's annotations
    [dist_info] = site.parent.glob("kubelint_svc-*.dist-info")
    assert (dist_info / "licenses" / "LICENSE").read_text() == (REPO / "LICENSE").read_text()
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024
