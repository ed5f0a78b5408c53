"""Shared fixtures for the tracking tests: the astronaut photo and one static face mesh."""

import numpy as np
import pytest

from perform.sources.photo import astronaut
from perform.tracking.tracker import create_face_mesh, detect_landmarks


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return astronaut().image.copy()


@pytest.fixture(scope="module")
def landmarks_of():
    mesh = create_face_mesh(static=True)
    yield lambda image: detect_landmarks(mesh, image)
    mesh.close()
