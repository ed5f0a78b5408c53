"""perform: a live audiovisual performance instrument."""

import os as _os

# OpenMP workers that spin-wait for each other are a disaster when another stage (MediaPipe, the GL
# renderer, the music software) holds a core: measured on 2 cores, a 64 px decode went from 3.4 ms to
# 340 ms with 2 torch threads. Passive waiting costs nothing when the cores are free. Set before torch
# loads; a value the user set wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
