"""`perform select`: the ranking a hand computation gives, the export and its card, the plot, bad weights."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from perform.cli import main
from perform.errors import PerformError
from perform.nets.model import load_model
from perform.nets.checkpoint import save_checkpoint
from perform.nets.vaegan import Encoder, Generator, VAEGANConfig
from perform.selection.ranking import rank
from perform.selection.runs import read_run
from perform.selection.table import parse_weights

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=4, max_channels=16)

# four snapshots of a VAE-GAN run; the pair-style `a.`/`b.` columns and `newscore` (a metric no table lists)
ROWS = [
    {"step": 100, "psnr_db": 14.0, "l1": 0.30, "diversity": 0.20, "data_diversity": 0.3, "newscore": 5.0},
    {"step": 200, "psnr_db": 18.0, "l1": 0.20, "diversity": 0.10, "data_diversity": 0.3, "newscore": 1.0},
    {"step": 300, "psnr_db": 20.0, "l1": 0.25, "diversity": 0.05, "data_diversity": 0.3, "newscore": 2.0},
    {"step": 400, "psnr_db": 16.0, "l1": 0.10, "diversity": 0.15, "data_diversity": 0.3, "newscore": 3.0},
]


def _snapshot(run: Path, step: int) -> None:
    torch.manual_seed(step)
    enc, gen = Encoder(CFG), Generator(CFG)
    tensors = {**{f"encoder.{k}": v for k, v in enc.state_dict().items()},
               **{f"generator_ema.{k}": v for k, v in gen.state_dict().items()}}
    save_checkpoint(run / "snapshots" / f"model-{step:06d}", tensors,
                    {"kind": "vaegan", "name": "run", "config": CFG.to_dict(), "steps": step,
                     "data": {"size": 10, "path": "/home/someone/faces"}})


@pytest.fixture
def run_dir(tmp_path) -> Path:
    run = tmp_path / "faces-run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    for r in ROWS:
        _snapshot(run, r["step"])
    return run


def test_minmax_ranking_matches_a_hand_computation(run_dir):
    run = read_run(run_dir)
    assert [s.step for s in run.snapshots] == [100, 200, 300, 400]
    assert "data_diversity" not in run.metrics and "newscore" in run.metrics  # data constants are not the model's
    weights = parse_weights("psnr=1,l1=2,diversity=0.5", list(run.metrics))
    # by hand, min-max per metric (best 1, worst 0), l1 lower-better:
    #   psnr   14 18 20 16  -> 0, 4/6, 1, 2/6
    #   l1     .30 .20 .25 .10 (lower better) -> 0, .5, .25, 1
    #   div    .20 .10 .05 .15 -> 1, 1/3, 0, 2/3
    # score = (psnr + 2 l1 + 0.5 div) / 3.5:
    #   100: (0 + 0 + .5)/3.5 = .1429;  200: (.6667 + 1 + .1667)/3.5 = .5238
    #   300: (1 + .5 + 0)/3.5 = .4286;  400: (.3333 + 2 + .3333)/3.5 = .7619
    ranked = rank(run.snapshots, weights, "minmax")
    assert [r.snapshot.step for r in ranked] == [400, 200, 300, 100]
    assert [round(r.score, 4) for r in ranked] == [0.7619, 0.5238, 0.4286, 0.1429]
    # by rank instead (0 worst .. 1 best): psnr 0,2/3,1,1/3; l1 0,2/3,1/3,1; div 1,1/3,0,2/3
    #   100: .5/3.5=.1429; 200: (2/3+4/3+1/6)/3.5=.619; 300: (1+2/3+0)/3.5=.4762; 400: (1/3+2+1/3)/3.5=.7619
    assert [r.snapshot.step for r in rank(run.snapshots, weights, "rank")] == [400, 200, 300, 100]
    # a metric no table lists counts, higher-better, and ':lower' flips it
    assert rank(run.snapshots, parse_weights("newscore=1", list(run.metrics)))[0].snapshot.step == 100
    assert rank(run.snapshots, parse_weights("newscore:lower=1", list(run.metrics)))[0].snapshot.step == 200


def test_pair_columns_are_averaged_and_a_later_file_merges_by_step(tmp_path):
    run = tmp_path / "pair-run"
    (run / "snapshots").mkdir(parents=True)
    (run / "recipe.json").write_text("{}")
    rows = [{"step": 0, "a.diversity": 0.1, "b.diversity": 0.3, "events": [], "critic_accuracy": None},
            {"step": 10, "a.diversity": 0.4, "b.diversity": 0.0}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 20, "a.div')  # torn line
    (run / "metrics-images.jsonl").write_text(json.dumps({"step": 10, "sharpness": 3.0}) + "\n")
    r = read_run(run)
    assert r.kind == "pair" and [s.step for s in r.snapshots] == [0, 10]
    assert r.snapshots[0].values["diversity"] == pytest.approx(0.2) and r.snapshots[1].values["diversity"] == pytest.approx(0.2)
    assert r.snapshots[1].values["sharpness"] == 3.0 and "critic_accuracy" not in r.snapshots[0].values


def test_a_whole_bad_last_line_of_metrics_is_an_error_naming_it_not_a_torn_write(tmp_path):
    run = tmp_path / "run"
    (run / "snapshots").mkdir(parents=True)
    (run / "recipe.json").write_text("{}")
    # a torn write has no newline after it; this line was written whole, so the file is damaged
    (run / "metrics.jsonl").write_text(json.dumps({"step": 0, "a.diversity": 0.1}) + "\n" + '{"step": 10, "a.div\n')
    with pytest.raises(PerformError, match=r"metrics.jsonl:2: not a JSON line"):
        read_run(run)


def test_a_folder_that_is_no_run_and_a_diverge_run_are_told_so(tmp_path):
    crops = tmp_path / "faces"
    crops.mkdir()
    (crops / "000000.png").write_bytes(b"")
    with pytest.raises(PerformError, match="not a training run folder"):
        read_run(crops)
    div = tmp_path / "div"
    div.mkdir()
    (div / "recipe.json").write_text(json.dumps({"base": "face-64", "name": "face-64-diverged", "steps": 90}))
    (div / "metrics.jsonl").write_text(json.dumps({"step": 0, "pixel_distance": 21.0}) + "\n")
    with pytest.raises(PerformError, match=r"a diverge run: .*face-64-diverged\.safetensors"):
        read_run(div)


def test_select_exports_the_winner_with_a_card_saying_why_and_plots(run_dir, tmp_path, capsys):
    out = tmp_path / "models" / "chosen"
    plot = tmp_path / "select.png"
    assert main(["select", str(run_dir), "--weights", "psnr=1,l1=2,diversity=0.5", "--top", "2",
                 "--out", str(out), "--plot", str(plot)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    sel = card["selection"]
    assert sel["step"] == 400 and sel["rank"] == 1 and sel["of"] == 4 and sel["method"] == "minmax"
    assert sel["weights"]["l1"] == {"weight": 2.0, "better": "lower"}
    assert sel["metrics"]["psnr_db"] == 16.0 and sel["score"] == pytest.approx(0.7619, abs=1e-4)
    assert "path" not in card["data"] and card["name"] == "chosen" and card["directions"]
    second = json.loads((tmp_path / "models" / "chosen-2.json").read_text())["selection"]
    assert (second["step"], second["rank"]) == (200, 2)
    # the exported model is the step-400 snapshot's generator, and loads and runs
    model = load_model(out, device="cpu")
    torch.manual_seed(400)
    Encoder(CFG)
    assert torch.equal(model.net.generator.fc.weight, Generator(CFG).fc.weight)
    assert model.generate(np.zeros(CFG.latent_dim, np.float32)).shape == (32, 32, 3)
    img = cv2.imread(str(plot))
    assert img is not None and img.shape[0] > 100 and img.shape[1] > 300
    assert "exported rank 1 (step 400" in capsys.readouterr().out


def test_unknown_metric_is_refused_listing_the_valid_ones(run_dir, capsys):
    assert main(["select", str(run_dir), "--weights", "psnr=1,sharpnes=1", "--list"]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'sharpnes'" in err and "psnr_db" in err and "diversity" in err and "newscore" in err
    assert main(["select", str(run_dir), "--weights", "psnr=-1"]) == 2
    assert "above 0" in capsys.readouterr().err


def test_a_step_without_kept_weights_is_named(run_dir, tmp_path, capsys):
    for p in (run_dir / "snapshots").glob("model-000400.*"):
        p.unlink()
    assert main(["select", str(run_dir), "--weights", "psnr=1,l1=2,diversity=0.5", "--out", str(tmp_path / "m")]) == 2
    assert "step 400 has no weights" in capsys.readouterr().err
