"""Diverse top-k on a hand-made set: the picks rank by score and keep the threshold between each other."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from perform.quality.topk import DiverseSelector, diverse_top_k, rank


def test_diverse_top_k_on_a_hand_made_set_matches_the_hand_computation():
    # six candidates on a line (1-D features) with known scores
    positions = np.array([[0.0], [0.05], [0.5], [0.52], [1.0], [0.3]])
    scores = np.array([9.0, 8.0, 7.0, 6.0, 5.0, 4.0])
    # by hand, threshold 0.1: 0 (best); 1 is 0.05 from 0: skipped; 2 kept; 3 is 0.02 from 2: skipped; 4 kept
    assert diverse_top_k(scores, positions, k=3, min_distance=0.1) == [0, 2, 4]
    # threshold 0.25, k=4: 0, 2, 4 as above; 5 (at 0.3) is only 0.2 from 2: the pool runs out at three
    assert diverse_top_k(scores, positions, k=4, min_distance=0.25) == [0, 2, 4]
    # threshold 0 is the plain top k by score
    assert diverse_top_k(scores, positions, k=4, min_distance=0.0) == [0, 1, 2, 3]


@pytest.mark.parametrize("threshold", [0.05, 0.15, 0.3])
def test_random_sets_keep_the_threshold_and_each_pick_is_the_best_far_enough(threshold):
    rng = np.random.default_rng(1)
    feats = rng.uniform(0, 1, (200, 3)) * 0.5
    scores = rng.normal(size=200)
    picks = diverse_top_k(scores, feats, k=10, min_distance=threshold)
    assert picks[0] == int(np.argmax(scores))
    for a, b in itertools.combinations(picks, 2):
        assert np.linalg.norm(feats[a] - feats[b]) >= threshold
    assert [scores[i] for i in picks] == sorted((scores[i] for i in picks), reverse=True)
    # every candidate better than the last pick but not picked is too close to a pick ranked above it
    for i in np.flatnonzero(scores > scores[picks[-1]]):
        if i not in picks:
            above = [p for p in picks if scores[p] > scores[i]]
            assert min(np.linalg.norm(feats[i] - feats[p]) for p in above) < threshold


def test_ties_rank_in_index_order_and_the_selector_counts_what_it_skipped():
    assert rank(np.array([1.0, 3.0, 3.0, 2.0])).tolist() == [1, 2, 3, 0]
    sel = DiverseSelector(k=2, min_distance=1.0)
    assert sel.offer(7, torch.tensor([0.0, 0.0])) and not sel.offer(8, torch.tensor([0.5, 0.0]))
    assert sel.offer(9, torch.tensor([1.0, 0.0])) and sel.full and not sel.offer(10, torch.tensor([5.0, 5.0]))
    assert sel.chosen == [7, 9] and sel.skipped == 1
