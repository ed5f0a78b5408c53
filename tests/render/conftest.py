"""Fixtures for the render tests: one headless EGL context per module, shader folders to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from perform.render.context import create_headless_context
from perform.render.shaders import find_shader_dir


@pytest.fixture(scope="module")
def ctx():
    c = create_headless_context()
    yield c
    c.release()


@pytest.fixture
def shader_copy(tmp_path: Path) -> Path:
    """A private copy of the shaders folder, safe to break."""
    d = tmp_path / "shaders"
    shutil.copytree(find_shader_dir(), d)
    return d


@pytest.fixture
def pattern() -> np.ndarray:
    """An 8x8 RGB image with every pixel different."""
    return np.random.default_rng(7).integers(0, 256, (8, 8, 3), dtype=np.uint8)
