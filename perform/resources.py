"""Where the shipped shaders and models are: inside the installed package, or the repository's folders.

A wheel carries shaders/ and models/ as perform/shaders and perform/models (setup.py copies them at build
time, so the repository's top-level folders stay the one source). A clone or an editable install has no
such copies and uses the folders beside the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # a clone's root; in a wheel install, site-packages


def data_dir(name: str, marker: str | None = None) -> Path:
    """The folder `name` ("shaders", "models"): the installed copy if there is one, else the repository's.

    marker: a file (or glob) the folder must hold to count; the repository's folder is returned when neither
    has it, so error messages name the place a clone would use.
    """
    candidates = []
    packaged = resources.files("perform").joinpath(name)
    if isinstance(packaged, Path):  # a zip import would need extracting; perform is never installed zipped
        candidates.append(packaged)
    candidates.append(REPO_ROOT / name)
    for folder in candidates:
        if folder.is_dir() and (marker is None or any(folder.glob(marker))):
            return folder
    return candidates[-1]
