"""VAE-GAN checkpoint safety: cards that do not match their weights and pickle files are refused, by name."""

from __future__ import annotations

import json
import os
import stat

import pytest
import torch

from perform.nets.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from perform.nets.model import load_model
from perform.nets.vaegan import VAEGAN, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=16)


def _save(path) -> VAEGAN:
    torch.manual_seed(0)
    net = VAEGAN(CFG, with_critic=False).eval()
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator_ema.{k}": v for k, v in net.generator.state_dict().items()}
    save_checkpoint(path, tensors, {"kind": "vaegan", "name": "t", "config": CFG.to_dict()})
    return net


def test_saved_model_loads_back_to_identical_outputs(tmp_path):
    net = _save(tmp_path / "m")
    model = load_model(tmp_path / "m.safetensors", device="cpu")
    z = torch.randn(1, 8)
    with torch.no_grad():
        want = ((net.generator(z).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    assert (model.generate(z[0].numpy()) == want).all()


def test_card_listing_other_tensors_is_refused_naming_the_key(tmp_path):
    _save(tmp_path / "m")
    card_path = tmp_path / "m.json"
    card = json.loads(card_path.read_text())
    card["tensors"]["generator_ema.fc.weight"]["shape"] = [1, 2]
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"generator_ema\.fc\.weight.*expected \(1, 2\)"):
        load_checkpoint(tmp_path / "m")
    del card["tensors"]["generator_ema.fc.weight"]
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"unexpected key 'generator_ema\.fc\.weight'"):
        load_checkpoint(tmp_path / "m")


def test_config_that_does_not_match_the_weights_is_refused_naming_the_key(tmp_path):
    _save(tmp_path / "m")
    card = json.loads((tmp_path / "m.json").read_text())
    card["config"]["latent_dim"] = 16
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"\[encoder\.\*\]: key 'head\.weight' has shape"):
        load_model(tmp_path / "m", device="cpu")


def test_a_pickle_given_as_a_checkpoint_is_refused(tmp_path):
    net = _save(tmp_path / "m")
    torch.save(net.state_dict(), tmp_path / "m.safetensors")  # a zip of pickles under the right name
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path / "m", device="cpu")
    torch.save(net.state_dict(), tmp_path / "m.safetensors", _use_new_zipfile_serialization=False)  # raw pickle
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(tmp_path / "m")


def _shipped_copy_with(tmp_path, change):
    """The shipped face-64 copied to tmp_path as 'm', its weights or card changed by `change(tensors, card)`."""
    from safetensors.torch import load_file, save_file

    from perform.setlist.paths import shipped_models_dir

    src = shipped_models_dir() / "face-64"
    tensors = load_file(str(src.with_suffix(".safetensors")))
    card = json.loads(src.with_suffix(".json").read_text())
    change(tensors, card)
    save_file(tensors, str(tmp_path / "m.safetensors"))
    (tmp_path / "m.json").write_text(json.dumps(card))
    return tmp_path / "m"


BAD_TENSOR = "generator_ema.fc.weight"


def _poison(tensors, card):
    t = tensors[BAD_TENSOR].clone()
    t.view(-1)[:3] = float("nan")
    tensors[BAD_TENSOR] = t


def test_weights_holding_nan_are_refused_naming_the_file_and_the_tensor(tmp_path):
    path = _shipped_copy_with(tmp_path, _poison)
    with pytest.raises(CheckpointError, match=rf"m\.safetensors: tensor '{BAD_TENSOR}' holds 3 NaN"):
        load_model(path, device="cpu")


def test_a_card_without_its_tensor_list_is_refused(tmp_path):
    path = _shipped_copy_with(tmp_path, lambda tensors, card: card.pop("tensors"))
    with pytest.raises(CheckpointError, match=r"m\.json: model card has no 'tensors' list"):
        load_model(path, device="cpu")


def test_weights_get_the_same_file_mode_as_their_card(tmp_path):
    old = os.umask(0o022)  # what most systems give: files readable by all
    try:
        _save(tmp_path / "m")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "m.json").stat().st_mode)
    assert mode == 0o644
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == mode
