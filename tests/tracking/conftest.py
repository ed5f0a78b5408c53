"""Shared fixtures for the tracking tests: real face photos and one static face mesh."""

from pathlib import Path

import numpy as np
import pytest

from perform.sources.photo import astronaut, decode_image
from perform.tracking.tracker import create_face_mesh, detect_landmarks

FACES_DIR = Path(__file__).resolve().parents[1] / "assets" / "faces"
FACE_NAMES = ("astronaut", "grace_hopper", "luispedro")  # provenance and licences: tests/assets/faces/README.md


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return astronaut().image.copy()


@pytest.fixture(scope="session")
def faces() -> dict[str, np.ndarray]:
    """Every test face by name, as (H, W, 3) uint8 RGB."""
    out = {"astronaut": astronaut().image.copy()}
    for name in FACE_NAMES[1:]:
        path = FACES_DIR / f"{name}.jpg"
        out[name] = decode_image(path.read_bytes(), str(path))
    return out


@pytest.fixture(params=FACE_NAMES)
def face(request, faces) -> np.ndarray:
    """Each test face in turn (the test runs once per face)."""
    return faces[request.param]


@pytest.fixture(scope="module")
def landmarks_of():
    mesh = create_face_mesh(static=True)
    yield lambda image: detect_landmarks(mesh, image)
    mesh.close()
