"""`perform curate` on the shipped face model: picks, ranks, outputs a setlist can use, resume, bad input."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
import torch

from perform.cli import main
from perform.errors import PerformError
from perform.nets.model import load_model
from perform.quality.curate import SCORES, CurateConfig, curate, sample_images, seed_latents
from perform.quality.diversity import pixel_features
from perform.quality.registry import combine
from perform.setlist.check import check_setlist
from perform.setlist.keyframes import keyframe_latents
from perform.setlist.loader import load_setlist
from perform.engine.conductor import data_latents

W = {"colourfulness": 1.0, "sharpness": 0.5}


def _cfg(out, **kw) -> CurateConfig:
    base = dict(model="face-64", out=out, weights=W, n=48, k=6, min_distance=0.15, batch=16, device="cpu", progress=False)
    return CurateConfig(**{**base, **kw})


def write_crops(root, n: int, size: int = 64):
    """n smooth colour-field 'crops' as PNGs in a folder (what a capture folder holds, minus faces)."""
    import cv2

    root.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i in range(n):
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        cv2.imwrite(str(root / f"crop-{i:03d}.png"), cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC))
    return root


def _scores(path) -> dict[int, dict[str, float]]:
    with open(path) as f:
        return {int(r["seed"]): {k: float(v) for k, v in r.items() if k != "seed"} for r in csv.DictReader(f)}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_picks_rank_by_the_weighted_scores_and_keep_the_threshold(tmp_path):
    res = curate(_cfg(tmp_path))
    assert len(res.picks) == 6 and res.scored == 48 and res.resumed == 0
    rows = _scores(tmp_path / SCORES)
    seeds = sorted(rows)
    assert seeds == list(range(48))
    total = combine({m: np.array([rows[s][m] for s in seeds]) for m in ("colourfulness", "sharpness")}, W)
    model = load_model("models/face-64.json", "cpu")
    feats = pixel_features(sample_images(model, seed_latents(seeds, model))).double()
    # the hand computation: walk the candidates by score, keep one when it is 0.15 from every kept one
    want: list[int] = []
    for i in np.argsort(-total, kind="stable"):
        if all(float((feats[i] - feats[j]).norm()) >= 0.15 for j in want):
            want.append(int(i))
        if len(want) == 6:
            break
    assert [p.seed for p in res.picks] == [seeds[i] for i in want]
    assert [p.rank for p in res.picks] == list(range(1, 7))
    assert [p.score for p in res.picks] == pytest.approx([total[i] for i in want])
    for a, b in itertools.combinations(want, 2):
        assert float((feats[a] - feats[b]).norm()) >= 0.15
    assert min(p.nearest_pick for p in res.picks) >= 0.15
    assert res.examined > 6  # the threshold did skip some (else this test would not test it)
    assert res.picks[0].seed == seeds[int(np.argmax(total))]


def test_outputs_are_a_contact_sheet_a_csv_and_a_setlist_whose_keyframes_are_the_picks(tmp_path):
    res = curate(_cfg(tmp_path, k=4))
    import cv2

    sheet = cv2.imread(str(res.files["sheet"]))
    assert sheet is not None and sheet.shape[0] > 128 and sheet.shape[1] > 4 * 128
    with open(res.files["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["seed"]) for r in rows] == [p.seed for p in res.picks]
    assert set(rows[0]) == {"rank", "seed", "score", "colourfulness", "sharpness", "nearest_pick"}
    report = check_setlist(res.files["setlist"], gl=False, timing=False)
    assert not report.errors, [str(p) for p in report.errors]
    scene = load_setlist(res.files["setlist"]).scenes[0]
    model = load_model("models/face-64.json", "cpu")
    keys = data_latents(keyframe_latents(scene, model.latent_dim), model)  # what the conductor plays
    assert np.array_equal(keys, np.load(res.files["latents"]))
    assert np.array_equal(keys, np.stack([p.latent for p in res.picks]))
    # and the stage draws the same image curate scored
    assert np.array_equal(model.generate(keys[0]), sample_images(model, keys[:1]).numpy()[0])


def test_an_interrupted_curate_keeps_its_scores_and_a_rerun_finishes_the_rest(tmp_path):
    def stop_after_two(batches: int) -> None:
        if batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        curate(_cfg(tmp_path / "a"), interrupt=stop_after_two)
    kept = _scores(tmp_path / "a" / SCORES)
    assert sorted(kept) == list(range(32))
    # a kill in the middle of a line: the cut line is dropped and scored again
    path = tmp_path / "a" / SCORES
    path.write_bytes(path.read_bytes()[:-7])
    scored = []
    res = curate(_cfg(tmp_path / "a"), interrupt=scored.append)
    assert res.resumed == 31 and len(scored) == 2  # 17 candidates left: batches of 16 and 1
    whole = curate(_cfg(tmp_path / "b"))
    assert [p.seed for p in res.picks] == [p.seed for p in whole.picks]
    resumed, uninterrupted = _scores(path), _scores(tmp_path / "b" / SCORES)
    assert sorted(resumed) == sorted(uninterrupted) == list(range(48))
    for s in resumed:  # the same scores (a batch of 1 rounds differently from a batch of 16 in the last digits)
        assert resumed[s] == pytest.approx(uninterrupted[s], rel=1e-4)
    # another weighting re-ranks the same scores without sampling them again
    again = curate(_cfg(tmp_path / "a", weights={"sharpness": 1.0}, k=3), interrupt=scored.append)
    assert again.resumed == 48 and len(scored) == 2


def test_scores_of_another_run_are_refused_naming_what_differs(tmp_path, monkeypatch):
    curate(_cfg(tmp_path, n=16))
    import perform.quality.curate as C

    monkeypatch.setattr(C, "FORMAT", C.FORMAT + 1)
    with pytest.raises(PerformError, match="holds scores of another curate run.*format.*--fresh"):
        curate(_cfg(tmp_path, n=16))
    assert curate(_cfg(tmp_path, n=16, fresh=True)).resumed == 0


def test_novelty_is_measured_in_the_encoders_space_against_the_data_given(tmp_path, caplog):
    data = write_crops(tmp_path / "crops", n=12)
    res = curate(_cfg(tmp_path / "out", weights={"novelty": 1.0}, n=16, k=3, data=str(data)))
    assert res.novelty_space == "encoder"
    assert "not the data face-64 was trained on" in caplog.text
    rows = _scores(tmp_path / "out" / SCORES)
    assert all(r["novelty"] > 0 for r in rows.values())
    assert res.picks[0].metrics["novelty"] == max(r["novelty"] for r in rows.values())


def test_novelty_without_data_is_a_clear_error(tmp_path):
    with pytest.raises(PerformError, match="novelty needs the crops.*--data DIR.*perform demo faces"):
        curate(_cfg(tmp_path, weights={"novelty": 1.0, "colourfulness": 1.0}))


def test_unknown_metric_in_weights_is_a_usage_error_naming_the_valid_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["curate", "face-64", "--weights", "colourfulness=1,beauty=2", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --weights: unknown metric 'beauty'; valid metrics: colourfulness, sharpness, novelty" in err
    assert not (tmp_path / SCORES).exists()


def test_the_command_prints_the_picks_and_writes_the_files(tmp_path, capsys):
    assert main(["curate", "face-64", "--n", "20", "--k", "3", "--out", str(tmp_path), "--device", "cpu", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 picks of 20 candidates" in out and "#1" in out
    assert (tmp_path / "contact_sheet.png").exists() and (tmp_path / "setlist.toml").exists()
