"""`perform train --recipe vaegan` end to end: checkpoints, grids, card, --resume continuing exactly, --export."""

from __future__ import annotations

import json

import pytest
import torch

from _vaegan_data import write_faces
from perform.cli import main
from perform.nets.checkpoint import load_checkpoint
from perform.nets.model import load_model

TINY_FLAGS = ["--preset", "cpu-small", "--resolution", "32", "--width", "8", "--max-channels", "32", "--latent-dim", "16",
              "--batch-size", "8", "--holdout", "8", "--checkpoint-every", "2", "--sample-every", "2", "--log-every", "1",
              "--warmup-steps", "2", "--no-progress", "--device", "cpu"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    torch.set_num_threads(1)
    return write_faces(tmp_path_factory.mktemp("faces"), n=24)


def _log(run) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_train_writes_checkpoints_grids_card_and_resume_continues(data, tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", str(data), "--out", str(straight), "--steps", "4", *TINY_FLAGS]) == 0
    assert main(["train", str(data), "--out", str(split), "--steps", "2", *TINY_FLAGS]) == 0
    for name in ("checkpoint.safetensors", "checkpoint.json", "model.safetensors", "model.json", "config.json",
                 "samples/samples-000002.png", "samples/recon-000002.png", "metrics.jsonl"):
        assert (split / name).exists(), name
    card = json.loads((split / "checkpoint.json").read_text())
    assert card["kind"] == "vaegan" and card["steps"] == 2 and card["recipe"]["steps"] == 2
    assert card["data"]["size"] == 24 and card["data"]["licence"] == "generated"
    assert {"psnr_db", "ssim", "diversity", "colourfulness"} <= set(card["metrics"])

    # a second run into the same folder is refused; --resume continues it to step 4
    assert main(["train", str(data), "--out", str(split), "--steps", "4", *TINY_FLAGS]) == 2
    assert main(["train", "--out", str(split), "--resume", "--steps", "4", "--no-progress", "--device", "cpu"]) == 0
    assert [r["step"] for r in _log(split)] == [1, 2, 3, 4]
    a, _ = load_checkpoint(straight / "checkpoint")
    b, card_b = load_checkpoint(split / "checkpoint")
    assert card_b["steps"] == 4 and card_b["resume"]["step"] == 4
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, differ[:5]  # weights, optimizer moments and RNG continue exactly
    assert [r["loss_g"] for r in _log(split)] == [r["loss_g"] for r in _log(straight)]
    capsys.readouterr()
    assert main(["train", "--out", str(split), "--resume", "--no-progress", "--device", "cpu"]) == 0
    assert "at step 4 of 4 (already done: give a larger --steps" in capsys.readouterr().out
    assert [r["step"] for r in _log(split)] == [1, 2, 3, 4]

    # export: fp16 weights, directions in the card, loadable by the live loop
    out = tmp_path / "face-32"
    assert main(["train", str(data), "--out", str(split), "--export", str(out)]) == 0
    tensors, card = load_checkpoint(out)
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())
    assert card["weights_dtype"] == "float16" and "path" not in json.dumps(card["data"]) and "resume" not in card
    kinds = {d["kind"] for d in card["directions"].values()}
    assert kinds == {"pca", "sefa", "feature"} and "mouth_open" in card["directions"]
    assert len(card["latent_stats"]["mean"]) == len(card["latent_stats"]["std"]) == 16
    model = load_model(out, device="cpu")
    assert set(model.directions) == set(card["directions"]) and model.generate(model.directions["pc0"]).shape == (32, 32, 3)
    # and the generator's feature clusters, for bends on clusters (perform.nets.bending)
    assert set(card["clusters"]["generators"]["generator"]) == {"res4", "res8", "res16", "res32"}
    # without the data: a model all the same, and a note of what it lacks
    assert main(["train", "--out", str(split), "--export", str(tmp_path / "bare")]) == 0
    _, bare = load_checkpoint(tmp_path / "bare")
    assert {d["kind"] for d in bare["directions"].values()} == {"sefa"} and "latent_stats" not in bare
    assert "without DATA_DIR" in capsys.readouterr().err


def test_bad_inputs_are_clean_errors(data, tmp_path, capsys):
    assert main(["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r"), *TINY_FLAGS]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("n_critics = 3\n")
    assert main(["train", str(data), "--out", str(tmp_path / "r"), "--config", str(bad)]) == 2
    assert "n_critics" in capsys.readouterr().err


@pytest.mark.parametrize("argv, named", [
    (["--recipe", "unstable-equilibrium", "--config", "recipes/tug-of-war.toml", "--batch-size", "4"], "--batch-size"),
    (["--recipe", "diverge", "DATA", "--keep-alive", "--kl-weight", "0.1"], "--keep-alive, --kl-weight"),
    (["DATA", "--set", "steps=3"], "--set"),
    (["--recipe", "unstable-equilibrium", "DATA", "--config", "recipes/tug-of-war.toml"], "DATA_DIR"),
])
def test_an_option_the_recipe_would_ignore_is_refused_naming_it(data, tmp_path, capsys, argv, named):
    argv = [str(data) if a == "DATA" else a for a in argv]
    assert main(["train", *argv, "--steps", "1", "--no-progress", "--out", str(tmp_path / "run")]) == 2
    assert f"recipe does not take {named}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_building_the_command_line_does_not_load_torch():
    """Every `perform` command builds `perform train`'s flags (from TrainConfig); that must not cost a torch import."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from perform.cli import build_parser; p = build_parser(); "
            "p.parse_args(['train', '--recipe', 'unstable-equilibrium', '--steps', '3']); "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('perform.nets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"
