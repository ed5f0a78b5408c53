"""The diverging fine-tune on the shipped face model: its snapshots move measurably away from the data (the
distance to the nearest training crop rises along the trajectory), and the trajectory starts at the base."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from perform.cli import main
from perform.nets.model import load_model
from perform.resources import data_dir
from perform.training.grids import save_png

BASE = data_dir("models") / "face-64.json"


@pytest.fixture(scope="module")
def own_faces(tmp_path_factory):
    """Crops that are the base model's own images: at step 0 it sits on its data, so any distance gained is
    the recipe's doing."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("faces")
    model = load_model(BASE, "cpu")
    stats = model.info.card["latent_stats"]
    rng = np.random.default_rng(0)
    for i in range(32):
        z = (np.asarray(stats["mean"]) + np.asarray(stats["std"]) * rng.standard_normal(model.latent_dim)).astype(np.float32)
        save_png(root / f"f{i:02d}.png", model.generate(z))
    return root


def _nearest_distance(images: np.ndarray, crops: np.ndarray) -> float:
    """Mean over images of the RMS pixel distance to the nearest crop."""
    a = images.reshape(len(images), -1).astype(np.float64)
    b = crops.reshape(len(crops), -1).astype(np.float64)
    d = np.sqrt(((a[:, None] - b[None]) ** 2).mean(-1))  # (I, C)
    return float(d.min(1).mean())


def test_diverge_snapshots_move_away_from_the_data(own_faces, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--recipe", "diverge", str(own_faces), "--base", str(BASE), "--out", str(out), "--no-progress",
                 "--device", "cpu", "--set", "steps=8", "--set", "critic_warmup=4", "--set", "batch_size=8",
                 "--set", "snapshots=3", "--set", "eval_latents=12", "--set", "name=d", "--set", "lr_g=0.0005"]) == 0
    card = json.loads((out / "d.json").read_text())
    assert card["kind"] == "trajectory" and [s["step"] for s in card["snapshots"]] == [0, 4, 8]
    pix = card["distance"]["pixel_distance"]
    enc = card["distance"]["encoder_distance"]
    assert pix[0] < pix[1] < pix[2] and pix[2] > 1.5 * pix[0], pix
    assert enc[0] < enc[2], enc
    assert (out / "strip.png").exists() and (out / "metrics.jsonl").read_text().count("\n") == 3
    assert main(["train", "--recipe", "diverge", str(own_faces), "--base", str(BASE), "--out", str(out),
                 "--no-progress", "--set", "steps=2", "--set", "name=d"]) == 2  # a run there already: refused
    assert json.loads((out / "d.json").read_text())["snapshots"] == card["snapshots"]

    # measured again from the saved model, independently of the recipe's own measure
    model, base = load_model(out / "d", "cpu"), load_model(BASE, "cpu")
    crops = np.stack([load_png(p) for p in sorted(own_faces.glob("*.png"))])
    z = np.stack([base.encode(c) for c in crops[::4]])
    at = {}
    for pos in (0.0, 1.0):
        model.set_net_params({"trajectory.position": pos})
        at[pos] = np.stack([model.generate(v) for v in z])
    assert np.array_equal(at[0.0], np.stack([base.generate(v) for v in z]))  # position 0 is the base, bit for bit
    assert _nearest_distance(at[1.0], crops) > 1.5 * _nearest_distance(at[0.0], crops)


def test_unknown_recipe_key_is_refused_naming_it(own_faces, tmp_path, capsys):
    assert main(["train", "--recipe", "diverge", str(own_faces), "--out", str(tmp_path), "--set", "stpes=3"]) != 0
    err = capsys.readouterr().err
    assert "stpes" in err and "steps" in err


def test_a_wrong_data_folder_or_base_model_leaves_no_run_folder(own_faces, tmp_path, capsys):
    assert main(["train", "--recipe", "diverge", str(tmp_path / "nope"), "--out", str(tmp_path / "a"),
                 "--no-progress"]) != 0
    assert "nope" in capsys.readouterr().err
    pair = data_dir("models") / "pair-tug-of-war.json"
    assert main(["train", "--recipe", "diverge", str(own_faces), "--base", str(pair), "--out", str(tmp_path / "b"),
                 "--no-progress"]) != 0
    assert "'pair' model" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def load_png(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
