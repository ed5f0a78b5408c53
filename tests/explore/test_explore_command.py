"""`perform explore` headless: a scripted session's favourites go into a setlist that checks and renders, its
lineage replays, resumes, and is refused on another model."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from perform.cli import main
from perform.engine.rehearsal import RehearseConfig, run_rehearse
from perform.explore.lineage import read_lineage
from perform.explore.session import replay
from perform.setlist.keyframes import keyframe_latents
from perform.setlist.loader import load_setlist

SCRIPT = [{"pick": [1, 3]}, "breed", {"favourite": 4}, {"strength": 0.2}, {"pick": 4}, "breed",
          {"favourite": 2}, {"favourite": 7}]

SETLIST = """# my show: the comments and the scene below must survive the export
[show]
title = "mine"
size = [64, 48]
fps = 10

[[scene]]  # the opening
name = "opening"
model = "{model}"
seeds = [3]
duration = 0.5
"""


def _explore(*args: str) -> int:
    return main(["explore", *args, "--device", "cpu"])


@pytest.fixture(scope="module")
def scripted(tmp_path_factory, model_dir):
    """A headless scripted session on the tiny model, exported into a setlist with comments (run once; the
    tests read its files and write their own)."""
    tmp_path = tmp_path_factory.mktemp("scripted")
    script = tmp_path / "picks.json"
    script.write_text(json.dumps(SCRIPT))
    setlist = tmp_path / "my.toml"
    setlist.write_text(SETLIST.replace("{model}", str(model_dir / "tiny.json")))
    lineage = tmp_path / "lineage.json"
    code = _explore(str(model_dir / "tiny.json"), "--script", str(script), "--headless", "--out", str(lineage),
                    "--png-dir", str(tmp_path / "grids"), "--into", str(setlist), "--keyframes", str(tmp_path / "favs.toml"))
    assert code == 0
    return tmp_path, setlist, lineage


@pytest.mark.gl
def test_favourites_exported_into_a_setlist_pass_check_and_render(scripted, tiny, model_dir, capsys, tmp_path):
    folder, setlist, lineage = scripted
    _, space, identity, _ = tiny
    text = setlist.read_text()
    assert text.startswith(SETLIST.splitlines()[0]) and "[[scene]]  # the opening" in text
    assert main(["check", str(setlist), "--no-timing"]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    sl = load_setlist(setlist)
    assert [s.name for s in sl.scenes] == ["opening", "explore-tiny"]
    scene = sl.scenes[1]
    assert scene.model_path == (model_dir / "tiny.json").resolve() and scene.drive == "latent"
    # the scene plays exactly the favourites' latents (their direction offsets included), in the order marked
    session = replay(read_lineage(lineage), space, identity)
    assert session.favourites == ["1.4", "2.2", "2.7"]
    expected = np.stack([space.express(g) for _, g in session.favourite_genomes()])
    assert keyframe_latents(scene, 16).tobytes() == expected.tobytes()
    assert (folder / "favs.toml").read_text().count("\n  [") == 3
    # and it renders: the opening (0.5 s) then a second of the explored scene
    out = tmp_path / "show.mp4"
    assert run_rehearse(RehearseConfig(setlist=str(setlist), synthetic=True, device="cpu", out=str(out), t_to=1.5,
                                       inference="thread", progress=False)) == 0
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 15 and frames[-1].shape == (48, 64, 3)
    assert frames[-1].std() > 5 and np.abs(frames[-1].astype(int) - frames[0]).mean() > 2  # a picture, not the opening's


def test_grids_are_written_per_generation_and_the_lineage_replays(scripted, model_dir, capsys):
    folder, _, lineage = scripted
    pngs = sorted(p.name for p in (folder / "grids").iterdir())
    assert pngs == ["generation-000.png", "generation-001.png", "generation-002.png"]
    capsys.readouterr()
    assert _explore(str(model_dir / "tiny.json"), "--replay", str(lineage)) == 0
    assert "3 generations, 27 genomes, every one the same as saved" in capsys.readouterr().out


def test_a_lineage_resumes_where_it_stopped(scripted, model_dir, tiny, tmp_path):
    lineage = tmp_path / "lineage.json"
    lineage.write_text(scripted[2].read_text())
    _, space, identity, _ = tiny
    before = replay(read_lineage(lineage), space, identity)
    more = tmp_path / "more.json"
    more.write_text(json.dumps([{"pick": 0}, "breed"]))
    assert _explore(str(model_dir / "tiny.json"), "--resume", str(lineage), "--script", str(more), "--headless") == 0
    after = read_lineage(lineage)  # written back to the file it resumed
    assert len(after["generations"]) == 4 and after["generations"][3]["from"] == 2
    assert after["generations"][:3] == before.to_json()["generations"]
    assert after["favourites"] == before.favourites


def test_a_lineage_from_another_model_is_refused_naming_the_mismatch(scripted, model_dir, capsys):
    _, _, lineage = scripted
    capsys.readouterr()
    assert _explore(str(model_dir / "tiny-b.json"), "--replay", str(lineage)) == 2
    err = capsys.readouterr().err
    assert "belongs to another model: model name differs: the lineage's is 'tiny', this model's is 'tiny-b'" in err
    assert _explore(str(model_dir / "other" / "tiny.json"), "--resume", str(lineage), "--headless") == 2
    assert "model fingerprint differs" in capsys.readouterr().err


def test_a_script_that_cannot_apply_names_the_action(tmp_path, model_dir, capsys):
    script = tmp_path / "bad.json"
    script.write_text(json.dumps(["breed"]))
    assert _explore(str(model_dir / "tiny.json"), "--script", str(script), "--headless") == 2
    assert "action #0 {'action': 'breed'}: pick one or more parents first" in capsys.readouterr().err
    script.write_text(json.dumps([{"pick": 1}, {"jump": 2}]))
    assert _explore(str(model_dir / "tiny.json"), "--script", str(script), "--headless") == 2
    assert "entry #1" in capsys.readouterr().err
    assert _explore("no-such-model", "--headless") == 2
    assert "MODEL no-such-model: no such model" in capsys.readouterr().err


def test_an_export_that_would_break_the_setlist_writes_nothing(tmp_path, model_dir, capsys):
    script = tmp_path / "s.json"
    script.write_text(json.dumps([{"favourite": 0}]))
    broken = tmp_path / "broken.toml"
    broken.write_text("[show]\ntitle = \"unclosed\n")
    assert _explore(str(model_dir / "tiny.json"), "--script", str(script), "--headless", "--into", str(broken)) == 2
    assert "not valid TOML, nothing appended" in capsys.readouterr().err
    assert broken.read_text() == "[show]\ntitle = \"unclosed\n"
    script.write_text("[]")
    assert _explore(str(model_dir / "tiny.json"), "--script", str(script), "--headless", "--into", str(tmp_path / "new.toml")) == 2
    assert "no favourites to export" in capsys.readouterr().err and not (tmp_path / "new.toml").exists()
