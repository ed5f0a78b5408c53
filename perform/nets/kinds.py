"""The model kinds `load_model` knows: a card's `kind` -> the loader that rebuilds that kind of model.

A new kind is a module with a LoaderFn, listed here (one place, no registration as an import side effect).
"""

from __future__ import annotations

from perform.nets.generative import LoaderFn
from perform.nets.pair import load_pair
from perform.nets.trajectory import load_trajectory
from perform.nets.vaegan_model import load_vaegan

MODEL_KINDS: dict[str, LoaderFn] = {
    "vaegan": load_vaegan,
    "pair": load_pair,
    "trajectory": load_trajectory,
}
