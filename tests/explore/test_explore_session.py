"""Explore sessions: seeded generations, picks, back, favourites, and lineages replayed or refused."""

from __future__ import annotations

import json

import pytest

from perform.explore.genome import same, space_of
from perform.explore.identity import identify
from perform.explore.lineage import read_lineage, write_lineage
from perform.explore.session import ActionError, ExploreSession, LineageError, normalise_action, replay
from perform.nets.model import load_model

SCRIPT = [{"pick": 4}, "breed", {"pick": [0, 2]}, {"strength": 0.3}, "breed", {"favourite": 1}, "back",
          {"pick": 7}, "breed", {"favourite": 3}]


def _run(tiny, seed=0, script=SCRIPT, **kw) -> ExploreSession:
    _, space, identity, _ = tiny
    s = ExploreSession(space, identity, seed=seed, **kw)
    for entry in script:
        for a in normalise_action(entry):
            s.apply(a)
    return s


def _all(s: ExploreSession):
    return [g for gen in s.generations for g in gen.genomes]


def test_the_same_seed_and_choices_give_the_same_genomes_and_another_seed_others(tiny):
    a, b, c = _run(tiny), _run(tiny), _run(tiny, seed=1)
    assert len(a.generations) == 4 and a.current == 3
    assert all(same(x, y) for x, y in zip(_all(a), _all(b)))
    assert not any(same(x, y) for x, y in zip(_all(a), _all(c)))


def test_breeding_from_one_parent_at_strength_zero_fills_the_grid_with_that_parent(tiny):
    s = _run(tiny, script=[{"strength": 0}, {"pick": 5}, "breed"])
    parent = s.generations[0].genomes[5]
    assert len(s.generation.genomes) == 9 and all(same(g, parent) for g in s.generation.genomes)
    assert s.generation.parents == (("0.5",),) * 9


def test_children_record_their_parents_and_kept_parents_come_first(tiny):
    s = _run(tiny, script=[{"pick": [6, 1]}, "breed"])
    gen = s.generation
    assert gen.parent == 0 and gen.picks == (6, 1)
    assert same(gen.genomes[0], s.generations[0].genomes[6]) and same(gen.genomes[1], s.generations[0].genomes[1])
    assert gen.parents[:2] == (("0.6",), ("0.1",))
    assert all(sorted(p) == ["0.1", "0.6"] for p in gen.parents[2:])  # crossovers of the two
    no_keep = _run(tiny, script=[{"pick": [6, 1]}, "breed"], keep_parents=False)
    assert not any(same(g, no_keep.generations[0].genomes[6]) for g in no_keep.generation.genomes)


def test_back_returns_to_the_parent_generation_and_breeding_again_gives_a_new_one(tiny):
    s = _run(tiny, script=[{"pick": 4}, "breed", "back"])
    assert s.current == 0 and s.picks == []
    s.apply({"action": "pick", "cell": 4})
    s.apply({"action": "breed"})
    assert s.current == 2 and s.generation.parent == 0
    assert not same(s.generations[1].genomes[3], s.generations[2].genomes[3])  # seeded by the new generation's id


def test_actions_that_cannot_apply_are_refused_and_not_recorded(tiny):
    s = _run(tiny, script=[])
    for action, message in (({"action": "breed"}, "pick one or more parents"), ({"action": "back"}, "first generation"),
                            ({"action": "pick", "cell": 9}, "not in the grid"),
                            ({"action": "strength", "value": 5.0}, "outside 0..4")):
        with pytest.raises(ActionError, match=message):
            s.apply(action)
    assert s.choices == []
    with pytest.raises(ValueError, match="unknown action 'jump'"):
        normalise_action({"action": "jump"})
    with pytest.raises(ValueError, match="whole-number 'cell'"):
        normalise_action({"pick": "two"})


def test_favourites_toggle_and_name_their_genomes(tiny):
    s = _run(tiny, script=[{"favourite": 2}, {"favourite": 3}, {"favourite": 2}, {"pick": 3}, "breed", {"favourite": 0}])
    assert s.favourites == ["0.3", "1.0"]
    assert [same(g, s.generations[0].genomes[3]) for _, g in s.favourite_genomes()] == [True, True]


def test_a_saved_lineage_replays_to_the_same_genomes(tiny, tmp_path):
    _, space, identity, _ = tiny
    s = _run(tiny)
    path = write_lineage(tmp_path / "l.json", s)
    data = read_lineage(path)
    assert data["model"]["name"] == "tiny" and data["model"]["fingerprint"].startswith("sha256:")
    assert data["generations"][1]["genomes"][3]["parents"] == ["0.4"]
    again = replay(data, space, identity, where=str(path))
    assert all(same(x, y) for x, y in zip(_all(again), _all(s)))
    assert (again.current, again.favourites, again.strength) == (s.current, s.favourites, s.strength)


def test_a_lineage_edited_by_hand_is_refused_naming_the_genome(tiny, tmp_path):
    _, space, identity, _ = tiny
    data = _run(tiny).to_json()
    data["generations"][2]["genomes"][5]["latent"][0] += 1e-3
    with pytest.raises(LineageError, match="genome 2.5 is not what the choices give"):
        replay(json.loads(json.dumps(data)), space, identity)


def test_a_lineage_from_another_model_is_refused_naming_the_mismatch(tiny, model_dir):
    data = _run(tiny).to_json()
    for card, what in ((model_dir / "other" / "tiny.json", "fingerprint differs"), (model_dir / "tiny-b.json", "name differs")):
        other = load_model(card, "cpu")
        with pytest.raises(LineageError, match=what) as e:
            replay(data, space_of(other), identify(other, card), where="l.json")
        assert "l.json belongs to another model" in str(e.value) and "'tiny'" in str(e.value)
