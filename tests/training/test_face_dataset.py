"""Face crop folders: manifest-led loading, fingerprint, held-out split, augmentation, sharded sampling."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from _vaegan_data import write_faces
from perform.errors import PerformError
from perform.training.dataset import ShardedSampler, augment, load_folder


def test_capture_folder_loads_crops_features_and_description_not_the_contact_sheet(tmp_path):
    root = write_faces(tmp_path / "d", n=12)
    cv2.imwrite(str(root / "contact_sheet.png"), np.zeros((64, 200, 3), np.uint8))  # as `perform capture` writes
    (root / "dataset.json").write_text(json.dumps({"created_by": "perform capture", "size": 32, "licence": "mine"}))
    ds = load_folder(root)
    assert ds.images.shape == (12, 32, 32, 3) and ds.images.dtype == np.uint8
    i = ds.feature_names.index("mouth_open")
    assert np.isfinite(ds.features[:, i]).all() and np.isnan(ds.features[:, ds.feature_names.index("pitch")]).all()
    entry = ds.card_entry()
    assert entry["size"] == 12 and entry["licence"] == "mine" and entry["description"]["created_by"] == "perform capture"
    assert load_folder(root, resolution=64).images.shape == (12, 64, 64, 3)


def test_fingerprint_follows_the_bytes(tmp_path):
    a = load_folder(write_faces(tmp_path / "a", n=6)).fingerprint
    b_root = write_faces(tmp_path / "b", n=6)
    assert load_folder(b_root).fingerprint == a  # same names, same bytes, other folder
    img = cv2.imread(str(b_root / "face-003.png"))
    img[0, 0] = 255 - img[0, 0]
    cv2.imwrite(str(b_root / "face-003.png"), img)
    assert load_folder(b_root).fingerprint != a


def test_bad_folders_name_the_problem(tmp_path):
    root = write_faces(tmp_path / "d", n=4)
    (root / "face-002.png").unlink()
    with pytest.raises(PerformError, match="face-002.png"):
        load_folder(root)
    (root / "manifest.jsonl").write_text("{not json\n")
    with pytest.raises(PerformError, match=r"manifest.jsonl:1: not valid JSON"):
        load_folder(root)


def test_split_is_seeded_and_disjoint(tmp_path):
    ds = load_folder(write_faces(tmp_path / "d", n=40))
    tr, ho = ds.split(8, seed=3)
    assert len(tr) == 32 and len(ho) == 8 and not set(tr.names) & set(ho.names)
    assert ds.split(8, seed=3)[1].names == ho.names and ds.split(8, seed=4)[1].names != ho.names


def test_augment_is_seeded_small_and_in_range():
    x = torch.rand(6, 3, 32, 32) * 2 - 1
    a = augment(x, torch.Generator().manual_seed(1))
    b = augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and a.min() >= -1 and a.max() <= 1
    assert 0.0 < (a - x).abs().mean() < 0.6


def test_sharded_sampler_covers_an_epoch_once_and_restores_its_place():
    s0, s1 = ShardedSampler(20, 4, seed=0, rank=0, world=2), ShardedSampler(20, 4, seed=0, rank=1, world=2)
    seen = [i for _ in range(2) for s in (s0, s1) for i in s.next().tolist()]
    assert len(seen) == len(set(seen)) == 16  # 2 global batches of 8, no index twice
    state = s0.state()
    nxt = s0.next()
    s0.load_state(state)
    assert torch.equal(s0.next(), nxt)
