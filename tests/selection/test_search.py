"""`perform search`: a tiny 3-trial study finishes and writes its table and plot; a stopped study continues."""

from __future__ import annotations

import csv
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch

from perform.cli import main
from perform.errors import PerformError
from perform.selection.ranking import score_one
from perform.selection.runs import read_run
from perform.selection.search import SearchSettings, finished, open_study, run_search
from perform.selection.table import parse_weights

ROOT = Path(__file__).resolve().parents[2]
RECIPE = str(ROOT / "recipes" / "tug-of-war.toml")


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv") as f:
        return list(csv.DictReader(f))


def test_a_three_trial_tiny_search_finishes_and_writes_its_table(tmp_path, capsys):
    out = tmp_path / "search"
    assert main(["search", "unstable-equilibrium", "--config", RECIPE, "--tiny", "--steps", "6", "--trials", "3",
                 "--out", str(out), "--device", "cpu"]) == 0
    rows = _rows(out)
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert all(r["state"] in ("COMPLETE", "PRUNED") for r in rows) and rows[0]["state"] == "COMPLETE"
    assert {"generator_optim.lr", "net.width", "losses.colour", "diversity", "colourfulness"} <= set(rows[0])
    md = (out / "results.md").read_text()
    assert md.count("\n| ") >= 4 and "tug-of-war-tiny" in md
    assert (out / "search.png").stat().st_size > 10_000 and (out / "search.db").is_file()
    # a complete trial's value is its best snapshot's score on the fixed scales, as select computes it
    run = read_run(out / rows[0]["run"])
    weights = parse_weights("diversity=1,colourfulness=1", list(run.metrics))
    best = max(score_one(s.values, weights) for s in run.snapshots)
    assert float(rows[0]["value"]) == pytest.approx(best, rel=1e-3)
    assert "best: trial" in capsys.readouterr().out


def test_an_interrupted_search_keeps_its_trials_and_the_same_command_continues(tmp_path):
    s = SearchSettings(recipe="unstable-equilibrium", out=tmp_path, trials=3, tiny=True, steps=6, config=RECIPE,
                       device="cpu")

    def stop_after_first(line: str) -> None:
        raise KeyboardInterrupt  # Ctrl-C once the first trial has finished

    with pytest.raises(KeyboardInterrupt):
        run_search(s, on_trial=stop_after_first)
    study = open_study(s)
    assert finished(study) == 1
    first = study.trials[0]
    run_search(s, on_trial=lambda line: None)
    study = open_study(s)
    assert finished(study) == 3 and len(study.trials) == 3
    assert study.trials[0].value == first.value and study.trials[0].params == first.params
    lines = []
    run_search(s, on_trial=lines.append)  # nothing left to do
    assert len(open_study(s).trials) == 3 and "already has 3 finished trials" in lines[0]


def test_a_study_continued_with_other_weights_or_steps_is_refused_naming_them(tmp_path):
    s = SearchSettings(recipe="unstable-equilibrium", out=tmp_path, trials=3, tiny=True, steps=6, config=RECIPE)
    open_study(s)
    open_study(replace(s, weights="colourfulness=1, diversity=1", seed=3, device="cpu"))  # the same objective
    with pytest.raises(PerformError, match=r"--weights 'colourfulness=1,diversity=1', this command gives 'diversity=1'"):
        open_study(replace(s, weights="diversity=1"))
    with pytest.raises(PerformError, match=r"--steps 6, this command gives 12"):
        open_study(replace(s, steps=12))
    open_study(replace(s, steps=12, study="longer"))  # another study in the same storage is free to differ


def test_vaegan_trials_train_score_and_keep_snapshots(tmp_path):
    spec = importlib.util.spec_from_file_location("_vaegan_data", ROOT / "tests" / "training" / "_vaegan_data.py")
    data_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data_mod)
    faces = data_mod.write_faces(tmp_path / "faces", n=24)
    s = SearchSettings(recipe="vaegan", out=tmp_path / "search", trials=1, tiny=True, steps=3, data=str(faces),
                       device="cpu", weights="psnr=1,diversity=1")
    study = run_search(s, on_trial=lambda line: None)
    t = study.trials[0]
    assert t.state == optuna.trial.TrialState.COMPLETE and set(t.user_attrs["metrics"]) == {"psnr_db", "diversity"}
    run = tmp_path / "search" / t.user_attrs["run"]
    assert sorted(p.name for p in (run / "snapshots").glob("*.safetensors")) == [
        "model-000000.safetensors", "model-000001.safetensors", "model-000002.safetensors", "model-000003.safetensors"]
    assert json.loads((run / "config.json").read_text())["resolution"] == 32


def test_weights_naming_an_unknown_metric_stop_the_search(tmp_path, capsys):
    assert main(["search", "unstable-equilibrium", "--config", RECIPE, "--tiny", "--steps", "2", "--trials", "3",
                 "--out", str(tmp_path), "--weights", "sharpnes=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'sharpnes'" in err and "colourfulness" in err
