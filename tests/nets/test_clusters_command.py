"""`perform clusters MODEL`: clusters into the card (weights untouched, the card still checked), a contact sheet."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import torch

from perform.cli import main
from perform.nets.bending.bent import BentModel
from perform.nets.bending.table import BendSpec
from perform.nets.checkpoint import CheckpointError, save_checkpoint, update_card
from perform.nets.model import load_model
from perform.nets.pair import warm_batchnorm
from perform.nets.vaegan import VAEGAN, VAEGANConfig

CFG = VAEGANConfig(resolution=32, latent_dim=8, width=8, max_channels=32)


@pytest.fixture
def tiny(tmp_path):
    torch.manual_seed(0)
    net = VAEGAN(CFG, with_critic=False)
    warm_batchnorm(net.generator, [torch.randn(16, CFG.latent_dim)])
    tensors = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in net.generator.state_dict().items()}
    save_checkpoint(tmp_path / "tiny", tensors, {"kind": "vaegan", "name": "tiny", "config": CFG.to_dict()})
    return tmp_path / "tiny.json"


def test_clusters_go_into_the_card_and_a_sheet_is_drawn(tiny, tmp_path, capsys):
    weights = tiny.with_suffix(".safetensors")
    before = hashlib.sha256(weights.read_bytes()).hexdigest()
    sheet = tmp_path / "sheet.png"
    assert main(["clusters", str(tiny), "--samples", "32", "--sheet", str(sheet)]) == 0
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == before
    card = json.loads(tiny.read_text())
    layers = card["clusters"]["generators"]["generator"]
    assert set(layers) == {"res4", "res8", "res16", "res32"}
    assert layers["res8"]["k"] == 4 and len(layers["res8"]["labels"]) == 32 and sum(layers["res8"]["sizes"]) == 32
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[0] > 4 * 32  # a header and a row per layer
    # the card loads (its tensor list still matches) and a cluster bend now builds on it
    m = BentModel(load_model(tiny, "cpu"), [BendSpec("c", "res8", "ablate", "cluster:3")])
    z = np.zeros(CFG.latent_dim, np.float32)
    ref = m.generate(z)
    m.set_net_params({"bend.c.amount": 1.0})
    assert (m.generate(z) != ref).any()
    capsys.readouterr()
    assert main(["clusters", str(tiny), "--list"]) == 0
    assert "clusters generator.res8: k=4" in capsys.readouterr().out
    # the same seed gives the same clusters
    assert main(["clusters", str(tiny), "--samples", "32", "--sheet", str(sheet)]) == 0
    assert json.loads(tiny.read_text())["clusters"]["generators"]["generator"]["res8"]["labels"] == layers["res8"]["labels"]


@pytest.mark.parametrize("args, named", [
    (["--device", "gpu"], "'gpu': not a device"),
    (["--sheet", "nowhere/sheet.png"], "does not exist"),
    (["--sheet", "sheet"], "give a .png"),
])
def test_a_wrong_option_is_a_usage_error_and_the_card_stays(tiny, tmp_path, monkeypatch, capsys, args, named):
    monkeypatch.chdir(tmp_path)
    card = tiny.read_bytes()
    with pytest.raises(SystemExit) as exit_:
        main(["clusters", str(tiny), "--samples", "16", *args])
    assert exit_.value.code == 2 and named in capsys.readouterr().err
    assert tiny.read_bytes() == card


def test_update_card_refuses_keys_that_describe_the_weights(tiny):
    with pytest.raises(CheckpointError, match="tensors"):
        update_card(tiny, {"tensors": {}})


def test_a_malformed_clusters_entry_is_named(tiny):
    update_card(tiny, {"clusters": {"generators": {"generator": {"res8": {"labels": [0, 1]}}}}})
    with pytest.raises(Exception, match="model card key 'clusters'"):
        BentModel(load_model(tiny, "cpu"), [BendSpec("c", "res8", "ablate", "cluster:0")])
