"""A normal (non-editable) install: the wheel carries the shaders and the shipped models, found from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# what the build reads: the package, the folders it carries, and the build files
SOURCES = ("perform", "shaders", "models", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel (from a copy of its files, so the clone gets no build/ folder) and installed
    into a folder of its own."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        p = ROOT / name
        if not p.exists():
            continue
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(p, src / name)
    wheels, target = tmp / "wheels", tmp / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    r = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = wheels.glob("perform_av-*.whl")
    r = subprocess.run([*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return target


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # the installed copy first on the path; its dependencies come from this environment
    env = dict(os.environ, PYTHONPATH=str(installed), PYTHONUNBUFFERED="1")
    env.pop("PERFORM_SHADER_DIR", None)
    env.pop("PERFORM_MODELS", None)
    return subprocess.run([sys.executable, "-m", "perform", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_models_and_shaders(installed, tmp_path):
    assert (installed / "perform" / "shaders" / "fullscreen.vert").is_file()
    assert (installed / "perform" / "models" / "face-64.safetensors").is_file()
    r = _run(installed, tmp_path, "info", "--no-gl")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"from {installed / 'perform'}" in r.stdout  # the installed copy ran, not the clone
    assert f"shaders in {installed / 'perform' / 'shaders'}" in r.stdout
    assert f"models in {installed / 'perform' / 'models'}: 4" in r.stdout and "face-64" in r.stdout and "face-64-diverged" in r.stdout


@pytest.mark.slow
@pytest.mark.gl
def test_the_installed_package_rehearses_a_shipped_setlist_from_another_folder(installed, tmp_path):
    # the setlist alone, away from the clone: its model and shaders must come from the installed package
    setlist = tmp_path / "face.toml"
    shutil.copy2(ROOT / "setlists" / "face.toml", setlist)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = elsewhere / "face.mp4"
    r = _run(installed, elsewhere, "rehearse", str(setlist), "--to", "0.2", "--size", "64x64", "--out", str(out),
             "--inference", "thread", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "perform rehearse: 6 frames" in r.stdout and out.stat().st_size > 0
