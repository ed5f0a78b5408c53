"""`perform info`: the device, the GL renderer, the versions of the parts, and the models found."""

from __future__ import annotations

import argparse
import importlib.metadata as md
import platform
from pathlib import Path

import perform
from perform import __version__
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-gl", action="store_true", help="skip creating a headless GL context")


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def run(args: argparse.Namespace) -> int:
    # start-up: `perform --help` imports every command module; torch and moderngl only when this runs
    from perform.nets.checkpoint import CheckpointError, read_card
    from perform.nets.device import pick_device
    from perform.render.shaders import find_shader_dir
    from perform.setlist.paths import shipped_models_dir

    print(f"perform {__version__} on Python {platform.python_version()} ({platform.system()} {platform.machine()})"
          f" from {Path(perform.__file__).parent}")
    parts = ("torch", "mediapipe", "numpy", "opencv-contrib-python", "moderngl", "pygame", "python-osc", "av", "safetensors")
    print("  " + ", ".join(f"{d} {_version(d)}" for d in parts))
    print(f"torch device (auto): {pick_device(None)}")
    if not args.no_gl:
        try:
            from perform.render.context import create_headless_context, describe_context  # GL may be missing

            ctx = create_headless_context()
            print(f"headless GL: {describe_context(ctx)}")
            ctx.release()
        except Exception as e:  # info must report, not fail
            print(f"headless GL: unavailable ({e})")
    try:
        print(f"shaders in {find_shader_dir()}")
    except PerformError as e:
        print(f"shaders: {e}")
    folder = shipped_models_dir()
    cards = sorted(folder.glob("*.json")) if folder.is_dir() else []
    print(f"models in {folder}: {len(cards)}")
    for card_path in cards:
        try:
            card = read_card(card_path)
        except CheckpointError as e:
            print(f"  {card_path.name}: unusable: {e}")
            continue
        cfg = card.get("config", {})
        res = cfg.get("resolution", "?")
        flags = "  UNTRAINED" if card.get("untrained") else ""
        dirs = len(card.get("directions") or {})
        print(f"  {card_path.stem:<24} {card['kind']:<8} {res} px, latent {cfg.get('latent_dim', '?')}, {dirs} directions{flags}")
    return 0
