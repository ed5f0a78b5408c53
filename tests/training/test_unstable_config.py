"""Recipe files: the shipped ones load; unknown keys and bad values are named with the file."""

from pathlib import Path

import pytest

from perform.training.unstable_equilibrium.config import RecipeError, apply_overrides, load_recipe, recipe_from_dict

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.toml"))


def test_at_least_three_recipes_ship_and_differ():
    cfgs = [load_recipe(p) for p in RECIPES]
    assert len(cfgs) >= 3
    dynamics = {(c.schedule.sequence, c.losses.critic_mode, c.losses.colour_measure) for c in cfgs}
    assert len(dynamics) == len(cfgs)
    assert len({c.name for c in cfgs}) == len(cfgs)


def test_unknown_key_is_named_with_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\n[losses]\ncolor = 1.0\n')
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    assert str(p) in str(e.value) and "'losses.color'" in str(e.value)


@pytest.mark.parametrize("data, key", [
    ({"schedule": {"sequence": "sideways"}}, "schedule.sequence"),
    ({"losses": {"colour_measure": "rainbow"}}, "losses.colour_measure"),
    ({"batch_size": "16"}, "batch_size"),
    ({"batch_size": 1}, "batch_size"),
    ({"generator_optim": {"name": "lamb"}}, "generator_optim.name"),
])
def test_bad_values_name_the_key(data, key):
    with pytest.raises(RecipeError) as e:
        recipe_from_dict(data, "r.toml")
    assert key in str(e.value) and "r.toml" in str(e.value)


def test_bad_resolution_is_reported():
    with pytest.raises(RecipeError, match="net"):
        recipe_from_dict({"net": {"resolution": 48}}, "r.toml")


def test_overrides_apply_and_validate():
    cfg = recipe_from_dict({}, "r.toml")
    cfg2 = apply_overrides(cfg, ["losses.colour=0", "net.resolution=32", "schedule.sequence=turns"], "r.toml")
    assert cfg2.losses.colour == 0.0 and cfg2.net.resolution == 32 and cfg2.schedule.sequence == "turns"
    with pytest.raises(RecipeError, match="losses.nope"):
        apply_overrides(cfg, ["losses.nope=1"], "r.toml")
